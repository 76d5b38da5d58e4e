"""Export a timeline as an animated GIF or a numbered PNG sequence, for slides.

One frame per kept moment: the channels of one layer tiled in a grid (filters of a conv layer, or
the probe image's feature maps after a layer), scaled up with square pixels, with a caption strip
("step 16  epoch 0.01") drawn on top.

Grey levels: filters are shown symmetrically (mid grey = 0, white = the largest positive weight,
black = the most negative), feature maps from their minimum (black) to maximum (white). With
``normalize="frame"`` each frame uses its own range (shapes stay visible while the weights are
small); with ``"timeline"`` one range serves all frames (growth is visible).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from engine.runs.errors import RunStoreError

__all__ = ["export_gif", "export_png_sequence", "export_timeline", "timeline_frames"]

_CAPTION = 18


def _default_label(moment) -> str:
    return f"step {moment.step}   epoch {moment.epoch:.2f}"


def _channels(moment, kind: str, layer, input_channel: int) -> np.ndarray:
    """``(n, h, w)`` float64 tiles of one moment."""
    if kind == "filters":
        if not moment.filters:
            raise RunStoreError("timeline_no_filters")
        name = next(iter(moment.filters)) if layer is None else layer
        if isinstance(name, int):
            name = list(moment.filters)[name]
        if name not in moment.filters:
            raise RunStoreError("timeline_no_layer_filters", name=name, layers=", ".join(moment.filters))
        w = np.asarray(moment.filters[name], np.float64)  # (F, C, K, K)
        c = w.shape[1]
        if input_channel == "mean":
            return w.mean(axis=1)
        if not 0 <= int(input_channel) < c:
            raise RunStoreError("timeline_channel_range", name=name, channels=c, last=c - 1, channel=input_channel)
        return w[:, int(input_channel)]
    if kind == "feature_maps":
        acts = moment.activations
        if layer is None:
            index = next((i for i in range(1, len(acts)) if np.ndim(acts[i]) == 3), None)
            if index is None:
                raise RunStoreError("timeline_no_feature_maps")
        elif isinstance(layer, str):
            if layer not in moment.layer_names:
                raise RunStoreError("timeline_no_such_layer", name=layer, layers=", ".join(moment.layer_names))
            index = moment.layer_names.index(layer) + 1
        else:
            index = int(layer) + 1
        if not 0 < index < len(acts) or np.ndim(acts[index]) != 3:
            raise RunStoreError("timeline_not_feature_maps", layer=layer)
        return np.asarray(acts[index], np.float64)
    raise RunStoreError("timeline_kind_unknown", kind=kind)


def _range(tiles: np.ndarray, kind: str) -> tuple[float, float]:
    finite = tiles[np.isfinite(tiles)]
    if finite.size == 0:
        return 0.0, 1.0
    if kind == "filters":
        m = float(np.abs(finite).max()) or 1.0
        return -m, m
    lo, hi = float(finite.min()), float(finite.max())
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def _grid(tiles: np.ndarray, lo: float, hi: float, scale: int, columns: int, gutter: int) -> np.ndarray:
    n, h, w = tiles.shape
    rows = math.ceil(n / columns)
    th, tw = h * scale, w * scale
    out = np.full((rows * (th + gutter) + gutter, columns * (tw + gutter) + gutter), 255, np.uint8)
    grey = np.clip((np.nan_to_num(tiles, nan=lo) - lo) / (hi - lo), 0, 1) * 255
    grey = np.repeat(np.repeat(grey.round().astype(np.uint8), scale, axis=1), scale, axis=2)
    for i in range(n):
        r, c = divmod(i, columns)
        y, x = gutter + r * (th + gutter), gutter + c * (tw + gutter)
        out[y:y + th, x:x + tw] = grey[i]
    return out


def timeline_frames(moments, kind: str = "filters", layer=None, input_channel=0, normalize: str = "frame",
                    tile_size: int = 48, columns: int | None = None, gutter: int = 2, label=None) -> list[Image.Image]:
    """One greyscale ``PIL.Image`` per moment (see the module docstring).

    ``layer``: a conv layer name or index among the filters (``kind="filters"``), or a layer name or
    index of the model (``kind="feature_maps"``); default the first one. ``input_channel``: which input
    channel of multi-channel filters to show, or ``"mean"``. ``label(moment) -> str`` makes the caption.
    """
    moments = list(moments)
    if not moments:
        raise RunStoreError("timeline_empty")
    if normalize not in ("frame", "timeline"):
        raise RunStoreError("timeline_normalize_unknown", normalize=normalize)
    stacks = [_channels(m, kind, layer, input_channel) for m in moments]
    n, h, w = stacks[0].shape
    scale = max(1, math.ceil(tile_size / max(h, w)))
    columns = int(columns) if columns else math.ceil(math.sqrt(n))
    shared = _range(np.stack(stacks), kind) if normalize == "timeline" else None
    try:
        font = ImageFont.load_default(size=12)  # Pillow's built-in scalable font, when FreeType is there
    except (TypeError, ValueError, OSError):
        font = ImageFont.load_default()
    label = label or _default_label
    frames = []
    for moment, tiles in zip(moments, stacks, strict=True):
        lo, hi = shared or _range(tiles, kind)
        grid = _grid(tiles, lo, hi, scale, columns, gutter)
        frame = Image.new("L", (max(grid.shape[1], 160), grid.shape[0] + _CAPTION), 255)
        frame.paste(Image.fromarray(grid), (0, _CAPTION))
        ImageDraw.Draw(frame).text((4, 3), label(moment), fill=0, font=font)
        frames.append(frame)
    return frames


def export_gif(moments, path, duration_ms: int = 400, loop: int = 0, **options) -> Path:
    """An animated GIF with one frame per moment (``options`` as :func:`timeline_frames`)."""
    frames = timeline_frames(moments, **options)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames[0].save(path, format="GIF", save_all=True, append_images=frames[1:], duration=int(duration_ms),
                   loop=int(loop), optimize=False, disposal=1)
    return path


def export_png_sequence(moments, folder, prefix: str = "frame", **options) -> list[Path]:
    """``<prefix>-0000.png``, ``<prefix>-0001.png``... in ``folder`` (one per moment)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, frame in enumerate(timeline_frames(moments, **options)):
        p = folder / f"{prefix}-{i:04d}.png"
        frame.save(p, format="PNG")
        paths.append(p)
    return paths


def export_timeline(moments, path, **options):
    """A ``.gif`` path gives an animated GIF; any other path is a folder of numbered PNGs."""
    path = Path(path)
    if path.suffix.lower() == ".gif":
        return export_gif(moments, path, **options)
    return export_png_sequence(moments, path, **options)
