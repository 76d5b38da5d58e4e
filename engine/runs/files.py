"""The ``.npz`` files beside the run database: timeline moments and epoch checkpoints.

Files are plain ``.npz`` archives read with ``allow_pickle=False`` (nothing in them can run code),
written to a temporary file in the same folder and renamed into place, so a killed process leaves
either the old file or the new one, never half of one.

Keys
----
moment:     ``step``, ``epoch``, ``filter/<layer name>``, ``act/<i>``, ``probabilities``, ``layer_names``
            (compressed: ReLU maps are half zeros; a hongong moment takes 148 kB instead of 282 kB)
checkpoint: ``epoch``, ``step``, ``w/<layer index>/<param>``, ``layers`` (count), ``confusion``
optimizer:  ``epoch``, ``step``, ``opt_class``, ``opt_iterations``, ``opt/<slot index>/<slot name>``: the
            optimizer's moment estimates at the latest checkpoint only (one file per run, replaced
            at every epoch end: Adam's doubles a checkpoint's size), so a continued run takes the
            same next step it would have taken; a checkpoint of another epoch gets fresh moments.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.runs.errors import RunStoreError
from engine.runs.history import Moment

__all__ = [
    "OPTIMIZER_NAME",
    "Checkpoint",
    "optimizer_state",
    "read_checkpoint",
    "read_moment",
    "read_moment_weights",
    "read_npz",
    "optimizer_name",
    "read_optimizer",
    "restore_optimizer_state",
    "write_checkpoint",
    "write_moment",
    "write_npz",
    "write_optimizer",
]


OPTIMIZER_NAME = "optimizer.npz"          # runs written before the per-epoch files (read only)


def optimizer_name(epoch: int) -> str:
    """The optimizer's moments at the end of ``epoch``. Named by epoch, and the previous epoch's file
    removed only after the new checkpoint row is committed: a single overwritten file could run ahead
    of the database when a process was killed in between, and the last committed checkpoint lost its
    moments."""
    return f"optimizer-{int(epoch):04d}.npz"


def write_npz(path, arrays: dict, compress: bool = False) -> int:
    """Write ``arrays`` to ``path`` atomically (temp file + rename); returns the file's size in bytes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            (np.savez_compressed if compress else np.savez)(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path.stat().st_size


