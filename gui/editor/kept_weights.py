"""What layers have learned, kept across edits of the draft (widget-free).

When the draft is built into a model, every layer whose config and parameter shapes are unchanged
gets back the weights it had in the model it came from (opened, loaded or trained in the window);
new or changed layers start from fresh random weights.
"""

from __future__ import annotations

from gui.editor.draft import clean_config


class KeptWeights:
    """Layer name -> (config, {param: array}) of layers loaded from models."""

    def __init__(self):
        self._by_name: dict[str, tuple[dict, dict]] = {}

    def __bool__(self) -> bool:
        return bool(self._by_name)

    def clear(self) -> None:
        self._by_name.clear()

    def remember(self, model) -> None:
        """Keep the weights of every built layer of ``model`` (an unbuilt model has none)."""
        if not model.built:
            return
        for layer, weights in zip(model.layers, model.get_weights()):
            if weights:
                self._by_name[layer.name] = (clean_config(layer.get_config()),
                                             {k: v.copy() for k, v in weights.items()})

    def restore(self, model) -> int:
        """Give the built ``model``'s unchanged layers their kept weights; returns how many layers got them."""
        if not self._by_name:
            return 0
        weights = model.get_weights()
        restored = 0
        for i, layer in enumerate(model.layers):
            kept = self._by_name.get(layer.name)
            if not kept or not weights[i]:
                continue
            config, arrays = kept
            if config != clean_config(layer.get_config()):
                continue
            if set(arrays) != set(weights[i]) or any(arrays[k].shape != weights[i][k].shape for k in arrays):
                continue
            weights[i] = {k: v.copy() for k, v in arrays.items()}
            restored += 1
        if restored:
            model.set_weights(weights)
        return restored
