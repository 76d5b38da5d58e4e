"""Answers recomputed by the engine from a step's state (a question's ``derive``).

``derive`` names what to compute; the tests check every stored answer against it, and the player can
show the engine's own number. Vocabulary (documented in ``resources/lessons/README.md``):

==========================  =================================================================
``theater.output``          output value at ``at`` [i, j] (channel 0 of a pooled volume)
``theater.output_size``     output rows (the theater's output is square in the lessons)
``theater.positions``       number of output cells (positions of the window)
``theater.padding_before``  padding rows added at the top
``theater.padding_uneven``  "uneven" when bottom padding differs from top, else "equal"
``theater.reads``           how many windows read input ``cell`` [r, c]
``theater.min``             smallest output value
``theater.max_kernel``      which of ``kernels`` (names) gives the largest output value
``editor.output_size``      rows of layer ``layer``'s output (its length when flat)
``editor.output_shape``     layer ``layer``'s output as Keras writes it, "HxWxC" or "D"
``editor.params``           parameters of layer ``layer``
``editor.total_params``     parameters of the whole stack
==========================  =================================================================
"""

from __future__ import annotations

import numpy as np

from engine.network import validate_architecture
from gui.lessons.schema import Step
from gui.lessons.state import build_theater, editor_input_shape, editor_layers

__all__ = ["DERIVATIONS", "derive_answer"]

DERIVATIONS = ("theater.output", "theater.output_size", "theater.positions", "theater.padding_before",
               "theater.padding_uneven", "theater.reads", "theater.min", "theater.max_kernel",
               "editor.output_size", "editor.output_shape", "editor.params", "editor.total_params")


def _plane(output: np.ndarray) -> np.ndarray:
    return output[0] if output.ndim == 3 else output


def _shape_text(shape) -> str:
    if len(shape) == 3:
        c, h, w = shape
        return f"{h}x{w}x{c}"
    return "x".join(str(v) for v in shape)


def derive_answer(step: Step, data_dir=None):
    """The engine's answer to ``step.question`` (a number, a choice id or a text), from its ``derive``."""
    q = step.question
    if q is None or q.derive is None:
        raise ValueError(f"step {step.id!r} has no question with 'derive'")
    d = q.derive
    of = d.get("of")
    if of not in DERIVATIONS:
        raise ValueError(f"step {step.id!r}: unknown derivation {of!r}; known: {', '.join(DERIVATIONS)}")
    if of.startswith("theater."):
        theater = step.state["theater"]
        t = build_theater(theater, data_dir)
        out = _plane(t.output())
        if of == "theater.output":
            i, j = d["at"]
            return float(out[i, j])
        if of == "theater.output_size":
            return int(t.out_h)
        if of == "theater.positions":
            return int(t.n_positions)
        if of == "theater.padding_before":
            return int(t.pad_rows.before)
        if of == "theater.padding_uneven":
            return "uneven" if t.pad_rows.before != t.pad_rows.after else "equal"
        if of == "theater.reads":
            r, c = d["cell"]
            return len(t.cells_reading(r, c))
        if of == "theater.min":
            return float(out.min())
        best, best_value = None, -np.inf
        for name in d["kernels"]:
            value = float(_plane(build_theater({**theater, "kernel": name}, data_dir).output()).max())
            if value > best_value:
                best, best_value = name, value
        return best
    editor = step.state["editor"]
    rows = validate_architecture(editor_layers(editor), editor_input_shape(editor))
    if of == "editor.total_params":
        return int(sum(r.params for r in rows))
    row = rows[d["layer"]]
    if of == "editor.params":
        return int(row.params)
    if of == "editor.output_shape":
        return _shape_text(row.output_shape)
    return int(row.output_shape[1] if len(row.output_shape) == 3 else row.output_shape[0])
