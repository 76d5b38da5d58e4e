"""Gradients per layer while training: a Qt-free history model (``history``) and its panel (``panel``)."""
