"""The user's own examples: a folder per dataset that survives restarts, and a short fine-tune on them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine import optimizers
from engine.datasets.user_examples import (
    UserExamples,
    dataset_key,
    default_examples_dir,
    fine_tune,
    mixed_batch,
)


def drawing(seed: int, shape=(1, 28, 28)) -> np.ndarray:
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


def test_the_folder_follows_the_environment_and_names_the_dataset_and_shape(tmp_path):
    assert default_examples_dir({"CONVSCOPE_EXAMPLES_DIR": str(tmp_path)}) == tmp_path
    assert default_examples_dir({"XDG_DATA_HOME": str(tmp_path)}) == tmp_path / "convscope" / "examples"
    assert dataset_key("mnist", (1, 28, 28)) == "mnist_28x28x1"
    assert dataset_key("my photos/cats", (3, 64, 64)) == "my_photos_cats_64x64x3"


def test_examples_survive_a_restart_exactly_as_the_network_saw_them(tmp_path):
    store = UserExamples("shapes_28x28x1", (1, 28, 28), root=tmp_path)
    a, b = drawing(1), (drawing(2) * 255).astype(np.uint8)
    first = store.add(a, 5)
    store.add(b, 2)
    assert first.path == tmp_path / "shapes_28x28x1" / "5" / "0001.png" and first.path.is_file()
    again = UserExamples("shapes_28x28x1", (1, 28, 28), root=tmp_path)   # a new process, say
    assert [(e.id, e.label) for e in again.examples()] == [(1, 5), (2, 2)]
    x, y = again.arrays()
    assert x.dtype == np.uint8 and x.shape == (2, 1, 28, 28) and y.tolist() == [5, 2]
    assert np.array_equal(x[0], np.clip(np.rint(a * 255), 0, 255).astype(np.uint8))
    assert np.array_equal(x[1], b)
    assert again.counts() == {5: 1, 2: 1}


def test_colour_examples_keep_their_channels(tmp_path):
    store = UserExamples("cifar_32x32x3", (3, 32, 32), root=tmp_path)
    img = (drawing(3, (3, 32, 32)) * 255).astype(np.uint8)
    store.add(img, 0)
    assert np.array_equal(store.arrays()[0][0], img)


def test_remove_one_and_clear_all_delete_the_files(tmp_path):
    store = UserExamples("k", (1, 28, 28), root=tmp_path)
    e1, e2, e3 = (store.add(drawing(i), i) for i in range(3))
    assert store.remove(e2.id) and not e2.path.exists() and not store.remove(e2.id)
    assert [e.id for e in UserExamples("k", (1, 28, 28), root=tmp_path).examples()] == [e1.id, e3.id]
    e4 = store.add(drawing(9), 1)
    assert e4.id == e3.id + 1       # ids are never reused while newer ones exist
    store.clear()
    assert len(store) == 0 and not e1.path.exists() and not e4.path.exists()
    assert UserExamples("k", (1, 28, 28), root=tmp_path).examples() == []


def test_a_damaged_index_or_a_vanished_file_is_skipped_not_fatal(tmp_path):
    store = UserExamples("k", (1, 28, 28), root=tmp_path)
    e1 = store.add(drawing(1), 1)
    store.add(drawing(2), 2)
    e1.path.unlink()
    assert [e.label for e in UserExamples("k", (1, 28, 28), root=tmp_path).examples()] == [2]
    (store.folder / "index.json").write_text("{not json", encoding="utf-8")
    assert UserExamples("k", (1, 28, 28), root=tmp_path).examples() == []


def test_wrong_shapes_and_labels_are_refused(tmp_path):
    store = UserExamples("k", (1, 28, 28), root=tmp_path)
    with pytest.raises(ValueError):
        store.add(drawing(1, (1, 14, 14)), 0)
    with pytest.raises(ValueError):
        store.add(drawing(1), -1)
    with pytest.raises(ValueError):
        UserExamples("k", (2, 28, 28), root=tmp_path)
    assert not (store.folder / "index.json").exists()


def test_a_mixed_batch_holds_every_example_and_fills_up_with_the_dataset():
    rng = np.random.default_rng(0)
    ex_x = np.full((3, 1, 4, 4), 255, np.uint8)
    ex_y = np.array([7, 7, 7])
    x_train = np.zeros((50, 1, 4, 4), np.uint8)
    y_train = np.arange(50) % 5
    x, y = mixed_batch(rng, ex_x, ex_y, x_train, y_train, 16)
    assert x.shape == (16, 1, 4, 4) and x.dtype == np.float32 and y.dtype == np.int64
    assert (x.reshape(16, -1).max(1) == 1.0).sum() == 3 and (y == 7).sum() == 3
    many = np.full((40, 1, 4, 4), 255, np.uint8)
    x, y = mixed_batch(rng, many, np.full(40, 7), x_train, y_train, 16)
    assert (y == 7).sum() == 8          # at most half the batch are examples


def tiny_model():
    from engine.layers import Dense, Flatten
    from engine.network import Sequential

    model = Sequential([Flatten(), Dense(3)])
    model.build((1, 4, 4), seed=0)
    return model


def test_fine_tune_teaches_an_example_without_forgetting_the_dataset():
    x_train = np.zeros((60, 1, 4, 4), np.uint8)
    y_train = np.arange(60) % 2          # classes 0 and 1, told apart by one pixel
    x_train[y_train == 1, 0, 0, 0] = 255
    model = tiny_model()
    model.fit(x_train, y_train, optimizer=optimizers.Adam(0.05), epochs=20, batch_size=20, seed=0)
    example = np.zeros((1, 1, 4, 4), np.uint8)
    example[0, 0, 3, 3] = 255
    assert model.predict(example)[0] != 2
    report = fine_tune(model, optimizers.Adam(0.05), example, np.array([2]), x_train, y_train, steps=40,
                       batch_size=8, seed=0)
    assert report.steps == 40 and not report.stopped and report.losses[-1] < report.losses[0]
    assert model.predict(example)[0] == 2
    assert (model.predict(x_train) == y_train).mean() == 1.0


def test_fine_tune_stops_when_asked_and_needs_examples():
    model = tiny_model()
    x = np.zeros((4, 1, 4, 4), np.uint8)
    asked = []
    report = fine_tune(model, optimizers.SGD(0.1), x[:1], np.array([0]), x, np.zeros(4, np.int64), steps=10,
                       batch_size=4, should_stop=lambda: len(asked) >= 3, on_step=lambda s, loss: asked.append(s))
    assert report.stopped and report.steps == 3 and asked == [1, 2, 3]
    with pytest.raises(ValueError):
        fine_tune(model, optimizers.SGD(0.1), x[:0], np.zeros(0, np.int64), x, np.zeros(4, np.int64))


def test_the_index_is_plain_json(tmp_path):
    store = UserExamples("k", (1, 28, 28), root=tmp_path)
    store.add(drawing(1), 4)
    data = json.loads((store.folder / "index.json").read_text(encoding="utf-8"))
    assert data["input_shape"] == [1, 28, 28] and data["examples"][0]["file"] == "4/0001.png"
