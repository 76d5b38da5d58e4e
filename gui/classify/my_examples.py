""""This is a k": the widget-free model of the user's own examples in the classify panel.

No Qt (a test imports it in a fresh interpreter). It holds the image the network currently sees (after
preprocessing), the class the user says it is, the dataset's example store
(:class:`engine.datasets.user_examples.UserExamples`), and the probabilities of that image before and
after the last fine-tune. Views subscribe with :meth:`MyExamplesModel.subscribe` (plain callbacks after
every change) and on user input only call its methods.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.datasets.user_examples import UserExample, UserExamples, dataset_key
from gui.i18n import tr
from gui.listeners import ChangeListeners


class MyExamplesModel(ChangeListeners):
    """The examples of the current dataset, the image to add, the chosen class and the last before/after.

    Attributes
    ----------
    store : the dataset's :class:`UserExamples` (``None`` before a dataset, or for a dataset whose images
        are neither grayscale nor colour)
    class_names : the dataset's class names (``label`` indexes them)
    image : ``(C, H, W)`` float32 in [0, 1], the network's input of the current image, or ``None``
    label : the class chosen in "This is a ..."
    before, after : ``(K,)`` probabilities of ``compared_image`` before and after the last fine-tune
    message : the last thing to tell the user ('' when all is well)
    """

    def __init__(self, root: str | Path | None = None):
        self.root = root
        self.store: UserExamples | None = None
        self.class_names: list[str] = []
        self.image: np.ndarray | None = None
        self.image_name = ""
        self.label = 0
        self.before: np.ndarray | None = None
        self.after: np.ndarray | None = None
        self.compared_image: np.ndarray | None = None
        self.compared_label: int | None = None
        self.busy = False
        self.message = ""

    # -- inputs -----------------------------------------------------------------------------------
    def set_dataset(self, name: str, input_shape: tuple, class_names: list[str]) -> None:
        """Open the examples folder of this dataset (created on the first example)."""
        shape = tuple(int(v) for v in input_shape)
        self.class_names = list(class_names)
        try:
            self.store = UserExamples(dataset_key(name, shape), shape, root=self.root)
        except ValueError:      # neither grayscale nor colour: nothing to keep as PNG
            self.store = None
        self.label = min(self.label, max(len(self.class_names) - 1, 0))
        self.image = None if self.image is None or self.image.shape != shape else self.image
        self.before = self.after = self.compared_image = None
        self.message = ""
        self._changed()

    def set_image(self, x: np.ndarray | None, name: str = "") -> None:
        """The image the network sees now (after preprocessing), the one 'Add to my examples' keeps."""
        self.image = None if x is None else np.array(x, dtype=np.float32, copy=True)
        self.image_name = str(name)
        self._changed()

    def choose_label(self, label: int) -> None:
        if 0 <= int(label) < len(self.class_names) and int(label) != self.label:
            self.label = int(label)
            self._changed()

    # -- the examples -----------------------------------------------------------------------------
    def examples(self) -> list[UserExample]:
        return self.store.examples() if self.store is not None else []

    def thumbnail(self, example: UserExample) -> np.ndarray | None:
        """The example as uint8 ``(C, H, W)`` (None when its file cannot be read)."""
        try:
            return self.store.image(example) if self.store is not None else None
        except OSError:
            return None

    def class_name(self, label: int) -> str:
        return self.class_names[label] if 0 <= label < len(self.class_names) else str(label)

    def can_add(self) -> bool:
        return self.store is not None and self.image is not None and self.image.shape == self.store.input_shape

    def add_current(self) -> UserExample | None:
        """Keep the current image as class ``label``; None (and a message) when there is none."""
        if not self.can_add():
            self.message = tr("Draw, paste, open or drop an image first: it is added as the network sees it.")
            self._changed()
            return None
        try:
            example = self.store.add(self.image, self.label)
        except OSError as exc:
            self.message = tr("Could not save the example in {folder}: {reason}").format(
                folder=str(self.store.folder), reason=exc.strerror or type(exc).__name__)
            self._changed()
            return None
        self.message = tr("Added as '{name}'. You have {n} examples; press Fine-tune to teach them.").format(
            name=self.class_name(self.label), n=len(self.store))
        self._changed()
        return example

    def remove(self, example_id: int) -> None:
        if self.store is not None and self.store.remove(example_id):
            self.message = ""
            self._changed()

    def clear(self) -> None:
        if self.store is not None and len(self.store):
            self.store.clear()
            self.message = tr("Your examples of this dataset were deleted.")
            self._changed()

    def summary(self) -> str:
        """'3 examples: 2 x circle, 1 x square' (or how to start)."""
        if self.store is None:
            return tr("Your own examples are kept for grayscale and colour images only.")
        counts = self.store.counts()
        if not counts:
            return tr("No examples yet: choose what the image is, then 'Add to my examples'.")
        parts = ", ".join(f"{n} x {self.class_name(k)}" for k, n in sorted(counts.items()))
        return tr("{n} examples: {parts}").format(n=len(self.store), parts=parts)

    # -- fine-tuning ------------------------------------------------------------------------------
    def fine_tune_data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, int] | None:
        """``(examples_x uint8, examples_y, probe image, probe label)`` for a fine-tune, or None with a message.

        The probe (the image whose answer is compared) is the current image, else the newest example.
        """
        if self.store is None or not len(self.store):
            self.message = tr("Add at least one example first ('This is a ...', then 'Add to my examples').")
            self._changed()
            return None
        x, y = self.store.arrays()
        if not len(x):
            self.message = tr("Your example files could not be read; clear them and add new ones.")
            self._changed()
            return None
        if self.image is not None and self.image.shape == tuple(x.shape[1:]):
            probe, label = self.image, self.label
        else:
            probe, label = x[-1].astype(np.float32) / np.float32(255), int(y[-1])
        return x, y, probe, label

    def started(self, probe: np.ndarray, label: int) -> None:
        self.busy = True
        self.compared_image, self.compared_label = np.array(probe, copy=True), int(label)
        self.message = tr("Fine-tuning...")
        self._changed()

    def finished(self, before: np.ndarray, after: np.ndarray, error: str = "") -> None:
        """The fine-tune reported: keep the probabilities to compare (or the reason it failed)."""
        self.busy = False
        self.before = np.asarray(before, dtype=np.float64)
        self.after = np.asarray(after, dtype=np.float64)
        self.message = error or self.comparison_text()
        self._changed()

    def refused(self, message: str) -> None:
        self.busy = False
        self.message = message
        self._changed()

    def comparison_text(self) -> str:
        """'Before: plus (98%). After: circle (68%). You said: circle.'"""
        if self.before is None or self.after is None:
            return ""
        b, a = int(np.argmax(self.before)), int(np.argmax(self.after))
        text = tr("Before: {before} ({pb:.0%}). After: {after} ({pa:.0%}).").format(
            before=self.class_name(b), pb=float(self.before[b]), after=self.class_name(a), pa=float(self.after[a]))
        if self.compared_label is not None:
            said = self.class_name(self.compared_label)
            text += " " + (tr("It now agrees with you: {name}.") if a == self.compared_label
                           else tr("You said {name}: a few more steps or examples may be needed.")).format(name=said)
        return text

    def comparison_rows(self) -> list[tuple[str, float, float]]:
        """``(class name, before, after)`` per class, for the side-by-side bars."""
        if self.before is None or self.after is None:
            return []
        return [(self.class_name(k), float(self.before[k]), float(self.after[k])) for k in range(len(self.before))]
