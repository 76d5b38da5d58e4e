"""How one optimizer step changes a filter, and how large each layer's gradients and updates are.

:func:`explain_filter_update` replays the model's optimizer on one filter with every intermediate
number (SGD's ``lr * g``, momentum's velocity, Adam's ``m``, ``v``, bias corrections and step,
RMSprop's running mean square), so the GUI can show, for any one weight, the arithmetic that moved
it. The arithmetic follows :mod:`engine.optimizers` operation by operation in the same float32
precision, so the new filter equals what the real optimizer writes (tested).

:func:`layer_gradient_stats` turns a model right after a training step into one row per layer: the
gradient's L2 norm, and with the parameters from before the step, the update's norm and the
update/weight ratio (the "is this layer learning?" number: around 1e-3 is healthy, 1e-7 means the
gradients vanished). It reads the live flat buffers and costs one pass over the parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.errors import ShapeError
from engine.optimizers import SGD, Adam, Optimizer, RMSprop

__all__ = [
    "FilterUpdate",
    "LayerGradientStats",
    "UpdateMonitor",
    "explain_filter_update",
    "explain_model_filter_update",
    "filter_optimizer_state",
    "layer_gradient_stats",
    "param_offsets",
]


# ---------------------------------------------------------------------------------------------
# where each layer's parameters live in the model's flat buffer
# ---------------------------------------------------------------------------------------------
def param_offsets(model) -> dict[tuple[int, str], tuple[int, int]]:
    """``{(layer_index, "W"): (start, stop)}`` of every parameter in ``model.flat_params``.

    Layers keep views into one flat buffer; the offsets are read from the views themselves, so they
    stay right whatever order the network lays them out in.
    """
    flat = model.flat_params
    base = flat.__array_interface__["data"][0]
    out = {}
    for index, layer in enumerate(model.layers):
        for key, p in layer.params.items():
            start = (p.__array_interface__["data"][0] - base) // flat.itemsize
            if not (p.base is not None and 0 <= start and start + p.size <= flat.size and p.flags.c_contiguous):
                raise ShapeError("param_outside_buffer", name=layer.name, key=key)
            out[(index, key)] = (int(start), int(start + p.size))
    return out


# ---------------------------------------------------------------------------------------------
# one optimizer step of one filter
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FilterUpdate:
    """One optimizer step of one filter, with its intermediate numbers.

    Attributes
    ----------
    optimizer : ``"SGD"``, ``"Adam"`` or ``"RMSprop"``
    step : the optimizer's step counter ``t`` for this update (1 for the first)
    hyper : the optimizer's hyperparameters (learning rate, momentum, betas...)
    weights : ``(C, K, K)`` before the step; ``gradient`` ``dL/dW`` used; ``new_weights`` after
    delta : ``new_weights - weights``
    values : name -> ``(C, K, K)`` intermediate arrays, in the order a student computes them
        (SGD: ``lr*g``, with momentum ``velocity_before``, ``velocity``; Adam: ``m_before``, ``v_before``,
        ``m``, ``v``, ``m_hat``, ``v_hat``, ``step``; RMSprop: ``v_before``, ``v``, ``step``...)
    scalars : name -> float values shared by every weight (Adam's ``1 - beta_1^t``, ``alpha_t``...)
    formulas : the update rule, one line per intermediate value
    frozen : True when the filter is not trained; ``reason`` says why
        (``"frozen_filter"``, ``"layer_not_trainable"``) and ``delta`` is zero
    """

    optimizer: str
    step: int
    hyper: dict
    weights: np.ndarray
    gradient: np.ndarray
    new_weights: np.ndarray
    delta: np.ndarray
    values: dict = field(default_factory=dict)
    scalars: dict = field(default_factory=dict)
    formulas: tuple[str, ...] = ()
    frozen: bool = False
    reason: str | None = None

    def for_weight(self, index: tuple) -> dict[str, float]:
        """Every number of the step for one weight ``(c, u, v)``: ``w``, ``g``, intermediates, ``w_new``."""
        out = {"w": float(self.weights[index]), "g": float(self.gradient[index])}
        out.update({name: float(v[index]) for name, v in self.values.items()})
        out.update(self.scalars)
        out["w_new"] = float(self.new_weights[index])
        out["delta"] = float(self.delta[index])
        return out


def _sgd(opt: SGD, w, g, state):
    f = w.dtype.type
    lr_g = g * f(opt.learning_rate)
    values = {"lr*g": lr_g}
    if opt.momentum == 0.0:
        return w - lr_g, values, {}, ("w_new = w - lr * g",)
    m = f(opt.momentum)
    v0 = state.get("velocity", np.zeros_like(w))
    v = v0 * m - lr_g
    values.update(velocity_before=v0.copy(), velocity=v)
    if opt.nesterov:
        new = (w - lr_g) + v * m
        formulas = ("velocity = momentum * velocity - lr * g", "w_new = w - lr * g + momentum * velocity")
    else:
        new = w + v
        formulas = ("velocity = momentum * velocity - lr * g", "w_new = w + velocity")
    return new, values, {}, formulas


def _adam(opt: Adam, w, g, state, t):
    f = w.dtype.type
    m0 = state.get("m", np.zeros_like(w))
    v0 = state.get("v", np.zeros_like(w))
    m = m0 + (g - m0) * f(1 - opt.beta_1)
    v = v0 + (g * g - v0) * f(1 - opt.beta_2)
    c1, c2 = 1 - opt.beta_1**t, 1 - opt.beta_2**t
    alpha = opt.learning_rate * np.sqrt(c2) / c1
    step = m / (np.sqrt(v) + f(opt.epsilon)) * f(alpha)
    values = {"m_before": m0.copy(), "v_before": v0.copy(), "m": m, "v": v,
              "m_hat": m / f(c1), "v_hat": v / f(c2), "step": step}
    scalars = {"t": float(t), "1-beta_1^t": float(c1), "1-beta_2^t": float(c2), "alpha_t": float(alpha)}
    formulas = (
        "m = beta_1 * m + (1 - beta_1) * g",
        "v = beta_2 * v + (1 - beta_2) * g^2",
        "m_hat = m / (1 - beta_1^t),  v_hat = v / (1 - beta_2^t)",
        ("step = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)"
         "  (Keras's form of lr * m_hat / (sqrt(v_hat) + epsilon))"),
        "w_new = w - step",
    )
    return w - step, values, scalars, formulas


def _rmsprop(opt: RMSprop, w, g, state):
    f = w.dtype.type
    v0 = state.get("v", np.zeros_like(w))
    v = v0 * f(opt.rho) + (g * g) * f(1 - opt.rho)
    step = g / np.sqrt(v + f(opt.epsilon)) * f(opt.learning_rate)
    values = {"v_before": v0.copy(), "v": v, "step": step}
    formulas = ["v = rho * v + (1 - rho) * g^2", "step = lr * g / sqrt(v + epsilon)  (Keras: epsilon inside the root)"]
    if opt.momentum:
        vel0 = state.get("velocity", np.zeros_like(w))
        vel = vel0 * f(opt.momentum) + step
        values.update(velocity_before=vel0.copy(), velocity=vel)
        formulas += ["velocity = momentum * velocity + step", "w_new = w - velocity"]
        return w - vel, values, {}, tuple(formulas)
    formulas.append("w_new = w - step")
    return w - step, values, {}, tuple(formulas)


def explain_filter_update(optimizer: Optimizer, weights, gradient, state: dict | None = None,
                          frozen_reason: str | None = None) -> FilterUpdate:
    """The step ``optimizer`` would take on one filter, with every intermediate number.

    Parameters
    ----------
    optimizer : the model's optimizer (read only: its hyperparameters and step counter)
    weights, gradient : ``(C, K, K)`` (or any shape) the filter before the step and ``dL/dW`` of it
    state : the optimizer's slots for these weights before the step (``{"m": ..., "v": ...}``, see
        :func:`filter_optimizer_state`); missing slots are zeros (the first step)
    frozen_reason : when given, the filter does not move (``"frozen_filter"`` or ``"layer_not_trainable"``)

    Returns
    -------
    FilterUpdate (arrays in the weights' dtype, float32 for a model's filter)
    """
    w = np.array(weights, copy=True)
    if w.dtype != np.float32 and w.dtype != np.float64:
        w = w.astype(np.float32)
    g = np.asarray(gradient, w.dtype)
    if g.shape != w.shape:
        raise ShapeError("gradient_filter_shape", gradient=tuple(g.shape), filter=tuple(w.shape))
    state = {k: np.asarray(v, w.dtype) for k, v in (state or {}).items()}
    t = optimizer.iterations + 1
    name = type(optimizer).__name__
    hyper = dict(optimizer._hyper())
    if frozen_reason is not None:
        return FilterUpdate(name, t, hyper, w, g.copy(), w.copy(), np.zeros_like(w),
                            formulas=("w_new = w (this filter is frozen)",), frozen=True, reason=frozen_reason)
    if isinstance(optimizer, SGD):
        new, values, scalars, formulas = _sgd(optimizer, w, g, state)
    elif isinstance(optimizer, Adam):
        new, values, scalars, formulas = _adam(optimizer, w, g, state, t)
    elif isinstance(optimizer, RMSprop):
        new, values, scalars, formulas = _rmsprop(optimizer, w, g, state)
    else:
        raise ShapeError("optimizer_unexplained", name=name)
    new = np.asarray(new, w.dtype)
    return FilterUpdate(name, t, hyper, w, g.copy(), new, new - w, values, scalars, formulas)


def filter_optimizer_state(model, optimizer: Optimizer, layer_index: int, filter_index: int) -> dict:
    """Copies of the optimizer's slots (``m``, ``v``, ``velocity``) for one filter of a model's Conv2D.

    Empty before the optimizer's first step. The optimizer keeps its slots over the model's flat
    parameter buffer; this cuts the filter's slice out of them.
    """
    layer = model.layers[layer_index]
    W = layer.params.get("W")
    if W is None or W.ndim != 4:
        raise ShapeError("layer_has_no_filters", index=layer_index, name=layer.name)
    if not 0 <= filter_index < W.shape[0]:
        raise ShapeError("filter_index_out_of_range", name=layer.name, last=W.shape[0] - 1, index=filter_index)
    slots = getattr(optimizer, "_state", None)
    if not slots:
        return {}
    if len(slots) != 1 or slots[0]["tmp"].shape != model.flat_params.shape:
        raise ShapeError("optimizer_state_foreign")
    start, _ = param_offsets(model)[(layer_index, "W")]
    per_filter = int(np.prod(W.shape[1:]))
    lo = start + filter_index * per_filter
    return {name: arr[lo:lo + per_filter].reshape(W.shape[1:]).copy()
            for name, arr in slots[0].items() if name != "tmp"}


def explain_model_filter_update(model, optimizer: Optimizer, layer_index: int, filter_index: int) -> FilterUpdate:
    """:func:`explain_filter_update` for filter ``filter_index`` of ``model.layers[layer_index]`` from its
    current weights, its current gradient and the optimizer's current state (call it after the
    backward pass and before ``optimizer.update``)."""
    layer = model.layers[layer_index]
    state = filter_optimizer_state(model, optimizer, layer_index, filter_index)
    reason = None
    if not layer.trainable:
        reason = "layer_not_trainable"
    elif filter_index in getattr(layer, "frozen_filters", ()):
        reason = "frozen_filter"
    return explain_filter_update(optimizer, layer.params["W"][filter_index], layer.grads["W"][filter_index],
                                 state, reason)


# ---------------------------------------------------------------------------------------------
# gradient size per layer
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LayerGradientStats:
    """Gradient and update sizes of one layer with parameters.

    Attributes
    ----------
    index, name : the layer
    grad_norm : ``||dL/dW||`` over all the layer's parameters (L2)
    weight_norm : ``||W||`` after the step
    update_norm : ``||W_after - W_before||`` (NaN without the weights from before the step)
    update_ratio : ``update_norm / weight_norm_before`` (NaN without them; inf for all-zero weights)
    """

    index: int
    name: str
    grad_norm: float
    weight_norm: float
    update_norm: float
    update_ratio: float


def layer_gradient_stats(model, params_before: np.ndarray | None = None) -> list[LayerGradientStats]:
    """One row per layer with parameters, from the model right after a training step.

    Parameters
    ----------
    model : the trained :class:`~engine.network.Sequential` (its ``grads`` are the last batch's)
    params_before : a copy of ``model.flat_params`` taken before the step (the Trainer can keep one
        per snapshot: one ``copyto`` of the flat buffer); without it the update columns are NaN

    Cost: one pass over the parameters (a few dot products), cheap enough for every snapshot.
    """
    flat_p, flat_g = model.flat_params, model.flat_grads
    if params_before is not None:
        params_before = np.asarray(params_before)
        if params_before.shape != flat_p.shape:
            raise ShapeError("params_before_size", got=int(params_before.size), expected=int(flat_p.size))
    # squares of the whole buffers once, then one segment sum per parameter array
    offsets = param_offsets(model)
    keys = sorted(offsets, key=lambda key: offsets[key][0])
    starts = np.array([offsets[key][0] for key in keys], np.intp)
    ends = np.array([offsets[key][1] for key in keys], np.intp)

    contiguous = bool(np.all(starts[1:] == ends[:-1])) and len(starts) and starts[0] == 0 and ends[-1] == flat_p.size

    def sums(values: np.ndarray) -> np.ndarray:
        sq = np.square(values, dtype=np.float64)
        if contiguous:  # the usual layout: the arrays tile the buffer
            return np.add.reduceat(sq, starts)
        return np.array([sq[a:b].sum() for a, b in zip(starts, ends, strict=True)])

    g2, w2 = sums(flat_g), sums(flat_p)
    if params_before is not None:
        b2 = sums(params_before)
        u2 = sums(np.subtract(flat_p, params_before, dtype=np.float64))
    rows = []
    for index in sorted({key[0] for key in keys}):
        mine = [n for n, key in enumerate(keys) if key[0] == index]
        grad_norm, weight_norm = float(np.sqrt(g2[mine].sum())), float(np.sqrt(w2[mine].sum()))
        if params_before is None:
            update, ratio = float("nan"), float("nan")
        else:
            update = float(np.sqrt(u2[mine].sum()))
            before = float(np.sqrt(b2[mine].sum()))
            ratio = update / before if before > 0 else (0.0 if update == 0 else float("inf"))
        rows.append(LayerGradientStats(index, model.layers[index].name, grad_norm, weight_norm, update, ratio))
    return rows


class UpdateMonitor:
    """Keeps a copy of the parameters from before each step, for :func:`layer_gradient_stats`.

    The training thread calls :meth:`before_step` right before ``optimizer.update`` (one ``np.copyto``
    of the flat buffer, about as cheap as reading it) and :meth:`stats` when it makes a snapshot.
    """

    def __init__(self, model):
        self.model = model
        self._before = model.flat_params.copy()
        self.has_step = False

    def before_step(self) -> None:
        if self._before.shape != self.model.flat_params.shape:  # the model was rebuilt
            self._before = np.empty_like(self.model.flat_params)
        np.copyto(self._before, self.model.flat_params)
        self.has_step = True

    def stats(self) -> list[LayerGradientStats]:
        """Rows of :func:`layer_gradient_stats`; the update columns are NaN before the first step."""
        return layer_gradient_stats(self.model, self._before if self.has_step else None)
