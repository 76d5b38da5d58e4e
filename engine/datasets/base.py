"""The in-memory dataset object, the train/validation split and mini-batches.

Pixels are stored as uint8 ``(N, C, H, W)`` (60 000 MNIST images take 47 MB); a float32 copy in
``[0, 1]`` is made one batch at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from engine.errors import ConvScopeError, DatasetError, Message, Shape, Term
from engine.pixels import to_float32

__all__ = ["Dataset", "DatasetInfo", "batches", "split_train_validation", "to_float"]


@dataclass(frozen=True)
class DatasetInfo:
    """What the app can say about a named dataset before loading it."""

    key: str
    display_name: str
    class_names: tuple[str, ...]
    input_shape: tuple[int, int, int]
    train_size: int
    test_size: int
    description: str
    license: str = ""
    homepage: str = ""
    offline: bool = False      # True when it never needs a file or the network


@dataclass
class Dataset:
    """Images and labels ready to train on.

    ``x_train``/``x_test``: uint8 ``(N, C, H, W)``; ``y_train``/``y_test``: int64 class ids.
    ``source`` says where the data came from (a folder, a file, "generated ..."); ``skipped`` lists
    ``(path, reason)`` of files left out (image folders; the reason is the :class:`ConvScopeError` that
    explains it); ``notes`` are remarks worth showing (:class:`~engine.errors.Message`: code + values).
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    source: str = ""
    display_name: str = ""
    skipped: list[tuple[str, ConvScopeError]] = field(default_factory=list)
    notes: list[Message] = field(default_factory=list)

    def __post_init__(self):
        for part in ("x_train", "x_test"):
            x = getattr(self, part)
            if x.dtype != np.uint8 or x.ndim != 4:
                raise DatasetError("dataset_array_layout", dataset=self.name, part=part, dtype=str(x.dtype),
                                   shape=x.shape)
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise DatasetError("dataset_split_shapes", dataset=self.name, train=Shape(self.x_train.shape[1:]),
                               test=Shape(self.x_test.shape[1:]))
        for xs, ys, part in ((self.x_train, self.y_train, Term("training")), (self.x_test, self.y_test, Term("test"))):
            if len(xs) != len(ys):
                raise DatasetError("dataset_label_count", dataset=self.name, images=len(xs), part=part,
                                   labels=len(ys))
        self.y_train = np.asarray(self.y_train, dtype=np.int64)
        self.y_test = np.asarray(self.y_test, dtype=np.int64)
        self.class_names = [str(c) for c in self.class_names]
        if not self.display_name:
            self.display_name = self.name

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(int(v) for v in self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def nbytes(self) -> int:
        return int(self.x_train.nbytes + self.x_test.nbytes + self.y_train.nbytes + self.y_test.nbytes)

    # Keras-style access: (x_train, y_train), (x_test, y_test) = ds.as_tuples()
    def as_tuples(self):
        return (self.x_train, self.y_train), (self.x_test, self.y_test)

    def class_counts(self, part: str = "train") -> np.ndarray:
        y = self.y_train if part == "train" else self.y_test
        return np.bincount(y, minlength=self.num_classes)

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, train={self.x_train.shape}, test={self.x_test.shape}, "
                f"classes={self.num_classes}, source={self.source!r})")


to_float = to_float32   # the engine's one pixel scaling (engine/pixels.py), under its dataset name


def batches(x: np.ndarray, y: np.ndarray, batch_size: int = 32, rng: np.random.Generator | int | None = None,
            shuffle: bool = True, drop_last: bool = False) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(x_batch float32 in [0,1], y_batch int64)`` for one epoch.

    ``rng`` (a Generator or a seed) decides the order; the same seed gives the same batches. Only
    one batch at a time is converted to float32, so 60 000 images cost 47 MB, not 188 MB.
    """
    n = len(x)
    if len(y) != n:
        raise DatasetError("image_label_count", images=n, labels=len(y))
    if isinstance(batch_size, bool) or int(batch_size) < 1:
        raise DatasetError("batch_size_too_small", value=batch_size)
    batch_size = int(batch_size)
    if shuffle:
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        order = gen.permutation(n)
    else:
        order = None
    y = np.asarray(y)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        if order is None:
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        else:
            idx = order[start:start + batch_size]
            xb, yb = x[idx], y[idx]
        yield np.ascontiguousarray(to_float(xb)), yb.astype(np.int64, copy=False)


def split_train_validation(x: np.ndarray, y: np.ndarray, validation_split: float = 0.2, seed: int = 0,
                           stratify: bool = True):
    """Shuffle and split into ``(x_train, y_train, x_val, y_val)``, deterministic with ``seed``.

    Stratified by default: each class gives the same fraction to validation (at least one image of
    every class that has two or more).
    """
    n = len(x)
    if len(y) != n:
        raise DatasetError("image_label_count", images=n, labels=len(y))
    try:
        frac = float(validation_split)
    except (TypeError, ValueError):
        raise DatasetError("validation_split_not_number", value=validation_split) from None
    if not 0.0 <= frac < 1.0:
        raise DatasetError("validation_split_range", value=validation_split)
    rng = np.random.default_rng(seed)
    y = np.asarray(y)
    if frac == 0.0:
        order = rng.permutation(n)
        return x[order], y[order], x[:0], y[:0]
    if stratify:
        val_parts, train_parts = [], []
        for c in np.unique(y):
            idx = np.flatnonzero(y == c)
            idx = idx[rng.permutation(len(idx))]
            k = int(round(len(idx) * frac))
            if len(idx) >= 2:
                k = min(max(k, 1), len(idx) - 1)
            else:
                k = 0
            val_parts.append(idx[:k])
            train_parts.append(idx[k:])
        train_idx = np.concatenate(train_parts) if train_parts else np.zeros(0, np.int64)
        val_idx = np.concatenate(val_parts) if val_parts else np.zeros(0, np.int64)
        train_idx = train_idx[rng.permutation(len(train_idx))]
        val_idx = val_idx[rng.permutation(len(val_idx))]
    else:
        order = rng.permutation(n)
        k = int(round(n * frac))
        val_idx, train_idx = order[:k], order[k:]
    return x[train_idx], y[train_idx], x[val_idx], y[val_idx]
