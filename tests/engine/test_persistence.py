"""Model files: a faithful round trip, and a clear ModelFileError (never code execution) for bad files."""

import json
import zipfile

import numpy as np
import pytest

from engine.errors import ModelFileError
from engine.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from engine.network import Sequential
from engine.persistence import FORMAT_VERSION, load_model, load_weights_into, save_model
from engine.presets import build_preset


def model_a(seed=0):
    return Sequential([
        Conv2D(4, 3, padding="same", activation="relu", mode="convolution", frozen_filters=[1]), MaxPooling2D(2),
        Flatten(), Dense(8, activation="relu"), Dropout(0.2), Dense(3),
    ], name="tiny").build((1, 8, 8), seed=seed)


def rewrite(path, **replace):
    """Copy of the .npz at ``path`` with some entries replaced (None removes one)."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    for key, value in replace.items():
        if value is None:
            arrays.pop(key, None)
        else:
            arrays[key] = value
    out = path.with_name("edited.npz")
    np.savez(out, **arrays)
    return out


def architecture(path):
    with np.load(path, allow_pickle=False) as data:
        return json.loads(str(data["architecture"]))


def test_round_trip_keeps_architecture_weights_and_metadata(tmp_path):
    model = model_a()
    meta = {"dataset": "mnist", "class_names": ["영", "일", "이"], "history": [{"epoch": 0, "loss": np.float32(0.5)}],
            "confusion": np.eye(3, dtype=np.int64)}
    path = save_model(tmp_path / "model", model, meta)
    assert path.name == "model.npz" and path.exists()
    loaded, metadata = load_model(path)
    assert loaded.get_config() == model.get_config()
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    x = np.random.default_rng(0).integers(0, 256, (5, 1, 8, 8), dtype=np.uint8)
    np.testing.assert_array_equal(loaded.forward(x), model.forward(x))
    assert metadata["class_names"] == ["영", "일", "이"]
    assert metadata["history"][0]["loss"] == pytest.approx(0.5)
    assert metadata["confusion"] == np.eye(3).tolist()
    assert loaded.layers[0].frozen_filters == {1} and loaded.name == "tiny"


def test_file_is_plain_npz_with_a_versioned_architecture(tmp_path):
    path = save_model(tmp_path / "m.npz", build_preset("lenet5"), {})
    with np.load(path, allow_pickle=False) as data:
        assert "layer0_W" in data.files and data["layer0_W"].dtype == np.float32
        assert all(data[k].dtype != object for k in data.files)
    arch = architecture(path)
    assert arch["format_version"] == FORMAT_VERSION and arch["format"] == "convscope-model"
    assert [layer["class_name"] for layer in arch["model"]["layers"]][:2] == ["Conv2D", "AveragePooling2D"]


def test_saving_over_a_file_is_atomic(tmp_path):
    path = save_model(tmp_path / "m.npz", model_a(0))
    save_model(tmp_path / "m.npz", model_a(1))
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temporary left behind
    np.testing.assert_array_equal(load_model(path)[0].flat_params, model_a(1).flat_params)


@pytest.mark.parametrize(
    "content, words",
    [
        (b"", ["not a ConvScope model file"]),
        (b"hello, this is text", ["not a ConvScope model file"]),
        (b"PK\x03\x04broken zip", ["not a ConvScope model file"]),
    ],
)
def test_garbage_files_are_rejected(tmp_path, content, words):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    for word in words:
        assert word in str(info.value)
    # never numpy's advice to load the file unsafely
    assert "pickle" not in str(info.value).lower()


def test_a_pickle_renamed_npz_is_refused_without_unpickling(tmp_path):
    import pickle

    class Boom:
        def __reduce__(self):
            return (pytest.fail, ("a model file was unpickled",))

    path = tmp_path / "evil.npz"
    path.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(ModelFileError, match="not an .npz archive") as info:
        load_model(path)
    assert "pickle" not in str(info.value).lower()


def test_missing_file_is_a_model_file_error(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        load_model(tmp_path / "nope.npz")


def test_truncated_file_is_rejected(tmp_path):
    path = save_model(tmp_path / "m.npz", model_a())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError):
        load_model(path)


def test_pickled_objects_are_never_loaded(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, architecture=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ModelFileError, match="not a ConvScope model file"):
        load_model(path)


def test_npz_without_architecture_is_rejected(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, a=np.zeros(3))
    with pytest.raises(ModelFileError, match="no model architecture"):
        load_model(path)


def test_newer_and_unknown_versions_are_rejected(tmp_path):
    path = save_model(tmp_path / "m.npz", model_a())
    arch = architecture(path)
    arch["format_version"] = FORMAT_VERSION + 1
    with pytest.raises(ModelFileError, match="newer ConvScope"):
        load_model(rewrite(path, architecture=np.array(json.dumps(arch))))
    arch["format_version"] = "one"
    with pytest.raises(ModelFileError, match="version"):
        load_model(rewrite(path, architecture=np.array(json.dumps(arch))))
    with pytest.raises(ModelFileError, match="damaged"):
        load_model(rewrite(path, architecture=np.array("{not json")))


def test_weights_that_do_not_match_the_architecture_are_rejected(tmp_path):
    path = save_model(tmp_path / "m.npz", model_a())
    with pytest.raises(ModelFileError, match="holds 651 weights but its architecture needs 587"):
        load_model(rewrite(path, layer0_W=np.zeros((4, 1, 5, 5), np.float32)))
    with pytest.raises(ModelFileError, match="layer 3"):
        load_model(rewrite(path, layer3_W=np.zeros((8, 64), np.float32)))
    with pytest.raises(ModelFileError, match="missing|needs"):
        load_model(rewrite(path, layer5_b=None))
    with pytest.raises(ModelFileError, match="NaN"):
        load_model(rewrite(path, layer5_b=np.array([np.nan, 0, 0], np.float32)))


def test_unknown_layer_class_or_huge_layer_in_the_file_is_rejected_before_building(tmp_path):
    path = save_model(tmp_path / "m.npz", model_a())
    arch = architecture(path)
    arch["model"]["layers"][0]["class_name"] = "__import__('os').system"
    with pytest.raises(ModelFileError, match="unknown layer type"):
        load_model(rewrite(path, architecture=np.array(json.dumps(arch))))
    arch = architecture(path)
    arch["model"]["layers"][3]["config"]["units"] = 10**9  # would need gigabytes
    with pytest.raises(ModelFileError, match="parameters; at most") as info:
        load_model(rewrite(path, architecture=np.array(json.dumps(arch))))
    assert info.value.code == "architecture_invalid"
    assert info.value.values["error"].code == "too_many_params"


def test_loading_weights_into_an_existing_model(tmp_path):
    source = model_a(seed=1)
    path = save_model(tmp_path / "m.npz", source, {"note": "x"})
    target = model_a(seed=2)
    assert load_weights_into(target, path) == {"note": "x"}
    np.testing.assert_array_equal(target.flat_params, source.flat_params)


def test_loading_a_file_of_another_architecture_into_a_model_fails_and_changes_nothing(tmp_path):
    path = save_model(tmp_path / "lenet.npz", build_preset("lenet5"))
    target = build_preset("keras_mnist")
    before = target.flat_params.copy()
    with pytest.raises(ModelFileError, match="AveragePooling2D|differ|layers"):
        load_weights_into(target, path)
    np.testing.assert_array_equal(target.flat_params, before)
    other = Sequential([Flatten(), Dense(3)]).build((1, 9, 9))
    with pytest.raises(ModelFileError, match="images"):
        load_weights_into(other, save_model(tmp_path / "a.npz", model_a()))
    same_classes_wider = Sequential([
        Conv2D(5, 3, padding="same", activation="relu"), MaxPooling2D(2),
        Flatten(), Dense(8, activation="relu"), Dropout(0.2), Dense(3),
    ]).build((1, 8, 8))
    with pytest.raises(ModelFileError, match="shape"):
        load_weights_into(same_classes_wider, tmp_path / "a.npz")


def test_zip_with_a_directory_traversal_name_is_just_an_unknown_array(tmp_path):
    path = save_model(tmp_path / "m.npz", model_a())
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("../../evil.npy", b"not an array")
    with pytest.raises(ModelFileError):
        load_model(path)
    assert not (tmp_path.parent.parent / "evil.npy").exists()


def test_rectangular_kernels_strides_pools_and_padding_survive_a_round_trip(tmp_path):
    model = Sequential([
        Conv2D(4, (1, 3), strides=(1, 2), padding=((1, 0), (2, 1)), activation="relu"), MaxPooling2D((2, 1)),
        Conv2D(3, (3, 2), padding=(1, 0)), Flatten(), Dense(3),
    ]).build((3, 9, 10), seed=2)
    path = save_model(tmp_path / "rect.npz", model)
    layers = architecture(path)["model"]["layers"]
    assert layers[0]["config"]["kernel_size"] == [1, 3]
    assert layers[0]["config"]["padding"] == [[1, 0], [2, 1]]
    loaded, _ = load_model(path)
    assert loaded.layers[0].params["W"].shape == (4, 3, 1, 3)
    assert [layer.padding_pixels for layer in loaded.layers[:3]] == [layer.padding_pixels for layer in model.layers[:3]]
    x = np.random.default_rng(0).random((2, 3, 9, 10), dtype=np.float32)
    np.testing.assert_array_equal(loaded.forward(x), model.forward(x))


def test_an_old_square_model_file_still_loads(tmp_path):
    path = save_model(tmp_path / "a.npz", model_a())
    arch = architecture(path)
    assert arch["model"]["layers"][0]["config"]["kernel_size"] == 3  # square layers keep writing one int
    loaded, _ = load_model(path)
    assert loaded.layers[0].params["W"].shape == (4, 1, 3, 3)
