"""Feature maps before and after the activation: the negatives that ReLU removes, on the real maps."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def fm(window):
    window.show_tab("feature_maps")
    return window.feature_map_panel


def test_activation_of_finds_fused_separate_and_following_activations():
    from engine.layers import Conv2D, Dense, Flatten, MaxPooling2D, ReLU, Sigmoid
    from gui.widgets.feature_maps import activation_of

    layers = [Conv2D(4, 3, activation="relu"), Conv2D(4, 3), ReLU(), MaxPooling2D(2), Flatten(), Dense(8),
              Sigmoid(), Dense(3)]
    assert activation_of(layers, 0) == (0, "ReLU", "after")
    assert activation_of(layers, 1) == (2, "ReLU", "before")
    assert activation_of(layers, 2) == (2, "ReLU", "after")
    assert activation_of(layers, 3) is None and activation_of(layers, 4) is None
    assert activation_of(layers, 5) == (6, "Sigmoid", "before")
    assert activation_of(layers, 7) is None and activation_of(layers, None) is None


def test_fused_relu_conv_before_shows_negatives_and_after_is_their_max_with_zero(qtbot, window, fm):
    c = window.controller
    assert c.model.layers[0].activation == "relu"
    c.select_layer(0)
    assert fm.activation_combo.isEnabled() and fm.activation_side == "after"
    assert fm.activation_combo.currentText() == "After ReLU"
    fm.set_activation_side("before")
    before, _ = fm.maps()
    pre = c.latest_inspection.result.pre_activations[0]
    assert np.array_equal(before, pre)
    assert (before < 0).any() and (before > 0).any()
    assert fm._signed and fm.colorbar.levels()[0] == -fm.colorbar.levels()[1]    # diverging, zero in the middle
    assert "negative" in fm.caption.text()
    fm.set_activation_side("after")
    after, _ = fm.maps()
    assert np.array_equal(after, c.latest_inspection.activations[1])
    assert np.array_equal(after, np.maximum(before, 0))
    assert not fm._signed


def test_a_conv_followed_by_a_relu_layer_switches_between_its_output_and_the_relus(qtbot, window, fm):
    from engine.layers import Conv2D, Dense, Flatten, MaxPooling2D, ReLU
    from engine.network import Sequential

    c = window.controller
    model = Sequential([Conv2D(6, 3), ReLU(), MaxPooling2D(2), Flatten(), Dense(4)]).build((1, 28, 28), seed=1)
    assert c.set_model(model)
    c.refresh_inspection()
    qtbot.waitUntil(lambda: c.latest_inspection is not None and len(c.latest_inspection.activations) == 6,
                    timeout=10_000)
    c.select_layer(0)
    assert fm.activation_side == "before"                 # the conv's own output is what ReLU receives
    assert fm.activation_combo.currentText() == "Before ReLU"
    before, _ = fm.maps()
    assert np.array_equal(before, c.latest_inspection.activations[1]) and (before < 0).any()
    fm.set_activation_side("after")
    after, _ = fm.maps()
    assert np.array_equal(after, c.latest_inspection.activations[2])
    assert np.array_equal(after, np.maximum(before, 0))
    c.select_layer(2)                                     # max pooling: no activation to switch
    assert fm.activation_side is None and not fm.activation_combo.isEnabled()
    maps, _ = fm.maps()
    assert np.array_equal(maps, c.latest_inspection.activations[3])
