"""The attribution tab's settings boxes: each control sets one attribute of the :class:`AttributionModel`.

The panel connects the boxes' buttons to its computations and the image box's validation index to the
controller (the picture then comes back through ``sample_changed``).
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from gui.attribution.model import AttributionModel
from gui.attribution.views import TopPatchGrid
from gui.i18n import tr
from gui.theater.grid_view import GridView


def wrapped_label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label


class ImageBox(QGroupBox):
    """Where the picture comes from, the validation index and the class to explain."""

    def __init__(self, model: AttributionModel):
        super().__init__(tr("Image"))
        form = QFormLayout(self)
        self.source_label = wrapped_label()
        form.addRow(self.source_label)
        self.val_spin = QSpinBox()
        self.val_spin.setToolTip(tr("Explain this validation image (or drop or draw an image on the window)."))
        form.addRow(tr("Validation image #"), self.val_spin)
        self.class_combo = QComboBox()
        self.class_combo.setToolTip(tr("The class whose evidence is shown: what the model predicted, the true "
                                       "class, or any other (\"why not a 7?\")."))
        self.class_combo.activated.connect(lambda _i: setattr(model, "class_choice", self.class_combo.currentData()))
        form.addRow(tr("Class"), self.class_combo)


class SaliencyBox(QGroupBox):
    """Saliency with SmoothGrad's ``n`` and ``sigma``."""

    def __init__(self, model: AttributionModel):
        super().__init__(tr("Saliency: |d score / d pixel|"))
        form = QFormLayout(self)
        self.smooth_check = QCheckBox(tr("SmoothGrad (average over noisy copies)"))
        self.smooth_check.setToolTip(tr("One gradient is speckled; the average over noisy copies of the image shows "
                                        "the shape the model relies on (Smilkov et al. 2017)."))
        self.smooth_check.toggled.connect(lambda on: setattr(model, "smooth", bool(on)))
        form.addRow(self.smooth_check)
        self.n_spin = QSpinBox()
        self.n_spin.setRange(2, 200)
        self.n_spin.setValue(model.n)
        self.n_spin.setToolTip(tr("How many noisy copies SmoothGrad averages: more is smoother and slower."))
        self.n_spin.valueChanged.connect(lambda v: setattr(model, "n", int(v)))
        form.addRow(tr("Noisy copies"), self.n_spin)
        self.sigma_spin = QDoubleSpinBox()
        self.sigma_spin.setRange(0.01, 0.5)
        self.sigma_spin.setSingleStep(0.05)
        self.sigma_spin.setValue(model.sigma)
        self.sigma_spin.setToolTip(tr("The noise's standard deviation as a share of the darkest-to-brightest range "
                                      "(0.1-0.2 works well)."))
        self.sigma_spin.valueChanged.connect(lambda v: setattr(model, "sigma", float(v)))
        form.addRow(tr("Noise (share of the pixel range)"), self.sigma_spin)
        self.button = QPushButton(tr("Compute saliency"))
        self.button.setToolTip(tr("How much each pixel changes the class score: one backward pass to the image."))
        form.addRow(self.button)


class OcclusionBox(QGroupBox):
    """Occlusion's patch size and stride."""

    def __init__(self, model: AttributionModel):
        super().__init__(tr("Occlusion: cover a patch, watch the probability"))
        form = QFormLayout(self)
        self.patch_spin = QSpinBox()
        self.patch_spin.setRange(1, 64)
        self.patch_spin.setValue(model.patch)
        self.patch_spin.setToolTip(tr("The side of the grey square that covers part of the image."))
        self.patch_spin.valueChanged.connect(lambda v: setattr(model, "patch", int(v)))
        form.addRow(tr("Patch size (pixels)"), self.patch_spin)
        self.stride_spin = QSpinBox()
        self.stride_spin.setRange(1, 64)
        self.stride_spin.setValue(model.stride)
        self.stride_spin.setToolTip(tr("How far the grey square moves between two tries: smaller is finer and slower."))
        self.stride_spin.valueChanged.connect(lambda v: setattr(model, "stride", int(v)))
        form.addRow(tr("Stride"), self.stride_spin)
        self.button = QPushButton(tr("Compute occlusion"))
        self.button.setToolTip(tr("Cover the image patch by patch and record how much the class probability "
                                  "drops (runs in the background)."))
        form.addRow(self.button)


class TopPatchBox(QGroupBox):
    """Layer, filter and how many validation images; the filter's weights above its nine patches."""

    def __init__(self, model: AttributionModel):
        super().__init__(tr("What a filter responds to"))     # short: a group title does not wrap
        v = QVBoxLayout(self)
        v.addWidget(wrapped_label(tr("What a filter responds to: its 9 strongest validation patches")))
        row = QHBoxLayout()
        self.layer_combo = QComboBox()
        self.layer_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.layer_combo.setMinimumContentsLength(6)
        self.layer_combo.setToolTip(tr("The convolution layer whose filter is examined."))
        self.filter_spin = QSpinBox()
        self.filter_spin.setToolTip(tr("The filter (output channel) of that layer."))
        self.images_spin = QSpinBox()
        self.images_spin.setRange(1, 10000)
        self.images_spin.setValue(model.n_images)
        self.images_spin.setToolTip(tr("How many validation images are searched."))
        self.images_spin.valueChanged.connect(lambda v: setattr(model, "n_images", int(v)))
        for text, w in ((tr("Layer"), self.layer_combo), (tr("Filter"), self.filter_spin)):
            row.addWidget(QLabel(text))
            row.addWidget(w)
        row.addStretch(1)
        v.addLayout(row)
        row = QHBoxLayout()         # a second row: the tab fits a 1280 px window
        row.addWidget(QLabel(tr("Images")))
        row.addWidget(self.images_spin)
        self.button = QPushButton(tr("Find top patches"))
        self.button.setToolTip(tr("Search the validation images for the 9 places where this filter responds "
                                  "most (runs in the background)."))
        row.addWidget(self.button)
        row.addStretch(1)
        v.addLayout(row)
        self.filter_view = GridView(tr("the filter's weights"), style="signed")
        self.filter_view.setFixedHeight(130)
        self.patch_grid = TopPatchGrid()
        v.addWidget(self.filter_view)
        v.addWidget(self.patch_grid, 1)
        self.status = wrapped_label()
        v.addWidget(self.status)
