"""What a layer costs, as the editor shows it: multiply-adds, activation memory and the receptive field.

Widget-free text from the engine's ``SummaryRow`` (the engine computes every number and formula; this
module only words them). Each cell is ``(short text, tooltip with the formula and the numbers)``.
"""

from __future__ import annotations

from gui.i18n import tr


def _bytes(n: int) -> str:
    if n >= 1024 ** 2:
        return f"{n / 1024 ** 2:,.1f} MB"
    if n >= 1024:
        return f"{n / 1024:,.1f} KB"
    return f"{n:,} B"


def multiply_adds_cell(row) -> tuple[str, str]:
    """``("369,630", "Multiply-adds per image: 37*37*10*(3*3*3) = 369630 ...")``; ``—`` when unknown."""
    if row is None or row.output_shape is None:
        return "—", ""
    n = int(getattr(row, "multiply_adds", 0) or 0)
    formula = getattr(row, "multiply_adds_formula", "")
    if not formula:
        return "0", tr("This layer does no multiply-adds (it compares, reshapes or applies a function).")
    return f"{n:,}", tr("Multiply-adds for one image: {formula}. Each output value is a dot product of a window "
                        "(or of every input, for Dense) with the weights.").format(formula=formula)


def memory_cell(row) -> tuple[str, str]:
    """``("53.5 KB", "Activation memory for one image: 37*37*10 = 13690 values * 4 bytes = 54760 bytes")``."""
    if row is None or row.output_shape is None or not getattr(row, "memory_formula", ""):
        return "—", ""
    return _bytes(int(row.activation_bytes)), tr(
        "Memory of this layer's output for one image (float32, 4 bytes a value): {formula}. Training keeps it "
        "for the backward pass, once per image of the batch.").format(formula=row.memory_formula)


def receptive_field_cell(row) -> tuple[str, str]:
    """``("7 x 7", "Each output value sees 7 x 7 input pixels: r = 3 + (5 - 1)*1 = 7 ...")``."""
    if row is None or row.output_shape is None:
        return "—", ""
    field = getattr(row, "receptive_field", None)
    if field is None:
        return tr("whole image"), tr("After Flatten every value can depend on every input pixel.")
    jump = getattr(row, "receptive_jump", None) or (1, 1)
    how = getattr(row, "receptive_formula", "") or tr("unchanged: this layer looks at one position at a time")
    return f"{field[0]} x {field[1]}", tr(
        "Each output value sees {h} x {w} pixels of the input image; neighbouring outputs are {jh} x {jw} input "
        "pixels apart. {formula} (r = r_prev + (k - 1) * jump_prev, jump = jump_prev * stride)").format(
        h=field[0], w=field[1], jh=jump[0], jw=jump[1], formula=how)


def cost_lines(row) -> list[str]:
    """The cost formulas for the "How it is computed" cell (multiply-adds, memory, receptive field)."""
    if row is None or row.output_shape is None:
        return []
    lines = []
    if getattr(row, "multiply_adds_formula", ""):
        lines.append(tr("multiply-adds: {formula}").format(formula=row.multiply_adds_formula))
    if getattr(row, "memory_formula", ""):
        lines.append(tr("memory: {formula}").format(formula=row.memory_formula))
    if getattr(row, "receptive_formula", ""):
        lines.append(tr("receptive field: {formula}").format(formula=row.receptive_formula))
    return lines
