"""IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed, read with numpy.

Layout (LeCun's page): a big-endian magic ``0x00 0x00 TYPE NDIM``, then ``NDIM`` big-endian uint32
sizes, then the raw values row-major with no padding and no footer. Everything a damaged file can
get wrong (header, sizes, length, trailing bytes, broken gzip) becomes a :class:`DatasetError` that
names the file and says what to do.

The reader never decompresses more than the header promises, so a corrupt or hostile size cannot
make it allocate or inflate without bound.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from engine.errors import DatasetError, Term

__all__ = ["read_idx", "read_idx_header", "write_idx", "load_idx_pair", "IDX_DTYPES", "MAX_IDX_BYTES"]

# IDX element types (third magic byte) -> big-endian numpy dtypes.
IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

# The largest payload accepted: MNIST's train images are 47 MB; 2 GB is far beyond any dataset
# this app trains on in memory, and small enough that a bad header cannot exhaust RAM.
MAX_IDX_BYTES = 2 * 1024 ** 3

_GZIP_MAGIC = b"\x1f\x8b"


def _open(path: Path):
    """A binary stream of the file's IDX bytes (gzip detected by content, not by name)."""
    f = open(path, "rb")
    head = f.read(2)
    f.seek(0)
    if head == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=f, mode="rb"), True
    return f, False


def _read_exact(stream, buf: memoryview) -> int:
    """Fill ``buf`` from ``stream``; returns how many bytes arrived (fewer only at end of data)."""
    done = 0
    n = len(buf)
    while done < n:
        got = stream.readinto(buf[done:])
        if not got:
            break
        done += got
    return done


def _parse_header(head: bytes, where: str) -> tuple[np.dtype, tuple[int, ...]]:
    if len(head) < 4:
        raise DatasetError("idx_too_short", where=where, size=len(head))
    if head[0] != 0 or head[1] != 0:
        magic = int.from_bytes(head[:4], "big")
        raise DatasetError("idx_bad_magic", where=where, magic=magic)
    code, ndim = head[2], head[3]
    if code not in IDX_DTYPES:
        raise DatasetError("idx_bad_type", where=where, type_code=code)
    if not 1 <= ndim <= 8:
        raise DatasetError("idx_bad_ndim", where=where, ndim=ndim)
    return IDX_DTYPES[code], (code, ndim)


def read_idx_header(path) -> tuple[int, tuple[int, ...]]:
    """``(magic, dims)`` of an IDX file without reading its data (for quick checks)."""
    path = Path(path)
    where = f"'{path}'"
    try:
        stream, _ = _open(path)
        with stream:
            head = stream.read(4)
            _, (_, ndim) = _parse_header(head, where)
            dims_raw = stream.read(4 * ndim)
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError("idx_unreadable", where=where, detail=str(exc)) from exc
    if len(dims_raw) < 4 * ndim:
        raise DatasetError("idx_header_truncated", where=where)
    return int.from_bytes(head, "big"), tuple(int(v) for v in np.frombuffer(dims_raw, ">u4"))


