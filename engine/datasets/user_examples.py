"""The user's own examples ("this is a 7"): images kept per dataset, and a short fine-tune on them.

A folder per dataset (``<root>/<dataset key>/``) holds one PNG per example under a folder per class
(``3/0007.png``: exactly the ``(C, H, W)`` uint8 image the network saw, after preprocessing) and an
``index.json`` listing them in the order they were added. The folder survives restarts; the index is
written atomically, and files an index does not list (or listed files that vanished) are ignored.

:func:`fine_tune` trains a model for a few steps on batches that always hold every example (up to
``batch_size // 2`` of them) and are filled with random dataset images, so the network learns the
examples without forgetting the dataset.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.pixels import to_float32

__all__ = ["UserExample", "UserExamples", "FineTuneReport", "default_examples_dir", "dataset_key", "fine_tune",
           "mixed_batch"]

INDEX = "index.json"


def default_examples_dir(environ=None) -> Path:
    """``$CONVSCOPE_EXAMPLES_DIR``, else ``$XDG_DATA_HOME/convscope/examples``, else
    ``~/.local/share/convscope/examples``.

    The same folder as ``gui.desktop.paths.examples_dir()`` (the About box lists it).
    """
    env = os.environ if environ is None else environ
    if env.get("CONVSCOPE_EXAMPLES_DIR"):
        return Path(env["CONVSCOPE_EXAMPLES_DIR"]).expanduser()
    xdg = env.get("XDG_DATA_HOME", "").strip()
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".local" / "share"
    return base / "convscope" / "examples"


def dataset_key(name: str, input_shape: tuple) -> str:
    """The folder name of a dataset's examples: its name and image shape (``mnist_28x28x1``)."""
    c, h, w = (int(v) for v in input_shape)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name or "dataset")).strip("._") or "dataset"
    return f"{safe}_{h}x{w}x{c}"


@dataclass(frozen=True)
class UserExample:
    """One kept example: ``id`` (unique in its folder), class ``label``, its PNG ``path``, when ``added`` (epoch s)."""

    id: int
    label: int
    path: Path
    added: float


