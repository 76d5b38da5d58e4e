"""What a layer costs, as the editor shows it: multiply-adds, activation memory and the receptive field.

Widget-free text from the engine's ``SummaryRow`` (the engine computes every number and formula; this
module only words them). Each cell is ``(the number over the left side of its formula, tooltip with the
whole formula)``: the formula stays in sight without widening the table.
"""

from __future__ import annotations

from gui.i18n import tr


def _bytes(n: int) -> str:
    if n >= 1024 ** 2:
        return f"{n / 1024 ** 2:,.1f} MB"
    if n >= 1024:
        return f"{n / 1024:,.1f} KB"
    return f"{n:,} B"


def _left(formula: str) -> str:
    """``"37*37*10*(3*3*3) = 369630"`` -> ``"37*37*10*(3*3*3)"`` (what is multiplied, without the result)."""
    return formula.split(" = ")[0].strip()


def multiply_adds_cell(row) -> tuple[str, str]:
    """``("369,630\n37*37*10*(3*3*3)", "Multiply-adds for one image: 37*37*10*(3*3*3) = 369630 ...")``."""
    if row is None or row.output_shape is None:
        return "—", ""
    n = int(getattr(row, "multiply_adds", 0) or 0)
    formula = getattr(row, "multiply_adds_formula", "")
    if not formula:
        return "0", tr("This layer does no multiply-adds (it compares, reshapes or applies a function).")
    tip = tr("Multiply-adds for one image: {formula}. Each output value is a dot product of a window "
             "(or of every input, for Dense) with the weights.").format(formula=formula)
    return f"{n:,}\n{_left(formula)}", tip


def memory_cell(row) -> tuple[str, str]:
    """``("53.5 KB\n37*37*10 * 4 B", "Memory of this layer's output ...: 37*37*10 = 13690 values ...")``."""
    if row is None or row.output_shape is None or not getattr(row, "memory_formula", ""):
        return "—", ""
    per_value = int(row.activation_bytes) // max(int(row.activation_values), 1)
    return f"{_bytes(int(row.activation_bytes))}\n{_left(row.memory_formula)} * {per_value} B", tr(
        "Memory of this layer's output for one image (float32, 4 bytes a value): {formula}. Training keeps it "
        "for the backward pass, once per image of the batch.").format(formula=row.memory_formula)


def receptive_field_cell(row) -> tuple[str, str]:
    """``("7 x 7\n3 + (5 - 1)*1", "Each output value sees 7 x 7 pixels of the input image ...")``."""
    if row is None or row.output_shape is None:
        return "—", ""
    field = getattr(row, "receptive_field", None)
    if field is None:
        return tr("whole image"), tr("After Flatten every value can depend on every input pixel.")
    jump = getattr(row, "receptive_jump", None) or (1, 1)
    formula = getattr(row, "receptive_formula", "")
    how = formula or tr("unchanged: this layer looks at one position at a time")
    # one formula for both axes ("r = 3 + (5 - 1)*1 = 7, ..."): its sum under the size
    short = _left(formula[4:]) if formula.startswith("r = ") else ""
    return f"{field[0]} x {field[1]}" + (f"\n{short}" if short else ""), tr(
        "Each output value sees {h} x {w} pixels of the input image; neighbouring outputs are {jh} x {jw} input "
        "pixels apart. {formula} (r = r_prev + (k - 1) * jump_prev, jump = jump_prev * stride)").format(
        h=field[0], w=field[1], jh=jump[0], jw=jump[1], formula=how)

