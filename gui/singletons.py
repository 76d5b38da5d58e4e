"""One object per application (the frame pacer, the garbage collector's timer): made on first use,
owned by the ``QApplication``, made again if the application was replaced."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

_objects: dict[type, object] = {}


def per_application(cls):
    """The application's instance of ``cls`` (a QObject class constructed as ``cls(parent)``)."""
    app = QCoreApplication.instance()
    obj = _objects.get(cls)
    if obj is None or obj.parent() is not app:
        obj = _objects[cls] = cls(app)
    return obj
