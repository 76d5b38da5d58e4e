"""What a lesson may name, taken from the engine's own catalogues (never a copy).

Kernels and hand-made inputs come from :mod:`engine.theater`, presets from :mod:`engine.presets`,
layer classes from :mod:`engine.layers`, datasets from :mod:`engine.datasets`, optimizers from
:mod:`engine.optimizers`. Tab keys are read from the ``add_tab("key", ...)`` calls of the GUI's
source (parsed, not imported: this module stays Qt-free).
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

from engine.datasets import DATASETS
from engine.layers import LAYER_CLASSES
from engine.optimizers import OPTIMIZERS
from engine.presets import PRESETS
from engine.theater import GRID_MAX_CHANNELS, GRID_MAX_SIDE, INPUT_GRIDS, KERNEL_PRESETS, MODES

__all__ = [
    "DIRECTIONS", "NEEDS", "PADDING_WORDS", "POOLING_TYPES", "CONTROL_PANELS", "MAX_GRID", "MAX_CHANNELS",
    "kernel_names", "input_names", "preset_names", "layer_class_names", "dataset_names", "optimizer_names",
    "modes", "tab_keys",
]

DIRECTIONS = ("forward", "backward")
PADDING_WORDS = ("valid", "same")
POOLING_TYPES = ("none", "max", "average")
# features a step may need that the app may not have yet; the player names what is missing
NEEDS = ("free_input_shape", "backward_mode", "run_comparison", "colour_input")
# hidden/locked control names are "<panel>.<control>"; the player maps them to its widgets
CONTROL_PANELS = ("theater", "editor", "training", "window")
MAX_GRID = GRID_MAX_SIDE          # the theater's grid editor holds the same sizes
MAX_CHANNELS = GRID_MAX_CHANNELS

_GUI = Path(__file__).resolve().parents[1]


def kernel_names() -> tuple[str, ...]:
    return tuple(KERNEL_PRESETS)


def input_names() -> tuple[str, ...]:
    return tuple(INPUT_GRIDS)


def preset_names() -> tuple[str, ...]:
    return tuple(PRESETS)


def layer_class_names() -> tuple[str, ...]:
    return tuple(LAYER_CLASSES)


def dataset_names() -> tuple[str, ...]:
    return tuple(DATASETS)


def optimizer_names() -> tuple[str, ...]:
    return tuple(OPTIMIZERS)


def modes() -> tuple[str, ...]:
    return tuple(MODES)


@lru_cache(maxsize=1)
def tab_keys() -> tuple[str, ...]:
    """Keys of the main window's tabs, from the ``add_tab("key", ...)`` calls in ``gui/``."""
    keys: list[str] = []
    for path in sorted(_GUI.rglob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError):
            continue
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_tab"
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                if node.args[0].value not in keys:
                    keys.append(node.args[0].value)
    return tuple(keys)
