"""File > Recent: the models and dataset folders opened lately, remembered in QSettings.

Entries whose file or folder has gone are pruned when the menu opens, with a message naming them.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMenu

from gui.i18n import tr

KEY = "recent/entries"
MAX_ENTRIES = 10
KINDS = ("model", "folder")


class RecentFiles:
    """The list itself (newest first) over ``QSettings``; no widgets."""

    def __init__(self, settings: QSettings | None = None):
        self._settings = settings

    @property
    def settings(self) -> QSettings:
        return self._settings if self._settings is not None else QSettings()

    def entries(self) -> list[tuple[str, str]]:
        """``(kind, path)`` pairs, newest first."""
        raw = self.settings.value(KEY, "[]")
        try:
            items = json.loads(raw if isinstance(raw, str) else "[]")
        except ValueError:
            return []
        return [(k, p) for k, p in items if k in KINDS and isinstance(p, str)][:MAX_ENTRIES]

    def _store(self, entries) -> None:
        self.settings.setValue(KEY, json.dumps([list(e) for e in entries[:MAX_ENTRIES]]))

    def add(self, kind: str, path) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        path = str(Path(path).expanduser().resolve())
        self._store([(kind, path)] + [e for e in self.entries() if e[1] != path])

    def prune(self) -> list[str]:
        """Forget entries whose file or folder is gone; returns their paths."""
        kept, gone = [], []
        for kind, path in self.entries():
            exists = Path(path).is_dir() if kind == "folder" else Path(path).is_file()
            (kept if exists else gone).append((kind, path))
        if gone:
            self._store(kept)
        return [p for _, p in gone]

    def clear(self) -> None:
        self._store([])


class RecentMenu(QMenu):
    """The File > Recent submenu; rebuilt each time it opens. ``open_path(path)`` opens an entry."""

    def __init__(self, recent: RecentFiles, open_path, show_message, parent=None):
        super().__init__(tr("Open &recent"), parent)
        self.recent = recent
        self.open_path = open_path
        self.show_message = show_message
        self.aboutToShow.connect(self.rebuild)
        self.rebuild(prune=False)

    def rebuild(self, prune: bool = True) -> None:
        """Fill the menu; ``prune`` (when it opens) first drops entries whose file is gone, with a message."""
        gone = self.recent.prune() if prune else []
        if gone:
            self.show_message(tr("No longer there, removed from the recent list: {}").format(", ".join(gone)))
        self.clear()
        entries = self.recent.entries()
        for kind, path in entries:
            label = tr("Model") if kind == "model" else tr("Dataset folder")
            action = self.addAction(f"{Path(path).name}  ({label})")
            action.setToolTip(path)
            action.setStatusTip(path)
            action.setData(path)
            action.triggered.connect(self._on_triggered)
        if not entries:
            self.addAction(tr("(no recent models or folders)")).setEnabled(False)
        self.addSeparator()
        clear = self.addAction(tr("Clear the list"))
        clear.setEnabled(bool(entries))
        clear.triggered.connect(self._on_clear)

    def _on_triggered(self) -> None:
        action = self.sender()
        if action is not None and action.data():
            self.open_path(str(action.data()))

    def _on_clear(self) -> None:
        self.recent.clear()
        self.rebuild()
