"""The convolution theater: a widget-free stage model and small views over it.

- ``stage.py``: :class:`StageModel`, what is on stage (input, kernel, settings, position); no Qt.
- ``sources.py``: :class:`TheaterSources`, where input and kernel come from; no Qt.
- ``events.py``: the plain callbacks both models emit; ``text.py``: the sentences, from the model.
- ``grid_view.py``, ``stage_view.py``: the grids drawn; ``playback.py``: step/play/scrub;
  ``controls.py``: the settings column; ``whole_image.py``: the whole-image strip and the model box;
  ``panel.py``: :class:`TheaterPanel`, composing them.

Import the panel from :mod:`gui.theater.panel` (this package's ``__init__`` stays Qt-free so the
models import without PySide6).
"""
