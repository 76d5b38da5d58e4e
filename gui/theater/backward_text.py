"""The sentences of backward mode, written from a :class:`BackwardStageModel` (no Qt).

Rich text (HTML) because the signs are coloured as in the forward theater: red positive, blue negative.
"""

from __future__ import annotations

import numpy as np

from engine.theater import fmt
from gui.i18n import tr
from gui.theater.backward import BackwardStageModel

PHASE_TITLES = {
    "upstream": "1. Upstream gradient dL/dY and the gate",
    "weights": "2. dL/dW: window × dL/dZ, summed",
    "input": "3. dL/dX: full convolution with the flipped kernel",
    "update": "4. The optimizer's update of the filter",
    "pool": "Pooling on the way back",
}

_DIGITS = 4

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def scale_of(reference) -> int:
    """``k`` such that ``reference * 10**k`` has its largest magnitude in [1, 10) when it is tiny (gradients
    of a well-classified image are often 1e-4): the grids then show readable digits; 0 otherwise."""
    a = np.abs(np.asarray(reference, np.float64))
    a = a[np.isfinite(a)]
    top = float(a.max()) if a.size else 0.0
    if top == 0.0 or top >= 0.01:
        return 0
    return int(-np.floor(np.log10(top)))


def scaled_title(title: str, k: int) -> str:
    return title if k == 0 else f"{title} (×10{str(-k).translate(_SUPERSCRIPT)})"


def number(v: float, digits: int = _DIGITS) -> str:
    """``fmt`` for ordinary numbers; three significant digits for tiny ones (``4.21e-05``), which a fixed
    number of decimals would show as 0."""
    if v != 0 and abs(v) < 10.0 ** -(digits - 1):
        return f"{v:.3g}".replace("-", "−")
    return fmt(v, digits)


def _signed(v: float, digits: int = _DIGITS) -> str:
    color = "#c03020" if v > 0 else "#2050c0" if v < 0 else "#444"
    return f"<span style='color:{color}'>{number(v, digits)}</span>"


def headline_text(stage: BackwardStageModel) -> str:
    if stage.layer is None or stage.grads is None:
        return ""
    layer = stage.layer
    what = tr("class {}").format(stage.label)
    if stage.phase == "pool":
        return tr("{}: where the gradient of the loss for {} goes (loss {})").format(
            layer.name, what, number(stage.grads.loss, 4))
    return tr("{} · filter {}: gradients of the loss for {} (loss {})").format(
        layer.name, stage.filter_index, what, number(stage.grads.loss, 4))


def position_text(stage: BackwardStageModel) -> str:
    if not stage.n_positions:
        return ""
    n, k = stage.n_positions, stage.position + 1
    if stage.phase == "upstream":
        i, j = stage.cell()
        return tr("Step {} of {} · output cell (row {}, column {})").format(k, n, i, j)
    if stage.phase == "weights":
        st = stage.weight_step()
        return tr("Step {} of {} · output cell (row {}, column {})").format(k, n, st.i, st.j)
    if stage.phase == "input":
        st = stage.input_step()
        return tr("Step {} of {} · input pixel (row {}, column {})").format(k, n, st.r, st.c)
    if stage.phase == "update":
        c, u, v = stage.weight_index()
        return tr("Weight {} of {} · channel {}, row {}, column {}").format(k, n, c, u, v)
    st = stage.pool_step()
    return tr("Step {} of {} · channel {}, pooled cell (row {}, column {})").format(k, n, st.channel, st.i, st.j)


def equation_html(stage: BackwardStageModel) -> str:
    """The arithmetic of the current step, in numbers."""
    if not stage.n_positions:
        return ""
    return {"upstream": _upstream, "weights": _weights, "input": _input, "update": _update,
            "pool": _pool}[stage.phase](stage)


def _upstream(stage: BackwardStageModel) -> str:
    st = stage.upstream_step()
    g = stage.grads
    head = f"dL/dY = {_signed(st['d_y'])}"
    if g.activation == "relu":
        gate = (tr("Z = {} > 0: the gate is open, the gradient passes") if st["open"]
                else tr("Z = {} ≤ 0: the gate is closed, nothing passes")).format(number(st["z"]))
        return f"{head} &nbsp;·&nbsp; {gate} &nbsp;→&nbsp; dL/dZ = {_signed(st['d_z'])}"
    if g.activation is None:
        return f"{head} &nbsp;·&nbsp; {tr('no activation')}: dL/dZ = dL/dY = {_signed(st['d_z'])}"
    return (f"{head} × f'(Z) {number(st['slope'])} ({g.activation}) = dL/dZ {_signed(st['d_z'])}")


