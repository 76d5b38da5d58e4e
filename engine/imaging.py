"""One image from the user: decode any common file safely, then prepare it exactly like the training data.

``load_image(path)`` decodes PNG/JPEG/BMP/GIF/WebP/TIFF with Pillow into uint8 ``(H, W)`` (grayscale
sources) or ``(H, W, 3)``: EXIF rotation applied, transparency composited on white, palettes
expanded, 16-bit and float samples scaled to 0..255, CMYK/YCbCr/LAB converted to RGB. Bad input
(missing, empty, not an image, truncated, absurdly large) raises :class:`ImageError` naming the file.

``preprocess(image, input_shape, style)`` returns float32 ``(C, H, W)`` in ``[0, 1]``: what the network
sees, so the GUI can show it.

- ``style="fit"``: resize keeping the aspect ratio and pad (no stretching) with the image's own
  border colour; grayscale <-> RGB as the model needs.
- ``style="mnist"``: what LeCun et al. did to NIST digits. Dark-on-light drawings are inverted
  (MNIST is light ink on black), the background is removed, the drawing is cropped to its ink,
  scaled with anti-aliasing so its longer side is 20 pixels, placed in a 28x28 field and shifted
  so its centre of mass is at the centre (MNIST's mean centre of mass is (14.0, 14.0) in pixel
  indices). Other input sizes keep the same proportions.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from engine.errors import ImageError, Term
from engine.pixels import to_float32

__all__ = ["load_image", "image_to_array", "preprocess", "fit_to_shape", "to_uint8_image",
           "MAX_IMAGE_PIXELS", "MAX_FILE_BYTES", "STYLES", "IMAGE_EXTENSIONS", "IMAGE_MIME_TYPES",
           "is_image_path"]

#: The image files ConvScope reads, by file-name extension (lower case, with the dot), in the order a
#: file dialog lists them: the one list behind image-folder datasets, the open-image dialog, dropped
#: files and the desktop entry. Every one of them is decoded by :func:`load_image` (tested).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".pgm", ".ppm")
#: MIME type of each extension (for a desktop entry's ``MimeType=`` or a drop's MIME data).
IMAGE_MIME_TYPES = {
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".bmp": "image/bmp",
    ".gif": "image/gif", ".webp": "image/webp", ".tif": "image/tiff", ".tiff": "image/tiff",
    ".pgm": "image/x-portable-graymap", ".ppm": "image/x-portable-pixmap",
}

MAX_IMAGE_PIXELS = 40_000_000       # 40 megapixels: any real photo; a 200 MB RGB decode at most
MAX_FILE_BYTES = 256 * 1024 ** 2     # a 256 MB file is not an image for a 28x28 classifier
STYLES = ("fit", "mnist")
_FORMATS = "PNG, JPEG, BMP, GIF, WebP or TIFF"

# MNIST geometry (Y. LeCun's description of the database)
_MNIST_FIELD = 28
_MNIST_BOX = 20
_MNIST_CENTER = 14.0


# ------------------------------------------------------------------------------------------------
# decoding
# ------------------------------------------------------------------------------------------------
def is_image_path(path) -> bool:
    """True when the file name ends with one of :data:`IMAGE_EXTENSIONS` (any letter case)."""
    return Path(os.fspath(path)).suffix.lower() in IMAGE_EXTENSIONS


def load_image(path) -> np.ndarray:
    """Decode an image file (or bytes / a binary file object) to uint8 ``(H, W)`` or ``(H, W, 3)``."""
    if isinstance(path, (bytes, bytearray, memoryview)):
        data, name = bytes(path), Term("the image data")
        if not data:
            raise ImageError("image_data_empty")
        source = io.BytesIO(data)
    elif hasattr(path, "read"):
        stream_name = getattr(path, "name", None)
        source, name = path, (f"'{stream_name}'" if stream_name else Term("the image stream"))
    else:
        p = Path(os.fspath(path)).expanduser()
        name = f"'{p.name}'"
        if not p.exists():
            raise ImageError("image_missing", name=name, path=str(p))
        if p.is_dir():
            raise ImageError("image_is_folder", name=name)
        try:
            size = p.stat().st_size
        except OSError as exc:
            raise ImageError("image_unreadable", name=name, detail=str(exc.strerror or exc)) from exc
        if size == 0:
            raise ImageError("image_file_empty", name=name)
        if size > MAX_FILE_BYTES:
            raise ImageError("image_file_too_large", name=name, megabytes=size / 1024 ** 2,
                             limit=MAX_FILE_BYTES // 1024 ** 2)
        source = p
    # Pillow refuses > 2 x Image.MAX_IMAGE_PIXELS itself (DecompressionBombError); the explicit limit
    # below is lower, so no global warning filter (not thread-safe) is needed.
    try:
        im = Image.open(source)
    except UnidentifiedImageError as exc:
        raise ImageError("not_an_image", name=name, formats=_FORMATS) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError("image_decompression_bomb", name=name, detail=str(exc)) from exc
    except OSError as exc:
        raise ImageError("image_unreadable", name=name, detail=str(exc.strerror or exc)) from exc
    with im:
        w, h = im.size
        if w <= 0 or h <= 0:
            raise ImageError("image_no_pixels", name=name, width=w, height=h)
        if w * h > MAX_IMAGE_PIXELS:
            raise ImageError("image_too_many_pixels", name=name, width=w, height=h, megapixels=w * h / 1e6,
                             limit=MAX_IMAGE_PIXELS // 1_000_000)
        try:
            im.seek(0)                                       # first frame of a GIF / multi-page TIFF
            im.load()
            return image_to_array(im)
        except ImageError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageError("image_decompression_bomb", name=name, detail=str(exc)) from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            text = str(exc)
            if "truncated" in text or isinstance(exc, EOFError) or "broken" in text:
                raise ImageError("image_truncated", name=name, detail=text) from exc
            raise ImageError("image_undecodable", name=name, detail=text) from exc


def image_to_array(im: Image.Image) -> np.ndarray:
    """A Pillow image -> uint8 ``(H, W)`` or ``(H, W, 3)`` (EXIF rotation, alpha on white, 16-bit scaled)."""
    try:
        im = ImageOps.exif_transpose(im)
    except Exception:  # noqa: BLE001 - a broken EXIF block must not lose the picture
        pass
    mode = im.mode
    if mode == "P" or mode == "PA":
        im = im.convert("RGBA")
        mode = "RGBA"
        rgba = np.asarray(im)
        # a palette of grays stays a grayscale image
        if np.array_equal(rgba[..., 0], rgba[..., 1]) and np.array_equal(rgba[..., 1], rgba[..., 2]):
            im = im.convert("LA")
            mode = "LA"
    if mode == "1":
        return np.asarray(im.convert("L"), dtype=np.uint8).copy()
    if mode in ("L",):
        return np.array(im, dtype=np.uint8)
    if mode in ("LA", "La"):
        a = to_float32(np.asarray(im.convert("LA")))
        return _on_white(a[..., :1], a[..., 1:2])[..., 0]
    if mode in ("RGBA", "RGBa"):
        a = to_float32(np.asarray(im.convert("RGBA")))
        return _on_white(a[..., :3], a[..., 3:4])
    if mode.startswith("I;16") or mode in ("I", "F"):
        arr = np.asarray(im, dtype=np.float64)
        if mode.startswith("I;16"):
            arr = arr / 257.0
        elif mode == "I":
            top = float(arr.max(initial=0))
            arr = arr / 257.0 if top > 255 and top <= 65535 else (arr * (255.0 / top) if top > 65535 else arr)
        else:  # float samples: [0, 1] or [0, 255]
            finite = arr[np.isfinite(arr)]
            top = float(finite.max(initial=0)) if finite.size else 0.0
            arr = np.nan_to_num(arr) * (255.0 if top <= 1.0 else 1.0)
        return np.clip(np.rint(arr), 0, 255).astype(np.uint8)
    if mode == "RGB":
        return np.array(im, dtype=np.uint8)
    # CMYK, YCbCr, LAB, HSV, I;16 variants Pillow can convert
    try:
        return np.array(im.convert("RGB"), dtype=np.uint8)
    except (ValueError, OSError) as exc:
        raise ImageError("image_mode_unsupported", mode=mode, detail=str(exc)) from exc


def _on_white(color: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    out = color * alpha + (1.0 - alpha)
    return np.clip(np.rint(out * 255.0), 0, 255).astype(np.uint8)


# ------------------------------------------------------------------------------------------------
# array normalisation
# ------------------------------------------------------------------------------------------------
def to_uint8_image(image) -> np.ndarray:
    """Any decoded image -> uint8 ``(H, W)`` or ``(H, W, 3)``.

    Accepts a Pillow image, ``(H, W)``, ``(H, W, 1|3|4)`` (RGBA composited on white) or ``(1|3, H, W)``
    arrays; uint8, bool, 16-bit integers (scaled down) or floats in ``[0, 1]`` (or ``[0, 255]``).
    """
    if isinstance(image, Image.Image):
        return image_to_array(image)
    a = np.asarray(image)
    if a.dtype == object or a.size == 0:
        raise ImageError("image_array_invalid", dtype=str(a.dtype), shape=a.shape)
    if a.ndim == 3 and a.shape[0] in (1, 3) and a.shape[-1] not in (1, 3, 4):
        a = np.moveaxis(a, 0, -1)                                   # (C, H, W) -> (H, W, C)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[-1] not in (3, 4)):
        raise ImageError("image_array_shape", shape=a.shape)
    if a.dtype == np.bool_:
        a = a.astype(np.uint8) * 255
    elif a.dtype == np.uint8:
        pass
    elif np.issubdtype(a.dtype, np.integer):
        top = int(a.max(initial=0))
        a = (a.astype(np.float64) / 257.0) if top > 255 else a.astype(np.float64)
        a = np.clip(np.rint(a), 0, 255).astype(np.uint8)
    elif np.issubdtype(a.dtype, np.floating):
        f = np.nan_to_num(a.astype(np.float64))
        scale = 255.0 if f.max(initial=0) <= 1.0 else 1.0
        a = np.clip(np.rint(f * scale), 0, 255).astype(np.uint8)
    else:
        raise ImageError("image_dtype_unsupported", dtype=str(a.dtype))
    if a.ndim == 3 and a.shape[-1] == 4:
        f = to_float32(a)
        a = _on_white(f[..., :3], f[..., 3:4])
    return np.ascontiguousarray(a)


def _gray(a: np.ndarray) -> np.ndarray:
    """uint8 (H, W) from (H, W) or (H, W, 3) with ITU-R 601 luma (what Pillow's convert('L') does)."""
    if a.ndim == 2:
        return a
    f = a.astype(np.float32)
    y = f[..., 0] * 0.299 + f[..., 1] * 0.587 + f[..., 2] * 0.114
    return np.clip(np.rint(y), 0, 255).astype(np.uint8)


def _channels(a: np.ndarray, c: int) -> np.ndarray:
    """uint8 (H, W) or (H, W, 3) -> (H, W, c) with c in (1, 3)."""
    if c == 1:
        return _gray(a)[..., None]
    if c == 3:
        return np.repeat(a[..., None], 3, axis=2) if a.ndim == 2 else a
    raise ImageError("image_channels", channels=c)


def _resize(a: np.ndarray, h: int, w: int) -> np.ndarray:
    """Anti-aliased resize of uint8 (H, W, C) with Pillow (LANCZOS down/up, box-filtered to avoid aliasing)."""
    if a.shape[0] == h and a.shape[1] == w:
        return a
    c = a.shape[2]
    mode = "L" if c == 1 else "RGB"
    im = Image.fromarray(a[..., 0] if c == 1 else a, mode)
    out = np.asarray(im.resize((max(1, w), max(1, h)), Image.Resampling.LANCZOS, reducing_gap=3.0))
    return out[..., None] if c == 1 else out


def _check_shape(input_shape) -> tuple[int, int, int]:
    try:
        c, h, w = (int(v) for v in input_shape)
    except (TypeError, ValueError):
        raise ImageError("image_input_shape", shape=input_shape) from None
    if c not in (1, 3) or h < 1 or w < 1:
        raise ImageError("image_input_shape_values", shape=input_shape)
    return c, h, w


def fit_to_shape(image, input_shape) -> np.ndarray:
    """uint8 ``(C, H, W)``: resized keeping the aspect ratio, padded with the image's border colour."""
    c, h, w = _check_shape(input_shape)
    a = _channels(to_uint8_image(image), c)
    ih, iw = a.shape[:2]
    scale = min(h / ih, w / iw)
    nh, nw = max(1, min(h, round(ih * scale))), max(1, min(w, round(iw * scale)))
    small = _resize(a, nh, nw)
    border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]], axis=0)       # (perimeter, C)
    fill = np.median(border, axis=0).astype(np.uint8)
    out = np.empty((h, w, c), np.uint8)
    out[...] = fill
    top, left = (h - nh) // 2, (w - nw) // 2
    out[top:top + nh, left:left + nw] = small
    return np.ascontiguousarray(out.transpose(2, 0, 1))


