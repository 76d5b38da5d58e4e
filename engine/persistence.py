"""Saving and loading models as ``.npz`` files that never execute code.

A model file is a plain ``.npz`` (a zip of ``.npy`` arrays) read with ``allow_pickle=False``:

``architecture``  JSON text ``{"format": "convscope-model", "format_version": 1, "model": <Sequential config>}``
``metadata``      JSON text (dataset, class names, training history... anything JSON can hold)
``layer{i}_{param}``  float32 weights of layer ``i`` (``layer0_W``, ``layer0_b``...)

The architecture JSON only names layer classes from :data:`engine.layers.LAYER_CLASSES`; nothing is
imported or evaluated from the file. Every problem becomes a :class:`~engine.errors.ModelFileError`
that says what is wrong and what to do.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from engine.errors import ConvScopeError, ModelFileError
from engine.network import Sequential, validate_architecture

__all__ = ["FORMAT", "FORMAT_VERSION", "save_model", "load_model", "load_weights_into"]

FORMAT = "convscope-model"
FORMAT_VERSION = 1


def _json_default(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (set, tuple)):
        return list(value)
    if hasattr(value, "__dataclass_fields__"):
        return {k: getattr(value, k) for k in value.__dataclass_fields__}
    raise TypeError(f"cannot store {type(value).__name__} in a model file")


def save_model(path, model: Sequential, metadata: dict | None = None) -> Path:
    """Write ``model`` (built) and ``metadata`` to ``path`` (``.npz`` added when missing).

    The file is written next to the target and renamed into place, so a failed save never leaves a
    half-written model behind.
    """
    if not model.built:
        raise ModelFileError("build the model before saving it.")
    path = Path(path)
    if path.suffix.lower() != ".npz":
        path = path.with_name(path.name + ".npz")
    try:
        meta_text = json.dumps(metadata or {}, default=_json_default, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"the model's metadata cannot be saved as JSON: {exc}.") from None
    arch = {"format": FORMAT, "format_version": FORMAT_VERSION, "model": model.get_config()}
    arrays = {"architecture": np.array(json.dumps(arch)), "metadata": np.array(meta_text)}
    for i, layer in enumerate(model.layers):
        for key, value in layer.params.items():
            arrays[f"layer{i}_{key}"] = np.ascontiguousarray(value, np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".convscope-", suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise ModelFileError(f"could not write {path}: {exc.strerror or exc}.") from None
    return path


def _read(path) -> tuple[dict, dict, dict[str, np.ndarray]]:
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path} does not exist or is not a file.")
    # A model file is a zip archive (.npz). Anything else is refused before numpy sees it: numpy
    # would try to read it as a pickle and answer with advice to load it unsafely.
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ModelFileError(f"could not read {path.name}: {exc.strerror or exc}.") from None
    if magic != b"PK\x03\x04":
        what = "an empty file" if not magic else "not an .npz archive"
        raise ModelFileError(
            f"{path.name} is not a ConvScope model file ({what}). Choose a model file saved by ConvScope "
            f"(File > Save model)."
        )
    try:
        with np.load(path, allow_pickle=False) as data:
            names = list(data.files)
            arrays = {name: data[name] for name in names}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as exc:
        raise ModelFileError(
            f"{path.name} is not a ConvScope model file (it could not be read as .npz: {exc}). "
            f"Choose a file saved by ConvScope."
        ) from None
    if "architecture" not in arrays:
        raise ModelFileError(f"{path.name} holds arrays but no model architecture: it was not saved by ConvScope.")
    try:
        arch = json.loads(str(arrays.pop("architecture")))
        meta_raw = arrays.pop("metadata", None)
        metadata = json.loads(str(meta_raw)) if meta_raw is not None else {}
    except (ValueError, TypeError) as exc:
        raise ModelFileError(f"{path.name}: the architecture or metadata text is damaged ({exc}).") from None
    if not isinstance(arch, dict) or arch.get("format") != FORMAT:
        raise ModelFileError(f"{path.name} is not a ConvScope model file.")
    version = arch.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{path.name}: unknown model file version {version!r}.")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path.name} was saved by a newer ConvScope (file version {version}, this one reads up to "
            f"{FORMAT_VERSION}). Update ConvScope to open it."
        )
    if not isinstance(metadata, dict):
        metadata = {"value": metadata}
    return arch, metadata, arrays


def _weights_for(model: Sequential, arrays: dict[str, np.ndarray], name: str) -> list[dict[str, np.ndarray]]:
    weights = []
    expected = set()
    for i, layer in enumerate(model.layers):
        w = {}
        for key, param in layer.params.items():
            k = f"layer{i}_{key}"
            expected.add(k)
            if k not in arrays:
                raise ModelFileError(f"{name}: the weights of layer {i} ({layer.name}, {key}) are missing.")
            value = arrays[k]
            if value.shape != param.shape:
                raise ModelFileError(
                    f"{name}: layer {i} ({layer.name}) {key} has shape {value.shape} in the file but the "
                    f"architecture needs {param.shape}. The file is damaged."
                )
            if not np.issubdtype(value.dtype, np.floating):
                raise ModelFileError(f"{name}: layer {i} ({layer.name}) {key} holds {value.dtype} values, not numbers.")
            if not np.all(np.isfinite(value)):
                raise ModelFileError(f"{name}: layer {i} ({layer.name}) {key} holds NaN or infinite values.")
            w[key] = value.astype(np.float32)
        weights.append(w)
    extra = sorted(set(arrays) - expected)
    if extra:
        raise ModelFileError(f"{name}: unexpected arrays {extra[:3]} that the architecture does not use.")
    return weights


def load_model(path) -> tuple[Sequential, dict]:
    """Read a model file: returns ``(model, metadata)``; raises :class:`ModelFileError` on any problem."""
    name = Path(path).name
    arch, metadata, arrays = _read(path)
    config = arch.get("model")
    if not isinstance(config, dict) or config.get("input_shape") is None:
        raise ModelFileError(f"{name}: the architecture has no input shape.")
    layers = config.get("layers")
    if not isinstance(layers, list) or not all(isinstance(c, dict) for c in layers):
        raise ModelFileError(f"{name}: the architecture has no valid list of layers.")
    # Check the sizes before allocating anything: a damaged file must not make us build a huge model.
    try:
        rows = validate_architecture(layers, tuple(int(v) for v in config["input_shape"]))
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{name}: the architecture is damaged ({exc}).") from None
    bad = next((r for r in rows if r.error), None)
    if bad is not None:
        raise ModelFileError(f"{name}: the architecture is not valid (layer {bad.index}: {bad.error}).")
    stored = sum(int(a.size) for k, a in arrays.items() if k.startswith("layer"))
    needed = sum(r.params for r in rows)
    if stored != needed:
        raise ModelFileError(
            f"{name}: the file holds {stored:,} weights but its architecture needs {needed:,}. The file is damaged."
        )
    try:
        model = Sequential.from_config(config)
    except ConvScopeError as exc:
        raise ModelFileError(f"{name}: the architecture is not valid ({exc}).") from None
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise ModelFileError(f"{name}: the architecture is damaged ({exc}).") from None
    model.set_weights(_weights_for(model, arrays, name))
    return model, metadata


def load_weights_into(model: Sequential, path) -> dict:
    """Load the weights of a file into an existing built ``model`` of the same architecture.

    Returns the file's metadata. A file of another architecture raises :class:`ModelFileError` naming
    the first difference; the model is unchanged then.
    """
    name = Path(path).name
    if not model.built:
        raise ModelFileError("build the model before loading weights into it.")
    arch, metadata, arrays = _read(path)
    config = arch.get("model") or {}
    theirs = config.get("layers") or []
    if config.get("input_shape") is not None and tuple(config["input_shape"]) != tuple(model.input_shape):
        raise ModelFileError(
            f"{name} is for {tuple(config['input_shape'])} images but this model takes {model.input_shape}."
        )
    if len(theirs) != len(model.layers):
        raise ModelFileError(
            f"{name} holds a model with {len(theirs)} layers but this model has {len(model.layers)}: "
            f"open it as a new model instead."
        )
    for i, (layer, cfg) in enumerate(zip(model.layers, theirs)):
        cls = cfg.get("class_name") if isinstance(cfg, dict) else None
        if cls != type(layer).__name__:
            raise ModelFileError(
                f"{name}: layer {i} is {cls} in the file but {type(layer).__name__} ({layer.name}) in this model: "
                f"the architectures differ; open the file as a new model instead."
            )
    model.set_weights(_weights_for(model, arrays, name))
    return metadata
