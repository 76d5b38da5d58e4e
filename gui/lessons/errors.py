"""Teaching errors of lesson files: a stable code, the values, and an English sentence made from them.

Every message names the lesson, the step (number and id) and the field, so a teacher who edited a
lesson file by hand knows where to look::

    lesson 'padding', step 3 ('same-output'), field theater.stride: must be 1 or more, got 0

The Korean templates live in ``resources/i18n/ko.lessons.json``, keyed by the English template, so
both :func:`gui.i18n.tr_error` (which recovers the values from the English text) and a translation by
``code`` (:meth:`LessonError.message`) give the same sentence.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from engine.errors import ConvScopeError

__all__ = ["LessonError", "MESSAGES", "WHERE", "korean_templates"]

_KO_CATALOG = Path(__file__).resolve().parents[2] / "resources" / "i18n" / "ko.lessons.json"

# code -> English template of the detail (named fields only)
MESSAGES: dict[str, str] = {
    "lesson.file_missing": "no lesson named {name!s}: the lessons are {known}; or give the path of a {suffix} file",
    "lesson.file_unreadable": "cannot read {path}: {reason}",
    "lesson.bad_json": "the file is not valid JSON (line {line}, column {column}): {reason}",
    "lesson.bad_suffix": "a lesson file's name must end with {suffix}, got {path}",
    "lesson.unknown_key": "unknown key {key!r}; allowed keys: {allowed}",
    "lesson.missing_key": "the key {key!r} is required",
    "lesson.bad_type": "must be {expected}, got {got}",
    "lesson.bad_choice": "must be one of {allowed}, got {got}",
    "lesson.too_small": "must be {minimum} or more, got {got}",
    "lesson.too_large": "must be at most {maximum}, got {got}",
    "lesson.missing_korean": "the Korean text ('ko') is missing or empty; every text needs Korean first",
    "lesson.grid_too_large": "a grid has at most {maximum} {what}, got {got}",
    "lesson.grid_channel": "channel {channel} must be a list of rows",
    "lesson.grid_row": "row {row} must be a list of numbers, got {got}",
    "lesson.grid_ragged": "every row needs the same length: row {row} has {got}, row 0 has {width}",
    "lesson.grid_not_number": "row {row} holds {got}, which is not a finite number",
    "lesson.grid_channel_rows": "every channel needs the same number of rows",
    "lesson.kernel_not_square": "a kernel must be square, got {rows}x{columns}",
    "lesson.duplicate_step": "the step id {duplicate!r} is used twice; every step needs its own id",
    "lesson.no_steps": "a lesson needs at least one step",
    "lesson.engine_refused": "{reason}",
    "lesson.choice_ids_repeat": "two choices share an id: {ids}",
    "lesson.choices_not_allowed": "only a 'choice' question has choices",
    "lesson.bad_progress": "saved progress does not fit this lesson: {reason}",
}

# how the place of a problem is written, from the most to the least precise
WHERE: dict[str, str] = {
    "step_field": "lesson {lesson!r}, step {step} ({step_id!r}), field {field}: {message}",
    "step": "lesson {lesson!r}, step {step} ({step_id!r}): {message}",
    "lesson_field": "lesson {lesson!r}, field {field}: {message}",
    "lesson": "lesson {lesson!r}: {message}",
}


_WORDS = ("what", "expected")


def _plain(template: str) -> str:
    """The template without ``!r``/``!s`` conversions: the form the Korean catalogue is keyed by."""
    return template.replace("!r}", "}").replace("!s}", "}")


@lru_cache(maxsize=1)
def korean_templates() -> dict[str, str]:
    with _KO_CATALOG.open(encoding="utf-8") as fh:
        return json.load(fh)


class LessonError(ConvScopeError):
    """A lesson file (or saved progress) that cannot be used, with where and why.

    Attributes
    ----------
    code : str, a key of :data:`MESSAGES` (stable: catalogues and tests key on it)
    values : dict, the named values of the message, including ``lesson``, ``step`` (1-based),
        ``step_id`` and ``field`` when known
    """

    def __init__(self, code: str, *, lesson: str | None = None, step: int | None = None,
                 step_id: str | None = None, field: str | None = None, **values):
        if code not in MESSAGES:
            raise KeyError(f"unknown lesson error code {code!r}")
        self.code = code
        self.values = {"lesson": lesson, "step": step, "step_id": step_id, "field": field, **values}
        self._text = self.message("en")
        # Exception.__init__ directly: ConvScopeError's own signature is being extended elsewhere.
        Exception.__init__(self, self._text)

    def __str__(self) -> str:
        return self._text

    def where(self) -> str | None:
        v = self.values
        if v["lesson"] is None:
            return None
        if v["step"] is not None and v["field"] is not None:
            return "step_field"
        if v["step"] is not None:
            return "step"
        if v["field"] is not None:
            return "lesson_field"
        return "lesson"

    def message(self, lang: str = "en") -> str:
        """The sentence in ``lang`` ("en" or "ko"); Korean from ``resources/i18n/ko.lessons.json``."""
        detail_en = MESSAGES[self.code]
        where = self.where()
        if lang == "ko":
            ko = korean_templates()
            # the words a message is built from ("columns", "a whole number") have Korean too
            values = {k: (ko.get(v, v) if k in _WORDS and isinstance(v, str) else v) for k, v in self.values.items()}
            detail = ko.get(_plain(detail_en), _plain(detail_en)).format(**_for_plain(detail_en, values))
            if where is None:
                return detail
            wrapper = _plain(WHERE[where])
            return ko.get(wrapper, wrapper).format(**{**_for_plain(WHERE[where], values), "message": detail})
        detail = detail_en.format(**self.values)
        if where is None:
            return detail
        return WHERE[where].format(**self.values, message=detail)


def _for_plain(template: str, values: dict) -> dict:
    """Values as the plain template needs them: a ``{x!r}`` field gets ``repr`` applied beforehand."""
    out = dict(values)
    for name in list(values):
        if "{" + name + "!r}" in template:
            out[name] = repr(values[name])
        elif "{" + name + "!s}" in template:
            out[name] = str(values[name])
    return out
