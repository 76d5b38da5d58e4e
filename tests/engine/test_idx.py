"""IDX reader: round trips, the original files' headers, and every way a damaged file can fail."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from engine.datasets.idx import load_idx_pair, read_idx, read_idx_header, write_idx
from engine.errors import DatasetError


def _header(magic: int, *dims: int) -> bytes:
    return magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)


def _images(n=5, h=28, w=28, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, h, w), dtype=np.uint8)


@pytest.mark.parametrize("name", ["imgs-idx3-ubyte", "imgs-idx3-ubyte.gz"])
def test_uint8_images_round_trip_raw_and_gzip(tmp_path, name):
    x = _images()
    path = write_idx(tmp_path / name, x)
    assert path.read_bytes()[:2] == (b"\x1f\x8b" if name.endswith(".gz") else b"\x00\x00")
    y = read_idx(path, expected_magic=2051, expected_shape=(5, 28, 28))
    assert y.dtype == np.uint8 and y.shape == (5, 28, 28)
    np.testing.assert_array_equal(y, x)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.float32, np.float64])
def test_other_idx_element_types_round_trip_in_native_byte_order(tmp_path, dtype):
    x = (np.arange(24).reshape(2, 3, 4) - 7).astype(dtype)
    y = read_idx(write_idx(tmp_path / "a.idx", x))
    assert y.dtype == np.dtype(dtype) and y.dtype.isnative
    np.testing.assert_array_equal(y, x)


def test_gzip_is_detected_by_content_not_by_name(tmp_path):
    x = _images(2)
    gz = tmp_path / "looks-raw-idx3-ubyte"
    gz.write_bytes(gzip.compress(_header(2051, 2, 28, 28) + x.tobytes()))
    np.testing.assert_array_equal(read_idx(gz), x)


def test_original_mnist_headers(shared_data):
    assert read_idx_header(shared_data / "mnist" / "train-images-idx3-ubyte.gz") == (2051, (60000, 28, 28))
    assert read_idx_header(shared_data / "mnist" / "t10k-labels-idx1-ubyte.gz") == (2049, (10000,))
    assert read_idx_header(shared_data / "fashion-mnist" / "t10k-images-idx3-ubyte.gz") == (2051, (10000, 28, 28))


def test_original_mnist_test_pair_loads_as_n_c_h_w(shared_data):
    folder = shared_data / "mnist"
    x, y = load_idx_pair(folder / "t10k-images-idx3-ubyte.gz", folder / "t10k-labels-idx1-ubyte.gz", count=10000)
    assert x.shape == (10000, 1, 28, 28) and x.dtype == np.uint8 and x.flags.c_contiguous
    assert y.dtype == np.int64 and y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert x.max() == 255 and x.min() == 0


# --- damaged files ----------------------------------------------------------------------------
def _expect(path, *needles, **kwargs):
    with pytest.raises(DatasetError) as info:
        read_idx(path, **kwargs)
    msg = str(info.value)
    assert path.name in msg, msg
    for needle in needles:
        assert needle in msg, msg
    return msg


def test_missing_file_names_the_path(tmp_path):
    _expect(tmp_path / "nope-idx1-ubyte.gz", "does not exist")


def test_empty_file(tmp_path):
    p = tmp_path / "empty-idx1-ubyte"
    p.write_bytes(b"")
    _expect(p, "empty")


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_data_says_how_many_bytes_are_missing(tmp_path, gz):
    x = _images(4)
    data = _header(2051, 4, 28, 28) + x.tobytes()[:-100]
    p = tmp_path / ("cut-idx3-ubyte" + (".gz" if gz else ""))
    p.write_bytes(gzip.compress(data) if gz else data)
    msg = _expect(p, "truncated", "3136 bytes", "3036")
    assert "again" in msg  # says how to fix it


def test_gzip_stream_cut_off_mid_download(tmp_path):
    full = gzip.compress(_header(2051, 50, 28, 28) + _images(50).tobytes())
    p = tmp_path / "partial-idx3-ubyte.gz"
    p.write_bytes(full[: len(full) // 2])
    _expect(p, "download")


def test_corrupt_gzip_bytes(tmp_path):
    full = bytearray(gzip.compress(_header(2051, 50, 28, 28) + _images(50).tobytes()))
    for i in range(40, 60):
        full[i] ^= 0xFF
    p = tmp_path / "corrupt-idx3-ubyte.gz"
    p.write_bytes(bytes(full))
    _expect(p, "damaged")


def test_header_cut_inside_dimensions(tmp_path):
    p = tmp_path / "short-idx3-ubyte"
    p.write_bytes(_header(2051, 10)[:6])
    _expect(p, "header")


def test_not_an_idx_file(tmp_path):
    p = tmp_path / "readme-idx3-ubyte"
    p.write_bytes(b"<html>404 Not Found</html>")
    _expect(p, "not an IDX file", "magic")


def test_unknown_element_type(tmp_path):
    p = tmp_path / "odd-idx1-ubyte"
    p.write_bytes(bytes([0, 0, 0x07, 1]) + (3).to_bytes(4, "big") + b"abc")
    _expect(p, "element type 0x07")


def test_swapped_image_and_label_files(tmp_path):
    p = tmp_path / "train-labels-idx1-ubyte"
    write_idx(p, _images(3))
    _expect(p, "2051", "label file", expected_magic=2049)


def test_unexpected_count_or_image_size(tmp_path):
    p = write_idx(tmp_path / "small-idx3-ubyte", _images(3, 32, 32))
    _expect(p, "3 x 32 x 32", "60000 x 28 x 28", expected_shape=(60000, 28, 28))


def test_trailing_bytes_mean_a_wrong_header(tmp_path):
    p = tmp_path / "long-idx1-ubyte"
    p.write_bytes(_header(2049, 3) + b"\x01\x02\x03\x04")
    _expect(p, "more data than its header")


def test_absurd_sizes_in_header_are_refused_before_allocating(tmp_path):
    p = tmp_path / "huge-idx3-ubyte"
    p.write_bytes(_header(2051, 4_000_000_000, 28, 28) + b"\x00" * 64)
    _expect(p, "GB", "corrupt")


def test_image_and_label_counts_that_differ(tmp_path):
    xi = write_idx(tmp_path / "train-images-idx3-ubyte.gz", _images(6))
    yl = write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.arange(4, dtype=np.uint8))
    with pytest.raises(DatasetError) as info:
        load_idx_pair(xi, yl)
    msg = str(info.value)
    assert "6 images" in msg and "4 labels" in msg and "t10k-labels" in msg
