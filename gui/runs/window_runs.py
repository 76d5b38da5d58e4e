"""The window's part of runs and timeline: the timeline bar under the tabs, the Runs tab and
File > Export timeline... (kept here so ``MainWindow`` stays small)."""

from __future__ import annotations

from gui.i18n import tr
from gui.runs.dialogs import export_timeline_dialog
from gui.runs.panel import RunsPanel
from gui.timeline.bar import TimelineBar


def install_runs(window) -> None:
    """Add the timeline bar (across the window, under the tabs), the Runs tab and the export action."""
    c = window.controller
    window.timeline_bar = TimelineBar(c.timeline)
    window.centralWidget().layout().addWidget(window.timeline_bar)
    window.runs_panel = RunsPanel(c)
    window.add_tab("runs", tr("Runs"), window.runs_panel)
    window.export_timeline_action = window._action(
        window.file_menu, tr("Export timeline..."), lambda: export_current_timeline(window), None,
        tr("The filters or feature maps of this run at every kept moment, as an animated GIF or PNG frames."))


def export_current_timeline(window) -> None:
    c = window.controller
    moments = [] if c.recorder is None else c.recorder.history.moments()
    path = export_timeline_dialog(window, moments, c.report_error)
    if path is not None:
        window.show_status(tr("Timeline exported to {}.").format(path))
