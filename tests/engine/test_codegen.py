"""The model as code: generated Keras/PyTorch source compiles, has the model's structure, and the
exported weights are in each framework's layout (checked against the engine without the frameworks:
torch and keras are not installed in the test environment; bench/codegen_check.py runs them)."""

import ast

import numpy as np
import pytest

from engine.codegen import export_weights, keras_code, pytorch_code, weight_arrays
from engine.layers import AveragePooling2D, Conv2D, Dense, Dropout, Flatten, LeakyReLU, MaxPooling2D, Softmax
from engine.network import Sequential
from engine.persistence import save_model
from engine.presets import PRESETS, build_preset


def _sequential_calls(source: str, ctor: str) -> list[ast.Call]:
    """The calls inside ``model = <ctor>(...)`` in order (``keras.Sequential([...])`` or ``nn.Sequential(...)``)."""
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == "model" and isinstance(node.value, ast.Call):
            call = node.value
            assert ast.unparse(call.func) == ctor
            items = call.args[0].elts if ctor == "keras.Sequential" else call.args
            return list(items)
    raise AssertionError("no model = ... assignment")


def _name(call: ast.Call) -> str:
    return ast.unparse(call.func)


def _kw(call: ast.Call) -> dict:
    return {k.arg: ast.literal_eval(k.value) for k in call.keywords}


def _args(call: ast.Call) -> list:
    return [ast.literal_eval(a) for a in call.args]


@pytest.mark.parametrize("key", sorted(PRESETS))
def test_generated_code_compiles_for_every_preset(key):
    model = build_preset(key)
    for src in (keras_code(model), pytorch_code(model)):
        compile(src, f"{key}.py", "exec")
        assert f"# total parameters: {model.total_params:,}" in src


def test_keras_code_reads_like_the_book():
    model = build_preset("keras_mnist")
    src = keras_code(model, optimizer="RMSprop", training={"dataset": "mnist", "batch_size": 64, "epochs": 5})
    calls = _sequential_calls(src, "keras.Sequential")
    assert [_name(c) for c in calls] == ["keras.Input", "layers.Conv2D", "layers.MaxPooling2D", "layers.Conv2D",
                                         "layers.MaxPooling2D", "layers.Conv2D", "layers.Flatten", "layers.Dense",
                                         "layers.Dense"]
    assert _kw(calls[0]) == {"shape": (28, 28, 1)}
    assert _args(calls[1]) == [32, 3] and _kw(calls[1]) == {"activation": "relu", "name": "conv2d"}
    assert _args(calls[7]) == [64] and _args(calls[8]) == [10] and "activation" not in _kw(calls[8])
    assert "conv2d: output (26, 26, 32), 320 params" in src
    assert "keras.optimizers.RMSprop(learning_rate=0.001" in src
    assert "SparseCategoricalCrossentropy(from_logits=True)" in src
    assert "model.fit(x_train, y_train, batch_size=64, epochs=5" in src
    assert "keras.datasets.mnist.load_data()" in src


def test_pytorch_code_has_nchw_shapes_and_a_training_loop():
    model = build_preset("hongong")
    src = pytorch_code(model, optimizer={"class_name": "Adam", "config": {"learning_rate": 0.001}},
                       training={"dataset": "fashion_mnist", "batch_size": 32, "epochs": 10})
    calls = _sequential_calls(src, "nn.Sequential")
    assert [_name(c) for c in calls] == ["nn.Conv2d", "nn.ReLU", "nn.MaxPool2d", "nn.Conv2d", "nn.ReLU",
                                         "nn.MaxPool2d", "nn.Flatten", "nn.Linear", "nn.ReLU", "nn.Dropout",
                                         "nn.Linear"]
    assert _args(calls[0]) == [1, 32] and _kw(calls[0]) == {"kernel_size": 3, "stride": 1, "padding": 1}
    assert _args(calls[7]) == [3136, 100] and _kw(calls[9]) == {"p": 0.4}
    assert "# conv2d -> (N, 32, 28, 28), 320 params" in src
    assert "torch.optim.Adam(model.parameters(), lr=0.001" in src
    assert "F.cross_entropy(outputs, yb)" in src and "loss.backward()" in src and "optimizer.step()" in src
    assert 'data/fashion-mnist' in src and "def train(model, epochs=10, batch_size=32)" in src


def _every_layer():
    return Sequential([
        Conv2D(4, 3, padding="same", strides=2, activation="leaky_relu", mode="convolution"),
        MaxPooling2D(3, strides=2, padding="same"),
        Conv2D(6, 3, padding=1, activation="tanh"),
        AveragePooling2D(3, strides=2, padding="same"),
        LeakyReLU(0.1),
        Flatten(),
        Dropout(0.3),
        Dense(10),
        Softmax(),
    ], name="every").build((1, 28, 28), seed=3)