def read_idx(path, expected_magic: int | None = None, expected_shape: tuple | None = None) -> np.ndarray:
    """Read an IDX file (``.gz`` or raw) into a numpy array of its declared shape.

    ``expected_magic`` (2051 for images, 2049 for labels) and ``expected_shape`` (``None`` entries
    are free) are checked against the header before the data is read. Raises :class:`DatasetError`
    for a missing, truncated, corrupt or unexpected file.
    """
    path = Path(path)
    where = f"'{path}'"
    if not path.is_file():
        raise DatasetError("idx_missing", where=where)
    try:
        stream, compressed = _open(path)
    except OSError as exc:
        raise DatasetError("idx_cannot_open", where=where, detail=str(exc.strerror or exc)) from exc
    kind = Term("gzip-compressed IDX") if compressed else "IDX"
    try:
        with stream:
            head = stream.read(4)
            if len(head) == 0:
                raise DatasetError("idx_empty", where=where, kind=kind)
            dtype, (_, ndim) = _parse_header(head, where)
            magic = int.from_bytes(head, "big")
            if expected_magic is not None and magic != expected_magic:
                what = {2051: Term("an image file (magic 2051)"), 2049: Term("a label file (magic 2049)")}
                raise DatasetError("idx_wrong_magic", where=where, magic=magic,
                                   expected=what.get(expected_magic, str(expected_magic)))
            dims_raw = stream.read(4 * ndim)
            if len(dims_raw) < 4 * ndim:
                raise DatasetError("idx_sizes_truncated", where=where, ndim=ndim)
            dims = tuple(int(v) for v in np.frombuffer(dims_raw, ">u4"))
            if expected_shape is not None:
                exp = tuple(expected_shape)
                if len(exp) != len(dims) or any(e is not None and e != d for e, d in zip(exp, dims)):
                    shown = " x ".join("*" if e is None else str(e) for e in exp)
                    raise DatasetError("idx_wrong_shape", where=where, dims=" x ".join(map(str, dims)),
                                       expected=shown)
            count = int(np.prod(dims, dtype=np.int64)) if dims else 0
            nbytes = count * dtype.itemsize
            if nbytes > MAX_IDX_BYTES:
                raise DatasetError("idx_too_large", where=where, dims=" x ".join(map(str, dims)),
                                   gigabytes=nbytes / 1e9, limit=MAX_IDX_BYTES / 1e9)
            out = np.empty(count * dtype.itemsize, dtype=np.uint8)
            got = _read_exact(stream, memoryview(out))
            if got < nbytes:
                raise DatasetError("idx_truncated", where=where, count=count, dims=" x ".join(map(str, dims)),
                                   nbytes=nbytes, got=got)
            extra = stream.read(1)
            if extra:
                raise DatasetError("idx_extra_data", where=where, dims=" x ".join(map(str, dims)))
    except DatasetError:
        raise
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise DatasetError("idx_bad_gzip", where=where, detail=str(exc)) from exc
    except OSError as exc:
        raise DatasetError("idx_unreadable", where=where, detail=str(exc)) from exc
    arr = out.view(dtype).reshape(dims)
    if dtype.itemsize > 1:
        arr = arr.astype(dtype.newbyteorder("="))
    return arr


def write_idx(path, array: np.ndarray, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file (gzip when ``compress`` or when the name ends with ``.gz``)."""
    path = Path(path)
    array = np.ascontiguousarray(array)
    code = next((c for c, d in IDX_DTYPES.items()
                 if (d.kind, d.itemsize) == (array.dtype.kind, array.dtype.itemsize)), None)
    if code is None:
        raise DatasetError("idx_cannot_store", dtype=str(array.dtype))
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    payload = header + array.astype(IDX_DTYPES[code], copy=False).tobytes()
    if compress is None:
        compress = path.suffix == ".gz"
    data = gzip.compress(payload, mtime=0) if compress else payload
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def load_idx_pair(images_path, labels_path, count: int | None = None,
                  image_size: tuple[int, int] | None = (28, 28)) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, 1, H, W)`` uint8 and labels ``(N,)`` int64 from two IDX files, cross-checked.

    ``count`` (e.g. 60000) is checked when given; the two files must hold the same number of items.
    """
    shape = (count, *(image_size if image_size is not None else (None, None)))
    images = read_idx(images_path, expected_magic=2051, expected_shape=shape)
    labels = read_idx(labels_path, expected_magic=2049, expected_shape=(count,))
    if len(images) != len(labels):
        raise DatasetError("idx_pair_counts", images=str(images_path), image_count=len(images),
                           labels=str(labels_path), label_count=len(labels))
    if images.dtype != np.uint8 or labels.dtype != np.uint8:
        raise DatasetError("idx_pair_not_bytes", images=str(images_path), labels=str(labels_path))
    return images[:, None, :, :], labels.astype(np.int64)

