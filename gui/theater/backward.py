"""The theater's backward mode as a widget-free model: the way back through one layer, step by step.

:class:`BackwardStageModel` wraps the walks of :mod:`engine.backward` and the optimizer step of
:mod:`engine.updates` for one image, its class and one layer of a model copy, and offers the same
playback interface as :class:`~gui.theater.stage.StageModel` (``position``, ``n_positions``,
``seek``, ``step_forward``, ``step_back``, ``at_end``, ``events.changed`` / ``events.position``), so
the theater's :class:`~gui.theater.playback.PlaybackBar` steps, plays and scrubs it.

Phases of a ``Conv2D`` layer (the student's order):

- ``"upstream"``: ``dL/dY`` arriving at the layer, the activation's gate (ReLU: open where ``Z > 0``)
  and ``dL/dZ = dL/dY * f'(Z)``, one output cell per step;
- ``"weights"``: ``dL/dW[f]`` as a sliding sum, the window times one ``dL/dZ`` value per step;
- ``"input"``: ``dL/dX`` as the full convolution of ``dL/dZ`` with the rotated kernel, one input pixel
  per step;
- ``"update"``: the optimizer's step for the filter, one weight per step (every intermediate number).

A pooling layer has the phase ``"pool"`` (where each gradient goes). Any other layer has no walk:
``explanation`` says what it does on the way back instead. No Qt here (a test checks it).
"""

from __future__ import annotations

import copy

import numpy as np

from engine.backward import (
    InputGradientWalk,
    PoolGradientWalk,
    UpstreamGradient,
    WeightGradientWalk,
    upstream_gradient,
)
from engine.errors import ConvScopeError
from engine.layers import AveragePooling2D, Conv2D, Dense, MaxPooling2D
from engine.updates import FilterUpdate, explain_filter_update, filter_optimizer_state
from gui.i18n import tr, tr_error
from gui.theater.events import Events

CONV_PHASES = ("upstream", "weights", "input", "update")
POOL_PHASES = ("pool",)
PHASES = CONV_PHASES + POOL_PHASES


def layer_kind(layer) -> str:
    """``"conv"``, ``"pool"`` or ``"other"``: what backward mode can walk through."""
    if isinstance(layer, Conv2D):
        return "conv"
    if isinstance(layer, (MaxPooling2D, AveragePooling2D)):
        return "pool"
    return "other"


def _explain_other(layer) -> str:
    name = f"{layer.name} ({type(layer).__name__})"
    if isinstance(layer, Dense):
        return tr("{} has no filter to slide: every output is connected to every input, so dL/dW = x · (dL/dy)ᵀ "
                  "(one product per weight, no window) and dL/dx = W · dL/dy. Backward mode walks through "
                  "convolution and pooling layers: choose one of them.").format(name)
    return tr("{} has no weights and no window: on the way back it passes each gradient to the value it came "
              "from (an activation multiplies it by its slope, Flatten only reshapes it, Dropout lets it through "
              "where the value was kept). Choose a convolution or pooling layer to walk through.").format(name)


