"""Absurd model sizes are refused before any work, and the architecture checks are linear in the layers."""

import json
import time

import numpy as np
import pytest

from engine import limits
from engine.errors import ArchitectureError, LimitError, ModelFileError
from engine.layers import Conv2D, Dense, Flatten
from engine.network import Sequential, _unique_names, validate_architecture
from engine.persistence import load_model, save_model


def _dense_configs(n, units=4):
    return [{"class_name": "Flatten", "config": {}}] + [
        {"class_name": "Dense", "config": {"units": units}} for _ in range(n - 1)]


def _best_of(repeats, fn):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def test_ten_thousand_layers_are_refused_in_well_under_a_second():
    configs = _dense_configs(10_000)
    start = time.perf_counter()
    with pytest.raises(LimitError) as info:
        validate_architecture(configs, (1, 28, 28))
    assert time.perf_counter() - start < 0.2
    assert info.value.code == "too_many_layers" and info.value.values == {"count": 10_000, "limit": limits.MAX_LAYERS}
    assert "10,000 layers" in str(info.value) and f"{limits.MAX_LAYERS:,}" in str(info.value)


def test_a_shared_file_with_ten_thousand_layers_is_refused_before_building(tmp_path):
    path = save_model(tmp_path / "m.npz", Sequential([Flatten(), Dense(3)]).build((1, 4, 4)))
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arch = json.loads(str(arrays["architecture"]))
    arch["model"]["layers"] = _dense_configs(10_000, units=3)
    arrays["architecture"] = np.array(json.dumps(arch))
    np.savez(tmp_path / "huge.npz", **arrays)
    start = time.perf_counter()
    with pytest.raises(ModelFileError) as info:
        load_model(tmp_path / "huge.npz")
    assert time.perf_counter() - start < 1.0
    assert info.value.code == "architecture_invalid" and info.value.values["error"].code == "too_many_layers"


def test_validating_twice_as_many_layers_takes_about_twice_as_long():
    # Quadratic work (the old unique-name search) made 4x the layers cost ~16x the time.
    small, large = _dense_configs(500), _dense_configs(2_000)
    validate_architecture(small, (1, 8, 8))
    t_small = _best_of(3, lambda: validate_architecture(small, (1, 8, 8)))
    t_large = _best_of(3, lambda: validate_architecture(large, (1, 8, 8)))
    rows = validate_architecture(large, (1, 8, 8))
    assert len(rows) == 2_000 and not any(r.error for r in rows) and rows[-1].name == "dense_1998"
    assert t_large < 8 * t_small + 0.05, (t_small, t_large)


def test_building_a_two_thousand_layer_model_is_linear_too():
    def build(n):
        return lambda: Sequential([Flatten()] + [Dense(2) for _ in range(n - 1)]).build((1, 2, 2))

    build(50)()
    t_small = _best_of(3, build(500))
    t_large = _best_of(3, build(2_000))
    assert t_large < 8 * t_small + 0.05, (t_small, t_large)


def test_unique_names_probe_a_linear_number_of_candidate_names(monkeypatch):
    import engine.network as network

    probes = []

    class CountingSet(set):
        def __contains__(self, item):
            probes.append(item)
            return super().__contains__(item)

    monkeypatch.setattr(network, "set", CountingSet, raising=False)
    layers = [Dense(2) for _ in range(3_000)]
    _unique_names(layers)
    assert [layer.name for layer in layers[:3]] == ["dense", "dense_1", "dense_2"]
    assert layers[-1].name == "dense_2999"
    assert 0 < len(probes) < 3 * len(layers)


@pytest.mark.parametrize("layers, shape, code", [
    ([Conv2D(limits.MAX_FILTERS + 1, 3), Flatten(), Dense(10)], (1, 28, 28), "layer_too_wide"),
    ([Flatten(), Dense(limits.MAX_UNITS + 1), Dense(10)], (1, 28, 28), "layer_too_wide"),
    ([Flatten(), Dense(4096), Dense(4096), Dense(10)], (3, 64, 64), "too_many_params"),
])
def test_absurd_widths_and_parameter_counts_are_refused_before_allocating(layers, shape, code):
    with pytest.raises(ArchitectureError) as info:
        Sequential(layers).build(shape)
    assert info.value.code == "in_layer" and info.value.values["error"].code == code
    assert all(not layer.params for layer in layers), "nothing may be allocated for a refused model"


def test_too_large_an_input_is_refused():
    with pytest.raises(LimitError) as info:
        Sequential([Flatten(), Dense(2)]).build((3, 2048, 2048))
    assert info.value.code == "input_too_large" and str(info.value.values["shape"]) == "2048 x 2048 x 3"


def test_limit_errors_read_in_korean():
    from gui import i18n

    i18n.set_language("ko")
    i18n.error_catalog.cache_clear()
    try:
        with pytest.raises(ArchitectureError) as info:
            Sequential([Flatten(), Dense(limits.MAX_UNITS + 1)]).build((1, 28, 28))
        text = i18n.tr_error(info.value)
        assert text.startswith("1번 층 (dense): Dense 'dense'의 유닛 수이(가) 65,537개입니다.")
        with pytest.raises(LimitError) as info:
            validate_architecture(_dense_configs(limits.MAX_LAYERS + 1), (1, 28, 28))
        assert i18n.tr_error(info.value).startswith(f"모델의 층이 {limits.MAX_LAYERS + 1:,}개입니다.")
    finally:
        i18n.set_language("en")
