"""``RunsPanel``: the Runs tab. The kept runs (name, date, dataset, preset, status, epochs, best
validation accuracy, disk use, parent), what to do with them (reopen the final model, continue,
continue from an epoch with other settings, export the timeline, delete) and the comparison of the
selected runs. A thin view over :class:`gui.runs.model.RunsModel`; commands go to the controller."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.i18n import tr, tr_error
from gui.runs.compare_view import CompareView
from gui.runs.dialogs import BranchDialog, export_timeline_dialog
from gui.runs.model import RunsModel, format_bytes

STATUS_TEXT = {"created": "created", "running": "training", "finished": "finished", "stopped": "stopped",
               "interrupted": "interrupted", "diverged": "diverged"}
COLUMNS = ("Name", "Date", "Dataset", "Model preset", "Status", "Epochs", "Best val. acc.", "Disk", "Parent")


class RunsPanel(QWidget):
    """List, actions and comparison of the runs in the controller's run store."""

    def __init__(self, controller, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.model = RunsModel()
        self.list = QTableWidget(0, len(COLUMNS))
        self.list.setHorizontalHeaderLabels([tr(c) for c in COLUMNS])
        self.list.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.verticalHeader().hide()
        self.list.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.list.setToolTip(tr("Every training run is kept here, also after a restart. Select two or more "
                                "to compare them (Ctrl+click)."))
        corner = self.list.findChild(QAbstractButton)
        if corner is not None:                  # the table's top-left "select all" button
            corner.setToolTip(tr("Select every run"))
        self.disk_label = QLabel()
        self.buttons = {}
        bar = QHBoxLayout()
        for key, text, tip, slot in (
                ("reopen", tr("Reopen model"), tr("Use this run's final weights as the model; its timeline and curves "
                                                  "come back, so the slider can replay how it learned."),
                 self.on_reopen),
                ("continue", tr("Continue"), tr("Go on training an interrupted or stopped run from its last "
                                                "epoch."), self.on_continue),
                ("branch", tr("Continue from here..."), tr("A new run from one of this run's epochs, with other "
                                                            "settings."), self.on_branch),
                ("export", tr("Export timeline..."), tr("The run's filters or feature maps as an animated GIF "
                                                        "or PNG frames, for slides."), self.on_export),
                ("delete", tr("Delete"), tr("Delete the selected runs and their files."), self.on_delete)):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            self.buttons[key] = button
            bar.addWidget(button)
        bar.addStretch(1)
        bar.addWidget(self.disk_label)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addLayout(bar)
        ll.addWidget(self.list, 1)
        self.compare = CompareView(self.model)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(left)
        splitter.addWidget(self.compare)
        splitter.setSizes([200, 600])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)

        self.list.itemSelectionChanged.connect(self.on_selection)
        self.model.subscribe(self.on_model_changed)
        controller.runs_changed.connect(self.schedule_refresh)
        # refreshes are coalesced: a run's start and end come with several changes at once
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(200)
        self._refresh_timer.timeout.connect(self.refresh)
        self.refresh()

    # -- model ---------------------------------------------------------------------------------------
    def schedule_refresh(self) -> None:
        self._refresh_timer.start()

    def refresh(self) -> None:
        if self.model.store is not self.controller.run_store:
            self.model.store = self.controller.run_store
        try:
            self.model.refresh()
        except Exception as exc:  # noqa: BLE001 - a damaged run must not take the tab down
            self.controller.report_error(tr("Could not read the runs: {}").format(tr_error(exc)))

    def on_model_changed(self, names) -> None:
        if "rows" in names:
            self.fill_list()
        if names & {"rows", "selection"}:
            self.update_buttons()
            self.compare.show_runs()

    def fill_list(self) -> None:
        m = self.model
        self.list.blockSignals(True)
        self.list.setRowCount(len(m.rows))
        for r, row in enumerate(m.rows):
            parent = "" if row.parent_id is None else tr("#{} epoch {}").format(row.parent_id, row.parent_epoch)
            values = (f"#{row.id} {row.name}", time.strftime("%Y-%m-%d %H:%M", time.localtime(row.created)),
                      row.dataset or "", row.preset or "", tr(STATUS_TEXT.get(row.status, row.status)),
                      str(row.epochs), "" if row.best_val_accuracy is None else f"{row.best_val_accuracy:.2%}",
                      format_bytes(row.disk_bytes), parent)
            for c, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, row.id)
                self.list.setItem(r, c, item)
            self.list.setRowHidden(r, False)
            selected = row.id in m.selected
            for c in range(len(COLUMNS)):
                self.list.item(r, c).setSelected(selected)
        self.list.resizeColumnsToContents()
        self.list.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.list.blockSignals(False)
        store = self.controller.run_store
        where = "" if store is None else str(store.root)
        self.disk_label.setText(tr("{} runs, {} on disk").format(len(m.rows), format_bytes(m.total_disk)))
        self.disk_label.setToolTip(where)

    def selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.list.selectedIndexes()})
        return [self.list.item(r, 0).data(Qt.ItemDataRole.UserRole) for r in rows]

    def select_runs(self, run_ids) -> None:
        """Select these runs (tests, and after a branch)."""
        self.model.select(run_ids)
        self.fill_list()

    def on_selection(self) -> None:
        self.model.select(self.selected_ids())

    def update_buttons(self) -> None:
        sel = [self.model.row(i) for i in self.model.selected]
        one = sel[0] if len(sel) == 1 else None
        busy = self.controller.is_training
        self.buttons["reopen"].setEnabled(one is not None and bool(one.checkpoint_epochs) and not busy)
        self.buttons["continue"].setEnabled(one is not None and one.can_continue and not busy)
        self.buttons["branch"].setEnabled(one is not None and bool(one.checkpoint_epochs) and not busy)
        self.buttons["export"].setEnabled(one is not None)
        self.buttons["delete"].setEnabled(bool(sel) and all(r.status != "running" for r in sel))

    # -- commands ------------------------------------------------------------------------------------
    def _one(self) -> int | None:
        return self.model.selected[0] if len(self.model.selected) == 1 else None

    def on_reopen(self) -> None:
        if self._one() is not None:
            self.controller.reopen_run(self._one())

    def on_continue(self) -> None:
        if self._one() is not None:
            self.controller.continue_run(self._one())

    def on_branch(self) -> None:
        run_id = self._one()
        if run_id is None:
            return
        store = self.controller.run_store
        dialog = BranchDialog(store.run(run_id), store.checkpoint_epochs(run_id),
                              int(self.controller.options["epochs"]), self)
        if dialog.exec():
            new_id = self.controller.branch_run(run_id, dialog.epoch, dialog.changes(), epochs=dialog.epochs)
            if new_id is not None:
                self.refresh()
                self.select_runs([run_id, new_id])

    def on_export(self) -> None:
        run_id = self._one()
        if run_id is None:
            return
        try:
            moments = self.controller.run_store.load_history(run_id).moments()
        except Exception as exc:  # noqa: BLE001
            self.controller.report_error(tr("Could not read the run's timeline: {}").format(tr_error(exc)))
            return
        path = export_timeline_dialog(self, moments, self.controller.report_error)
        if path is not None:
            self.controller.status_message.emit(tr("Timeline exported to {}.").format(path))

    def on_delete(self) -> None:
        ids = list(self.model.selected)
        if not ids:
            return
        size = sum(self.model.row(i).disk_bytes for i in ids)
        question = tr("Delete {} run(s) and their files ({})? This cannot be undone.").format(
            len(ids), format_bytes(size))
        answer = QMessageBox.question(self, tr("Delete runs"), question)
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.delete_runs(ids)

    def delete_runs(self, ids) -> None:
        try:
            freed = self.model.delete(ids)
        except Exception as exc:  # noqa: BLE001
            self.controller.report_error(tr("Could not delete the run: {}").format(tr_error(exc)))
            return
        self.controller.status_message.emit(tr("Deleted; {} freed.").format(format_bytes(freed)))
