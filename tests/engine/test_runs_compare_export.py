"""Comparing runs as plain values, and exporting a timeline as a GIF or PNG frames."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.runs import RunHistory, RunStore, RunStoreError, compare, settings_rows
from engine.runs.export import (
    export_gif,
    export_png_sequence,
    export_timeline,
    timeline_frames,
)


def _write_run(store, name, settings, epochs):
    """A run with known epoch figures: rows of (loss, accuracy, val_loss, val_accuracy, elapsed)."""
    writer = store.start_run(name, "shapes", {"layers": []}, settings)
    for i, (loss, acc, vloss, vacc, elapsed) in enumerate(epochs, start=1):
        writer.epoch_end(i, 10 * i, loss, acc, vloss, vacc, seconds=elapsed / i, elapsed=elapsed)
    assert writer.close("finished")
    return writer.run_id


def test_compare_returns_each_runs_curves_settings_and_final_figures(tmp_path):
    store = RunStore(tmp_path)
    a = _write_run(store, "lr 0.01", {"learning_rate": 0.01, "batch_size": 32},
                   [(1.0, 0.6, 0.9, 0.65, 3.0), (0.5, 0.8, 0.6, 0.82, 6.5), (0.3, 0.9, 0.55, 0.80, 9.0)])
    b = _write_run(store, "lr 0.001", {"learning_rate": 0.001, "batch_size": 32},
                   [(1.5, 0.4, None, None, 2.0), (1.2, 0.5, None, None, 4.0)])
    first, second = compare(store, [a, b])
    assert (first.run_id, first.name, first.status) == (a, "lr 0.01", "finished")
    assert first.epoch == (1, 2, 3) and first.elapsed == (3.0, 6.5, 9.0)
    assert first.curves["loss"] == (1.0, 0.5, 0.3)
    assert first.curves["val_accuracy"] == (0.65, 0.82, 0.80)
    assert first.final["val_loss"] == 0.55 and first.final["epochs"] == 3 and first.final["seconds"] == 9.0
    assert (first.final["best_val_accuracy"], first.final["best_epoch"]) == (0.82, 2)
    assert second.curves["val_loss"] == (None, None) and second.final["best_val_accuracy"] is None
    assert second.settings == {"learning_rate": 0.001, "batch_size": 32}
    assert [r.run_id for r in compare(store, [b, a])] == [b, a]

    rows = settings_rows([first, second])
    assert rows[0] == ("learning_rate", (0.01, 0.001), True)
    assert rows[1] == ("batch_size", (32, 32), False)
    store.close()


def test_compare_shows_a_branch_with_its_parent(tmp_path):
    store = RunStore(tmp_path)
    writer = store.start_run("parent", "shapes", {}, {"learning_rate": 0.01})
    writer.epoch_end(1, 10, 1.0, 0.5, weights=[{"W": np.ones((2, 1, 3, 3), np.float32)}], elapsed=2.0)
    writer.close("finished")
    child = store.branch(writer.run_id, 1, {"learning_rate": 0.1})
    (c,) = compare(store, [child])
    assert (c.parent_id, c.parent_epoch, c.status, c.epoch) == (writer.run_id, 1, "created", ())
    assert c.final["epochs"] == 0
    store.close()


def _history(n_filters=6, steps=(0, 1, 2, 3, 4, 6, 8)):
    history = RunHistory(per_octave=2)
    for s in steps:
        history.record_step(
            s, s / 4,
            filters={"conv2d": np.full((n_filters, 1, 3, 3), s - 3, np.float32) * np.arange(9).reshape(3, 3)},
            activations=(np.zeros((1, 8, 8), np.float32), np.random.default_rng(s).random((4, 6, 6), np.float32),
                         np.zeros(10, np.float32)),
            probabilities=np.full(3, 1 / 3, np.float32),
            layer_names=("conv2d", "dense"),
        )
    return history


def test_a_gif_has_one_frame_per_kept_moment(tmp_path):
    history = _history()
    path = export_gif(history.moments(), tmp_path / "filters.gif", kind="filters")
    with Image.open(path) as gif:
        assert gif.format == "GIF"
        assert gif.n_frames == len(history) == 7
        assert gif.info.get("loop") == 0
    maps = export_timeline(history.moments(), tmp_path / "maps.gif", kind="feature_maps", layer="conv2d")
    with Image.open(maps) as gif:
        assert gif.n_frames == 7


def test_frames_tile_the_channels_in_a_grid_with_the_step_drawn_on_top():
    history = _history(n_filters=6)
    frames = timeline_frames(history.moments(), kind="filters", tile_size=30, gutter=2, columns=3)
    # 6 filters of 3x3 scaled x10, 3 columns x 2 rows, 2-pixel gutters, an 18-pixel caption
    assert {f.size for f in frames} == {(max(3 * 32 + 2, 160), 2 * 32 + 2 + 18)}
    first = np.asarray(frames[0])
    assert (first[:18] < 128).any()  # the caption is drawn
    captions = {np.asarray(f)[:18].tobytes() for f in frames}
    assert len(captions) == len(frames)  # every frame names its own step
    # filter values grow from negative (step 0: s-3 < 0) to positive: the same cell turns from dark to light
    cell = (18 + 2 + 25, 2 + 25)  # last kernel position (value 8 * (s - 3))
    assert first[cell] < 60 and np.asarray(frames[-1])[cell] > 200


def test_labels_png_sequences_and_teaching_errors(tmp_path):
    history = _history()
    paths = export_png_sequence(history.moments(), tmp_path / "png", kind="feature_maps",
                                label=lambda m: f"{m.step}")
    assert [p.name for p in paths] == [f"frame-{i:04d}.png" for i in range(7)]
    assert Image.open(paths[0]).size[1] > 18
    with pytest.raises(RunStoreError, match="empty"):
        export_gif([], tmp_path / "x.gif")
    with pytest.raises(RunStoreError, match="layers with filters: conv2d"):
        timeline_frames(history.moments(), kind="filters", layer="dense")
    with pytest.raises(RunStoreError, match="feature maps"):
        timeline_frames(history.moments(), kind="feature_maps", layer="dense")
