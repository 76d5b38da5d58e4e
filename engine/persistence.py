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

from engine import limits
from engine.errors import ArchitectureError, ConvScopeError, Message, ModelFileError, Shape
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
        raise ModelFileError("save_unbuilt")
    path = Path(path)
    if path.suffix.lower() != ".npz":
        path = path.with_name(path.name + ".npz")
    try:
        meta_text = json.dumps(metadata or {}, default=_json_default, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise ModelFileError("metadata_not_json", detail=str(exc)) from None
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
        raise ModelFileError("model_write_failed", path=str(path), detail=str(exc.strerror or exc)) from None
    return path


def _read(path) -> tuple[dict, dict, dict[str, np.ndarray]]:
    path = Path(path)
    if not path.is_file():
        raise ModelFileError("model_file_missing", path=str(path))
    # A model file is a zip archive (.npz). Anything else is refused before numpy sees it: numpy
    # would try to read it as a pickle and answer with advice to load it unsafely.
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ModelFileError("model_read_failed", name=path.name, detail=str(exc.strerror or exc)) from None
    if magic != b"PK\x03\x04":
        what = Message("empty_file") if not magic else Message("not_npz_archive")
        raise ModelFileError("not_model_file_kind", name=path.name, what=what)
    try:
        with np.load(path, allow_pickle=False) as data:
            names = list(data.files)
            arrays = {name: data[name] for name in names}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as exc:
        raise ModelFileError("not_npz", name=path.name, detail=str(exc)) from None
    if "architecture" not in arrays:
        raise ModelFileError("no_architecture", name=path.name)
    try:
        arch = json.loads(str(arrays.pop("architecture")))
        meta_raw = arrays.pop("metadata", None)
        metadata = json.loads(str(meta_raw)) if meta_raw is not None else {}
    except (ValueError, TypeError) as exc:
        raise ModelFileError("architecture_text_damaged", name=path.name, detail=str(exc)) from None
    if not isinstance(arch, dict) or arch.get("format") != FORMAT:
        raise ModelFileError("not_model_file", name=path.name)
    version = arch.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ModelFileError("unknown_file_version", name=path.name, version=version)
    if version > FORMAT_VERSION:
        raise ModelFileError("newer_file_version", name=path.name, version=version, supported=FORMAT_VERSION)
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
                raise ModelFileError("weights_missing", name=name, index=i, layer=layer.name, key=key)
            value = arrays[k]
            if value.shape != param.shape:
                raise ModelFileError("weights_wrong_shape", name=name, index=i, layer=layer.name, key=key,
                                     got=value.shape, expected=param.shape)
            if not np.issubdtype(value.dtype, np.floating):
                raise ModelFileError("weights_not_numbers", name=name, index=i, layer=layer.name, key=key,
                                     dtype=str(value.dtype))
            if not np.all(np.isfinite(value)):
                raise ModelFileError("weights_not_finite", name=name, index=i, layer=layer.name, key=key)
            w[key] = value.astype(np.float32)
        weights.append(w)
    extra = sorted(set(arrays) - expected)
    if extra:
        raise ModelFileError("unexpected_arrays", name=name, arrays=extra[:3])
    return weights


def load_model(path) -> tuple[Sequential, dict]:
    """Read a model file: returns ``(model, metadata)``; raises :class:`ModelFileError` on any problem."""
    name = Path(path).name
    arch, metadata, arrays = _read(path)
    config = arch.get("model")
    if not isinstance(config, dict) or config.get("input_shape") is None:
        raise ModelFileError("no_input_shape", name=name)
    layers = config.get("layers")
    if not isinstance(layers, list) or not all(isinstance(c, dict) for c in layers):
        raise ModelFileError("no_layer_list", name=name)
    # Check the sizes before allocating anything: a damaged file must not make us build a huge model
    # (nor spend minutes validating 100,000 layers: the count is checked before any layer is made).
    try:
        limits.check_layer_count(len(layers))
        rows = validate_architecture(layers, tuple(int(v) for v in config["input_shape"]))
    except ConvScopeError as exc:
        raise ModelFileError("architecture_invalid", name=name, error=exc) from exc
    except (TypeError, ValueError) as exc:
        raise ModelFileError("architecture_damaged", name=name, detail=str(exc)) from None
    bad = next((r for r in rows if r.error), None)
    if bad is not None:
        inner = bad.exception if bad.exception is not None else ArchitectureError("no_layers")
        raise ModelFileError("architecture_invalid", name=name,
                             error=ArchitectureError.in_layer(bad.index, bad.name, inner))
    stored = sum(int(a.size) for k, a in arrays.items() if k.startswith("layer"))
    needed = sum(r.params for r in rows)
    try:
        limits.check_params(needed)
    except ConvScopeError as exc:
        raise ModelFileError("architecture_invalid", name=name, error=exc) from exc
    if stored != needed:
        raise ModelFileError("weight_count_mismatch", name=name, stored=stored, needed=needed)
    try:
        model = Sequential.from_config(config)
    except ConvScopeError as exc:
        raise ModelFileError("architecture_invalid", name=name, error=exc) from exc
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise ModelFileError("architecture_damaged", name=name, detail=str(exc)) from None
    model.set_weights(_weights_for(model, arrays, name))
    return model, metadata


def load_weights_into(model: Sequential, path) -> dict:
    """Load the weights of a file into an existing built ``model`` of the same architecture.

    Returns the file's metadata. A file of another architecture raises :class:`ModelFileError` naming
    the first difference; the model is unchanged then.
    """
    name = Path(path).name
    if not model.built:
        raise ModelFileError("load_into_unbuilt")
    arch, metadata, arrays = _read(path)
    config = arch.get("model") or {}
    theirs = config.get("layers") or []
    if config.get("input_shape") is not None and tuple(config["input_shape"]) != tuple(model.input_shape):
        raise ModelFileError("file_input_shape_differs", name=name, theirs=Shape(config["input_shape"]),
                             ours=Shape(model.input_shape))
    if len(theirs) != len(model.layers):
        raise ModelFileError("file_layer_count_differs", name=name, theirs=len(theirs), ours=len(model.layers))
    for i, (layer, cfg) in enumerate(zip(model.layers, theirs)):
        cls = cfg.get("class_name") if isinstance(cfg, dict) else None
        if cls != type(layer).__name__:
            raise ModelFileError("file_layer_type_differs", name=name, index=i, theirs=cls,
                                 ours=type(layer).__name__, layer=layer.name)
    model.set_weights(_weights_for(model, arrays, name))
    return metadata
