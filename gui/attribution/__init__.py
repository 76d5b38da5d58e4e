"""The "Which pixels mattered" tab: saliency, occlusion and a filter's top patches.

``model.py`` holds the choices and results (no Qt, tested without a QApplication); ``jobs.py`` runs the
long computations on a QThread; ``views.py`` and ``panel.py`` draw them.
"""