def _weights(stage: BackwardStageModel) -> str:
    st = stage.weight_step()
    flip = tr(" (window turned by 180°: convolution mode)") if stage.weight_walk.mode == "convolution" else ""
    return (tr("window × dL/dZ[{}, {}] = {}{}").format(st.i, st.j, _signed(st.d_z), flip)
            + " &nbsp;·&nbsp; " + tr("dL/db so far: Σ dL/dZ = {}").format(_signed(st.bias_partial_sum)))


def _input(stage: BackwardStageModel) -> str:
    st = stage.input_step()
    values = ", ".join(_signed(v) for v in st.value)
    mode = (tr("Convolution mode: the forward pass flipped the kernel, so the two flips cancel and the stored "
               "kernel slides as it is.") if stage.input_walk.mode == "convolution"
            else tr("The kernel is turned by 180° (flipped): the way back is a true convolution."))
    return tr("dL/dX[row {}, column {}] = Σ (dL/dZ around it × flipped kernel) = {}").format(
        st.r, st.c, values) + "<br>" + mode


def _update(stage: BackwardStageModel) -> str:
    n = stage.update_numbers()
    c, u, v = stage.weight_index()
    return tr("weight [{}, {}, {}]: w = {}, g = {} → w (new) = {} (change {})").format(
        c, u, v, _signed(n["w"], 6), _signed(n["g"], 6), _signed(n["w_new"], 6), _signed(n["delta"], 6))


def _pool(stage: BackwardStageModel) -> str:
    st = stage.pool_step()
    if stage.pool_walk.op == "max":
        if not st.targets:
            return tr("dL/dY = {}: no pixel won this window, nothing flows back").format(_signed(st.gradient))
        r, c = st.targets[0]
        return tr("dL/dY = {} goes only to the pixel that won the max, (row {}, column {}); the others get 0"
                  ).format(_signed(st.gradient), r, c)
    return tr("dL/dY = {} is shared evenly by the {} pixels of the window: {} each").format(
        _signed(st.gradient), len(st.targets), _signed(st.share))


_NAMES = (("w", "w"), ("g", "g = dL/dw"), ("lr*g", "lr·g"), ("velocity_before", "velocity (before)"),
          ("velocity", "velocity"), ("m_before", "m (before)"), ("v_before", "v (before)"), ("m", "m"),
          ("v", "v"), ("m_hat", "m̂"), ("v_hat", "v̂"), ("1-beta_1^t", "1 − β₁ᵗ"), ("1-beta_2^t", "1 − β₂ᵗ"),
          ("alpha_t", "α_t"), ("step", "step"), ("w_new", "w (new)"))


def update_rows(stage: BackwardStageModel) -> list[tuple[str, str]]:
    """``(name, value)`` rows of the current weight's update, in the order a student computes them."""
    numbers = stage.update_numbers()
    return [(label, number(numbers[key], 6)) for key, label in _NAMES if key in numbers]


def update_html(stage: BackwardStageModel) -> str:
    """The optimizer, its formulas and why this step is what it is (frozen, first step, batch of one)."""
    u = stage.update
    hyper = ", ".join(f"{k} = {number(float(v), 6)}" for k, v in u.hyper.items() if isinstance(v, (int, float)))
    lines = [f"<b>{u.optimizer}</b> ({hyper}) · " + tr("step t = {}").format(u.step)]
    if u.frozen:
        why = (tr("This filter is frozen (kept fixed during training): its gradient is computed but the update "
                  "is zero.") if u.reason == "frozen_filter"
               else tr("This layer is not trainable: its gradient is computed but the update is zero."))
        lines.append(f"<span style='color:#b03020'>{why}</span>")
    lines += [f"<code>{f}</code>" for f in u.formulas]
    lines.append(tr("The gradient is this one image's (a batch of one); in training it is the mean over the batch."))
    if stage.first_step:
        note = stage.optimizer_note or tr("The model has not been trained yet")
        lines.append(tr("{}: explained as the optimizer's first step (its memory starts at zero).").format(note))
    return "<br>".join(lines)
