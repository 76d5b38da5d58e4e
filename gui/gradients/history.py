"""The gradient history behind the Gradients panel: per layer, (step, gradient norm, update ratio).

No Qt (a test imports it in a fresh interpreter). The panel feeds it the training snapshots'
``grad_stats`` (:class:`engine.updates.LayerGradientStats` rows, input to output) and draws
:meth:`GradientHistory.series`. A new run archives the current one as :attr:`previous`, so a deep
sigmoid network and its ReLU twin can be compared on one plot.

Memory is bounded: each run keeps at most ``max_points`` points per layer; when full, every other
point is dropped (the early steps stay, at a coarser spacing), so a long run still shows its whole course.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["GradientHistory", "RunSeries", "QUANTITIES"]

QUANTITIES = ("grad_norm", "update_ratio")      # the two curves a layer can show


@dataclass
class RunSeries:
    """One training run: layer names input to output and, per layer, float64 ``(n, 3)`` rows of
    ``(step, grad_norm, update_ratio)``."""

    label: str = ""
    layer_names: list[str] = field(default_factory=list)
    rows: dict[str, np.ndarray] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    last_step: int = -1

    @property
    def points(self) -> int:
        return max(self.sizes.values(), default=0)

    def series(self, name: str, quantity: str = "grad_norm") -> tuple[np.ndarray, np.ndarray]:
        """``(steps, values)`` of one layer (copies; empty arrays for an unknown layer)."""
        column = 1 + QUANTITIES.index(quantity)
        n = self.sizes.get(name, 0)
        if n == 0:
            return np.zeros(0), np.zeros(0)
        data = self.rows[name][:n]
        return data[:, 0].copy(), data[:, column].copy()

    def latest(self, name: str) -> tuple[float, float, float] | None:
        """The newest ``(step, grad_norm, update_ratio)`` of a layer, or None."""
        n = self.sizes.get(name, 0)
        return None if n == 0 else tuple(float(v) for v in self.rows[name][n - 1])

    def median(self, name: str, quantity: str = "grad_norm", last: int | None = None) -> float:
        """Median of a layer's finite values (of the ``last`` points when given); NaN when there are none."""
        _, values = self.series(name, quantity)
        if last is not None:
            values = values[-last:]
        values = values[np.isfinite(values)]
        return float(np.median(values)) if values.size else float("nan")


class GradientHistory:
    """Per-layer gradient sizes of the current run, and the previous run for comparison."""

    def __init__(self, max_points: int = 2000):
        if max_points < 2:
            raise ValueError(f"max_points must be at least 2, got {max_points}.")
        self.max_points = int(max_points)
        self.current = RunSeries()
        self.previous: RunSeries | None = None
        self.version = 0                 # grows with every change: a view redraws when it moved

    # -- runs --------------------------------------------------------------------------------
    def new_run(self, label: str = "") -> None:
        """Start a new run; the current one (if it has points) becomes :attr:`previous`."""
        if self.current.points:
            self.previous = self.current
        self.current = RunSeries(label=label)
        self.version += 1

    def set_label(self, label: str) -> None:
        self.current.label = label
        self.version += 1

    def clear(self) -> None:
        self.current = RunSeries(label=self.current.label)
        self.previous = None
        self.version += 1

    # -- feeding -----------------------------------------------------------------------------
    def record(self, step: int, stats) -> bool:
        """Add one snapshot's rows (objects with ``name``, ``grad_norm``, ``update_ratio``).

        A step not after the last recorded one is ignored (the run's final snapshot repeats its last
        step). Another set of layers than the run's (a different model) starts a new run first.
        Returns True when something was added.
        """
        stats = list(stats)
        if not stats:
            return False
        names = [row.name for row in stats]
        run = self.current
        if run.layer_names and names != run.layer_names:
            self.new_run(run.label)
            run = self.current
        if step <= run.last_step:
            return False
        if not run.layer_names:
            run.layer_names = names
        for row in stats:
            self._append(run, row.name, (float(step), float(row.grad_norm), float(row.update_ratio)))
        run.last_step = int(step)
        self.version += 1
        return True

    def record_snapshot(self, snapshot) -> bool:
        """:meth:`record` of a ``TrainingSnapshot`` (its ``step`` and ``grad_stats``)."""
        return self.record(int(snapshot.step), getattr(snapshot, "grad_stats", ()) or ())

    def _append(self, run: RunSeries, name: str, values: tuple[float, float, float]) -> None:
        buf = run.rows.get(name)
        if buf is None:
            buf = run.rows[name] = np.empty((min(self.max_points, 64), 3), np.float64)
        n = run.sizes.get(name, 0)
        if n == self.max_points:
            # full: keep every other point (the first stays) so the whole run still fits
            kept = buf[:n:2].copy()
            n = len(kept)
            buf[:n] = kept
        elif n == len(buf):
            grown = np.empty((min(self.max_points, 2 * len(buf)), 3), np.float64)
            grown[:n] = buf[:n]
            buf = run.rows[name] = grown
        buf[n] = values
        run.sizes[name] = n + 1

    # -- reading -----------------------------------------------------------------------------
    @property
    def layer_names(self) -> list[str]:
        return list(self.current.layer_names)

    def series(self, name: str, quantity: str = "grad_norm") -> tuple[np.ndarray, np.ndarray]:
        return self.current.series(name, quantity)

    def first_to_last(self, run: RunSeries | None = None, quantity: str = "grad_norm", last: int = 10) -> float:
        """How the first layer's recent median compares with the last layer's (NaN when unknown).

        Far below 1 (say 0.01) means the gradient fades on its way back to the input.
        """
        run = self.current if run is None else run
        if len(run.layer_names) < 2:
            return float("nan")
        first = run.median(run.layer_names[0], quantity, last)
        final = run.median(run.layer_names[-1], quantity, last)
        return first / final if final > 0 else float("nan")
