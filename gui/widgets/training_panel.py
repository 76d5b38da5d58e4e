"""Training panel: dataset, model preset, optimizer and its settings, the run buttons and progress."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.presets import PRESETS
from gui.i18n import tr
from gui.widgets.pacer import shared_pacer

DATASETS = [
    ("shapes", "Shapes (built-in, offline)"),
    ("colour_shapes", "Colour shapes (built-in, offline, RGB)"),
    ("mnist", "MNIST handwritten digits"),
    ("fashion_mnist", "Fashion-MNIST clothes"),
]
OPTIMIZERS = [("adam", "Adam"), ("sgd", "SGD (momentum)"), ("rmsprop", "RMSprop")]


def preset_names() -> list[str]:
    return list(PRESETS)


def preset_title(name: str) -> str:
    entry = PRESETS.get(name)
    return tr(entry.display_name) if entry is not None else name


def format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    m, s = divmod(seconds, 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class TrainingPanel(QWidget):
    """Controls for one training run and its progress."""

    def __init__(self, controller, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self._updating = False
        self._latest_batch = None
        self._dirty = False

        # -- data and model --------------------------------------------------------------------
        self.dataset_combo = QComboBox()
        for key, title in DATASETS:
            self.dataset_combo.addItem(tr(title), key)
        self.dataset_combo.addItem(tr("Image folder..."), "__folder__")
        self.dataset_combo.setToolTip(tr("The pictures the network learns from; each comes with the right answer "
                                         "(its label)."))
        self.preset_combo = QComboBox()
        self.preset_combo.setToolTip(tr("A ready-made network architecture (which layers, in which order, how "
                                        "many filters)."))
        for name in preset_names():
            self.preset_combo.addItem(preset_title(name), name)

        # -- optimizer settings ------------------------------------------------------------------
        self.optimizer_combo = QComboBox()
        for key, title in OPTIMIZERS:
            self.optimizer_combo.addItem(tr(title), key)
        self.optimizer_combo.setToolTip(tr("The rule that changes the weights after each batch, using the "
                                           "gradient of the loss."))
        self.lr_spin = QDoubleSpinBox()
        self.lr_spin.setDecimals(5)
        self.lr_spin.setRange(0.00001, 10.0)
        self.lr_spin.setSingleStep(0.0005)
        self.lr_spin.setToolTip(tr("Learning rate: how big a step the weights take each batch. Too big and the "
                                   "loss explodes; too small and learning is slow."))
        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(1, 4096)
        self.batch_spin.setToolTip(tr("Batch size: how many images the network looks at before each weight "
                                      "update."))
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, 1000)
        self.epochs_spin.setToolTip(tr("Epochs: how many times training goes through the whole training set."))
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setToolTip(tr("Seed: the starting point of the random numbers. The same seed gives the "
                                     "same initial weights and the same shuffling."))

        for combo in (self.dataset_combo, self.preset_combo, self.optimizer_combo):
            # long preset names must not make the dock (and the window) wider than a 1280 px screen
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(12)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(tr("Dataset"), self.dataset_combo)
        form.addRow(tr("Model"), self.preset_combo)
        form.addRow(tr("Optimizer"), self.optimizer_combo)
        form.addRow(tr("Learning rate"), self.lr_spin)
        form.addRow(tr("Batch size"), self.batch_spin)
        form.addRow(tr("Epochs"), self.epochs_spin)
        form.addRow(tr("Seed"), self.seed_spin)
        settings = QGroupBox(tr("Setup"))
        settings.setLayout(form)

        # -- buttons -----------------------------------------------------------------------------
        self.start_button = QPushButton(tr("Start"))
        self.start_button.setToolTip(tr("Start training: the network sees batch after batch and adjusts its "
                                        "weights to lower the loss."))
        self.pause_button = QPushButton(tr("Pause"))
        self.pause_button.setToolTip(tr("Pause after the current batch; Resume continues exactly where it "
                                        "stopped."))
        self.step_button = QPushButton(tr("Step 1 batch"))
        self.step_button.setToolTip(tr("Train on exactly one batch, then pause: watch a single weight update."))
        self.stop_button = QPushButton(tr("Stop"))
        self.stop_button.setToolTip(tr("End this training run; the weights learned so far are kept."))
        self.reset_button = QPushButton(tr("Reset"))
        self.reset_button.setToolTip(tr("Forget what was learned: new initial weights from the seed (the same "
                                        "seed gives the same weights)."))
        for b in (self.start_button, self.pause_button, self.step_button, self.stop_button, self.reset_button):
            b.setMinimumHeight(30)
        buttons = QGridLayout()
        buttons.addWidget(self.start_button, 0, 0)
        buttons.addWidget(self.pause_button, 0, 1)
        buttons.addWidget(self.step_button, 0, 2)
        buttons.addWidget(self.stop_button, 1, 0)
        buttons.addWidget(self.reset_button, 1, 1)

        # -- progress ----------------------------------------------------------------------------
        self.state_label = QLabel()
        self.state_label.setToolTip(tr("What the trainer is doing now."))
        f = self.state_label.font()
        f.setBold(True)
        f.setPointSize(f.pointSize() + 1)
        self.state_label.setFont(f)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setToolTip(tr("Progress through all epochs of this run."))
        self.progress_label = QLabel()
        self.progress_label.setToolTip(tr("Epoch = one pass over the training set; batch = one weight update."))
        self.speed_label = QLabel()
        self.speed_label.setToolTip(tr("How many training images the network processes per second, and the "
                                       "estimated time left."))
        self.metrics_label = QLabel()
        self.metrics_label.setToolTip(tr("Loss: how wrong the network is (lower is better). Accuracy: the share "
                                         "of images classified correctly."))
        self.metrics_label.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(settings)
        layout.addLayout(buttons)
        layout.addWidget(self.state_label)
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.speed_label)
        layout.addWidget(self.metrics_label)
        layout.addStretch(1)

        # -- wiring ------------------------------------------------------------------------------
        self.start_button.clicked.connect(self.on_start_clicked)
        self.pause_button.clicked.connect(self.on_pause_clicked)
        # bound methods without arguments: clicked(bool) would land in stop(timeout=False)
        self.step_button.clicked.connect(self.on_step_clicked)
        self.stop_button.clicked.connect(self.on_stop_clicked)
        self.reset_button.clicked.connect(self.on_reset_clicked)
        self.dataset_combo.activated.connect(self.on_dataset_chosen)
        self.preset_combo.activated.connect(self.on_preset_chosen)
        self.optimizer_combo.currentIndexChanged.connect(self.on_option_edited)
        self.lr_spin.valueChanged.connect(self.on_option_edited)
        self.batch_spin.valueChanged.connect(self.on_option_edited)
        self.epochs_spin.valueChanged.connect(self.on_option_edited)
        self.seed_spin.valueChanged.connect(self.on_option_edited)
        controller.state_changed.connect(self.on_state_changed)
        controller.dataset_changed.connect(self.on_dataset_changed)
        controller.dataset_loading.connect(self.on_dataset_loading)
        controller.dataset_failed.connect(self.on_dataset_failed)
        controller.model_changed.connect(self.on_model_changed)
        controller.batch_metrics_ready.connect(self.on_batch_metrics)
        controller.epoch_metrics_ready.connect(self.on_epoch_metrics)
        controller.options_changed.connect(self.show_options)
        controller.history_reset.connect(self.on_history_reset)
        shared_pacer().add(self.refresh, 150)
        self.show_options(controller.options)
        self.on_state_changed(controller.state)
        self.on_history_reset()

    # -- options ---------------------------------------------------------------------------------
    def show_options(self, options: dict) -> None:
        if self._latest_batch is None:
            self.progress_label.setText(tr("Epoch {} / {}").format(0, options["epochs"]))
        self._updating = True
        try:
            i = self.optimizer_combo.findData(options["optimizer"])
            self.optimizer_combo.setCurrentIndex(max(i, 0))
            self.lr_spin.setValue(float(options["learning_rate"]))
            self.batch_spin.setValue(int(options["batch_size"]))
            self.epochs_spin.setValue(int(options["epochs"]))
            self.seed_spin.setValue(int(options["seed"]))
        finally:
            self._updating = False

    def on_option_edited(self, *_args) -> None:
        if self._updating:
            return
        self.controller.set_options(
            optimizer=self.optimizer_combo.currentData(), learning_rate=self.lr_spin.value(),
            batch_size=self.batch_spin.value(), epochs=self.epochs_spin.value(), seed=self.seed_spin.value())

    # -- data/model choices ----------------------------------------------------------------------
    def on_dataset_chosen(self, index: int) -> None:
        key = self.dataset_combo.itemData(index)
        if key == "__folder__":
            path = QFileDialog.getExistingDirectory(self, tr("Choose a folder with one sub-folder per class"))
            if not path:
                self.on_dataset_changed(self.controller.dataset)
                return
            key = path
        if not self.controller.load_dataset_async(key):
            self.on_dataset_changed(self.controller.dataset)

    def on_preset_chosen(self, index: int) -> None:
        name = self.preset_combo.itemData(index)
        if name and not self.controller.set_preset(name):
            self.on_model_changed(self.controller.model)

    def on_dataset_loading(self, name: str) -> None:
        self.dataset_combo.setEnabled(False)
        self.preset_combo.setEnabled(False)
        self.state_label.setText(tr("Loading dataset {}...").format(name))

    def on_dataset_failed(self, _name: str) -> None:
        self.on_state_changed(self.controller.state)
        self.on_dataset_changed(self.controller.dataset)

    def on_dataset_changed(self, ds) -> None:
        self.on_state_changed(self.controller.state)
        if ds is None:
            return
        i = self.dataset_combo.findData(ds.name)
        if i < 0:
            self.dataset_combo.insertItem(self.dataset_combo.count() - 1, ds.name, ds.name)
            i = self.dataset_combo.findData(ds.name)
        self.dataset_combo.setCurrentIndex(i)

    def on_model_changed(self, _model) -> None:
        name = self.controller.preset_name
        i = self.preset_combo.findData(name) if name else -1
        if i < 0:
            path = self.controller.model_path
            label = tr("(custom model)") if not path else Path(path).name
            i = self.preset_combo.findData("__custom__")
            if i < 0:
                self.preset_combo.addItem(label, "__custom__")
                i = self.preset_combo.count() - 1
            else:
                self.preset_combo.setItemText(i, label)
        self.preset_combo.setCurrentIndex(i)

    # -- buttons and state -----------------------------------------------------------------------
    def on_start_clicked(self) -> None:
        self.controller.start()

    def on_step_clicked(self) -> None:
        self.controller.step()

    def on_stop_clicked(self) -> None:
        self.controller.stop()
        if self.controller.is_training:
            # stop only asks: the state changes when the current batch ends, a moment later
            self.state_label.setText(tr("Stopping..."))
            for button in (self.stop_button, self.pause_button, self.step_button):
                button.setEnabled(False)

    def on_reset_clicked(self) -> None:
        self.controller.reset()

    def on_pause_clicked(self) -> None:
        if self.controller.state == "paused":
            self.controller.resume()
        else:
            self.controller.pause()

    STATE_TEXT = {
        "idle": "Ready to train",
        "compiling": "Compiling kernels...",
        "training": "Training",
        "paused": "Paused",
        "finished": "Finished",
        "diverged": "Stopped: the loss exploded",
    }

    def on_state_changed(self, state: str) -> None:
        self.state_label.setText(tr(self.STATE_TEXT.get(state, state)))
        training = state == "training"
        compiling = state == "compiling"
        # Start during compiling is remembered: training begins as soon as the kernels are ready
        self.start_button.setEnabled(state in ("idle", "finished", "diverged", "compiling"))
        self.start_button.setText(tr("Start again") if state == "finished" else tr("Start"))
        self.pause_button.setEnabled(state in ("training", "paused"))
        self.pause_button.setText(tr("Resume") if state == "paused" else tr("Pause"))
        self.step_button.setEnabled(state in ("idle", "paused", "finished", "diverged"))
        self.stop_button.setEnabled(training or state in ("paused", "diverged"))
        self.reset_button.setEnabled(not compiling)
        for w in (self.dataset_combo, self.preset_combo, self.batch_spin, self.epochs_spin, self.seed_spin,
                  self.optimizer_combo):
            w.setEnabled(not training and not compiling)

    def on_history_reset(self) -> None:
        self._latest_batch = None
        self._run_started = None
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self.progress_label.setText(tr("Epoch {} / {}").format(0, self.controller.options["epochs"]))
        self.speed_label.setText("")
        self.metrics_label.setText("")

    def on_batch_metrics(self, metrics) -> None:
        self._latest_batch = metrics
        self._dirty = True

    def on_epoch_metrics(self, _metrics) -> None:
        self._dirty = True

    def refresh(self) -> bool:
        """Show the latest batch (the frame pacer calls it, at most every 150 ms); True when it did."""
        if not self._dirty or self._latest_batch is None:
            return False
        self._dirty = False
        m = self._latest_batch
        trainer = self.controller.trainer
        epochs = int(trainer.epochs) if trainer is not None else int(self.controller.options["epochs"])
        per_epoch = max(1, int(m.batches_per_epoch))
        done = int(m.epoch) * per_epoch + int(m.batch) + 1      # epoch and batch count from 0
        total = epochs * per_epoch
        self.progress.setRange(0, total)
        self.progress.setValue(min(done, total))
        self.progress_label.setText(tr("Epoch {} / {}   ·   batch {} / {}").format(
            min(int(m.epoch) + 1, epochs), epochs, int(m.batch) + 1, per_epoch))
        speed = float(m.images_per_second)
        text = tr("{:,.0f} images/s").format(speed)
        if speed > 0 and done < total:
            batch_size = int(self.controller.options["batch_size"])
            eta = (total - done) * batch_size / speed
            text += "   ·   " + tr("about {} left").format(format_duration(eta))
        self.speed_label.setText(text)
        parts = [tr("loss {:.4f}").format(float(m.loss)), tr("accuracy {:.1%}").format(float(m.accuracy))]
        if self.controller.history.epochs:
            e = self.controller.history.epochs[-1]
            parts.append(tr("validation: loss {:.4f}, accuracy {:.1%}").format(float(e.val_loss),
                                                                               float(e.val_accuracy)))
        self.metrics_label.setText("   ".join(parts[:2]) + ("<br>" + parts[2] if len(parts) > 2 else ""))
        return True
