"""Image-folder datasets, like Keras ``image_dataset_from_directory``: one subfolder per class.

```
my_pictures/
    cats/  a.jpg b.png ...
    dogs/  c.jpg ...
```
Class names are the subfolder names in alphabetical order. Every image is decoded with
:func:`engine.imaging.load_image` and fitted to ``image_size`` keeping its aspect ratio (padded,
not stretched). Files that cannot be used are skipped and listed in ``ds.skipped`` with the reason;
the load fails only when too little is left to train on.

A folder may mix sizes and modes; every picture is converted the same documented way:

- EXIF orientation is applied (a phone photo stands the way it was taken);
- transparency (RGBA, LA, a palette with a transparent colour) is composited on WHITE, the
  background of a drawing or a product photo (a transparent logo stays visible);
- 16-bit samples (``I;16`` PNG/TIFF) are scaled to 8 bits (``value / 257``), 32-bit integer and float
  images to 0..255; palette, 1-bit, CMYK, YCbCr and LAB images are converted to RGB (a palette of grays
  stays gray);
- ``color="rgb"``: a grayscale picture among colour ones becomes 3 equal channels;
  ``color="grayscale"``: colour pictures become ITU-R 601 luma ``0.299 R + 0.587 G + 0.114 B``.

Before any picture is decoded, the memory the images will take at the chosen size (``N * C * H * W``
bytes, twice: the loaded array and its train/validation split) is compared with the memory the
computer has available (``MemAvailable`` of ``/proc/meminfo``, else ``os.sysconf``) with headroom;
a folder that would not fit is refused with the numbers and the fix (smaller size, grayscale, fewer
images).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.datasets.base import Dataset, split_train_validation
from engine.errors import ConvScopeError, DatasetError, ImageError, Message, Shape, Term
from engine.imaging import IMAGE_EXTENSIONS

__all__ = ["load_image_folder", "scan_image_folder", "FolderScan", "channels_of", "IMAGE_EXTENSIONS",
           "available_memory", "check_folder_fits_in_memory"]

_IGNORED = {"thumbs.db", "desktop.ini", ".ds_store"}
MAX_IMAGES = 200_000
#: the images may use at most this share of the available memory (training, the GUI and the
#: operating system need the rest)
MEMORY_SHARE = 0.5
#: copies of the pixels alive while loading: the decoded array and its train/validation split
_COPIES = 2


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (``MemAvailable``), or ``None`` when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def check_folder_fits_in_memory(count: int, shape: tuple[int, int, int], folder: str = "",
                                available: int | None = None) -> int:
    """Refuse ``count`` images of ``shape`` ``(C, H, W)`` that would not fit in memory; returns the bytes needed.

    ``available`` defaults to :func:`available_memory` (no check when it is unknown).
    """
    c, h, w = (int(v) for v in shape)
    per_image = c * h * w
    needed = int(count) * per_image * _COPIES
    available = available_memory() if available is None else int(available)
    if available is None:
        return needed
    budget = int(available * MEMORY_SHARE)
    if needed > budget:
        mb = 1024 * 1024
        raise DatasetError("folder_too_big_for_memory", folder=folder, count=int(count), shape=Shape((c, h, w)),
                           needed_mb=round(needed / mb), available_mb=round(available / mb),
                           most=max(budget // (per_image * _COPIES), 0))
    return needed


@dataclass(frozen=True)
class FolderScan:
    """What a folder holds, found without decoding a picture (``scan_image_folder``).

    ``class_names`` (subfolders with images, alphabetical), ``files`` ``[(path, class id)]``,
    ``skipped`` ``[(path, ImageError)]`` (not image files), ``notes`` (``Message``: loose or empty).
    """

    root: Path
    class_names: list
    files: list
    skipped: list
    notes: list

    @property
    def count(self) -> int:
        return len(self.files)

    def class_counts(self) -> list[int]:
        counts = [0] * len(self.class_names)
        for _path, label in self.files:
            counts[label] += 1
        return counts

    def bytes_needed(self, image_size, color: str) -> int:
        """Memory the pictures take while loading at ``image_size`` in ``color`` (what the check compares)."""
        h, w = _parse_size(image_size)
        return self.count * channels_of(color) * h * w * _COPIES

    def check_memory(self, image_size, color: str, available: int | None = None) -> int:
        """:func:`check_folder_fits_in_memory` for these pictures at this size and colour."""
        h, w = _parse_size(image_size)
        return check_folder_fits_in_memory(self.count, (channels_of(color), h, w), str(self.root), available)

    def looks_colour(self, most: int = 24) -> bool:
        """True when a sample of the pictures (up to ``most``, spread over the classes; headers only)
        holds a colour one: a sensible default for ``color``."""
        from PIL import Image

        step = max(1, len(self.files) // max(most, 1))
        for path, _label in self.files[::step][:most]:
            try:
                with Image.open(path) as image:
                    if image.mode not in _GRAY_MODES:
                        return True
            except (OSError, ValueError, Image.DecompressionBombError):
                continue
        return False


_GRAY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}


def channels_of(color: str) -> int:
    """1 for ``"grayscale"``, 3 for ``"rgb"``; DatasetError ``color_invalid`` otherwise."""
    c = str(color).lower()
    if c not in ("grayscale", "rgb"):
        raise DatasetError("color_invalid", value=color)
    return 1 if c == "grayscale" else 3


def scan_image_folder(path, max_per_class: int | None = None) -> FolderScan:
    """List a dataset folder's classes and pictures without decoding them (cheap: file names only).

    Raises the folder's :class:`DatasetError` (missing, a file, no subfolders, fewer than two classes,
    too many images) as :func:`load_image_folder` would.
    """
    root = Path(path).expanduser()
    if not root.exists():
        raise DatasetError("folder_missing", folder=str(root))
    if not root.is_dir():
        raise DatasetError("folder_is_file", folder=str(root))
    class_dirs = sorted((d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")),
                        key=lambda d: d.name)
    loose = [f.name for f in root.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_EXTENSIONS]
    if not class_dirs:
        if loose:
            raise DatasetError("folder_only_loose_images", folder=str(root), count=len(loose), name=root.name)
        raise DatasetError("folder_no_subfolders", folder=str(root))

    skipped: list[tuple[str, ConvScopeError]] = []
    notes: list[Message] = []
    if loose:
        notes.append(Message("folder_loose_images_ignored", count=len(loose), name=root.name))
    files: list[tuple[Path, int]] = []
    class_names: list[str] = []
    for d in class_dirs:
        entries = sorted(p for p in d.rglob("*") if p.is_file())
        imgs = []
        for p in entries:
            if p.name.lower() in _IGNORED or p.name.startswith("."):
                continue
            if p.suffix.lower() not in IMAGE_EXTENSIONS:
                skipped.append((str(p), ImageError("not_image_type", suffix=p.suffix or Term("no extension"),
                                                   extensions=", ".join(IMAGE_EXTENSIONS))))
                continue
            imgs.append(p)
        if max_per_class is not None:
            imgs = imgs[:int(max_per_class)]
        if not imgs:
            notes.append(Message("folder_subfolder_empty", name=d.name))
            continue
        class_names.append(d.name)
        files += [(p, len(class_names) - 1) for p in imgs]
    if len(files) > MAX_IMAGES:
        raise DatasetError("folder_too_many_images", folder=str(root), count=len(files), limit=MAX_IMAGES)
    if len(class_names) < 2:
        raise DatasetError("folder_too_few_classes", folder=str(root), count=len(class_names),
                           names=", ".join(class_names) or Term("none"))
    return FolderScan(root, class_names, files, skipped, notes)


def _parse_size(image_size) -> tuple[int, int]:
    try:
        if isinstance(image_size, (int, np.integer)):
            h = w = int(image_size)
        else:
            h, w = (int(v) for v in image_size)
    except (TypeError, ValueError):
        raise DatasetError("image_size_invalid", value=image_size) from None
    if not (4 <= h <= 512 and 4 <= w <= 512):
        raise DatasetError("image_size_range", value=image_size)
    return h, w


def load_image_folder(path, image_size=(28, 28), color: str = "grayscale", validation_split: float = 0.2,
                      seed: int = 0, max_per_class: int | None = None,
                      progress: Callable[[int, int], None] | None = None) -> Dataset:
    """Load ``path/<class>/<image>`` files into a :class:`Dataset` (validation part in ``x_test``).

    ``image_size``: ``N`` or ``(H, W)`` (4..512). ``color``: ``"grayscale"`` (1 channel) or ``"rgb"`` (3);
    mixed folders are converted as the module docstring says. ``validation_split``: fraction of each
    class kept for validation (stratified, shuffled with ``seed``). ``progress(done, total)`` is
    called while decoding. A folder too large for the memory at this size raises
    :class:`DatasetError` (``folder_too_big_for_memory``) before any file is decoded.
    """
    from engine.imaging import fit_to_shape, load_image

    root = Path(path).expanduser()
    h, w = _parse_size(image_size)
    channels = channels_of(color)

    scan = scan_image_folder(root, max_per_class)
    files, class_names = scan.files, scan.class_names
    skipped: list[tuple[str, ConvScopeError]] = list(scan.skipped)
    notes: list[Message] = list(scan.notes)
    check_folder_fits_in_memory(len(files), (channels, h, w), str(root))

    x = np.empty((len(files), channels, h, w), np.uint8)
    y = np.empty(len(files), np.int64)
    n = 0
    for i, (p, label) in enumerate(files):
        if progress:
            progress(i, len(files))
        try:
            x[n] = fit_to_shape(load_image(p), (channels, h, w))
        except ImageError as exc:
            skipped.append((str(p), exc))
            continue
        except MemoryError:
            skipped.append((str(p), ImageError("image_too_large_for_memory")))
            continue
        y[n] = label
        n += 1
    if progress:
        progress(len(files), len(files))
    x, y = x[:n], y[:n]
    counts = np.bincount(y, minlength=len(class_names))
    empty = [class_names[k] for k in np.flatnonzero(counts == 0)]
    if empty:
        raise DatasetError("folder_class_unreadable", classes=", ".join(empty), folder=str(root),
                           skipped=len(skipped), example=skipped[0][0], reason=skipped[0][1])
    if n < 2:
        raise DatasetError("folder_too_few_images", folder=str(root), count=n)
    x_tr, y_tr, x_val, y_val = split_train_validation(x, y, validation_split, seed=seed)
    if skipped:
        notes.append(Message("folder_files_skipped", count=len(skipped)))
    return Dataset(root.name or str(root), x_tr, y_tr, x_val, y_val, class_names, source=str(root),
                   display_name=root.name or str(root), skipped=skipped, notes=notes)