def read_npz(path, skip: str | None = None, only: str | None = None) -> dict:
    """The arrays of the ``.npz`` at ``path`` (never unpickles); names starting with ``skip`` are not
    read, with ``only`` just the names starting with it. A damaged file is a :class:`RunStoreError`."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files
                    if not (skip and k.startswith(skip)) and (only is None or k.startswith(only) or k == "layers")}
    except FileNotFoundError:
        raise RunStoreError("run_file_missing", path=str(path)) from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise RunStoreError("run_file_unreadable", path=str(path), detail=str(exc)) from None


def write_moment(path, moment: Moment, weights=None) -> int:
    """Write ``moment`` (and, when given, the model's full ``weights`` at that step: one ``{"W", "b"}``
    dict per layer, so a reopened run can show the moment exactly: classification, theater...)."""
    arrays = {"step": np.int64(moment.step), "epoch": np.float64(moment.epoch),
              "layer_names": np.array(json.dumps(list(moment.layer_names)))}
    for name, w in moment.filters.items():
        arrays[f"filter/{name}"] = w
    for i, a in enumerate(moment.activations):
        arrays[f"act/{i}"] = a
    if moment.probabilities is not None:
        arrays["probabilities"] = moment.probabilities
    if moment.loss is not None:
        arrays["loss"] = np.float64(moment.loss)
    if moment.accuracy is not None:
        arrays["accuracy"] = np.float64(moment.accuracy)
    if weights is not None:
        arrays["layers"] = np.int64(len(weights))
        for i, w in enumerate(weights):
            for key, value in w.items():
                arrays[f"w/{i}/{key}"] = np.asarray(value)
    # Trained float32 weights hardly compress (hongong: 7 % smaller) but zlib made writing one 16x
    # slower and reading it 3x slower (bench: 1.6 s vs 0.1 s on a loaded machine); the feature maps alone
    # compress well, so a moment without weights stays compressed.
    return write_npz(path, arrays, compress=weights is None)


def _damaged(path, missing: str) -> RunStoreError:
    return RunStoreError("run_file_incomplete", path=str(path), missing=missing)


def read_moment(path) -> Moment:
    """The moment at ``path`` without its full weights (see :func:`read_moment_weights`)."""
    d = read_npz(path, skip="w/")
    for key in ("step", "epoch"):
        if key not in d:
            raise _damaged(path, key)
    acts = sorted((int(k.split("/", 1)[1]), v) for k, v in d.items() if k.startswith("act/"))
    return Moment(
        step=int(d["step"]),
        epoch=float(d["epoch"]),
        filters={k.split("/", 1)[1]: v for k, v in d.items() if k.startswith("filter/")},
        activations=tuple(v for _, v in acts),
        probabilities=d.get("probabilities"),
        layer_names=tuple(json.loads(str(d["layer_names"]))) if "layer_names" in d else (),
        loss=float(d["loss"]) if "loss" in d else None,
        accuracy=float(d["accuracy"]) if "accuracy" in d else None,
    )


def _layer_dicts(d: dict) -> tuple:
    weights = [{} for _ in range(int(d["layers"]))]
    for key, value in d.items():
        if key.startswith("w/"):
            _, i, name = key.split("/", 2)
            weights[int(i)][name] = value
    return tuple(weights)


def read_moment_weights(path) -> tuple | None:
    """The full weights stored with a moment (one dict per layer), ``None`` for a moment written
    without them (runs recorded before they were kept)."""
    d = read_npz(path, only="w/")
    return _layer_dicts(d) if "layers" in d else None


@dataclass(frozen=True)
class Checkpoint:
    """Weights at the end of ``epoch`` (0 = before training) after ``step`` batches.

    ``weights`` is one ``{"W", "b"}`` dict per layer (``Sequential.set_weights`` takes it);
    ``optimizer`` is ``{"iterations": int, "slots": [{"m": ..., "v": ...}, ...]}`` or ``None``.
    """

    run_id: int
    epoch: int
    step: int
    weights: tuple
    optimizer: dict | None = None
    confusion: np.ndarray | None = None


def optimizer_state(optimizer) -> dict | None:
    """The moment estimates of an :mod:`engine.optimizers` optimizer (copies), ``None`` before its first step."""
    # The optimizers keep their slots in ``_state`` (one dict per parameter buffer, plus scratch "tmp").
    state = getattr(optimizer, "_state", None)
    if not state:
        return None
    return {
        "class_name": type(optimizer).__name__,
        "iterations": int(optimizer.iterations),
        "slots": [{k: v.copy() for k, v in s.items() if k != "tmp"} for s in state],
    }


def restore_optimizer_state(optimizer, state: dict | None) -> bool:
    """Put ``state`` (from :func:`optimizer_state`) back into ``optimizer``; False when it does not fit
    (another optimizer class: the optimizer then starts with fresh moments)."""
    if not state or state.get("class_name") != type(optimizer).__name__:
        return False
    slots = [{k: np.array(v, copy=True) for k, v in s.items()} for s in state["slots"]]
    for s in slots:
        first = next(iter(s.values()), None)
        if first is not None:
            s["tmp"] = np.zeros_like(first)
    optimizer._state = slots
    optimizer.iterations = int(state["iterations"])
    return True


def write_checkpoint(path, epoch: int, step: int, weights, confusion=None) -> int:
    arrays = {"epoch": np.int64(epoch), "step": np.int64(step), "layers": np.int64(len(weights))}
    for i, w in enumerate(weights):
        for key, value in w.items():
            arrays[f"w/{i}/{key}"] = np.asarray(value)
    if confusion is not None:
        arrays["confusion"] = np.asarray(confusion)
    return write_npz(path, arrays)


def write_optimizer(path, epoch: int, step: int, optimizer: dict) -> int:
    arrays = {"epoch": np.int64(epoch), "step": np.int64(step), "opt_class": np.array(optimizer["class_name"]),
              "opt_iterations": np.int64(optimizer["iterations"])}
    for i, slot in enumerate(optimizer["slots"]):
        for key, value in slot.items():
            arrays[f"opt/{i}/{key}"] = np.asarray(value)
    return write_npz(path, arrays)


def read_optimizer(path) -> tuple[int, dict] | None:
    """``(epoch, state)`` of an optimizer file, ``None`` when there is none or it is unreadable (the
    run then continues with fresh optimizer moments, which is what a new optimizer would do)."""
    if not Path(path).exists():
        return None
    try:
        d = read_npz(path)
        slots: dict[int, dict] = {}
        for key, value in d.items():
            if key.startswith("opt/"):
                _, i, name = key.split("/", 2)
                slots.setdefault(int(i), {})[name] = value
        return int(d["epoch"]), {"class_name": str(d["opt_class"]), "iterations": int(d["opt_iterations"]),
                                 "slots": [slots[i] for i in sorted(slots)]}
    except (RunStoreError, KeyError, ValueError):
        return None


def read_checkpoint(path, run_id: int, optimizer_path=None) -> Checkpoint:
    """The checkpoint at ``path``; with ``optimizer_path``, the optimizer state when it is of the same epoch."""
    d = read_npz(path)
    for key in ("epoch", "step", "layers"):
        if key not in d:
            raise _damaged(path, key)
    weights = _layer_dicts(d)
    optimizer = None
    if optimizer_path is not None:
        found = read_optimizer(optimizer_path)
        if found is not None and found[0] == int(d["epoch"]):
            optimizer = found[1]
    return Checkpoint(run_id=run_id, epoch=int(d["epoch"]), step=int(d["step"]), weights=weights,
                      optimizer=optimizer, confusion=d.get("confusion"))