class UserExamples:
    """The examples of one dataset, in ``root / key``. Not thread-safe: use it from one thread.

    Parameters
    ----------
    key : folder name (see :func:`dataset_key`)
    input_shape : (C, H, W) of every example (C = 1 grayscale or 3 colour)
    root : the folder of all datasets' examples (default :func:`default_examples_dir`)
    """

    def __init__(self, key: str, input_shape: tuple, root: str | Path | None = None):
        self.key = str(key)
        self.input_shape = tuple(int(v) for v in input_shape)
        if self.input_shape[0] not in (1, 3):
            raise ValueError(f"examples are kept as PNG: 1 or 3 channels, got shape {self.input_shape}")
        self.root = Path(root) if root is not None else default_examples_dir()
        self.folder = self.root / self.key
        self._entries = self._read_index()

    # -- the index --------------------------------------------------------------------------------
    def _read_index(self) -> list[UserExample]:
        try:
            data = json.loads((self.folder / INDEX).read_text(encoding="utf-8"))
            items = data["examples"]
        except (OSError, ValueError, KeyError, TypeError):
            return []     # no folder yet, or an unreadable index: start an empty list (the files stay)
        entries = []
        for item in items:
            try:
                entry = UserExample(int(item["id"]), int(item["label"]), self.folder / str(item["file"]),
                                    float(item.get("added", 0.0)))
            except (KeyError, TypeError, ValueError):
                continue
            if entry.path.is_file():
                entries.append(entry)
        return entries

    def _write_index(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        data = {"input_shape": list(self.input_shape), "examples": [
            {"id": e.id, "label": e.label, "file": e.path.relative_to(self.folder).as_posix(), "added": e.added}
            for e in self._entries]}
        tmp = self.folder / (INDEX + ".tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(tmp, self.folder / INDEX)

    # -- reading ----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._entries)

    def examples(self) -> list[UserExample]:
        """Every example, oldest first."""
        return list(self._entries)

    def counts(self) -> dict[int, int]:
        """``{class: number of examples}``."""
        out: dict[int, int] = {}
        for e in self._entries:
            out[e.label] = out.get(e.label, 0) + 1
        return out

    def image(self, example: UserExample) -> np.ndarray:
        """The example as the network sees it: uint8 ``(C, H, W)``."""
        from PIL import Image

        with Image.open(example.path) as im:
            a = np.asarray(im.convert("L" if self.input_shape[0] == 1 else "RGB"), dtype=np.uint8)
        a = a[None] if a.ndim == 2 else np.transpose(a, (2, 0, 1))
        return np.ascontiguousarray(a)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """All examples as uint8 ``(N, C, H, W)`` and int64 labels ``(N,)`` (files that cannot be read are skipped)."""
        images, labels = [], []
        for e in self._entries:
            try:
                a = self.image(e)
            except OSError:
                continue
            if a.shape == self.input_shape:
                images.append(a)
                labels.append(e.label)
        x = np.stack(images) if images else np.zeros((0, *self.input_shape), np.uint8)
        return x, np.asarray(labels, dtype=np.int64)

    # -- changing ---------------------------------------------------------------------------------
    def add(self, image: np.ndarray, label: int) -> UserExample:
        """Keep ``image`` ((C, H, W) float in [0, 1] or uint8, the network's input) as class ``label``."""
        from PIL import Image

        a = np.asarray(image)
        if a.shape != self.input_shape:
            raise ValueError(f"an example of {self.key} has shape {self.input_shape}, got {a.shape}")
        if a.dtype != np.uint8:
            a = np.clip(np.rint(a.astype(np.float64) * 255.0), 0, 255).astype(np.uint8)
        label = int(label)
        if label < 0:
            raise ValueError(f"a class id is 0 or more, got {label}")
        new_id = max((e.id for e in self._entries), default=0) + 1
        path = self.folder / str(label) / f"{new_id:04d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        picture = a[0] if a.shape[0] == 1 else np.transpose(a, (1, 2, 0))
        Image.fromarray(np.ascontiguousarray(picture)).save(path, format="PNG")
        entry = UserExample(new_id, label, path, time.time())
        self._entries.append(entry)
        self._write_index()
        return entry

    def remove(self, example_id: int) -> bool:
        """Forget one example (and delete its file); False when there is no such example."""
        for i, e in enumerate(self._entries):
            if e.id == int(example_id):
                del self._entries[i]
                e.path.unlink(missing_ok=True)
                self._write_index()
                return True
        return False

    def clear(self) -> None:
        """Forget every example of this dataset (their files are deleted)."""
        for e in self._entries:
            e.path.unlink(missing_ok=True)
        self._entries = []
        self._write_index()


# -- fine-tuning ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class FineTuneReport:
    """What :func:`fine_tune` did: ``steps`` run, the ``losses`` of each step, ``stopped`` early."""

    steps: int
    losses: tuple[float, ...]
    stopped: bool


def mixed_batch(rng: np.random.Generator, ex_x: np.ndarray, ex_y: np.ndarray, x_train: np.ndarray,
                y_train: np.ndarray, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """One batch: every example (at most ``batch_size // 2``, drawn at random when more) + random dataset images.

    Returns float32 ``(B, C, H, W)`` in [0, 1] and int64 labels ``(B,)``.
    """
    batch_size = max(2, int(batch_size))
    n_ex = len(ex_x)
    take = min(n_ex, batch_size // 2)
    ex_idx = rng.choice(n_ex, take, replace=False) if n_ex > take else np.arange(n_ex)
    fill = batch_size - take if len(x_train) else 0
    ds_idx = rng.integers(0, len(x_train), fill) if fill else np.zeros(0, np.int64)
    x = np.concatenate([to_float32(ex_x[ex_idx]), to_float32(x_train[np.sort(ds_idx)])])
    y = np.concatenate([np.asarray(ex_y, np.int64)[ex_idx], np.asarray(y_train, np.int64)[np.sort(ds_idx)]])
    return np.ascontiguousarray(x, dtype=np.float32), y


def fine_tune(model, optimizer, ex_x: np.ndarray, ex_y: np.ndarray, x_train: np.ndarray, y_train: np.ndarray,
              steps: int = 30, batch_size: int = 32, seed: int = 0,
              should_stop: Callable[[], bool] | None = None,
              on_step: Callable[[int, float], None] | None = None) -> FineTuneReport:
    """Train ``model`` in place for ``steps`` batches of :func:`mixed_batch` (the examples + dataset images).

    ``should_stop()`` is asked before every step; ``on_step(step, loss)`` after it (step counts from 1).
    A non-finite loss restores the weights from before the fine-tune and stops.
    """
    if len(ex_x) == 0:
        raise ValueError("fine_tune needs at least one example")
    rng = np.random.default_rng(seed)
    start = model.get_flat_weights()
    losses: list[float] = []
    for step in range(1, int(steps) + 1):
        if should_stop is not None and should_stop():
            return FineTuneReport(len(losses), tuple(losses), True)
        x, y = mixed_batch(rng, ex_x, ex_y, x_train, y_train, batch_size)
        loss, _logits = model.train_step(x, y, optimizer)
        loss = float(loss)
        if not np.isfinite(loss):
            model.set_flat_weights(start)
            return FineTuneReport(len(losses), tuple(losses), True)
        losses.append(loss)
        if on_step is not None:
            on_step(step, loss)
    return FineTuneReport(len(losses), tuple(losses), False)
