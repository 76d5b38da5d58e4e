"""Lesson files: the dataclasses and the loader that validates them with teaching errors.

A lesson is one readable JSON file ``<id>.convscope-lesson.json`` (format documented in
``resources/lessons/README.md``). Loading checks every key: unknown keys are errors (a typo must not
be silently ignored), Korean text is required, a missing English text falls back to the Korean one
and is listed in :attr:`Lesson.warnings`. The panel states are checked by :mod:`gui.lessons.state`
against the engine's catalogues. Qt-free.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gui.lessons.errors import LessonError
from gui.lessons.state import Where, check_needs, check_state

__all__ = ["Lesson", "Step", "Question", "Text", "Source", "LESSON_SUFFIX", "LESSONS_DIR", "FORMAT_VERSION",
           "QUESTION_KINDS", "lesson_names", "load_lesson", "parse_lesson", "all_lessons", "lesson_to_dict",
           "step_to_dict", "new_step", "save_lesson", "dumps_lesson"]

LESSON_SUFFIX = ".convscope-lesson.json"
LESSONS_DIR = Path(__file__).resolve().parents[2] / "resources" / "lessons"
FORMAT_VERSION = 1
QUESTION_KINDS = ("number", "choice", "text")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class Text:
    """A text in Korean (required) and English (falls back to the Korean one)."""

    ko: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.ko


@dataclass(frozen=True)
class Source:
    """Which seed note (file name) and which section of it the lesson follows."""

    note: str
    section: str
    title: str = ""


@dataclass(frozen=True)
class Choice:
    id: str
    text: Text


@dataclass(frozen=True)
class Question:
    """A question the student answers before the lesson continues.

    ``kind`` "number": ``answer`` a number, right within ``tolerance``; "choice": ``answer`` the id of
    one of ``choices``; "text": ``answer`` a list of accepted answers, compared after normalising
    (case, spaces, "x"/"×"/"*" between the numbers of a shape). ``derive`` says how the engine
    recomputes the answer from the step's state (the tests do; the player may show it).
    """

    kind: str
    prompt: Text
    answer: Any
    hint: Text
    tolerance: float = 0.0
    choices: tuple[Choice, ...] = ()
    derive: dict | None = None


@dataclass(frozen=True)
class Step:
    id: str
    text: Text
    state: dict = field(default_factory=dict)
    question: Question | None = None
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lesson:
    id: str
    title: Text
    summary: Text
    source: tuple[Source, ...]
    steps: tuple[Step, ...]
    path: Path | None = None
    warnings: tuple[str, ...] = ()

    def step_index(self, step_id: str) -> int:
        for i, step in enumerate(self.steps):
            if step.id == step_id:
                return i
        raise KeyError(step_id)


_LESSON_KEYS = ("format_version", "id", "title", "summary", "source", "steps")
_SOURCE_KEYS = ("note", "section", "title")
_STEP_KEYS = ("id", "text", "state", "question", "needs")
_QUESTION_KEYS = ("kind", "prompt", "answer", "tolerance", "choices", "hint", "derive")


class _Reader:
    """Reads one lesson dict, collecting warnings; every error names where it is."""

    def __init__(self, lesson_name: str):
        self.lesson = lesson_name
        self.warnings: list[str] = []

    def keys(self, data, allowed, where: Where, required=()):
        if not isinstance(data, dict):
            raise where.error("lesson.bad_type", expected="an object {...}", got=type(data).__name__)
        for key in data:
            if key not in allowed:
                raise where.error("lesson.unknown_key", key=key, allowed=", ".join(allowed))
        for key in required:
            if key not in data:
                raise where.error("lesson.missing_key", key=key)

    def text(self, data, where: Where) -> Text:
        if isinstance(data, str):
            data = {"ko": data}
        self.keys(data, ("ko", "en"), where)
        ko = data.get("ko")
        if not isinstance(ko, str) or not ko.strip():
            raise where.error("lesson.missing_korean")
        en = data.get("en")
        if en is not None and not isinstance(en, str):
            raise where.sub("en").error("lesson.bad_type", expected="a text", got=type(en).__name__)
        if not en or not en.strip():
            self.warnings.append(f"{where.describe()}: no English text; the Korean text is shown instead")
            en = ko
        return Text(ko.strip(), en.strip())

    def ident(self, value, where: Where) -> str:
        if not isinstance(value, str) or not _ID.match(value):
            raise where.error("lesson.bad_type", expected="an id of lower-case letters, digits, '-' or '_'",
                              got=repr(value))
        return value

    def question(self, data, where: Where) -> Question:
        self.keys(data, _QUESTION_KEYS, where, required=("kind", "prompt", "answer", "hint"))
        kind = data["kind"]
        if kind not in QUESTION_KINDS:
            raise where.sub("kind").error("lesson.bad_choice", allowed=", ".join(QUESTION_KINDS), got=repr(kind))
        prompt = self.text(data["prompt"], where.sub("prompt"))
        hint = self.text(data["hint"], where.sub("hint"))
        tol = data.get("tolerance", 0.0)
        if isinstance(tol, bool) or not isinstance(tol, (int, float)) or tol < 0:
            raise where.sub("tolerance").error("lesson.bad_type", expected="a number 0 or more", got=repr(tol))
        answer = data["answer"]
        choices: tuple[Choice, ...] = ()
        aw = where.sub("answer")
        if kind == "number":
            if isinstance(answer, bool) or not isinstance(answer, (int, float)):
                raise aw.error("lesson.bad_type", expected="a number", got=repr(answer))
        elif kind == "choice":
            raw = data.get("choices")
            cw = where.sub("choices")
            if not isinstance(raw, list) or len(raw) < 2:
                raise cw.error("lesson.bad_type", expected="a list of at least two choices", got=repr(raw))
            out = []
            for i, c in enumerate(raw):
                iw = cw.sub(f"[{i}]")
                self.keys(c, ("id", "ko", "en"), iw, required=("id", "ko"))
                out.append(Choice(self.ident(c["id"], iw.sub("id")), self.text({"ko": c["ko"], "en": c.get("en")}, iw)))
            ids = [c.id for c in out]
            if len(set(ids)) != len(ids):
                raise cw.error("lesson.choice_ids_repeat", ids=", ".join(ids))
            if answer not in ids:
                raise aw.error("lesson.bad_choice", allowed=", ".join(ids), got=repr(answer))
            choices = tuple(out)
        else:
            answers = [answer] if isinstance(answer, str) else answer
            if not (isinstance(answers, list) and answers
                    and all(isinstance(a, str) and a.strip() for a in answers)):
                raise aw.error("lesson.bad_type", expected="a text or a list of accepted texts", got=repr(answer))
            answer = tuple(answers)
        if "choices" in data and kind != "choice":
            raise where.sub("choices").error("lesson.choices_not_allowed")
        derive = data.get("derive")
        if derive is not None and not isinstance(derive, dict):
            raise where.sub("derive").error("lesson.bad_type", expected="an object {...}", got=repr(derive))
        return Question(kind, prompt, answer, hint, float(tol), choices, derive)

    def step(self, data, number: int, where: Where) -> Step:
        step_id = data.get("id") if isinstance(data, dict) else None
        where = where.at_step(number, step_id if isinstance(step_id, str) else None)
        self.keys(data, _STEP_KEYS, where.sub(""), required=("id", "text"))
        sid = self.ident(data["id"], where.sub("id"))
        text = self.text(data["text"], where.sub("text"))
        needs = data.get("needs", [])
        check_needs(needs, where.sub("needs"))
        state = data.get("state", {})
        check_state(state, where)
        question = None
        if data.get("question") is not None:
            question = self.question(data["question"], where.sub("question"))
        return Step(sid, text, state, question, tuple(needs))


def parse_lesson(data, name: str = "?", path: Path | None = None) -> Lesson:
    """Validate a lesson already read from JSON; ``name`` is used in messages until the id is known."""
    reader = _Reader(name)
    top = Where(name)
    reader.keys(data, _LESSON_KEYS, top, required=("id", "title", "summary", "source", "steps"))
    lesson_id = reader.ident(data["id"], top.sub("id"))
    top = Where(lesson_id)
    version = data.get("format_version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise top.sub("format_version").error("lesson.bad_choice", allowed=str(FORMAT_VERSION), got=repr(version))
    title = reader.text(data["title"], top.sub("title"))
    summary = reader.text(data["summary"], top.sub("summary"))
    raw_sources = data["source"] if isinstance(data["source"], list) else [data["source"]]
    sources = []
    for i, s in enumerate(raw_sources):
        sw = top.sub(f"source[{i}]")
        reader.keys(s, _SOURCE_KEYS, sw, required=("note", "section"))
        if not all(isinstance(s.get(k, ""), str) for k in _SOURCE_KEYS) or not s["note"].strip():
            raise sw.error("lesson.bad_type", expected="texts: note (seed file), section, title", got=repr(s))
        sources.append(Source(s["note"], s["section"], s.get("title", "")))
    steps_raw = data["steps"]
    if not isinstance(steps_raw, list):
        raise top.sub("steps").error("lesson.bad_type", expected="a list of steps", got=type(steps_raw).__name__)
    if not steps_raw:
        raise top.sub("steps").error("lesson.no_steps")
    steps = []
    seen: set[str] = set()
    for number, raw in enumerate(steps_raw, start=1):
        step = reader.step(raw, number, top)
        if step.id in seen:
            raise top.at_step(number, step.id).sub("id").error("lesson.duplicate_step", duplicate=step.id)
        seen.add(step.id)
        steps.append(step)
    return Lesson(lesson_id, title, summary, tuple(sources), tuple(steps), path, tuple(reader.warnings))


def lesson_names(directory: Path | None = None) -> list[str]:
    """Names of the lessons shipped in ``resources/lessons/`` (file names without the suffix), sorted."""
    d = LESSONS_DIR if directory is None else Path(directory)
    return sorted(p.name[: -len(LESSON_SUFFIX)] for p in d.glob("*" + LESSON_SUFFIX))


def load_lesson(name_or_path) -> Lesson:
    """Load a lesson by name (``"padding"``, from ``resources/lessons/``) or by the path of a file."""
    text = str(name_or_path)
    path = Path(text)
    if not (text.endswith(".json") or path.parent != Path(".") or path.is_file()):
        path = LESSONS_DIR / (text + LESSON_SUFFIX)
        if not path.is_file():
            raise LessonError("lesson.file_missing", name=text, known=", ".join(lesson_names()),
                              suffix=LESSON_SUFFIX)
    elif not path.name.endswith(LESSON_SUFFIX):
        raise LessonError("lesson.bad_suffix", suffix=LESSON_SUFFIX, path=str(path))
    name = path.name[: -len(LESSON_SUFFIX)]
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LessonError("lesson.file_unreadable", lesson=name, path=str(path),
                          reason=getattr(exc, "strerror", None) or str(exc)) from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise LessonError("lesson.bad_json", lesson=name, line=exc.lineno, column=exc.colno, reason=exc.msg) from None
    return parse_lesson(data, name, path)


def all_lessons(directory: Path | None = None) -> list[Lesson]:
    d = LESSONS_DIR if directory is None else Path(directory)
    return [load_lesson(d / (n + LESSON_SUFFIX)) for n in lesson_names(d)]



# -- writing -----------------------------------------------------------------------------------------
def _text_dict(text: Text) -> dict:
    return {"ko": text.ko, "en": text.en}


def step_to_dict(step: Step) -> dict:
    """A step as it is written in a lesson file."""
    out: dict[str, Any] = {"id": step.id, "text": _text_dict(step.text)}
    if step.state:
        out["state"] = step.state
    if step.needs:
        out["needs"] = list(step.needs)
    q = step.question
    if q is not None:
        question: dict[str, Any] = {"kind": q.kind, "prompt": _text_dict(q.prompt)}
        if q.kind == "choice":
            question["choices"] = [{"id": c.id, "ko": c.text.ko, "en": c.text.en} for c in q.choices]
        question["answer"] = list(q.answer) if q.kind == "text" else q.answer
        if q.tolerance:
            question["tolerance"] = q.tolerance
        question["hint"] = _text_dict(q.hint)
        if q.derive is not None:
            question["derive"] = q.derive
        out["question"] = question
    return out


def lesson_to_dict(lesson: Lesson) -> dict:
    """A lesson as it is written in a lesson file (``parse_lesson`` of it gives the same lesson)."""
    sources = [{"note": s.note, "section": s.section, **({"title": s.title} if s.title else {})}
               for s in lesson.source]
    return {"format_version": FORMAT_VERSION, "id": lesson.id, "title": _text_dict(lesson.title),
            "summary": _text_dict(lesson.summary), "source": sources,
            "steps": [step_to_dict(s) for s in lesson.steps]}


def dumps_lesson(data: dict) -> str:
    """JSON text of a lesson that a teacher can read: indented, but a row of numbers (a grid row, a
    shape, a position) stays on one line."""

    def flat(value) -> bool:
        return isinstance(value, list) and all(isinstance(v, (int, float, str, bool)) or v is None for v in value)

    def emit(value, depth: int) -> str:
        pad, inner = "  " * depth, "  " * (depth + 1)
        if isinstance(value, dict) and value:
            items = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {emit(v, depth + 1)}" for k, v in value.items()]
            return "{\n" + ",\n".join(items) + "\n" + pad + "}"
        if isinstance(value, list) and value and not flat(value):
            return "[\n" + ",\n".join(inner + emit(v, depth + 1) for v in value) + "\n" + pad + "]"
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))

    return emit(data, 0) + "\n"


def new_step(step_id: str, text: dict | str, state: dict, needs=(), lesson_id: str = "new") -> Step:
    """A step made from the panels' current state ("Save current setup as a lesson step"); the state
    is validated as if it came from a file, so a saved step always loads again."""
    data = {"id": step_id, "text": text, "state": state}
    if needs:
        data["needs"] = list(needs)
    return _Reader(lesson_id).step(data, 1, Where(lesson_id))


def save_lesson(lesson: Lesson, path) -> Path:
    """Write ``lesson`` as ``<path>`` (the lesson suffix is added when missing), atomically."""
    import os
    import tempfile

    path = Path(path)
    if not path.name.endswith(LESSON_SUFFIX):
        path = path.with_name(path.name.removesuffix(".json") + LESSON_SUFFIX)
    data = lesson_to_dict(lesson)
    parse_lesson(json.loads(json.dumps(data)), lesson.id)      # never write a file that would not load
    fd, tmp = tempfile.mkstemp(prefix=".lesson-", suffix=".json", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(dumps_lesson(data))
    os.replace(tmp, path)
    return path
