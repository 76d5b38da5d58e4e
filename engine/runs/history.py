"""The timeline of one training run, kept in memory: what the filters and a fixed probe image's
feature maps looked like at step 0, 1, 2, 3, 4, 6, 8, 11, 16, ... and the weights and confusion
matrix at every epoch end.

Which steps are kept (the rule, written once)
---------------------------------------------
A *step* counts finished training batches (step 0 is the untrained model). Step ``s`` is kept when

    ``s == 0``  or  ``s == round(2 ** (k / per_octave))`` for some integer ``k >= 0``

so there are ``per_octave`` moments per doubling of the step count: dense at the start, where the
filters change fastest, sparse later. With ``per_octave=2`` that is 0, 1, 2, 3, 4, 6, 8, 11, 16, 23,
32, 45, ...; the default ``per_octave=4`` gives 0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 13, 16, 19, ...
The step that ends an epoch is kept as well (``force=True``), so every epoch has a picture.

Up to step ``S`` the rule keeps at most ``per_octave * log2(S) + 2`` moments (plus one per epoch), and
``max_moments`` bounds the count whatever the run: past it, the kept moment whose neighbours are
closest in log-steps is dropped (never the first or the last), which keeps the spacing logarithmic.

Memory
------
``nbytes`` is the exact sum of the kept arrays' ``nbytes``. A 10-epoch ``hongong`` run on
Fashion-MNIST (18,750 steps) keeps 63 moments of 280 kB plus 10 sets of weights of 1.3 MB:
31 MB (``tests/engine/test_runs_history.py`` computes it from the preset's shapes;
``bench/history_memory.py`` measures it on a real epoch).

Values come in as plain arrays (``filters`` per conv layer, ``activations``, ``probabilities``,
``weights``, ``confusion``), so the history does not depend on the shape of the training snapshot;
:func:`values_from_snapshot` and :func:`values_from_model` adapt the two sources we have.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

import numpy as np

from engine.errors import ConvScopeError, Term

__all__ = [
    "EpochRecord",
    "Moment",
    "RunHistory",
    "conv_filters",
    "is_kept_step",
    "kept_steps",
    "values_from_model",
    "values_from_snapshot",
]

DEFAULT_PER_OCTAVE = 4
DEFAULT_MAX_MOMENTS = 256


class HistoryError(ConvScopeError):
    """A moment or an epoch that the history does not hold was asked for."""


def is_kept_step(step: int, per_octave: int = DEFAULT_PER_OCTAVE) -> bool:
    """True when ``step`` is on the log schedule: 0 or ``round(2 ** (k / per_octave))``."""
    step = int(step)
    if step <= 0:
        return step == 0
    k0 = round(per_octave * math.log2(step))
    return any(k >= 0 and round(2 ** (k / per_octave)) == step for k in (k0 - 1, k0, k0 + 1))


def kept_steps(last_step: int, per_octave: int = DEFAULT_PER_OCTAVE) -> list[int]:
    """Every scheduled step from 0 to ``last_step`` inclusive, in order (no repeats)."""
    steps = [0] if last_step >= 0 else []
    k = 0
    while True:
        s = round(2 ** (k / per_octave))
        if s > last_step:
            return steps
        if s != steps[-1]:
            steps.append(s)
        k += 1


def _nbytes(value) -> int:
    if value is None:
        return 0
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_nbytes(v) for v in value)
    return 0


def _frozen_copy(a) -> np.ndarray:
    # copy: the training thread keeps writing its own buffers
    out = np.array(a, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class Moment:
    """What the model looked like after ``step`` training batches.

    ``epoch`` is the position in epochs (``1.5`` = halfway through the second epoch).
    ``filters[name]`` is a conv layer's kernel ``(F, C, K, K)`` float32; ``activations[0]`` is the
    probe image ``(C, H, W)``, ``activations[i + 1]`` the output of layer ``i`` for it (no batch axis);
    ``probabilities`` ``(K,)``. Every array is a read-only copy.
    """

    step: int
    epoch: float
    filters: dict = field(default_factory=dict)
    activations: tuple = ()
    probabilities: np.ndarray | None = None
    layer_names: tuple = ()
    loss: float | None = None
    accuracy: float | None = None

    @property
    def nbytes(self) -> int:
        return _nbytes(self.filters) + _nbytes(self.activations) + _nbytes(self.probabilities)


@dataclass(frozen=True)
class EpochRecord:
    """The end of epoch ``epoch`` (counted from 1; 0 is the untrained start): the full weights
    (a tuple of ``{"W", "b"}`` dicts, one per layer), the validation confusion matrix
    ``confusion[true, predicted]`` (``None`` without validation data) and the step it ended on."""

    epoch: int
    step: int
    weights: tuple = ()
    confusion: np.ndarray | None = None

    @property
    def nbytes(self) -> int:
        return _nbytes(self.weights) + _nbytes(self.confusion)


class RunHistory:
    """Moments at log-spaced steps and the weights of every epoch end, bounded in memory.

    Parameters
    ----------
    per_octave : moments per doubling of the step count (see the module docstring for the rule)
    max_moments : hard bound on the number of kept moments
    """

    def __init__(self, per_octave: int = DEFAULT_PER_OCTAVE, max_moments: int = DEFAULT_MAX_MOMENTS):
        if int(per_octave) < 1:
            raise HistoryError("history_per_octave", per_octave=per_octave)
        if int(max_moments) < 2:
            raise HistoryError("history_max_moments", max_moments=max_moments)
        self.per_octave = int(per_octave)
        self.max_moments = int(max_moments)
        self._steps: list[int] = []
        self._moments: list[Moment] = []
        self._epochs: dict[int, EpochRecord] = {}
        self._nbytes = 0

    # -- recording ------------------------------------------------------------------------
    def wants(self, step: int) -> bool:
        """Whether :meth:`record_step` would keep ``step`` (ask before computing the values)."""
        step = int(step)
        if self._steps and step <= self._steps[-1]:
            return False
        return is_kept_step(step, self.per_octave)

    def record_step(self, step: int, epoch: float, *, filters=None, activations=(), probabilities=None,
                    layer_names=(), loss: float | None = None, accuracy: float | None = None,
                    force: bool = False) -> Moment | None:
        """Keep a moment at ``step`` when the schedule says so (or ``force``); returns it, else ``None``.

        ``filters`` maps conv layer names to ``(F, C, K, K)`` kernels; ``activations`` is the probe's
        ``(input, layer0_out, ...)``; ``probabilities`` its ``(K,)`` class probabilities. Steps must
        grow: a step at or before the last kept one is ignored.
        """
        step = int(step)
        if self._steps and step <= self._steps[-1]:
            return None
        if not (force or is_kept_step(step, self.per_octave)):
            return None
        moment = Moment(
            step=step,
            epoch=float(epoch),
            filters={str(k): _frozen_copy(v) for k, v in (filters or {}).items()},
            activations=tuple(_frozen_copy(a) for a in activations),
            probabilities=None if probabilities is None else _frozen_copy(probabilities),
            layer_names=tuple(str(n) for n in layer_names),
            loss=None if loss is None else float(loss),
            accuracy=None if accuracy is None else float(accuracy),
        )
        self.add_moment(moment)
        return moment

    def add_moment(self, moment: Moment) -> None:
        """Insert an already built moment (e.g. read back from a run store) and keep the bound."""
        i = bisect.bisect_left(self._steps, moment.step)
        if i < len(self._steps) and self._steps[i] == moment.step:
            self._nbytes -= self._moments[i].nbytes
            self._moments[i] = moment
        else:
            self._steps.insert(i, moment.step)
            self._moments.insert(i, moment)
        self._nbytes += moment.nbytes
        while len(self._moments) > self.max_moments:
            self._drop_one()

    def _drop_one(self) -> None:
        # The middle moment whose neighbours are closest on a log-step axis carries the least news.
        def log_step(s: int) -> float:
            return math.log2(s + 1)

        best, best_gap = None, math.inf
        for i in range(1, len(self._steps) - 1):
            gap = log_step(self._steps[i + 1]) - log_step(self._steps[i - 1])
            if gap < best_gap:
                best, best_gap = i, gap
        removed = self._moments.pop(best)
        self._steps.pop(best)
        self._nbytes -= removed.nbytes

    def record_epoch(self, epoch: int, step: int, weights, confusion=None) -> EpochRecord:
        """Keep the full weights (and the confusion matrix) at the end of epoch ``epoch`` (from 1)."""
        record = EpochRecord(
            epoch=int(epoch),
            step=int(step),
            weights=tuple({k: _frozen_copy(v) for k, v in w.items()} for w in weights),
            confusion=None if confusion is None else _frozen_copy(confusion),
        )
        old = self._epochs.get(record.epoch)
        if old is not None:
            self._nbytes -= old.nbytes
        self._epochs[record.epoch] = record
        self._nbytes += record.nbytes
        return record

    # -- reading --------------------------------------------------------------------------
    def moments(self) -> list[Moment]:
        """Every kept moment, by step."""
        return list(self._moments)

    @property
    def steps(self) -> list[int]:
        return list(self._steps)

    def at(self, step: int) -> Moment | None:
        """The nearest kept moment at or before ``step`` (``None`` before the first one)."""
        i = bisect.bisect_right(self._steps, int(step)) - 1
        return self._moments[i] if i >= 0 else None

    def epochs(self) -> list[int]:
        return sorted(self._epochs)

    def epoch_record(self, epoch: int) -> EpochRecord:
        record = self._epochs.get(int(epoch))
        if record is None:
            kept = ", ".join(str(e) for e in self.epochs()) or Term("none yet")
            raise HistoryError("history_no_weights", epoch=epoch, kept=kept)
        return record

    def epoch_weights(self, epoch: int) -> tuple:
        """The weights at the end of ``epoch`` (a tuple of per-layer ``{"W", "b"}`` dicts)."""
        return self.epoch_record(epoch).weights

    def epoch_confusion(self, epoch: int) -> np.ndarray | None:
        return self.epoch_record(epoch).confusion

    @property
    def nbytes(self) -> int:
        """Bytes held by every kept array (moments and epoch records)."""
        return self._nbytes

    def __len__(self) -> int:
        return len(self._moments)

    def __repr__(self) -> str:
        return (f"RunHistory(moments={len(self._moments)}, epochs={len(self._epochs)}, "
                f"nbytes={self._nbytes / 1e6:.1f} MB)")


# -- adapters: the two places moments come from. Change these, not the history, when the snapshot changes.

def conv_filters(layer_names, weights) -> dict:
    """``{layer name: W}`` for every layer whose weights are a 4-D conv kernel ``(F, C, K, K)``."""
    return {name: w["W"] for name, w in zip(layer_names, weights, strict=False) if "W" in w and np.ndim(w["W"]) == 4}


def values_from_snapshot(snapshot) -> dict:
    """Keyword values for :meth:`RunHistory.record_step` from an :class:`engine.training.TrainingSnapshot`
    (or anything with ``layer_names``, ``weights``, ``activations``, ``probabilities``; an
    ``inspection`` attribute, when present, is read instead)."""
    source = getattr(snapshot, "inspection", None) or snapshot
    names = tuple(source.layer_names)
    activations = getattr(source, "activations", None)
    if activations is None:
        activations = (source.input, *source.outputs)
    metrics = getattr(snapshot, "metrics", None)
    return {
        "filters": conv_filters(names, source.weights),
        "activations": tuple(activations),
        "probabilities": source.probabilities,
        "layer_names": names,
        "loss": getattr(metrics, "loss", None),
        "accuracy": getattr(metrics, "accuracy", None),
    }


def values_from_model(model, probe) -> dict:
    """Keyword values for :meth:`RunHistory.record_step` computed on ``model`` for one ``probe`` image
    ``(C, H, W)`` (an inference forward; call it on the training thread between steps)."""
    probe = np.asarray(probe)
    with np.errstate(over="ignore", invalid="ignore"):
        acts = model.forward(probe[None], training=False, return_all=True)
        activations = tuple(np.array(a[0], copy=True) for a in acts)
        probabilities = model.predict_proba(probe[None])[0]
    names = tuple(layer.name for layer in model.layers)
    return {
        "filters": conv_filters(names, [layer.params for layer in model.layers]),
        "activations": activations,
        "probabilities": probabilities,
        "layer_names": names,
    }
