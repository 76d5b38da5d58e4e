"""Every batch's metrics of a run, kept as columns of numbers (no Qt).

A long run makes a lot of batches (a 30-minute run on the shapes dataset about 150,000); one frozen
``BatchMetrics`` object each costs about 450 bytes of Python objects, a row of this log 72 bytes.
The log reads like the list it replaces: ``len``, indexing and slicing give ``BatchMetrics`` back,
iteration, ``==`` with a list; the curves read whole columns without building objects.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np

from engine.training import BatchMetrics

#: the columns, in ``BatchMetrics`` order; ints stay ints when a row is read back
COLUMNS = tuple(f.name for f in fields(BatchMetrics))
_INT_COLUMNS = {"epoch", "batch", "batches_per_epoch", "step"}


class BatchLog:
    """Append-only columns of ``BatchMetrics``; capacity doubles, so appending is amortised O(1)."""

    def __init__(self, capacity: int = 1024):
        self._n = 0
        self._cols = {name: np.empty(capacity, np.int64 if name in _INT_COLUMNS else np.float64)
                      for name in COLUMNS}
        self._progress = np.empty(capacity, np.float64)     # BatchMetrics.epoch_progress, the curves' x

    def __len__(self) -> int:
        return self._n

    def _reserve(self, n: int) -> None:
        cap = len(self._cols[COLUMNS[0]])
        if n <= cap:
            return
        while cap < n:
            cap *= 2
        for name, col in self._cols.items():
            self._cols[name] = _grown(col, self._n, cap)
        self._progress = _grown(self._progress, self._n, cap)

    def append(self, metrics: BatchMetrics) -> None:
        self.extend([metrics])

    def extend(self, metrics) -> None:
        metrics = list(metrics)
        n0 = self._n
        self._reserve(n0 + len(metrics))
        for name, col in self._cols.items():
            col[n0:n0 + len(metrics)] = [getattr(m, name) for m in metrics]
        self._progress[n0:n0 + len(metrics)] = [m.epoch_progress for m in metrics]
        self._n = n0 + len(metrics)

    def column(self, name: str) -> np.ndarray:
        """A read-only view of one column (also ``"epoch_progress"``: the curves' x axis)."""
        col = self._progress if name == "epoch_progress" else self._cols[name]
        view = col[:self._n]
        view.flags.writeable = False
        return view

    def _row(self, i: int) -> BatchMetrics:
        return BatchMetrics(**{name: (int(col[i]) if name in _INT_COLUMNS else float(col[i]))
                               for name, col in self._cols.items()})

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._row(i) for i in range(*index.indices(self._n))]
        i = int(index)
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError(f"batch {index} of {self._n}")
        return self._row(i)

    def __iter__(self):
        for i in range(self._n):
            yield self._row(i)

    def __eq__(self, other) -> bool:
        if isinstance(other, BatchLog | list | tuple):
            return len(other) == self._n and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None

    @property
    def nbytes(self) -> int:
        return sum(col.nbytes for col in self._cols.values()) + self._progress.nbytes

    def __repr__(self) -> str:
        return f"BatchLog({self._n} batches)"


def _grown(col: np.ndarray, n: int, capacity: int) -> np.ndarray:
    out = np.empty(capacity, col.dtype)
    out[:n] = col[:n]
    return out