def _mnist_field(gray: np.ndarray, h: int, w: int) -> np.ndarray:
    """float32 (h, w) in [0, 1]: MNIST's preparation of one grayscale drawing."""
    g = to_float32(gray)
    border = np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]])
    background = float(np.median(border))
    if background > 0.5:                      # dark ink on light paper -> light ink on black, like MNIST
        g = 1.0 - g
        background = 1.0 - background
    ink = g - background
    top = float(ink.max(initial=0.0))
    if top < 0.08:                            # nothing drawn: an empty field, not amplified noise
        return np.zeros((h, w), np.float32)
    ink = np.clip(ink / top, 0.0, 1.0)
    ink[ink < 0.1] = 0.0                      # paper grain and JPEG noise are not ink
    rows = np.flatnonzero(ink.max(axis=1) > 0.25)
    cols = np.flatnonzero(ink.max(axis=0) > 0.25)
    crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    box = max(1, round(_MNIST_BOX * min(h, w) / _MNIST_FIELD))
    ch, cw = crop.shape
    scale = box / max(ch, cw)
    nh, nw = max(1, min(box, round(ch * scale))), max(1, min(box, round(cw * scale)))
    u8 = np.clip(np.rint(crop * 255.0), 0, 255).astype(np.uint8)[..., None]
    small = to_float32(_resize(u8, nh, nw)[..., 0])
    # centre of mass -> field centre (14, 14) for 28x28 (pixel indices), integer shift as MNIST did
    mass = float(small.sum())
    if mass <= 0:
        return np.zeros((h, w), np.float32)
    cy = float((small.sum(axis=1) * np.arange(nh)).sum() / mass)
    cx = float((small.sum(axis=0) * np.arange(nw)).sum() / mass)
    center_y, center_x = _MNIST_CENTER * h / _MNIST_FIELD, _MNIST_CENTER * w / _MNIST_FIELD
    top_y = int(np.clip(round(center_y - cy), 0, h - nh))
    left_x = int(np.clip(round(center_x - cx), 0, w - nw))
    out = np.zeros((h, w), np.float32)
    out[top_y:top_y + nh, left_x:left_x + nw] = small
    return out


def preprocess(image, input_shape=(1, 28, 28), style: str = "fit") -> np.ndarray:
    """Prepare one decoded image for a model: float32 ``(C, H, W)`` in ``[0, 1]``.

    ``image``: a :func:`load_image` result, a Pillow image, or an array (see :func:`to_uint8_image`).
    ``style``: ``"fit"`` (keep aspect ratio, pad) or ``"mnist"`` (invert, crop to ink, 20x20 box,
    centre of mass at the centre; see the module docstring).
    """
    c, h, w = _check_shape(input_shape)
    if style not in STYLES:
        raise ImageError("unknown_preprocess_style", style=style)
    if style == "fit":
        return to_float32(fit_to_shape(image, (c, h, w)))
    a = to_uint8_image(image)
    field = _mnist_field(_gray(a), h, w)
    out = np.repeat(field[None], c, axis=0) if c == 3 else field[None]
    return np.ascontiguousarray(out, dtype=np.float32)
