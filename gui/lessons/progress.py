"""Where a student is in a lesson: the current step, the answers given, the steps completed.

A pure model (no Qt): the lesson player shows it and stores :meth:`LessonProgress.to_dict` in
QSettings to resume where the student left. A step with a question is completed once it is answered
correctly; :meth:`LessonProgress.next` does not pass an unanswered question.
"""

from __future__ import annotations

import math
import re
import unicodedata

from gui.lessons.errors import LessonError
from gui.lessons.schema import Lesson, Question, Step, Text

__all__ = ["LessonProgress", "check_answer", "normalise_text"]

_SHAPE_SEPARATORS = re.compile(r"\s*[x×*,]\s*")


def normalise_text(value: str) -> str:
    """Compare texts the way a teacher would: NFC, case and spaces ignored, "4 × 4 × 2", "(4, 4, 2)"
    and "4*4*2" all become "4x4x2"."""
    text = unicodedata.normalize("NFKC", str(value)).casefold().strip()
    text = text.strip("()[]").strip()
    if re.fullmatch(r"[\d.\s]+([x×*,][\d.\s]+)+", text):
        return "x".join(part.strip() for part in _SHAPE_SEPARATORS.split(text))
    return re.sub(r"\s+", " ", text).strip(" .!?")


def _as_number(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(unicodedata.normalize("NFKC", str(value)).strip().replace(",", ""))
    except ValueError:
        return None


def check_answer(question: Question, value) -> bool:
    """Whether ``value`` answers ``question`` (numbers within the tolerance, a choice id or its
    index, a text among the accepted ones after :func:`normalise_text`)."""
    if question.kind == "number":
        got = _as_number(value)
        return got is not None and math.isfinite(got) and abs(got - float(question.answer)) <= question.tolerance + 1e-9
    if question.kind == "choice":
        ids = [c.id for c in question.choices]
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(ids):
            value = ids[value]
        return value == question.answer
    accepted = {normalise_text(a) for a in question.answer}
    return normalise_text(value) in accepted


class LessonProgress:
    """Progress through one lesson.

    >>> p = LessonProgress(lesson)
    >>> p.answer(4)        # -> (True, None) or (False, Text hint)
    >>> p.next(); p.back(); p.to_dict()
    """

    def __init__(self, lesson: Lesson):
        self.lesson = lesson
        self.index = 0
        self.answers: dict[str, list] = {}      # step id -> every answer given, in order
        self.completed: set[str] = set()

    # -- where -------------------------------------------------------------------------------------
    @property
    def step(self) -> Step:
        return self.lesson.steps[self.index]

    @property
    def total(self) -> int:
        return len(self.lesson.steps)

    @property
    def fraction(self) -> float:
        return len(self.completed) / self.total

    @property
    def finished(self) -> bool:
        return len(self.completed) == self.total

    @property
    def can_go_next(self) -> bool:
        return self.index < self.total - 1 and self._passed(self.step)

    @property
    def can_go_back(self) -> bool:
        return self.index > 0

    def _passed(self, step: Step) -> bool:
        return step.question is None or step.id in self.completed

    # -- moving -------------------------------------------------------------------------------------
    def next(self) -> bool:
        """Go to the next step; refused (``False``) while the current question is unanswered."""
        if not self._passed(self.step):
            return False
        self.completed.add(self.step.id)
        if self.index >= self.total - 1:
            return False
        self.index += 1
        return True

    def back(self) -> bool:
        if self.index == 0:
            return False
        self.index -= 1
        return True

    def finish(self) -> bool:
        """Mark the last step done (the player's "Finish" button)."""
        if self.index == self.total - 1 and self._passed(self.step):
            self.completed.add(self.step.id)
            return True
        return False

    def answer(self, value) -> tuple[bool, Text | None]:
        """Check ``value`` against the current step's question: ``(True, None)`` or ``(False, hint)``."""
        question = self.step.question
        if question is None:
            return True, None
        self.answers.setdefault(self.step.id, []).append(value)
        if check_answer(question, value):
            self.completed.add(self.step.id)
            return True, None
        return False, question.hint

    def attempts(self, step_id: str | None = None) -> int:
        return len(self.answers.get(step_id or self.step.id, []))

    # -- saving --------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Plain data for QSettings / JSON: lesson id, current step id, answers, completed step ids."""
        return {"lesson": self.lesson.id, "step": self.step.id,
                "answers": {k: list(v) for k, v in self.answers.items()},
                "completed": [s.id for s in self.lesson.steps if s.id in self.completed]}

    @classmethod
    def from_dict(cls, lesson: Lesson, data: dict, strict: bool = False) -> LessonProgress:
        """Resume from :meth:`to_dict`. Steps that no longer exist (the lesson file was edited) are
        dropped; with ``strict`` they raise :class:`LessonError` instead."""
        progress = cls(lesson)
        if not isinstance(data, dict) or data.get("lesson") != lesson.id:
            if strict:
                saved_for = data.get("lesson") if isinstance(data, dict) else data
                raise LessonError("lesson.bad_progress", lesson=lesson.id,
                                  reason=f"it was saved for lesson {saved_for!r}")
            return progress
        ids = {s.id for s in lesson.steps}
        unknown = [s for s in [data.get("step"), *data.get("completed", []), *data.get("answers", {})]
                   if s not in ids]
        if unknown and strict:
            raise LessonError("lesson.bad_progress", lesson=lesson.id,
                              reason=f"unknown steps {sorted(set(map(str, unknown)))}")
        progress.completed = {s for s in data.get("completed", []) if s in ids}
        progress.answers = {k: list(v) for k, v in data.get("answers", {}).items() if k in ids}
        if data.get("step") in ids:
            progress.index = lesson.step_index(data["step"])
        # never resume past a question that was not answered
        for i in range(progress.index):
            if not progress._passed(lesson.steps[i]):
                progress.index = i
                break
        return progress
