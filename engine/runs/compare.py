"""Compare runs side by side: epoch curves, settings and final figures as plain values.

A GUI plots ``curves`` (x: ``epoch`` or ``elapsed`` seconds) and fills a table from ``settings_rows``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RunComparison", "compare", "settings_rows"]

_CURVES = ("loss", "accuracy", "val_loss", "val_accuracy")


@dataclass(frozen=True)
class RunComparison:
    """One run's figures.

    ``epoch`` and ``elapsed`` (seconds since the run began, including validation) are the two x axes;
    ``curves[name]`` (``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``) has one value per epoch
    (``None`` where the run had no validation data). ``final`` holds the last epoch's values plus
    ``epochs``, ``seconds``, ``best_val_accuracy`` and ``best_epoch``.
    """

    run_id: int
    name: str
    status: str
    dataset: str | None
    parent_id: int | None
    parent_epoch: int | None
    settings: dict
    epoch: tuple
    elapsed: tuple
    curves: dict
    final: dict


def compare(store, run_ids) -> list[RunComparison]:
    """The figures of each run in ``run_ids`` (in that order)."""
    result = []
    for run_id in run_ids:
        info = store.run(run_id)
        rows = store.epoch_metrics(run_id)
        curves = {name: tuple(r[name] for r in rows) for name in _CURVES}
        final = {name: (curves[name][-1] if rows else None) for name in _CURVES}
        vals = [(r["val_accuracy"], r["epoch"]) for r in rows if r["val_accuracy"] is not None]
        best = max(vals, key=lambda v: v[0]) if vals else (None, None)
        final.update(epochs=rows[-1]["epoch"] if rows else 0, seconds=rows[-1]["elapsed"] if rows else 0.0,
                     best_val_accuracy=best[0], best_epoch=best[1])
        result.append(RunComparison(
            run_id=info.id, name=info.name, status=info.status, dataset=info.dataset, parent_id=info.parent_id,
            parent_epoch=info.parent_epoch, settings=dict(info.settings),
            epoch=tuple(r["epoch"] for r in rows), elapsed=tuple(r["elapsed"] for r in rows),
            curves=curves, final=final,
        ))
    return result


def settings_rows(comparisons: list[RunComparison]) -> list[tuple[str, tuple, bool]]:
    """``(setting, value per run, differs)`` for every setting any run has, differing ones first."""
    keys = sorted({k for c in comparisons for k in c.settings})
    rows = []
    for key in keys:
        values = tuple(c.settings.get(key) for c in comparisons)
        rows.append((key, values, len({repr(v) for v in values}) > 1))
    rows.sort(key=lambda r: (not r[2], r[0]))
    return rows
