"""Every file or folder that reaches ConvScope from outside goes through :func:`open_paths`.

Paths come from the command line (``convscope FILE...``), from a drop on the window, from a second
launch that hands its files to the running window, and from File > Recent. :func:`sort_paths` sorts
them by kind (no Qt); :func:`open_paths` then calls the window's existing actions:
images are classified (``classify_when_ready``), a model file is opened (``controller.open_model``),
an image folder becomes the dataset (``controller.load_dataset_async``), a lesson file opens in
the Lesson panel (``window.open_lesson``). Models and images wait for a
folder given with them to finish loading. Everything else becomes one message in the window's
message bar, never a traceback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from gui.desktop.filetypes import kind_of
from gui.i18n import tr


@dataclass
class SortedPaths:
    images: list[str] = field(default_factory=list)      # and files of unknown type: the panel says why
    models: list[str] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)
    lessons: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)    # messages, in the interface language


def sort_paths(paths, cwd: str | None = None) -> SortedPaths:
    """Sort ``paths`` (relative ones against ``cwd``) by kind; missing or unreadable ones and files of
    unknown type become messages."""
    out = SortedPaths()
    for raw in paths:
        text = os.fspath(raw)
        if text.startswith("file://"):
            from urllib.parse import unquote, urlparse

            text = unquote(urlparse(text).path)
        p = Path(text).expanduser()
        if not p.is_absolute():
            p = Path(cwd or os.getcwd()) / p
        path, kind = str(p), kind_of(p)
        if kind == "image":
            out.images.append(path)
        elif kind == "model":
            out.models.append(path)
        elif kind == "folder":
            out.folders.append(path)
        elif kind == "lesson":
            out.lessons.append(path)
        elif kind == "missing":
            out.problems.append(tr("Could not open {}: there is no such file or folder.").format(path))
        elif kind == "unreadable":
            out.problems.append(tr("Could not open {}: you are not allowed to read it (check its "
                                   "permissions).").format(path))
        else:
            # the Classify panel names what is wrong with it ("not an image file ...")
            out.images.append(path)
    if len(out.folders) > 1:
        out.problems.append(tr("One dataset at a time: {} is loaded, the other folders are not.")
                            .format(Path(out.folders[-1]).name))
    if len(out.lessons) > 1:
        out.problems.append(tr("One lesson at a time: {} is opened, the other lesson files are not.")
                            .format(Path(out.lessons[-1]).name))
    if len(out.models) > 1:
        out.problems.append(tr("One model at a time: {} is opened, the other model files are not.")
                            .format(Path(out.models[-1]).name))
    return out


def open_paths(window, paths, cwd: str | None = None, load_folder: bool = True,
               folder_options=None) -> SortedPaths:
    """Open ``paths`` in ``window`` as if they were dropped on it; returns how they were sorted.

    ``load_folder=False`` leaves folders out (at start-up the window loads the first one itself).
    ``folder_options`` (:class:`gui.desktop.folder_options.FolderOptions`): how a folder's pictures are
    read; default ``window.folder_options_for(folder)`` (the remembered choice or what the folder holds).
    """
    sorted_paths = sort_paths(paths, cwd)
    if sorted_paths.problems:
        window.message_bar.show_message("\n".join(sorted_paths.problems))
    controller = window.controller
    if sorted_paths.lessons:
        window.open_lesson(sorted_paths.lessons[-1])        # a broken file: its message in the bar
    after_dataset = []
    if sorted_paths.models:
        after_dataset.append(lambda: controller.open_model(sorted_paths.models[-1]))
    if sorted_paths.images:
        after_dataset.append(lambda: window.classify_when_ready(sorted_paths.images))
    if load_folder and sorted_paths.folders:
        _PendingAfterDataset(window, after_dataset)
        folder = sorted_paths.folders[-1]
        window.expect_dataset_folder(folder)
        options = folder_options if folder_options is not None else window.folder_options_for(folder)
        kwargs = None if options is None else options.load_kwargs()
        if not controller.load_dataset_async(folder, folder_options=kwargs):
            window.message_bar.show_message(tr("A dataset is still loading; drop the folder again when it is "
                                               "ready."))
    else:
        for action in after_dataset:
            action()
    window.raise_()
    window.activateWindow()
    return sorted_paths


class _PendingAfterDataset:
    """Runs ``actions`` once the dataset that is loading now is ready (or failed to load)."""

    def __init__(self, window, actions):
        self.controller = window.controller
        self.actions = actions
        self.controller.dataset_ready.connect(self.fire)
        self.controller.dataset_failed.connect(self.fire)
        window._pending_after_dataset = self      # keep alive until it fires

    def fire(self, *_args) -> None:
        self.controller.dataset_ready.disconnect(self.fire)
        self.controller.dataset_failed.disconnect(self.fire)
        for action in self.actions:
            action()
        self.actions = []
