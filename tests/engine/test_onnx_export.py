"""ONNX export: onnxruntime computes what our engine computes, for every layer type and option."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _model(input_shape, layers, seed=0):
    from engine.network import Sequential

    model = Sequential(layers, name="export_case")
    model.build(input_shape=input_shape, seed=seed)
    # Random biases too (they start at zero), so a dropped or misplaced bias cannot go unnoticed.
    rng = np.random.default_rng(seed + 1)
    weights = model.get_weights()
    for w in weights:
        if "b" in w:
            w["b"] = rng.normal(0, 0.5, size=w["b"].shape).astype(np.float32)
    model.set_weights(weights)
    return model


def _cases():
    from engine.layers import (
        AveragePooling2D,
        Conv2D,
        Dense,
        Dropout,
        Flatten,
        LeakyReLU,
        MaxPooling2D,
        ReLU,
        Sigmoid,
        Softmax,
        Tanh,
    )

    return {
        "lenet5_32x32_valid": ((1, 32, 32), [
            Conv2D(6, 5, activation="relu"), MaxPooling2D(2), Conv2D(16, 5, activation="relu"), MaxPooling2D(2),
            Flatten(), Dense(120, activation="relu"), Dense(84, activation="relu"), Dense(10)]),
        "stride2_same_odd_rgb_avgpool_same": ((3, 12, 11), [
            Conv2D(4, 3, strides=2, padding="same", activation="tanh"), AveragePooling2D(2, padding="same"),
            Flatten(), Dense(5)]),
        "same_even_kernel_pads_bottom_right": ((2, 10, 10), [
            Conv2D(3, 4, padding="same"), ReLU(), MaxPooling2D(3, strides=2, padding="same"), Flatten(), Dense(4)]),
        "convolution_mode_flips_kernel": ((2, 9, 9), [
            Conv2D(3, 3, mode="convolution", padding=1, activation="leaky_relu"), LeakyReLU(0.1),
            AveragePooling2D(3, strides=2), Sigmoid(), Flatten(), Dropout(0.5), Dense(7, activation="tanh"),
            Softmax()]),
        "convolution_mode_stride2_same": ((1, 15, 15), [
            Conv2D(5, 5, strides=2, padding="same", mode="convolution"), Tanh(), Conv2D(2, 3, activation="sigmoid"),
            Flatten(), Dense(3, activation="softmax")]),
        "avgpool_overlapping_same_with_padding_cells": ((1, 7, 7), [
            AveragePooling2D(3, strides=1, padding="same"), Conv2D(2, 2, strides=2), Flatten(), Dense(3)]),
        "rectangular_kernels_strides_and_pools": ((3, 9, 11), [
            Conv2D(4, (1, 3), strides=(1, 2), padding="same", activation="relu"), MaxPooling2D((2, 1)),
            Conv2D(3, (3, 2), strides=(2, 1), padding=((1, 0), (0, 1)), mode="convolution"),
            AveragePooling2D((1, 2), strides=(1, 2), padding="same"), Flatten(), Dense(3)]),
    }


@pytest.fixture(scope="module")
def ort():
    pytest.importorskip("onnx")
    return pytest.importorskip("onnxruntime")


def _run(ort, path, x):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, {"input": x})))


def _assert_same(ours, theirs):
    scale = max(1.0, float(np.abs(ours).max()))
    np.testing.assert_allclose(theirs, ours, rtol=1e-4, atol=2e-5 * scale)


@pytest.mark.parametrize("case", list(_cases().keys()))
def test_onnxruntime_output_equals_engine_forward(ort, tmp_path, case):
    from engine.onnx_export import export_onnx

    input_shape, layers = _cases()[case]
    model = _model(input_shape, layers)
    path = export_onnx(model, tmp_path / f"{case}.onnx")
    x = np.random.default_rng(3).random((5, *input_shape), dtype=np.float32)
    ours = model.forward(x, training=False)
    out = _run(ort, path, x)
    theirs = next(iter(out.values()))  # first output: what forward() returns
    assert theirs.shape == ours.shape
    _assert_same(ours, theirs)


def test_every_preset_exports_and_matches(ort, tmp_path):
    presets = pytest.importorskip("engine.presets")
    from engine.errors import ConvScopeError
    from engine.onnx_export import export_onnx

    names = list(presets.PRESETS)
    assert names, "no presets to check"
    for preset in names:
        for input_shape in ((1, 28, 28), (3, 32, 32)):
            try:
                model = presets.build_preset(preset, input_shape, 10)
            except ConvScopeError:  # a preset may not fit every input (e.g. too small for its pooling)
                continue
            path = export_onnx(model, tmp_path / f"{preset}_{input_shape[0]}.onnx")
            x = np.random.default_rng(0).random((3, *input_shape), dtype=np.float32)
            _assert_same(model.forward(x, training=False), next(iter(_run(ort, path, x).values())))


def test_optional_softmax_output_equals_predict_proba(ort, tmp_path):
    from engine.layers import Conv2D, Dense, Flatten, MaxPooling2D
    from engine.onnx_export import export_onnx

    model = _model((1, 12, 12), [Conv2D(4, 3, activation="relu"), MaxPooling2D(2), Flatten(), Dense(6)])
    path = export_onnx(model, tmp_path / "probs", include_softmax=True, metadata={"class_names": list("abcdef")})
    assert path.suffix == ".onnx" and path.exists()
    x = np.random.default_rng(1).random((4, 1, 12, 12), dtype=np.float32)
    out = _run(ort, path, x)
    _assert_same(model.forward(x), out["logits"])
    np.testing.assert_allclose(out["probabilities"], model.predict_proba(x), rtol=1e-4, atol=1e-6)


def test_exported_file_is_a_valid_onnx_model_with_readable_names(ort, tmp_path):
    import onnx

    from engine.layers import Conv2D, Dense, Dropout, Flatten
    from engine.onnx_export import export_onnx

    model = _model((1, 8, 8), [Conv2D(2, 3, activation="relu", name="edges"), Flatten(), Dropout(0.3),
                               Dense(3, name="scores")])
    proto = onnx.load(str(export_onnx(model, tmp_path / "m.onnx", metadata={"class_names": ["a", "b", "c"]})))
    onnx.checker.check_model(proto, full_check=True)
    ops = [n.op_type for n in proto.graph.node]
    assert ops == ["Conv", "Relu", "Flatten", "Gemm", "Identity"]  # Dropout vanishes at inference
    assert {i.name for i in proto.graph.initializer} == {"edges_W", "edges_b", "scores_W", "scores_b"}
    props = {p.key: p.value for p in proto.metadata_props}
    assert props["class_names"] == '["a", "b", "c"]' and props["input_scaling"] == "uint8 / 255"
    dims = [d.dim_param or d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["N", 1, 8, 8]


def test_unbuilt_model_is_refused_with_a_message(tmp_path):
    pytest.importorskip("onnx")
    from engine.errors import ConvScopeError
    from engine.layers import Dense, Flatten
    from engine.network import Sequential
    from engine.onnx_export import export_onnx

    with pytest.raises(ConvScopeError, match="not built"):
        export_onnx(Sequential([Flatten(), Dense(2)]), tmp_path / "x.onnx")


def test_missing_onnx_package_gives_install_hint(monkeypatch, tmp_path):
    from engine.layers import Dense, Flatten
    from engine.onnx_export import OnnxUnavailableError, export_onnx, onnx_available

    model = _model((1, 4, 4), [Flatten(), Dense(2)])
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    assert not onnx_available()
    with pytest.raises(OnnxUnavailableError, match="pip install onnx"):
        export_onnx(model, tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


def test_importing_the_exporter_does_not_import_onnx():
    code = "import sys, engine.onnx_export, engine.network; assert 'onnx' not in sys.modules, 'onnx imported eagerly'"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
