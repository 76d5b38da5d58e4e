"""The sentences under and above the stage, written from a :class:`StageModel` (no Qt).

The equation of the current cell (``Σ 30 + bias 0 = 30``, with the products written out for a
small kernel), the output-size formula with the current numbers, the headline and the position.
Rich text (HTML) because the signs are coloured: red positive, blue negative.
"""

from __future__ import annotations

from engine.theater import fmt
from gui.i18n import tr
from gui.theater.stage import StageModel


def channel_names(channels: int) -> list[str]:
    if channels == 3:
        return [tr("red"), tr("green"), tr("blue")]
    return [f"{tr('channel')} {ch}" for ch in range(channels)]


def sum_texts(stage: StageModel) -> list[str]:
    """One text per channel row: ``Σ = 30`` (conv) or ``max = 9`` / ``avg = 2.5`` (pooling)."""
    t, st = stage.theater, stage.step
    if t is None:
        return []
    if t.op == "conv":
        d = max(stage.digits, stage.kernel_digits)
        return [f"Σ = {fmt(v, d)}" for v in st.channel_sums]
    return [f"{t.op} = {fmt(v, 2)}" for v in st.channel_sums]


def _signed(v: float, digits: int) -> str:
    color = "#c03020" if v > 0 else "#2050c0" if v < 0 else "#444"
    return f"<span style='color:{color}'>{fmt(v, digits)}</span>"


def equation_html(stage: StageModel) -> str:
    """How the current output cell's value is made, in numbers."""
    t, st = stage.theater, stage.step
    if t is None:
        return ""
    d = stage.digits
    if t.op != "conv":
        names = channel_names(t.channels)
        parts = []
        for ch in range(t.channels):
            values = [fmt(v, d) for v in st.patch[ch][~st.virtual]]   # virtual pixels take no part
            result = f"<b>{fmt(st.channel_sums[ch], 2)}</b>"
            if t.op == "max":
                text = f"max({', '.join(values)}) = {result}"
            else:
                text = f"({' + '.join(values)}) / {len(values)} = {result}"
            parts.append(text if t.channels == 1 else f"{names[ch]}: {text}")
        return " &nbsp;·&nbsp; ".join(parts)
    if t.channels > 1:
        total = " + ".join(_signed(v, d) for v in st.channel_sums)
        total = f"({total}) = {_signed(st.total, d)}"
    else:
        total = _signed(st.total, d)
    text = f"Σ {total} + {tr('bias')} {_signed(st.bias, d)} = <b>{_signed(st.pre_activation, d)}</b>"
    if t.relu:
        text += f" &nbsp;→ ReLU → <b>{_signed(st.value, d)}</b>"
    if t.channels == 1 and t.kernel_hw[0] * t.kernel_hw[1] <= 9:
        # the seed's x1*w1 + x2*w2 + ... written out, pixel by pixel (small enough to read)
        kd = stage.kernel_digits
        terms = []
        for x, w in zip(st.patch[0].ravel(), t.effective_kernel[0].ravel()):
            ws = fmt(w, kd)
            terms.append(f"{fmt(x, d)}×{'(' + ws + ')' if w < 0 else ws}")
        expansion = " + ".join(terms) + f" = {fmt(st.total, max(d, kd))}"
        text = f"<span style='font-size:15px; color:#555'>{expansion}</span><br>{text}"
    return text


def formula_html(stage: StageModel) -> str:
    """The output-size formula with this stage's numbers (and how "same" split its padding)."""
    t = stage.theater
    if t is None:
        return ""
    lines = t.formula_lines()
    head = tr("Output size") + " (n + 2p − f) / s + 1: "
    if len(lines) == 1:
        body = lines[0] + f" → {t.out_h}×{t.out_w}"
    else:
        body = f"{tr('rows')} {lines[0]}; {tr('columns')} {lines[1]}"
    pr, pc = t.pad_rows, t.pad_cols
    if pr.before != pr.after or pc.before != pc.after:
        # Keras "same" with an even total: the extra virtual pixel goes to the bottom/right
        body += " &nbsp;<i>(" + tr("padding: top {}, bottom {}, left {}, right {}").format(
            pr.before, pr.after, pc.before, pc.after) + ")</i>"
    elif stage.padding == "same":
        body += f" &nbsp;<i>(same: p = {pr.before})</i>"
    flip = ""
    if t.op == "conv" and t.mode == "convolution":
        flip = "<br><i>" + tr("Convolution flips the filter upside down and left to right before sliding it.") + "</i>"
    return f"{head}{body}{flip}"


def stride_text(stride) -> str:
    """``2`` for a square stride, ``(2, 1)`` (rows, columns) for a rectangular one."""
    return str(stride) if isinstance(stride, int) else f"({stride[0]}, {stride[1]})"


def headline_text(stage: StageModel) -> str:
    t = stage.theater
    if t is None:
        return ""
    shape_in = f"{t.height}×{t.width}×{t.channels}"
    kh, kw = t.kernel_hw
    s = stride_text(t.stride)
    if t.op == "conv":
        return tr("{input} ({shape}) with {kernel} ({kh}×{kw}×{c}), stride {s}").format(
            input=stage.input_text, shape=shape_in, kernel=stage.kernel_text, kh=kh, kw=kw, c=t.channels, s=s)
    name = tr("Max pooling") if t.op == "max" else tr("Average pooling")
    return f"{name} {kh}×{kw}, {tr('stride')} {s} · {stage.input_text} ({shape_in})"


def position_text(stage: StageModel) -> str:
    st = stage.step
    if st is None:
        return ""
    return tr("Step {} of {} · output cell (row {}, column {})").format(
        stage.position + 1, stage.n_positions, st.i, st.j)
