"""Datasets: MNIST / Fashion-MNIST (found, cached or downloaded), the generated shapes, image folders.

```python
ds = load_dataset("shapes" | "mnist" | "fashion_mnist", data_dir=None, progress=None, seed=0)
ds = load_image_folder(path, image_size=(28, 28), color="grayscale", validation_split=0.2, seed=0)
ds.x_train (uint8 N,C,H,W), ds.y_train (int64), ds.x_test, ds.y_test, ds.class_names, ds.source
for xb, yb in batches(ds.x_train, ds.y_train, 64, rng=0): ...   # float32 in [0, 1], one batch at a time
```
No Qt here; errors are :class:`engine.errors.DatasetError` with a message that says what to do.
"""

from __future__ import annotations

from engine.datasets.base import Dataset, DatasetInfo, batches, split_train_validation, to_float
from engine.datasets.colour_shapes import COLOUR_SHAPE_CLASSES, load_colour_shapes
from engine.datasets.colour_shapes import INFO as _COLOUR_INFO
from engine.datasets.colour_shapes import INFO_64 as _COLOUR_INFO_64
from engine.datasets.folder import IMAGE_EXTENSIONS, FolderScan, load_image_folder, scan_image_folder
from engine.datasets.generated import INFO as _SHAPES_INFO
from engine.datasets.generated import SHAPE_CLASSES, generate_shapes, load_shapes
from engine.datasets.idx import read_idx, write_idx
from engine.datasets.mnist import FASHION_CLASSES, MNIST_CLASSES, load_mnist_like
from engine.datasets.mnist import INFO as _MNIST_INFO
from engine.errors import DatasetError

__all__ = ["Dataset", "DatasetInfo", "DATASETS", "load_dataset", "load_image_folder", "batches",
           "split_train_validation", "to_float", "read_idx", "write_idx", "generate_shapes",
           "SHAPE_CLASSES", "MNIST_CLASSES", "FASHION_CLASSES", "IMAGE_EXTENSIONS", "COLOUR_SHAPE_CLASSES",
           "scan_image_folder", "FolderScan"]

# name -> what the app can show before loading (display name, classes, sizes, licence)
DATASETS: dict[str, DatasetInfo] = {"shapes": _SHAPES_INFO, **_MNIST_INFO, "colour_shapes": _COLOUR_INFO,
                                    "colour_shapes_64": _COLOUR_INFO_64}

_ALIASES = {"fashion-mnist": "fashion_mnist", "fashionmnist": "fashion_mnist", "fashion": "fashion_mnist",
            "digits": "mnist", "color_shapes": "colour_shapes", "color_shapes_64": "colour_shapes_64"}


def load_dataset(name: str, data_dir=None, progress=None, seed: int = 0, **options) -> Dataset:
    """Load a named dataset.

    ``"shapes"``: generated from ``seed`` (options ``train_size=12000``, ``test_size=2000``).
    ``"colour_shapes"`` / ``"colour_shapes_64"``: 32x32 / 64x64 RGB, generated from ``seed`` (options
    ``train_size=9000``, ``test_size=1800``; see :mod:`engine.datasets.colour_shapes`).
    ``"mnist"`` / ``"fashion_mnist"``: looked up in ``data_dir``, ``$CONVSCOPE_DATA_DIR``, Keras and
    torchvision copies, the app cache, then downloaded with ``progress(bytes_done, bytes_total)``
    (options: ``download=False``, ``cache_dir``, ``should_stop``; see :mod:`engine.datasets.mnist`).
    The official test split becomes ``x_test``/``y_test`` (the validation data).
    """
    key = str(name).strip().lower()
    key = _ALIASES.get(key, key)
    if key == "shapes":
        return load_shapes(seed=seed, **options)
    if key in ("colour_shapes", "colour_shapes_64"):
        return load_colour_shapes(seed=seed, size=DATASETS[key].input_shape[1], **options)
    if key in _MNIST_INFO:
        return load_mnist_like(key, data_dir=data_dir, progress=progress, **options)
    raise DatasetError("unknown_dataset", name=name, choices=", ".join(DATASETS))
