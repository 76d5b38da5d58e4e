"""What the editor says about a layer: its title and help, its formulas, and parameter sharing.

Widget-free text built from the engine's answers (``SummaryRow`` and ``validate_architecture``): the
editor does no shape or parameter arithmetic of its own.
"""

from __future__ import annotations

from functools import lru_cache

from engine.network import validate_architecture
from engine.shapes import format_shape
from gui.i18n import tr


def layer_title(class_name: str) -> str:
    return {
        "Conv2D": tr("Convolution"),
        "MaxPooling2D": tr("Max pooling"),
        "AveragePooling2D": tr("Average pooling"),
        "ReLU": tr("ReLU activation"),
        "Sigmoid": tr("Sigmoid activation"),
        "Tanh": tr("Tanh activation"),
        "LeakyReLU": tr("Leaky ReLU activation"),
        "Softmax": tr("Softmax activation"),
        "Dropout": tr("Dropout"),
        "Flatten": tr("Flatten"),
        "Dense": tr("Dense (fully connected)"),
    }.get(class_name, class_name)


def layer_help(class_name: str) -> str:
    return {
        "Conv2D": tr("Slides each filter over the input; every filter makes one feature map. "
                     "The same filter weights are used at every position (parameter sharing)."),
        "MaxPooling2D": tr("Keeps the largest value of each window: smaller maps, no parameters to learn."),
        "AveragePooling2D": tr("Keeps the mean of each window: smaller maps, no parameters to learn."),
        "ReLU": tr("max(0, x): keeps positive values, sets negative ones to 0."),
        "Sigmoid": tr("Squashes every value into (0, 1)."),
        "Tanh": tr("Squashes every value into (-1, 1)."),
        "LeakyReLU": tr("Like ReLU, but negative values are multiplied by a small slope alpha."),
        "Softmax": tr("Turns scores into probabilities that add up to 1."),
        "Dropout": tr("While training, randomly switches off this fraction of values; does nothing at test time."),
        "Flatten": tr("Unrolls an H x W x C volume into one long vector so that Dense layers can read it."),
        "Dense": tr("Connects every input value to every unit, each connection with its own weight."),
    }.get(class_name, "")


_FLATTEN = {"class_name": "Flatten", "config": {"name": "flatten"}}


@lru_cache(maxsize=512)
def dense_equivalent_params(input_shape: tuple, output_shape: tuple) -> int | None:
    """Parameters of a Dense layer that maps ``input_shape`` to as many values as ``output_shape`` holds.

    Asked of the engine: ``Flatten`` gives both sizes, ``validate_architecture`` counts the Dense
    layer. ``None`` when the engine cannot answer (e.g. an empty shape).
    """
    out_rows = validate_architecture([_FLATTEN], tuple(output_shape))
    if not out_rows or out_rows[0].error or not out_rows[0].output_shape:
        return None
    units = int(out_rows[0].output_shape[0])
    rows = validate_architecture([_FLATTEN, {"class_name": "Dense", "config": {"name": "dense", "units": units}}],
                                 tuple(input_shape))
    if len(rows) != 2 or rows[1].error:
        return None
    return int(rows[1].params)


def _kernel_size(layer: dict):
    value = layer["config"].get("kernel_size")
    return value[0] if isinstance(value, (list, tuple)) and value else value


def sharing_tip(layer: dict, row, dense: int) -> str:
    """The parameter-sharing comparison of a Conv2D row, in full (a tooltip)."""
    cin = row.input_shape[0] if len(row.input_shape) == 3 else "?"
    return tr(
        "Parameter sharing. A Dense layer connects every one of the {inp} input values to every output "
        "value with its own weight, so producing the same {out} outputs would need {dense} parameters. "
        "The convolution reuses each {k} x {k} x {c} filter at every position of the output, so it needs "
        "only {params} and its count does not depend on the image size."
    ).format(inp=format_shape(tuple(row.input_shape)), out=format_shape(tuple(row.output_shape)),
             dense=f"{dense:,}", k=_kernel_size(layer), c=cin, params=f"{int(row.params):,}")


def formula_lines(layer: dict, row) -> tuple[list[str], str]:
    """The lines of a row's "How it is computed" cell (from the engine's ``SummaryRow``) and its tooltip."""
    if row is None:
        return [], ""
    if row.output_shape is None:
        return ([] if row.error else [tr("unknown until the layer above is fixed")]), ""
    lines = []
    if row.size_formula:
        lines.append(tr("size: {formula}").format(formula=row.size_formula))
    if row.formula:
        lines.append(tr("parameters: {formula}").format(formula=row.formula))
    tip = ""
    if layer["class_name"] == "Conv2D" and row.input_shape and row.output_shape:
        dense = dense_equivalent_params(tuple(row.input_shape), tuple(row.output_shape))
        if dense is not None:
            # Short in the table (the tooltip and the line under the table say it in full).
            lines.append(tr("a Dense layer would need {dense}").format(dense=f"{dense:,}"))
            tip = sharing_tip(layer, row, dense)
    if not lines:
        same = tuple(row.input_shape or ()) == tuple(row.output_shape or ())
        lines.append(tr("no parameters, shape unchanged") if same else tr("no parameters"))
    return lines, tip


def sharing_summary(layers: list[dict], rows: list) -> tuple[str, str]:
    """Parameter sharing at a glance: the first convolution against a Dense layer doing the same job.

    Returns the line under the table and its tooltip.
    """
    for layer, row in zip(layers, rows):
        if layer["class_name"] != "Conv2D" or row.output_shape is None:
            continue
        dense = dense_equivalent_params(tuple(row.input_shape), tuple(row.output_shape))
        if dense is None:
            break
        text = tr(
            "Parameter sharing: {name} needs {params} parameters; a Dense layer making the same "
            "{out} outputs from its {inp} input would need {dense}."
        ).format(name=layer["config"].get("name", ""), params=f"{int(row.params):,}",
                 out=format_shape(tuple(row.output_shape)), inp=format_shape(tuple(row.input_shape)),
                 dense=f"{dense:,}")
        return text, sharing_tip(layer, row, dense)
    return tr("Parameter sharing: add a Conv2D layer to compare it with a Dense layer."), ""
