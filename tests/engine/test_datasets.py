"""Dataset loading: the original files, the lookup order, verified downloads, folders, batches.

No test touches the internet: downloads go to a local ``http.server`` on 127.0.0.1 (serving the
original files from ../shared/data, a corrupted copy, or a connection that breaks), or through an
injected opener; any other host name is refused by the ``no_internet`` fixture.
"""

from __future__ import annotations

import http.server
import os
import socket
import threading
import urllib.error
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.datasets import DATASETS, Dataset, batches, load_dataset, load_image_folder, split_train_validation
from engine.datasets import mnist as mnist_mod
from engine.errors import DatasetError

# the README's published counts
MNIST_TRAIN = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    """Any host but 127.0.0.1/localhost fails like a machine with no network."""
    real = socket.getaddrinfo

    def local_only(host, *args, **kwargs):
        if host not in ("127.0.0.1", "localhost"):
            raise socket.gaierror(-2, "Name or service not known (tests run offline)")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", local_only)
    monkeypatch.delenv("CONVSCOPE_DATA_DIR", raising=False)


def isolated(tmp_path, **extra):
    """Lookup arguments that see none of this machine's real copies (home, ./data, /usr/share)."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    kw = dict(home=home, cwd=home, cache_dir=tmp_path / "cache", system_dirs=[], env={})
    kw.update(extra)
    return kw


def link_files(src: Path, dst: Path, names=None) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for p in src.iterdir():
        if names is None or p.name in names:
            (dst / p.name).symlink_to(p)
    return dst


# --- the original files ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mnist(shared_data):
    return load_dataset("mnist", data_dir=shared_data)


@pytest.fixture(scope="module")
def fashion(shared_data):
    return load_dataset("fashion_mnist", data_dir=shared_data)


def test_mnist_from_the_original_gz_files(mnist, shared_data):
    assert mnist.x_train.shape == (60000, 1, 28, 28) and mnist.x_test.shape == (10000, 1, 28, 28)
    assert mnist.x_train.dtype == np.uint8 and mnist.y_train.dtype == np.int64
    assert mnist.class_counts("train").tolist() == MNIST_TRAIN
    assert mnist.class_counts("test").tolist() == MNIST_TEST
    assert mnist.class_names == [str(i) for i in range(10)]
    assert mnist.input_shape == (1, 28, 28) and mnist.num_classes == 10
    assert Path(mnist.source) == shared_data / "mnist"
    assert mnist.y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert mnist.nbytes < 60_000_000  # uint8 storage: about 55 MB of pixels, not 4x that


def test_fashion_mnist_from_the_original_gz_files(fashion, shared_data):
    assert fashion.x_train.shape == (60000, 1, 28, 28) and fashion.x_test.shape == (10000, 1, 28, 28)
    assert fashion.class_counts("train").tolist() == [6000] * 10
    assert fashion.class_counts("test").tolist() == [1000] * 10
    assert fashion.class_names == FASHION == list(DATASETS["fashion_mnist"].class_names)
    assert Path(fashion.source) == shared_data / "fashion-mnist"


def test_data_dir_may_be_the_folder_of_files_itself(shared_data, tmp_path):
    ds = load_dataset("mnist", data_dir=shared_data / "mnist", **isolated(tmp_path))
    assert Path(ds.source) == shared_data / "mnist" and len(ds.y_test) == 10000


def test_the_other_datasets_files_are_recognised_by_their_label_counts(shared_data, tmp_path):
    with pytest.raises(DatasetError, match="holds MNIST, not Fashion-MNIST"):
        load_dataset("fashion_mnist", data_dir=shared_data / "mnist", **isolated(tmp_path))


# --- lookup order ---------------------------------------------------------------------------------
def test_env_var_folder_is_used(shared_data, tmp_path):
    ds = load_dataset("mnist", **isolated(tmp_path, env={"CONVSCOPE_DATA_DIR": str(shared_data)}))
    assert Path(ds.source) == shared_data / "mnist"


def test_keras_fashion_folder_and_torchvision_raw_folder_are_found(shared_data, tmp_path):
    kw = isolated(tmp_path)
    home = kw["home"]
    link_files(shared_data / "fashion-mnist", home / ".keras" / "datasets" / "fashion-mnist")
    assert load_dataset("fashion_mnist", **kw).source == str(home / ".keras" / "datasets" / "fashion-mnist")
    link_files(shared_data / "mnist", home / "data" / "MNIST" / "raw")
    assert load_dataset("mnist", **kw).source == str(home / "data" / "MNIST" / "raw")


def test_keras_mnist_npz_is_read_without_pickle(mnist, tmp_path):
    kw = isolated(tmp_path)
    npz = kw["home"] / ".keras" / "datasets" / "mnist.npz"
    npz.parent.mkdir(parents=True)
    np.savez(npz, x_train=mnist.x_train[:, 0], y_train=mnist.y_train.astype(np.uint8),
             x_test=mnist.x_test[:, 0], y_test=mnist.y_test.astype(np.uint8))
    ds = load_dataset("mnist", **kw)
    assert ds.source == str(npz) and ds.x_train.shape == (60000, 1, 28, 28)
    np.testing.assert_array_equal(ds.x_test, mnist.x_test)
    assert ds.class_counts("train").tolist() == MNIST_TRAIN


def test_debian_folder_with_rewritten_gzip_headers_is_found(shared_data, tmp_path):
    # Debian's dataset-fashion-mnist re-wrote the gzip headers: content checks must not depend on them.
    import gzip

    deb = tmp_path / "usr-share-datasets-fashion-mnist"
    deb.mkdir()
    for p in (shared_data / "fashion-mnist").iterdir():
        if p.name.endswith(".gz") and "labels" in p.name:
            (deb / p.name).write_bytes(gzip.compress(gzip.decompress(p.read_bytes()), mtime=1591315200))
        elif p.name.endswith(".gz"):
            (deb / p.name).symlink_to(p)
    ds = load_dataset("fashion_mnist", **isolated(tmp_path, system_dirs=[deb]))
    assert ds.source == str(deb)


def test_explicit_folder_wins_over_user_copies_and_cache(shared_data, tmp_path):
    kw = isolated(tmp_path)
    link_files(shared_data / "mnist", kw["home"] / "data" / "mnist")
    link_files(shared_data / "mnist", kw["cache_dir"] / "mnist")
    mine = link_files(shared_data / "mnist", tmp_path / "mine")
    assert load_dataset("mnist", data_dir=mine, **kw).source == str(mine)
    assert load_dataset("mnist", **kw).source == str(kw["home"] / "data" / "mnist")


def test_uncompressed_and_dotted_file_names_are_accepted(shared_data, tmp_path):
    import gzip

    d = tmp_path / "kaggle"
    d.mkdir()
    for p in (shared_data / "mnist").glob("t10k*.gz"):
        (d / p.name[:-3].replace("-idx", ".idx")).write_bytes(gzip.decompress(p.read_bytes()))
    for p in (shared_data / "mnist").glob("train*.gz"):
        (d / p.name).symlink_to(p)
    ds = load_dataset("mnist", data_dir=d, **isolated(tmp_path))
    assert ds.class_counts("test").tolist() == MNIST_TEST


def test_a_broken_copy_in_the_chosen_folder_is_an_error_naming_the_file(shared_data, tmp_path):
    d = link_files(shared_data / "mnist", tmp_path / "mine", names={"train-images-idx3-ubyte.gz",
                                                                    "train-labels-idx1-ubyte.gz",
                                                                    "t10k-labels-idx1-ubyte.gz"})
    data = (shared_data / "mnist" / "t10k-images-idx3-ubyte.gz").read_bytes()
    (d / "t10k-images-idx3-ubyte.gz").write_bytes(data[: len(data) // 3])
    with pytest.raises(DatasetError) as info:
        load_dataset("mnist", data_dir=d, **isolated(tmp_path))
    assert "t10k-images-idx3-ubyte.gz" in str(info.value) and "folder you chose" in str(info.value)


def test_a_broken_copy_found_elsewhere_is_skipped_for_the_next_one(shared_data, tmp_path):
    kw = isolated(tmp_path)
    keras = link_files(shared_data / "fashion-mnist", kw["home"] / ".keras" / "datasets" / "fashion-mnist",
                       names={"train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"})
    (keras / "train-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b broken")
    link_files(shared_data / "fashion-mnist", kw["cache_dir"] / "fashion-mnist")
    ds = load_dataset("fashion_mnist", **kw)
    assert ds.source == str(kw["cache_dir"] / "fashion-mnist")


# --- downloads ------------------------------------------------------------------------------------
class _Handler(http.server.SimpleHTTPRequestHandler):
    cut_files: set = set()

    def log_message(self, *args):  # keep test output clean
        pass

    def copyfile(self, source, outputfile):
        name = self.path.rsplit("/", 1)[-1]
        if name in self.cut_files:        # announce the full length, then drop the connection
            outputfile.write(source.read(1000))
            self.close_connection = True
            return
        try:
            super().copyfile(source, outputfile)
        except ConnectionError:           # the client gave up (a cancelled download): not an error here
            self.close_connection = True


@pytest.fixture
def serve():
    servers = []

    def start(folder: Path, cut_files=()):
        handler = type("H", (_Handler,), {"cut_files": set(cut_files)})
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(folder)))
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}/"

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_verifies_reports_progress_and_fills_the_cache(shared_data, tmp_path, serve):
    url = serve(shared_data / "mnist")
    calls = []
    kw = isolated(tmp_path)
    ds = load_dataset("mnist", progress=lambda done, total: calls.append((done, total)), mirrors=[url], **kw)
    total = sum(f.size for f in mnist_mod.SPECS["mnist"].files.values())
    assert calls[-1] == (total, total) and all(t == total for _, t in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)         # monotonic
    assert ds.class_counts("train").tolist() == MNIST_TRAIN
    assert url in str(ds.notes[0]) and ds.source == str(kw["cache_dir"] / "mnist")
    assert _leftovers(kw["cache_dir"] / "mnist") == sorted(f.name for f in mnist_mod.SPECS["mnist"].files.values())
    # the next load uses the cache: no server, no progress
    again = load_dataset("mnist", mirrors=["http://127.0.0.1:9/"], **kw)
    assert again.source == str(kw["cache_dir"] / "mnist")


def _corrupt_mirror(shared_data: Path, folder: Path, name: str) -> Path:
    link_files(shared_data / "mnist", folder)
    (folder / name).unlink()
    data = bytearray((shared_data / "mnist" / name).read_bytes())
    data[len(data) // 2] ^= 0x55                                      # same size, one byte off
    (folder / name).write_bytes(bytes(data))
    return folder


def test_a_wrong_checksum_never_lands_in_the_cache(shared_data, tmp_path, serve):
    bad = serve(_corrupt_mirror(shared_data, tmp_path / "bad", "t10k-labels-idx1-ubyte.gz"))
    kw = isolated(tmp_path)
    with pytest.raises(DatasetError) as info:
        load_dataset("mnist", mirrors=[bad], **kw)
    msg = str(info.value)
    assert "MD5" in msg and "t10k-labels-idx1-ubyte.gz" in msg
    assert "t10k-labels-idx1-ubyte.gz" not in _leftovers(kw["cache_dir"] / "mnist")
    assert not any(n.endswith(".part") for n in _leftovers(kw["cache_dir"] / "mnist"))


def test_the_next_mirror_is_tried_after_a_bad_one(shared_data, tmp_path, serve):
    bad = serve(_corrupt_mirror(shared_data, tmp_path / "bad", "train-labels-idx1-ubyte.gz"))
    good = serve(shared_data / "mnist")
    ds = load_dataset("mnist", mirrors=[bad, good], **isolated(tmp_path))
    assert ds.class_counts("train").tolist() == MNIST_TRAIN


def test_a_connection_that_breaks_leaves_no_file(shared_data, tmp_path, serve):
    url = serve(shared_data / "mnist", cut_files={"t10k-images-idx3-ubyte.gz"})
    kw = isolated(tmp_path)
    with pytest.raises(DatasetError) as info:
        load_dataset("mnist", mirrors=[url], **kw)
    assert "t10k-images-idx3-ubyte.gz" in str(info.value)
    left = _leftovers(kw["cache_dir"] / "mnist")
    assert "t10k-images-idx3-ubyte.gz" not in left and not any(".part" in n for n in left)


def test_cancelled_download_leaves_no_file(shared_data, tmp_path, serve):
    url = serve(shared_data / "mnist")
    dest = tmp_path / "dl" / "train-images-idx3-ubyte.gz"
    seen = []
    with pytest.raises(DatasetError, match="cancelled"):
        mnist_mod.download_file(url + dest.name, dest, size=9912422, progress=lambda d, t: seen.append(d),
                                should_stop=lambda: len(seen) > 3)
    assert _leftovers(dest.parent) == []


def test_a_truncated_file_served_whole_is_refused_by_size(shared_data, tmp_path, serve):
    folder = tmp_path / "short"
    folder.mkdir()
    data = (shared_data / "mnist" / "t10k-labels-idx1-ubyte.gz").read_bytes()
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(data[:2000])
    url = serve(folder)
    rf = mnist_mod.SPECS["mnist"].files["test_labels"]
    with pytest.raises(DatasetError, match="2000 bytes but the original file has 4542"):
        mnist_mod.download_file(url + rf.name, tmp_path / "dl" / rf.name, size=rf.size, md5=rf.md5)
    assert _leftovers(tmp_path / "dl") == []


def test_no_network_says_which_folder_to_put_which_files_in(tmp_path):
    kw = isolated(tmp_path)
    with pytest.raises(DatasetError) as info:
        load_dataset("fashion_mnist", **kw)                 # the real mirrors: refused by no_internet
    msg = str(info.value)
    assert "no internet connection" in msg
    assert str(kw["cache_dir"] / "fashion-mnist") in msg
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz"):
        assert name in msg
    assert "--data-dir" in msg
    assert _leftovers(kw["cache_dir"] / "fashion-mnist") == []


def test_an_injected_opener_replaces_the_network(shared_data, tmp_path):
    class Response:
        def __init__(self, path):
            self.f = open(path, "rb")
            self.headers = {"Content-Length": str(os.path.getsize(path))}

        def read(self, n):
            return self.f.read(n)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    urls = []

    def opener(url, timeout):
        urls.append(url)
        if "mirror-a" in url:
            raise urllib.error.URLError("unreachable")
        return Response(shared_data / "fashion-mnist" / url.rsplit("/", 1)[-1])

    ds = load_dataset("fashion_mnist", opener=opener, mirrors=["https://mirror-a/", "https://mirror-b/"],
                      **isolated(tmp_path))
    assert ds.class_counts("test").tolist() == [1000] * 10
    assert len(urls) == 8 and urls[1].startswith("https://mirror-b/")


def test_a_chosen_folder_that_does_not_exist_is_reported_not_replaced_by_a_download(tmp_path):
    with pytest.raises(DatasetError, match="'/no/such/folder' does not exist"):
        load_dataset("mnist", data_dir="/no/such/folder", **isolated(tmp_path))
    with pytest.raises(DatasetError, match="CONVSCOPE_DATA_DIR '/no/such/env' does not exist"):
        load_dataset("mnist", **isolated(tmp_path, env={"CONVSCOPE_DATA_DIR": "/no/such/env"}))
    assert not (tmp_path / "cache").exists()


def test_download_can_be_turned_off(tmp_path):
    with pytest.raises(DatasetError, match="downloading is turned off"):
        load_dataset("mnist", download=False, **isolated(tmp_path))


def test_unknown_dataset_name_lists_the_choices():
    with pytest.raises(DatasetError, match="shapes, mnist, fashion_mnist"):
        load_dataset("cifar10")
    assert set(DATASETS) == {"shapes", "mnist", "fashion_mnist", "colour_shapes", "colour_shapes_64"}


# --- batches and splits ---------------------------------------------------------------------------
def test_batches_are_float32_in_unit_range_and_cover_every_image_once():
    x = np.arange(103 * 4, dtype=np.uint8).reshape(103, 1, 2, 2)
    y = np.arange(103)
    got = list(batches(x, y, 10, rng=1))
    assert [len(b[1]) for b in got] == [10] * 10 + [3]
    xb, yb = got[0]
    assert xb.dtype == np.float32 and xb.flags.c_contiguous and yb.dtype == np.int64
    assert 0.0 <= xb.min() and xb.max() <= 1.0
    np.testing.assert_allclose(xb, x[yb].astype(np.float32) / 255, rtol=1e-6)
    assert sorted(np.concatenate([b[1] for b in got]).tolist()) == list(range(103))
    assert x.dtype == np.uint8  # the stored data stays uint8


def test_batches_are_deterministic_with_a_seed_and_differ_between_seeds():
    x = np.zeros((50, 1, 2, 2), np.uint8)
    y = np.arange(50)
    order = lambda seed: np.concatenate([b for _, b in batches(x, y, 8, rng=seed)]).tolist()  # noqa: E731
    assert order(3) == order(3) and order(3) != order(4)
    assert np.concatenate([b for _, b in batches(x, y, 8, shuffle=False)]).tolist() == list(range(50))
    assert [len(b) for _, b in batches(x, y, 8, rng=0, drop_last=True)] == [8] * 6


def test_batches_reject_a_bad_batch_size():
    with pytest.raises(DatasetError, match="at least 1"):
        next(batches(np.zeros((2, 1, 1, 1), np.uint8), np.zeros(2), 0))


def test_split_is_stratified_and_deterministic():
    y = np.repeat(np.arange(4), [50, 30, 10, 2])
    x = np.arange(len(y), dtype=np.uint8)[:, None, None, None]
    a = split_train_validation(x, y, 0.2, seed=5)
    b = split_train_validation(x, y, 0.2, seed=5)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    x_tr, y_tr, x_val, y_val = a
    assert np.bincount(y_val, minlength=4).tolist() == [10, 6, 2, 1]
    assert len(y_tr) + len(y_val) == len(y)
    assert not set(x_tr[:, 0, 0, 0].tolist()) & set(x_val[:, 0, 0, 0].tolist())
    with pytest.raises(DatasetError, match="below 1"):
        split_train_validation(x, y, 1.5)


def test_sixty_thousand_images_batch_without_a_float_copy_of_the_whole_set(mnist):
    import tracemalloc

    tracemalloc.start()
    for i, (xb, _yb) in enumerate(batches(mnist.x_train, mnist.y_train, 256, rng=0)):  # noqa: B007 (the last batch is checked below)
        if i == 30:
            break
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert xb.shape == (256, 1, 28, 28)
    assert peak < 10_000_000, peak   # a permutation + a few batches, not 188 MB of float32


# --- image folders --------------------------------------------------------------------------------
def _draw(kind: str, size=(40, 30), mode="RGB", seed=0) -> Image.Image:
    rng = np.random.default_rng(seed)
    a = np.full((size[1], size[0], 3), 230, np.uint8)
    if kind == "red":
        a[5:-5, 5:-5] = (200 + rng.integers(0, 40), 20, 20)
    elif kind == "blue":
        a[8:-8, 3:-3] = (20, 20, 200 + rng.integers(0, 40))
    else:
        a[::3] = 40
    return Image.fromarray(a).convert(mode)


def _make_folder(root: Path) -> Path:
    (root / "red").mkdir(parents=True)
    (root / "blue").mkdir()
    (root / "zebra").mkdir()
    (root / "empty").mkdir()
    for i in range(6):
        _draw("red", seed=i).save(root / "red" / f"r{i}.png")
        _draw("blue", (30, 50), seed=i).save(root / "blue" / f"b{i}.jpg", quality=95)
    _draw("zebra", mode="RGBA").save(root / "zebra" / "z0.png")
    _draw("zebra", mode="P").save(root / "zebra" / "z1.gif")
    _draw("zebra", mode="L").save(root / "zebra" / "z2.bmp")
    _draw("zebra").save(root / "zebra" / "z3.webp")
    _draw("zebra", mode="L").save(root / "zebra" / "z4.PGM", format="PPM")  # any listed extension, any case
    (root / "red" / "notes.txt").write_text("not a picture")
    (root / "red" / "zero.png").write_bytes(b"")
    (root / "blue" / "fake.jpg").write_text("this is text")
    full = (root / "red" / "r0.png").read_bytes()
    (root / "red" / "cut.png").write_bytes(full[: len(full) // 2])
    (root / "blue" / "Thumbs.db").write_bytes(b"\x00" * 10)
    _draw("red").save(root / "loose.png")
    return root


def test_image_folder_classes_sizes_and_skipped_files(tmp_path):
    root = _make_folder(tmp_path / "pics")
    ds = load_image_folder(root, image_size=(24, 24), color="rgb", validation_split=0.25, seed=0)
    assert isinstance(ds, Dataset) and ds.class_names == ["blue", "red", "zebra"]
    assert ds.input_shape == (3, 24, 24) and ds.x_train.dtype == np.uint8
    assert len(ds.y_train) + len(ds.y_test) == 17
    assert np.bincount(ds.y_test, minlength=3).tolist() == [2, 2, 1]
    assert {why.code for _, why in ds.skipped} >= {"not_image_type", "image_file_empty", "image_truncated"}
    reasons = {Path(p).name: str(why) for p, why in ds.skipped}
    assert set(reasons) == {"notes.txt", "zero.png", "fake.jpg", "cut.png"}
    assert "not an image file type" in reasons["notes.txt"]
    assert "empty" in reasons["zero.png"] and "truncated" in reasons["cut.png"]
    assert "not an image" in reasons["fake.jpg"]
    notes = [str(n) for n in ds.notes]
    assert any("empty" in n for n in notes) and any("loose" in n or "directly" in n for n in notes)
    assert ds.source == str(root)
    # red pictures are red, blue ones blue: the channels survived in RGB order
    red = ds.x_train[ds.y_train == 1].astype(int)
    assert (red[:, 0, 12, 12] > red[:, 2, 12, 12] + 100).all()


def test_image_folder_grayscale_is_deterministic(tmp_path):
    root = _make_folder(tmp_path / "pics")
    a = load_image_folder(root, image_size=(28, 28), seed=3)
    b = load_image_folder(root, image_size=(28, 28), seed=3)
    assert a.input_shape == (1, 28, 28)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)


def test_image_folder_keeps_aspect_ratio_and_pads_with_the_background(tmp_path):
    root = tmp_path / "bars"
    for cls in ("a", "b"):
        (root / cls).mkdir(parents=True)
        a = np.full((10, 40), 255, np.uint8)       # white 40x10 picture with a black 20x4 block
        a[3:7, 10:30] = 0
        for i in range(2):
            Image.fromarray(a).save(root / cls / f"{i}.png")
    ds = load_image_folder(root, image_size=(28, 28), validation_split=0.0)
    img = ds.x_train[0, 0]
    assert (img[:10] == 255).all() and (img[-10:] == 255).all()   # padded top/bottom, not stretched
    assert img[14, 14] < 30


@pytest.mark.parametrize("layout, needle", [
    ("missing", "does not exist"),
    ("file", "is a file"),
    ("flat", "move them into subfolders"),
    ("one", "at least two"),
])
def test_image_folder_errors_teach_the_layout(tmp_path, layout, needle):
    root = tmp_path / "data"
    if layout == "file":
        root.write_text("x")
    elif layout == "flat":
        root.mkdir()
        _draw("red").save(root / "a.png")
    elif layout == "one":
        (root / "cats").mkdir(parents=True)
        _draw("red").save(root / "cats" / "a.png")
    with pytest.raises(DatasetError, match=needle):
        load_image_folder(root)
