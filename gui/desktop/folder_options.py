"""How an image folder becomes a dataset: colour or grayscale, and the size its pictures are fitted to.

No Qt (a test imports it in a fresh interpreter). :class:`FolderChoice` is the model behind the
"Open image folder" dialog (:mod:`gui.desktop.folder_dialog`): the folder's classes and picture
counts, the chosen colour and size, and the engine's memory check for that choice, all known
before a picture is decoded. :func:`suggested_options` is what a dropped folder, a recent one or
``convscope FOLDER`` get without asking: the remembered choice, else colour when the folder holds
colour pictures (64 x 64, TinyVGG's size in CNN Explainer) and 28 x 28 grayscale otherwise (MNIST's).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.datasets import FolderScan, scan_image_folder
from engine.datasets.folder import available_memory, channels_of
from engine.errors import ConvScopeError, DatasetError

COLORS = ("rgb", "grayscale")
DEFAULT_SIZE = {"rgb": 64, "grayscale": 28}
MIN_SIZE, MAX_SIZE = 4, 512          # engine.datasets.folder's range
SETTINGS_COLOR, SETTINGS_SIZE = "folders/color", "folders/image_size"


@dataclass(frozen=True)
class FolderOptions:
    """``color`` ``"rgb"`` | ``"grayscale"`` and ``image_size`` (square side in pixels)."""

    color: str
    image_size: int

    @property
    def shape(self) -> tuple[int, int, int]:
        """The ``(C, H, W)`` every picture becomes."""
        return channels_of(self.color), int(self.image_size), int(self.image_size)

    def load_kwargs(self) -> dict:
        """Keyword arguments of :func:`engine.datasets.load_image_folder`."""
        return {"color": self.color, "image_size": int(self.image_size)}


def parse_image_size(text) -> int:
    """``"64"`` or ``"64x64"`` -> 64 (the folder's pictures become squares); DatasetError otherwise."""
    raw = str(text).strip().lower()
    parts = raw.split("x")
    try:
        sizes = {int(p) for p in parts}
    except ValueError:
        raise DatasetError("image_size_invalid", value=text) from None
    if len(sizes) != 1 or len(parts) > 2:
        raise DatasetError("image_size_invalid", value=text)
    size = sizes.pop()
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise DatasetError("image_size_range", value=text)
    return size


def remembered_options(settings) -> FolderOptions | None:
    """The choice saved by the dialog (``settings``: a mapping-like object with ``value(key)``), or None."""
    if settings is None:
        return None
    color, size = settings.value(SETTINGS_COLOR), settings.value(SETTINGS_SIZE)
    try:
        if str(color) in COLORS and size is not None:
            return FolderOptions(str(color), parse_image_size(size))
    except ConvScopeError:
        pass
    return None


def remember_options(settings, options: FolderOptions) -> None:
    settings.setValue(SETTINGS_COLOR, options.color)
    settings.setValue(SETTINGS_SIZE, int(options.image_size))


def suggested_options(scan: FolderScan | None, remembered: FolderOptions | None = None,
                      color: str | None = None, image_size: int | None = None) -> FolderOptions:
    """The options a folder opens with: ``color`` / ``image_size`` given (the command line) win, then the
    remembered choice, then what the folder looks like (colour pictures -> RGB 64, else grayscale 28)."""
    if color is None:
        if remembered is not None:
            color = remembered.color
        else:
            color = "rgb" if scan is not None and scan.looks_colour() else "grayscale"
    if image_size is None:
        same = remembered is not None and remembered.color == color
        image_size = remembered.image_size if same else DEFAULT_SIZE[color]
    return FolderOptions(str(color), int(image_size))


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes the pictures take while loading, the bytes available (None: unknown), and the engine's
    refusal when they would not fit (``error``, a ConvScopeError to show with ``tr_error``)."""

    needed: int
    available: int | None
    error: ConvScopeError | None

    @property
    def fits(self) -> bool:
        return self.error is None


class FolderChoice:
    """The dialog's state: the scanned folder and the chosen colour and size (starting from
    :func:`suggested_options` with the ``remembered`` choice).

    Raises the engine's :class:`DatasetError` when ``path`` is not a dataset folder (no subfolders,
    one class ...). ``available`` (bytes) replaces the computer's available memory (tests).
    """

    def __init__(self, path, remembered: FolderOptions | None = None, available: int | None = None):
        self.scan = scan_image_folder(path)
        self.options = suggested_options(self.scan, remembered)
        self._available = available

    @property
    def class_names(self) -> list[str]:
        return list(self.scan.class_names)

    def classes(self) -> list[tuple[str, int]]:
        """``(class name, number of pictures)`` in class-id order."""
        return list(zip(self.scan.class_names, self.scan.class_counts()))

    def set_color(self, color: str) -> None:
        channels_of(color)                  # refuses anything but rgb / grayscale
        self.options = FolderOptions(str(color), self.options.image_size)

    def set_image_size(self, size) -> None:
        self.options = FolderOptions(self.options.color, parse_image_size(size))

    def estimate(self) -> MemoryEstimate:
        """The engine's memory check for the current choice (the same one the loader makes)."""
        available = available_memory() if self._available is None else self._available
        needed = self.scan.bytes_needed(self.options.image_size, self.options.color)
        try:
            self.scan.check_memory(self.options.image_size, self.options.color, available=available)
        except DatasetError as exc:
            return MemoryEstimate(needed, available, exc)
        return MemoryEstimate(needed, available, None)