def test_pytorch_weights_fit_the_modules_they_are_loaded_into():
    model = _every_layer()
    src = pytorch_code(model)
    calls = _sequential_calls(src, "nn.Sequential")
    arrays = weight_arrays(model, "pytorch")
    expected = {}
    for position, call in enumerate(calls):
        if _name(call) == "nn.Conv2d":
            c, f = _args(call)
            k = _kw(call)["kernel_size"]
            expected[f"{position}.weight"] = (f, c, k, k)
            expected[f"{position}.bias"] = (f,)
        elif _name(call) == "nn.Linear":
            d_in, d_out = _args(call)
            expected[f"{position}.weight"] = (d_out, d_in)
            expected[f"{position}.bias"] = (d_out,)
    assert {k: v.shape for k, v in arrays.items()} == expected
    names = [_name(c) for c in calls]
    assert names[0] == "nn.ZeroPad2d" and _args(calls[0]) == [(0, 1, 0, 1)]   # 'same' with stride 2
    assert "nn.ConstantPad2d" in names and "PaddedAvgPool2d" in names and "class PaddedAvgPool2d" in src
    assert "F.nll_loss(torch.log(" in src           # the model ends with a softmax
    # convolution mode: the exported kernel is the stored one flipped
    np.testing.assert_array_equal(arrays["1.weight"], model.layers[0].params["W"][:, :, ::-1, ::-1])


def _keras_forward(model, arrays, x):
    """A numpy NHWC forward with Keras's layouts (HWIO kernels, HWC flatten), for the presets' layers."""
    a = np.transpose(x, (0, 2, 3, 1)).astype(np.float64)
    for layer in model.layers:
        if isinstance(layer, Conv2D):
            top, bottom, left, right = layer.padding_pixels
            a = np.pad(a, ((0, 0), (top, bottom), (left, right), (0, 0)))
            k, s = layer.kernel_size, layer.strides
            w = arrays[layer.name + ".kernel"]
            oh, ow = (a.shape[1] - k) // s + 1, (a.shape[2] - k) // s + 1
            win = np.lib.stride_tricks.sliding_window_view(a, (k, k), axis=(1, 2))[:, ::s, ::s][:, :oh, :ow]
            a = np.einsum("nhwcuv,uvcf->nhwf", win, w) + arrays[layer.name + ".bias"]
            if layer.activation == "relu":
                a = np.maximum(a, 0)
        elif isinstance(layer, (MaxPooling2D, AveragePooling2D)):
            k = layer.pool_size
            n, h, w_, c = a.shape
            blocks = a[:, : h // k * k, : w_ // k * k].reshape(n, h // k, k, w_ // k, k, c)
            a = blocks.max(axis=(2, 4)) if isinstance(layer, MaxPooling2D) else blocks.mean(axis=(2, 4))
        elif isinstance(layer, Flatten):
            a = a.reshape(len(a), -1)
        elif isinstance(layer, Dense):
            a = a @ arrays[layer.name + ".kernel"] + arrays[layer.name + ".bias"]
            if layer.activation == "relu":
                a = np.maximum(a, 0)
    return a


@pytest.mark.parametrize("key", ["keras_mnist", "hongong", "lenet5", "shapes_small"])
def test_keras_weights_reproduce_the_engine_in_channels_last(key):
    model = build_preset(key, seed=2)
    x = np.random.default_rng(0).random((3,) + model.input_shape, dtype=np.float32)
    arrays = weight_arrays(model, "keras")
    np.testing.assert_allclose(_keras_forward(model, arrays, x), model.forward(x), atol=1e-4)
    assert arrays["conv2d.kernel"].shape[:2] == (model.layers[0].kernel_size,) * 2     # HWIO


def test_keras_flatten_rows_are_permuted_only_for_the_first_dense():
    model = build_preset("keras_mnist", seed=2)
    arrays = weight_arrays(model, "keras")
    w = model.layers[6].params["W"]                 # (576 = 64*3*3 in CHW order, 64)
    assert not np.array_equal(arrays["dense.kernel"], w)
    c, h, wd = 64, 3, 3
    np.testing.assert_array_equal(arrays["dense.kernel"][(1 * wd + 2) * c + 5], w[5 * h * wd + 1 * wd + 2])
    np.testing.assert_array_equal(arrays["dense_1.kernel"], model.layers[7].params["W"])


def test_keras_code_spells_out_numeric_padding_and_leaky_relu():
    src = keras_code(_every_layer())
    calls = _sequential_calls(src, "keras.Sequential")
    names = [_name(c) for c in calls]
    assert names[:4] == ["keras.Input", "layers.Conv2D", "layers.LeakyReLU", "layers.MaxPooling2D"]
    assert _kw(calls[1])["padding"] == "same" and _kw(calls[1])["strides"] == 2
    assert _kw(calls[2])["negative_slope"] == 0.3
    assert "layers.ZeroPadding2D" in names and names[-1] == "layers.Softmax"
    assert "SparseCategoricalCrossentropy()" in src       # probabilities out: not from_logits


def test_export_reads_a_convscope_model_file(tmp_path):
    model = build_preset("lenet5", seed=4)
    file = save_model(tmp_path / "lenet", model)
    out = export_weights(file, tmp_path / "lenet_torch", framework="pytorch")
    assert out.suffix == ".npz"
    with np.load(out, allow_pickle=False) as data:
        np.testing.assert_array_equal(data["0.weight"], model.layers[0].params["W"])
        np.testing.assert_array_equal(data["7.weight"], model.layers[5].params["W"].T)


def test_code_from_a_list_of_layer_configs_and_an_input_shape():
    configs = [{"class_name": "Conv2D", "config": {"filters": 10, "kernel_size": 3}}, {"class_name": "Flatten"},
               {"class_name": "Dense", "config": {"units": 5}}]
    src = pytorch_code(configs, input_shape=(3, 6, 6))
    calls = _sequential_calls(src, "nn.Sequential")
    assert _args(calls[0]) == [3, 10] and _args(calls[2]) == [160, 5]
    assert "# total parameters: 1,085" in src
