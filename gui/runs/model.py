"""``RunsModel``: the runs of the store as rows, the selection, deleting, and comparing runs.

No Qt here (a test imports it in a fresh interpreter). The views subscribe with
``model.subscribe(callback)``; ``callback(names)`` gets ``"rows"`` (the list changed) and/or
``"selection"``. Everything it shows comes from :class:`engine.runs.RunStore` and
:func:`engine.runs.compare`.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.runs import compare, settings_rows

__all__ = ["CurveSeries", "RunRow", "RunsModel", "format_bytes"]

X_AXES = ("epoch", "elapsed")
METRICS = ("loss", "accuracy")


def format_bytes(n: int | float) -> str:
    n = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


@dataclass(frozen=True)
class RunRow:
    """One run as the list shows it."""

    id: int
    name: str
    created: float
    dataset: str | None
    preset: str | None
    optimizer: str | None
    learning_rate: float | None
    status: str
    epochs: int
    best_val_accuracy: float | None
    disk_bytes: int
    parent_id: int | None
    parent_epoch: int | None
    checkpoint_epochs: tuple = ()

    @property
    def can_continue(self) -> bool:
        """Interrupted or stopped runs with a checkpoint can go on from their last epoch."""
        return self.status in ("interrupted", "stopped", "diverged") and bool(self.checkpoint_epochs)


@dataclass(frozen=True)
class CurveSeries:
    """One line of the comparison: run ``run_id``'s ``metric`` on the ``split`` ("train" | "val")."""

    run_id: int
    name: str
    split: str
    x: tuple
    y: tuple


class RunsModel:
    """The store's runs, which are selected, and the comparison of the selected ones."""

    def __init__(self, store=None):
        self.store = store
        self.rows: list[RunRow] = []
        self.selected: list[int] = []
        self.total_disk = 0
        self._subscribers: list = []
        if store is not None:
            self.refresh()

    def subscribe(self, callback) -> None:
        self._subscribers.append(callback)

    def _emit(self, *names: str) -> None:
        for callback in list(self._subscribers):
            callback(frozenset(names))

    def set_store(self, store) -> None:
        self.store = store
        self.refresh()

    def refresh(self) -> None:
        """Read the list again (a run began, ended or was deleted)."""
        store = self.store
        rows = []
        if store is not None:
            for info in store.runs():
                epochs = store.epoch_metrics(info.id)
                vals = [r["val_accuracy"] for r in epochs if r["val_accuracy"] is not None]
                s = info.settings
                rows.append(RunRow(
                    id=info.id, name=info.name, created=info.created, dataset=info.dataset, preset=s.get("preset"),
                    optimizer=s.get("optimizer"), learning_rate=s.get("learning_rate"), status=info.status,
                    epochs=epochs[-1]["epoch"] if epochs else (info.parent_epoch or 0),
                    best_val_accuracy=max(vals) if vals else None, disk_bytes=store.disk_usage(info.id),
                    parent_id=info.parent_id, parent_epoch=info.parent_epoch,
                    checkpoint_epochs=tuple(store.checkpoint_epochs(info.id))))
        rows.sort(key=lambda r: -r.created)
        self.rows = rows
        self.total_disk = 0 if store is None else store.total_disk_usage()
        known = {r.id for r in rows}
        kept = [i for i in self.selected if i in known]
        changed = kept != self.selected
        self.selected = kept
        self._emit("rows", *(("selection",) if changed else ()))

    def row(self, run_id: int) -> RunRow | None:
        return next((r for r in self.rows if r.id == int(run_id)), None)

    def select(self, run_ids) -> None:
        ids = [int(i) for i in run_ids if self.row(i) is not None]
        if ids != self.selected:
            self.selected = ids
            self._emit("selection")

    def delete(self, run_ids) -> int:
        """Delete runs (the caller asked the user first); returns the bytes freed. A run being
        written is refused by the store (``RunStoreError``, nothing deleted after it)."""
        freed = 0
        try:
            for run_id in run_ids:
                freed += self.store.delete(int(run_id))
        finally:
            self.refresh()
        return freed

    # -- comparing --------------------------------------------------------------------------------
    def comparisons(self):
        return compare(self.store, self.selected) if self.store is not None and self.selected else []

    def curve_series(self, metric: str = "loss", x: str = "epoch", comparisons=None) -> list[CurveSeries]:
        """Train and validation lines of ``metric`` ("loss" | "accuracy") per selected run, against
        ``x`` ("epoch" | "elapsed" seconds)."""
        if metric not in METRICS or x not in X_AXES:
            raise ValueError(f"metric must be one of {METRICS} and x one of {X_AXES}; got {metric!r}, {x!r}.")
        series = []
        for c in self.comparisons() if comparisons is None else comparisons:
            xs = c.epoch if x == "epoch" else c.elapsed
            for split, key in (("train", metric), ("val", "val_" + metric)):
                pairs = [(a, b) for a, b in zip(xs, c.curves[key], strict=True) if b is not None]
                series.append(CurveSeries(c.run_id, c.name, split, tuple(p[0] for p in pairs),
                                          tuple(p[1] for p in pairs)))
        return series

    def table(self, comparisons=None) -> list[tuple[str, tuple, bool]]:
        """``(row name, value per run, differs)``: final figures first, then settings (differing first)."""
        comparisons = self.comparisons() if comparisons is None else comparisons
        if not comparisons:
            return []
        rows = []
        for key in ("best_val_accuracy", "val_accuracy", "val_loss", "accuracy", "loss", "epochs", "seconds"):
            values = tuple(c.final.get(key) for c in comparisons)
            rows.append((key, values, len({repr(v) for v in values}) > 1))
        parents = tuple(None if c.parent_id is None else f"#{c.parent_id} @ {c.parent_epoch}" for c in comparisons)
        rows.append(("parent", parents, len(set(parents)) > 1))
        return rows + settings_rows(comparisons)