class BackwardStageModel:
    """One image, its class and one layer of a model on the way back.

    Set the source with :meth:`set_source` (a model copy of your own: the engine overwrites its layer
    caches) and the choices with :meth:`choose` (``phase``, ``layer_index``, ``filter_index``,
    ``channel``). ``error`` holds a translated reason when nothing can be shown; ``explanation`` a
    sentence for a layer without a walk.

    Attributes
    ----------
    grads : :class:`~engine.backward.UpstreamGradient` of the layer (conv and pooling layers)
    weight_walk, input_walk, pool_walk : the walks of the current layer/filter (None when not relevant)
    update : :class:`~engine.updates.FilterUpdate` of the filter for ``optimizer``
    first_step : True when the update is explained with a fresh optimizer state (``optimizer_note`` says why)
    """

    def __init__(self):
        self.events = Events("changed", "position")
        self.model = None
        self.x: np.ndarray | None = None
        self.label = 0
        self.optimizer = None
        self.first_step = True
        self.optimizer_note = ""
        self.layer_index: int | None = None
        self.filter_index = 0
        self.channel = 0
        self.phase = "upstream"
        self.position = 0
        self.error = tr("Backward mode needs a model and an image: open a dataset first.")
        self.explanation = ""
        self.grads: UpstreamGradient | None = None
        self.weight_walk: WeightGradientWalk | None = None
        self.input_walk: InputGradientWalk | None = None
        self.pool_walk: PoolGradientWalk | None = None
        self.update: FilterUpdate | None = None

    # -- the source ------------------------------------------------------------------------------
    def set_source(self, model, x, label: int, optimizer=None, optimizer_note: str = "",
                   keep_position: bool = False) -> None:
        """A model copy, an image ``(C, H, W)`` in [0, 1] and the class used in the loss.

        ``optimizer`` is a read-only copy of the model's optimizer (its state over this model's
        parameters), or None: the update is then explained as a first step of a fresh optimizer
        (``optimizer_note`` says why, e.g. "while training runs").
        """
        self.model = model
        self.x = None if x is None else np.asarray(x, np.float32)
        self.label = int(label)
        self.optimizer = optimizer
        self.optimizer_note = optimizer_note
        layers = [] if model is None else list(model.layers)
        if self.layer_index is None or not 0 <= self.layer_index < len(layers):
            convs = [i for i, layer in enumerate(layers) if layer_kind(layer) == "conv"]
            self.layer_index = convs[0] if convs else (0 if layers else None)
        self._rebuild(keep_position)

    def choose(self, **choices) -> None:
        """Change ``phase``, ``layer_index``, ``filter_index``, ``channel`` or ``label``; rebuild once."""
        unknown = set(choices) - {"phase", "layer_index", "filter_index", "channel", "label"}
        if unknown:
            raise TypeError(f"BackwardStageModel has no choice {sorted(unknown)}")
        if "phase" in choices and choices["phase"] not in PHASES:
            raise ValueError(f"phase must be one of {PHASES}, got {choices['phase']!r}")
        for name, value in choices.items():
            setattr(self, name, value if name == "phase" else int(value))
        self._rebuild(keep_position=set(choices) <= {"channel"})

    @property
    def layer(self):
        if self.model is None or self.layer_index is None:
            return None
        return self.model.layers[self.layer_index]

    @property
    def phases(self) -> tuple[str, ...]:
        kind = layer_kind(self.layer) if self.layer is not None else "other"
        return CONV_PHASES if kind == "conv" else POOL_PHASES if kind == "pool" else ()

    @property
    def filter_count(self) -> int:
        layer = self.layer
        return int(layer.params["W"].shape[0]) if layer_kind(layer) == "conv" else 0

    @property
    def channel_count(self) -> int:
        return 0 if self.grads is None else int(self.grads.x.shape[0])

    def _clear(self) -> None:
        self.grads = self.weight_walk = self.input_walk = self.pool_walk = self.update = None
        self.explanation = ""

    def _rebuild(self, keep_position: bool) -> None:
        self._clear()
        self.error = ""
        layer = self.layer
        if layer is None or self.x is None:
            self.error = tr("Backward mode needs a model and an image: open a dataset first.")
        elif tuple(self.x.shape) != tuple(self.model.input_shape):
            self.error = tr("The model expects {} images but this image is {}: pick a dataset sample.").format(
                "x".join(map(str, self.model.input_shape)), "x".join(map(str, self.x.shape)))
        elif not self.phases:
            self.explanation = _explain_other(layer)
        else:
            if self.phase not in self.phases:
                self.phase = self.phases[0]
            try:
                self._compute(layer)
            except ConvScopeError as exc:
                self._clear()
                self.error = tr_error(exc)
        n = self.n_positions
        self.position = min(self.position, n - 1) if keep_position and n else 0
        self.events.changed()

    def _compute(self, layer) -> None:
        self.grads = g = upstream_gradient(self.model, self.x, self.label, self.layer_index)
        if layer_kind(layer) == "pool":
            self.pool_walk = PoolGradientWalk.for_layer(layer, g.d_output)
            return
        self.filter_index = int(min(max(self.filter_index, 0), self.filter_count - 1))
        self.channel = int(min(max(self.channel, 0), self.channel_count - 1))
        f = self.filter_index
        self.weight_walk = WeightGradientWalk.for_layer(layer, g, f)
        self.input_walk = InputGradientWalk.for_layer(layer, g, f)
        self.update = self._explain_update(layer, f)

    def _explain_update(self, layer, f: int) -> FilterUpdate:
        """The optimizer step of filter ``f`` on this image's gradient (a batch of one)."""
        opt, state, self.first_step = self.optimizer, {}, True
        if opt is None:
            from engine.optimizers import SGD

            opt = SGD(0.01)
        else:
            try:
                state = filter_optimizer_state(self.model, opt, self.layer_index, f)
                self.first_step = opt.iterations == 0
            except ConvScopeError:
                # state of another model (rebuilt since): explain the first step of the same optimizer
                opt = copy.deepcopy(opt)
                opt.reset()
                state = {}
        reason = None
        if not layer.trainable:
            reason = "layer_not_trainable"
        elif f in getattr(layer, "frozen_filters", ()):
            reason = "frozen_filter"
        gradient = np.asarray(self.weight_walk.total, np.float32)
        return explain_filter_update(opt, np.asarray(layer.params["W"][f]), gradient, state, reason)

    # -- playback interface (as StageModel) --------------------------------------------------------
    @property
    def theater(self):
        """Something to play (for :class:`PlaybackBar`): None when nothing is on stage."""
        return self if self.n_positions else None

    @property
    def n_positions(self) -> int:
        if self.grads is None:
            return 0
        if self.phase == "upstream":
            return int(np.prod(self.grads.d_output.shape[1:]))
        if self.phase == "weights":
            return self.weight_walk.n_positions
        if self.phase == "input":
            return self.input_walk.n_positions
        if self.phase == "update":
            return int(self.update.weights.size)
        return self.pool_walk.n_positions

    @property
    def at_end(self) -> bool:
        return self.position >= self.n_positions - 1

    def seek(self, index: int) -> None:
        n = self.n_positions
        if not n:
            return
        self.position = int(min(max(int(index), 0), n - 1))
        self.events.position(index=self.position)

    def step_forward(self) -> bool:
        if self.at_end:
            return False
        self.seek(self.position + 1)
        return True

    def step_back(self) -> bool:
        if not self.n_positions or self.position == 0:
            return False
        self.seek(self.position - 1)
        return True

    # -- what the current step shows ---------------------------------------------------------------
    def cell(self) -> tuple[int, int]:
        """Output cell ``(i, j)`` of the upstream phase."""
        return divmod(self.position, self.grads.d_output.shape[2])

    def upstream_step(self) -> dict:
        """``dL/dY``, ``f'(Z)``, the gate and ``dL/dZ`` at the current cell of the chosen filter."""
        g, f = self.grads, self.filter_index
        i, j = self.cell()
        return {"i": i, "j": j, "d_y": float(g.d_output[f, i, j]), "z": float(g.pre_activation[f, i, j]),
                "slope": float(g.activation_derivative[f, i, j]), "d_z": float(g.d_pre_activation[f, i, j]),
                "open": None if g.gate is None else bool(g.gate[f, i, j])}

    def weight_step(self):
        return self.weight_walk.step(self.position)

    def input_step(self):
        return self.input_walk.step(self.position)

    def pool_step(self):
        return self.pool_walk.step(self.position)

    def weight_index(self) -> tuple[int, int, int]:
        """``(c, u, v)`` of the weight the update phase explains now."""
        c, rest = divmod(self.position, self.update.weights.shape[1] * self.update.weights.shape[2])
        u, v = divmod(rest, self.update.weights.shape[2])
        return c, u, v

    def update_numbers(self) -> dict[str, float]:
        return self.update.for_weight(self.weight_index())

    @property
    def filled_input_gradient(self) -> np.ndarray:
        """``(H, W)`` bool: the ``dL/dX`` pixels computed up to the current step."""
        h, w = self.input_walk.input_shape[1:]
        return (np.arange(h * w) <= self.position).reshape(h, w)
