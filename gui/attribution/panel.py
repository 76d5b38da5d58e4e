"""The "Which pixels mattered" tab: saliency / occlusion over the selected image, and a filter's top patches.

``AttributionPanel(controller)`` composes the widget-free :class:`AttributionModel` with its views. The
picture follows the controller's selected sample (a validation image chosen anywhere, a dropped or a
drawn one). Every computation runs on a copy of the model in a :class:`JobRunner` thread with a progress
bar and Cancel, so the window stays responsive even for occlusion on a large colour image.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engine.attribution import Occlusion
from gui.attribution.controls import ImageBox, OcclusionBox, SaliencyBox, TopPatchBox, wrapped_label
from gui.attribution.jobs import JobRunner
from gui.attribution.model import CLASS_PREDICTED, CLASS_TRUE, AttributionModel, conv_layers, heat_map
from gui.attribution.views import HeatmapView, filter_mosaic
from gui.i18n import tr, tr_class, tr_error


class AttributionPanel(QWidget):
    """Saliency, SmoothGrad, occlusion and top-9 patches for ``controller``'s model and selected sample."""

    result_shown = Signal(str)          # "saliency" | "occlusion" | "top_patches" once drawn

    def __init__(self, controller, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.model = AttributionModel()
        self.runner = JobRunner(self)
        self.message = ""
        self._build()
        self.model.events.image.connect(self._on_image)
        self.model.events.result.connect(self._on_result)
        self.model.events.top.connect(self._on_top)
        self.runner.progressed.connect(self._on_progress)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        c = controller
        c.sample_changed.connect(self.on_sample_changed)
        c.dataset_changed.connect(self.on_dataset_changed)
        c.model_changed.connect(self.on_model_changed)
        self.on_dataset_changed(c.dataset)
        if c.sample is not None:
            self.on_sample_changed(c.sample)

    # -- layout ---------------------------------------------------------------------------------------
    def _build(self) -> None:
        m = self.model
        self.image_box = ImageBox(m)
        self.saliency_box = SaliencyBox(m)
        self.occlusion_box = OcclusionBox(m)
        self.top_box = TopPatchBox(m)
        self.image_box.val_spin.valueChanged.connect(self._on_validation_index)
        self.saliency_box.button.clicked.connect(self.compute_saliency)
        self.occlusion_box.button.clicked.connect(self.compute_occlusion)
        self.top_box.button.clicked.connect(self.compute_top_patches)
        self.top_box.layer_combo.activated.connect(self._on_layer_chosen)
        self.top_box.filter_spin.valueChanged.connect(self._on_filter_chosen)

        run_row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.setToolTip(tr("Stop the computation; what is done so far is shown."))
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.runner.cancel)
        run_row.addWidget(self.progress, 1)
        run_row.addWidget(self.cancel_button)
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setValue(80)
        self.opacity_slider.setToolTip(tr("How strongly the heat map covers the picture."))
        opacity_row = QHBoxLayout()
        opacity_row.addWidget(QLabel(tr("Heat map opacity")))
        opacity_row.addWidget(self.opacity_slider, 1)

        left = QVBoxLayout()
        for box in (self.image_box, self.saliency_box, self.occlusion_box):
            left.addWidget(box)
        left.addLayout(run_row)
        left.addLayout(opacity_row)
        self.status = wrapped_label()
        left.addWidget(self.status)
        left.addStretch(1)

        self.heatmap = HeatmapView()
        self.opacity_slider.valueChanged.connect(lambda v: self.heatmap.set_opacity(v / 100))
        self.title = wrapped_label()
        self.title.setStyleSheet("font-size: 16px;")
        self.explain = wrapped_label()
        middle = QVBoxLayout()
        middle.addWidget(self.title)
        middle.addWidget(self.heatmap, 1)
        middle.addWidget(self.explain)

        left_widget = QWidget()
        left_widget.setLayout(left)
        left_widget.setMaximumWidth(330)
        middle_widget = QWidget()
        middle_widget.setLayout(middle)
        # the heat map and the filter's patches side by side; the user may move the border
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(middle_widget)
        self.splitter.addWidget(self.top_box)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        root = QHBoxLayout(self)
        root.addWidget(left_widget)
        root.addWidget(self.splitter, 1)

    # -- controller -----------------------------------------------------------------------------------
    def class_names(self) -> list[str]:
        ds = self.controller.dataset
        return list(getattr(ds, "class_names", [])) if ds is not None else []

    def on_dataset_changed(self, ds) -> None:
        names = self.class_names()
        self.image_box.class_combo.clear()
        self.image_box.class_combo.addItem(tr("the predicted class"), CLASS_PREDICTED)
        self.image_box.class_combo.addItem(tr("the true class"), CLASS_TRUE)
        for k, name in enumerate(names):
            self.image_box.class_combo.addItem(f"{k}: {tr_class(name)}", k)
        self.model.class_choice = CLASS_PREDICTED
        n = 0 if ds is None else len(ds.x_test)
        self.image_box.val_spin.blockSignals(True)
        self.image_box.val_spin.setRange(0, max(n - 1, 0))
        self.image_box.val_spin.blockSignals(False)
        spin = self.top_box.images_spin
        spin.blockSignals(True)       # the model keeps the wish (500); the spin shows what the dataset allows
        spin.setMaximum(max(n, 1))
        spin.setValue(min(self.model.n_images, max(n, 1)))
        spin.blockSignals(False)
        self.on_model_changed(None)

    def on_model_changed(self, _model) -> None:
        self.runner.shutdown()
        self._set_running(False)
        model = self.controller.model
        self.top_box.layer_combo.clear()
        for i, name in conv_layers(model):
            self.top_box.layer_combo.addItem(f"{i}: {name}", i)
        self.model.layer_index = self.top_box.layer_combo.itemData(0) if self.top_box.layer_combo.count() else None
        self._on_filter_range()
        self.model.set_top(None)
        self.model.set_result(None)

    def on_sample_changed(self, sample) -> None:
        names = self.class_names()
        if sample.source == "validation":
            what = tr("validation image #{}").format(sample.index)
            self.image_box.val_spin.blockSignals(True)
            self.image_box.val_spin.setValue(int(sample.index))
            self.image_box.val_spin.blockSignals(False)
        else:
            what = sample.name or tr("dropped or drawn image")
        if sample.label is not None and sample.label < len(names):
            what += f" ({names[sample.label]})"
        self.runner.shutdown()          # a result for the previous picture is no use
        self._set_running(False)
        self.model.set_image(sample.x, sample.label, what)

    # -- computing ------------------------------------------------------------------------------------
    def _model_copy(self):
        c = self.controller
        if not c.kernels_warm:
            self.show_status(tr("The engine is still preparing its kernels; try again in a moment."))
            return None
        model = c.current_model_copy()
        # clone: while training the controller hands out one cached copy that other panels read too
        return None if model is None else model.clone()

    def _on_validation_index(self, index: int) -> None:
        self.controller.select_validation_sample(int(index))

    def compute_saliency(self) -> bool:
        return self._start("saliency", lambda model: self.model.saliency_job(model))

    def compute_occlusion(self) -> bool:
        return self._start("occlusion", lambda model: self.model.occlusion_job(model))

    def _start(self, kind: str, make_job) -> bool:
        model = self._model_copy()
        if model is None and not self.controller.kernels_warm:
            return False
        problem = self.model.check(model)
        if problem:
            self.show_status(problem)
            return False
        if self.model.class_choice == CLASS_TRUE and self.model.label is None:
            self.show_status(tr("This image has no true class: explaining the predicted one."))
        else:
            self.show_status("")
        self.runner.start(kind, make_job(model))
        self._set_running(True)
        return True

    def compute_top_patches(self) -> bool:
        ds = self.controller.dataset
        model = self._model_copy()
        if model is None or ds is None or self.model.layer_index is None:
            self.top_box.status.setText(tr("Top patches need a dataset and a model with a convolution layer."))
            return False
        self.top_box.status.setText("")
        self._show_filter(model)
        self.runner.start("top_patches", self.model.top_patches_job(model, ds.x_test))
        self._set_running(True)
        return True

    def _set_running(self, running: bool) -> None:
        self.cancel_button.setEnabled(running)
        for b in (self.saliency_box.button, self.occlusion_box.button, self.top_box.button):
            b.setEnabled(True)      # a new request replaces the running one
        if not running:
            self.progress.setRange(0, 1)
            self.progress.setValue(0)

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _on_finished(self, kind: str, result, cancelled: bool) -> None:
        self._set_running(False)
        if kind == "top_patches":
            self.model.set_top(result)
        else:
            self.model.set_result(result)
        if cancelled:
            self.show_status(tr("Cancelled: showing what was computed so far."))
        self.result_shown.emit(kind)

    def _on_failed(self, _kind: str, exc) -> None:
        self._set_running(False)
        self.show_status(tr_error(exc))

    def show_status(self, text: str) -> None:
        self.message = text
        self.status.setText(text)

    # -- model events -----------------------------------------------------------------------------------
    def _on_image(self, **_) -> None:
        self.image_box.source_label.setText(self.model.description)
        self.heatmap.set_picture(self.model.x)

    def _on_result(self, **_) -> None:
        r, names = self.model.result, self.class_names()
        self.heatmap.set_heat(heat_map(r))
        if r is None:
            self.title.setText(self.model.description)
            self.explain.setText("")
            return
        name = names[r.class_index] if r.class_index < len(names) else str(r.class_index)
        if isinstance(r, Occlusion):
            self.title.setText(tr("Occlusion for class {}: p = {:.1%} on the whole image").format(
                name, r.base_probability))
            self.explain.setText(tr("Bright where covering the image with a grey {0}x{0} patch lowers the "
                                    "probability most (largest drop {1:.1%}; {2} of {3} positions).").format(
                r.patch, float(np.nanmax(r.drops)) if np.isfinite(r.drops).any() else 0.0, r.done, r.total))
        else:
            what = tr("SmoothGrad ({} noisy copies)").format(r.samples) if r.samples > 1 else tr("Saliency")
            self.title.setText(tr("{} for class {}").format(what, name))
            self.explain.setText(tr("Bright where a small change of the pixel changes the class score most "
                                    "(the gradient of the score, largest over the colour channels)."))

    def _on_top(self, **_) -> None:
        top, ds = self.model.top, self.controller.dataset
        if top is None or ds is None:
            self.top_box.patch_grid.show_patches(None, None)
            return
        self.top_box.patch_grid.show_patches(top, ds.x_test, self.class_names(), ds.y_test)
        note = "" if top.complete else tr(" (cancelled after {} of {} images)").format(top.done, top.total)
        self.top_box.status.setText(tr("The boxes mark each patch's receptive field: the input pixels the filter's "
                                   "output there depends on.") + note)

    def _on_layer_chosen(self, _index: int) -> None:
        self.model.layer_index = self.top_box.layer_combo.currentData()
        self._on_filter_range()

    def _on_filter_range(self) -> None:
        model, li = self.controller.model, self.model.layer_index
        n = 0 if model is None or li is None else int(model.layers[li].params["W"].shape[0])
        self.top_box.filter_spin.blockSignals(True)
        self.top_box.filter_spin.setRange(0, max(n - 1, 0))
        self.top_box.filter_spin.blockSignals(False)
        self._on_filter_chosen(self.top_box.filter_spin.value())

    def _on_filter_chosen(self, f: int) -> None:
        self.model.filter_index = int(f)
        model = self.controller.current_model_copy() if self.controller.model is not None else None
        self._show_filter(model)

    def _show_filter(self, model) -> None:
        li = self.model.layer_index
        if model is None or li is None:
            return
        kernel = model.layers[li].params["W"][self.model.filter_index]
        self.top_box.filter_view.set_data(filter_mosaic(kernel), digits=2)

    # -- lifetime ---------------------------------------------------------------------------------------
    def shutdown(self) -> bool:
        """Cancel and wait for a running computation (the window calls it on close, tests at the end)."""
        self._set_running(False)
        return self.runner.shutdown()
