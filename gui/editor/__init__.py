"""The architecture editor: a widget-free draft model (``draft.py``) and small views on it.

``draft.py`` (layers, undo/redo, validation; no Qt), ``kept_weights.py`` (learned weights kept across
edits), ``explanations.py`` (titles, help, formulas, parameter sharing), ``layer_settings.py`` (one
layer's settings form), ``layer_table.py`` (the rows), ``edit_toolbar.py`` (add/remove/move/undo),
``draft_summary.py`` (the lines under the table), ``file_dialogs.py`` (open/save/export buttons) and
``editor.py`` (``ArchitectureEditor`` composing them).
"""
