"""One sample seen through a model: the value every inspection view draws.

:func:`inspect_model` (``Sequential.inspect(x)``) runs one image through the network in inference
mode and copies everything a picture of it needs: the input, every layer's output, the
pre-activations of fused layers, the max-pool switches, the logits and the probabilities, and the
weights that produced them. The result is a frozen :class:`Inspection` of read-only arrays, so the
training thread can hand it to the GUI and keep training.

The probabilities follow one rule for every model (:func:`output_head` says which scores are the
logits): ``probabilities = softmax(logits)``, computed in float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.layers import Conv2D, Dense, MaxPooling2D, Softmax
from engine.losses import softmax

__all__ = ["HEADS", "Inspection", "inspect_model", "output_head", "pool_winner_mask"]

HEADS = ("plain", "softmax_layer", "fused_softmax")


def output_head(layers) -> str:
    """Where a classifier's logits are, for a list of built layers.

    ``"plain"``: the last layer's output are the logits (the usual ``Dense(k)``);
    ``"softmax_layer"``: a trailing :class:`~engine.layers.Softmax` layer, the logits are the output
    of the layer before it; ``"fused_softmax"``: ``Dense(k, activation="softmax")`` (or a Conv2D),
    the logits are that layer's pre-activation. Training, ``predict_proba`` and inspection all use
    this one rule, so a model never applies softmax twice.
    """
    last = layers[-1]
    if isinstance(last, Softmax) and len(layers) > 1:
        return "softmax_layer"
    if isinstance(last, (Dense, Conv2D)) and last.activation == "softmax":
        return "fused_softmax"
    return "plain"


def pool_winner_mask(switches: np.ndarray, input_shape) -> np.ndarray:
    """The max-pool switches as a boolean mask on the pooled layer's input.

    ``switches`` is int32 ``(C, OH, OW)`` (the engine's argmax: ``r * W + c`` in the unpadded input
    plane, ``-1`` for a window made only of padding); ``input_shape`` is ``(C, H, W)``. A pixel is
    ``True`` when it won at least one window (overlapping windows may share a winner).
    """
    c, h, w = (int(v) for v in input_shape)
    flat = np.asarray(switches).reshape(c, -1)
    mask = np.zeros((c, h * w), dtype=bool)
    rows = np.repeat(np.arange(c), flat.shape[1])
    cols = flat.ravel()
    keep = cols >= 0
    mask[rows[keep], cols[keep]] = True
    return mask.reshape(c, h, w)


def _frozen(a) -> np.ndarray:
    out = np.array(a, copy=True)
    out.flags.writeable = False
    return out


@dataclass(frozen=True)
class Inspection:
    """Everything the network did with one sample (read-only copies; no batch axis).

    Attributes
    ----------
    input : float32 ``(C, H, W)``, the sample as the model saw it (pixels in ``[0, 1]``)
    layer_names : the layers' names, in order
    outputs : ``outputs[i]`` is layer ``i``'s output, ``(C, H, W)`` or ``(D,)``
    pre_activations : layer ``i``'s output before its fused activation, or ``None``
    pool_switches : int32 ``(C, OH, OW)`` argmax of a MaxPooling2D layer (see
        :func:`pool_winner_mask`), ``None`` for other layers
    logits : float32 ``(K,)``, the scores before the softmax (see :func:`output_head`)
    probabilities : float32 ``(K,)`` = ``softmax(logits)``
    weights : ``weights[i]`` is layer ``i``'s ``{"W": ..., "b": ...}`` (``{}`` without parameters)
    head : ``output_head(layers)``
    """

    input: np.ndarray
    layer_names: tuple[str, ...]
    outputs: tuple[np.ndarray, ...]
    pre_activations: tuple[np.ndarray | None, ...]
    pool_switches: tuple[np.ndarray | None, ...]
    logits: np.ndarray
    probabilities: np.ndarray
    weights: tuple[dict, ...]
    head: str = "plain"

    @property
    def activations(self) -> tuple[np.ndarray, ...]:
        """``(input, output of layer 0, output of layer 1, ...)``: ``activations[i + 1]`` is layer ``i``'s."""
        return (self.input, *self.outputs)

    @property
    def prediction(self) -> int:
        """The class with the highest probability."""
        return int(np.argmax(self.probabilities))

    def winner_mask(self, layer_index: int) -> np.ndarray:
        """Boolean ``(C, H, W)`` mask of the pixels of layer ``layer_index``'s input that won a pooling
        window (the values the max-pooling layer passed on). Raises ``ValueError`` for a layer that
        is not a max pooling."""
        switches = self.pool_switches[layer_index]
        if switches is None:
            raise ValueError(f"layer {layer_index} ('{self.layer_names[layer_index]}') is not a max pooling.")
        return pool_winner_mask(switches, self.activations[layer_index].shape)


def inspect_model(model, x) -> Inspection:
    """Run one image through a built model (inference mode) and copy every stage of it.

    ``x`` is ``(C, H, W)`` or ``(1, C, H, W)``, uint8 pixels or float32 in ``[0, 1]``. Overwrites the
    layers' forward caches, so call it between training steps, never during one.
    """
    if np.ndim(x) == 3:
        x = np.asarray(x)[None]
    # Weights close to divergence may overflow on this sample: the picture shows inf, no warning.
    with np.errstate(over="ignore", invalid="ignore"):
        acts = model.forward(x, training=False, return_all=True)
        head = output_head(model.layers)
        if head == "softmax_layer":
            logits = acts[-2][0]
        elif head == "fused_softmax":
            logits = model.layers[-1].pre_activation[0]
        else:
            logits = acts[-1][0]
        logits = np.asarray(logits, np.float64).reshape(-1)
        probs = softmax(logits[None])[0]
    layers = model.layers
    return Inspection(
        input=_frozen(acts[0][0]),
        layer_names=tuple(layer.name for layer in layers),
        outputs=tuple(_frozen(a[0]) for a in acts[1:]),
        pre_activations=tuple(
            None if getattr(layer, "pre_activation", None) is None else _frozen(layer.pre_activation[0])
            for layer in layers
        ),
        pool_switches=tuple(_frozen(layer.argmax[0]) if isinstance(layer, MaxPooling2D) else None
                            for layer in layers),
        logits=_frozen(logits.astype(np.float32)),
        probabilities=_frozen(probs.astype(np.float32)),
        weights=tuple({k: _frozen(v) for k, v in layer.params.items()} for layer in layers),
        head=head,
    )
