"""The grid editor's model, driven with no QApplication: typing, pasting, resizing, channels, refusals,
and the sources putting the typed grid on stage."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import ShapeError
from engine.layers import Conv2D, Dense, Flatten, MaxPooling2D
from engine.network import Sequential
from engine.theater import GRID_MAX_SIDE, INPUT_GRIDS, KERNEL_PRESETS
from gui.theater import sources as src
from gui.theater.grid_editor import GridDraft
from gui.theater.sources import SourceUnavailable, TheaterSources, layer_settings
from gui.theater.stage import StageModel
from tests.headless import qt_modules_loaded_by


def _codes(draft, change):
    before = draft.array()
    with pytest.raises(ShapeError) as info:
        change()
    np.testing.assert_array_equal(draft.array(), before)        # a refused change changes nothing
    return info.value


def test_the_grid_editor_model_imports_no_qt():
    assert qt_modules_loaded_by("gui.theater.grid_editor") == []


def test_typing_cells_changes_the_edited_channel_and_tells_the_views():
    d = GridDraft(np.zeros((1, 2, 3)))
    seen = []
    d.events.changed.connect(lambda: seen.append(d.array()))
    d.set_cell(1, 2, "−2.5")
    d.set_cell(0, 0, " 7 ")
    d.set_cell(0, 0, "")                    # an emptied cell is 0
    assert d.plane().tolist() == [[0, 0, 0], [0, 0, -2.5]] and len(seen) == 3
    err = _codes(d, lambda: d.set_cell(1, 0, "x1"))
    assert err.code == "grid_not_a_number" and (err.values["row"], err.values["column"]) == (2, 1)
    assert "row 2, column 1" in str(err) and "'x1'" in str(err)


def test_resizing_keeps_the_top_left_numbers_and_new_cells_start_at_zero():
    d = GridDraft([[1, 2], [3, 4]])
    d.resize(rows=1, columns=5)
    assert d.array().tolist() == [[[1, 2, 0, 0, 0]]]
    d.resize(rows=3)
    assert (d.rows, d.columns) == (3, 5) and d.array()[0, 1:].sum() == 0
    d.resize(GRID_MAX_SIDE, GRID_MAX_SIDE)
    assert d.array().shape == (1, 16, 16)
    assert _codes(d, lambda: d.resize(rows=0)).code == "grid_rows_out_of_range"
    err = _codes(d, lambda: d.resize(columns=GRID_MAX_SIDE + 1))
    assert err.code == "grid_columns_out_of_range" and err.values == {"got": 17, "most": 16}


def test_channels_are_added_as_zeros_removed_from_the_end_and_one_is_edited_at_a_time():
    d = GridDraft([[1, 2], [3, 4]])
    d.set_channels(3)
    assert d.channels == 3 and d.array()[1:].sum() == 0
    moved = []
    d.events.channel.connect(lambda: moved.append(d.channel))
    d.choose_channel(2)
    d.set_cell(0, 1, "9")
    assert d.array()[2].tolist() == [[0, 9], [0, 0]] and moved == [2]
    d.set_channels(2)
    assert d.channels == 2 and d.channel == 1
    err = _codes(d, lambda: d.set_channels(4))
    assert err.code == "grid_channels_out_of_range" and err.values["most"] == 3
    kernel = GridDraft([[1, 0, -1]], max_channels=1)
    assert _codes(kernel, lambda: kernel.set_channels(2)).values["most"] == 1


def test_pasting_text_replaces_the_grid_and_takes_the_size_of_the_block():
    d = GridDraft(np.ones((3, 4, 4)))
    d.choose_channel(1)
    d.paste_text("1\t3\t2\t2\t0\t2\t3\n")             # a spreadsheet row into the green channel
    assert d.array().shape == (3, 1, 7)
    assert d.array()[1].tolist() == [[1, 3, 2, 2, 0, 2, 3]]
    assert d.array()[0].tolist() == [[1, 1, 1, 1, 0, 0, 0]]     # the other channels keep what fits
    d.paste_text("1 2\n3 4\n\n5 6\n7 8")                # two blocks: two channels
    assert d.array().tolist() == [[[1, 2], [3, 4]], [[5, 6], [7, 8]]] and d.channel == 0
    err = _codes(d, lambda: d.paste_text("1 2 3\n4 five 6"))
    assert err.code == "grid_not_a_number" and err.values["text"] == "five"
    err = _codes(d, lambda: d.paste_text("1 2 3\n4 5"))
    assert err.code == "grid_ragged_row" and (err.values["row"], err.values["got"], err.values["width"]) == (2, 2, 3)


def test_pasting_at_a_cell_fills_from_there_and_grows_the_grid_like_a_spreadsheet():
    d = GridDraft(np.zeros((1, 2, 2)))
    d.paste_at(1, 1, "5, 6, 7")
    assert d.array()[0].tolist() == [[0, 0, 0, 0], [0, 5, 6, 7]]
    err = _codes(d, lambda: d.paste_at(0, 14, "1 2 3"))
    assert err.code == "grid_columns_out_of_range" and err.values["got"] == 17


def test_the_text_of_a_grid_pastes_back_to_the_same_grid():
    rgb = INPUT_GRIDS["rgb_7x7x3"].array
    d = GridDraft(rgb)
    other = GridDraft()
    other.paste_text(d.text())
    np.testing.assert_array_equal(other.array(), rgb)


def test_typing_in_the_sources_grid_puts_it_on_stage_as_the_custom_input():
    sources = TheaterSources()
    stage = StageModel()
    sources.events.changed.connect(lambda names: stage.update(**sources.resolve()[0].stage_changes()))
    sources.choose(preset_key="difference_1d")
    sources.typed.paste_text("1 3 2 2 0 2 3")
    assert sources.input_kind == src.INPUT_CUSTOM
    assert stage.theater.output().tolist() == [[1, -1, -2, 0, 3]]
    sources.typed.set_cell(0, 6, "4")
    assert stage.theater.output()[0, 4] == 4
    assert sources.base_input()[1] == "typed grid"


def test_a_lesson_grid_goes_into_the_editor_and_a_large_image_stays_a_plain_input():
    sources = TheaterSources()
    sources.set_custom_input([[1, 2, 3]], "from a lesson")
    assert sources.typed.array().tolist() == [[[1, 2, 3]]] and sources.base_input()[1] == "from a lesson"
    big = np.zeros((1, 28, 28))
    sources.set_custom_input(big, "MNIST #0")
    x, text = sources.base_input()
    assert x.shape == (1, 28, 28) and text == "MNIST #0" and sources.typed.array().shape == (1, 1, 3)


def test_a_rectangular_learned_layer_brings_its_rectangular_stride_to_the_stage():
    model = Sequential([Conv2D(2, (1, 3), strides=(2, 1), activation="relu"), MaxPooling2D((2, 1)), Flatten(),
                        Dense(3)])
    model.build((1, 8, 9), seed=0)
    settings = layer_settings(model.layers[0])
    assert settings["stride"] == (2, 1) and settings["padding"] == "valid"
    square = Conv2D(2, 3, strides=2, padding=(1, 1))
    assert layer_settings(square)["stride"] == 2 and layer_settings(square)["pad"] == 1
    with pytest.raises(SourceUnavailable, match="pads its sides differently"):
        layer_settings(Conv2D(2, 3, padding=((1, 0), (1, 1))))


def test_the_stage_keeps_a_square_window_as_an_int_and_a_rectangular_one_as_a_pair():
    stage = StageModel(INPUT_GRIDS["seed_1d"].array, KERNEL_PRESETS["difference_1d"].kernel)
    stage.update(stride=(1, 2))
    assert stage.stride == (1, 2) and stage.theater.stride_hw == (1, 2)
    assert stage.theater.output().tolist() == [[1, -2, 3]]
    stage.update(stride=[3, 3])
    assert stage.stride == 3
    stage.update(op="max", pool_size=(1, 2), stride=(1, 2))
    assert stage.theater.output().tolist() == [[[3, 2, 2]]]       # the last 3 has no partner: floor(7/2) = 3
    pool = MaxPooling2D((1, 2))
    pool.build((1, 1, 7))
    expected = pool.forward(INPUT_GRIDS["seed_1d"].array[None].astype(np.float32))[0]
    np.testing.assert_array_equal(stage.theater.output(), expected)
