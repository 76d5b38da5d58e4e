"""Translations: ``tr("English text")`` returns the text in the current language.

The catalogs ``resources/i18n/<lang>.json`` and ``resources/i18n/<lang>.<panel>.json`` map English
source texts to their translation (one file per panel keeps edits apart). English is the source
language, so a missing entry falls back to English (and a test lists the gaps).

Engine errors are translated by code, not by text: ``tr_error(exc)`` looks ``exc.code`` up in
``resources/i18n/<lang>.errors.json`` and formats ``exc.values`` (see :mod:`engine.errors`).
"""

from __future__ import annotations

import json
import locale
import os
from functools import cache
from pathlib import Path

SUPPORTED = ("en", "ko")
_CATALOG_DIR = Path(__file__).resolve().parent.parent / "resources" / "i18n"
_language = "en"


@cache
def catalog(lang: str) -> dict[str, str]:
    if lang == "en":
        return {}
    merged: dict[str, str] = {}
    for path in sorted(_CATALOG_DIR.glob(f"{lang}.json")) + sorted(_CATALOG_DIR.glob(f"{lang}.*.json")):
        if path.name == f"{lang}.errors.json":  # keyed by error code: see error_catalog
            continue
        with path.open(encoding="utf-8") as fh:
            merged.update(json.load(fh))
    return merged


def system_language() -> str:
    """The user's language from the environment/locale, reduced to one we support."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(var, "")
        if value:
            return "ko" if value.lower().startswith("ko") else "en"
    try:
        loc = locale.getlocale()[0] or ""
    except ValueError:
        loc = ""
    return "ko" if loc.lower().startswith("ko") else "en"


def set_language(lang: str | None) -> str:
    global _language
    lang = (lang or system_language()).lower()
    _language = lang if lang in SUPPORTED else "en"
    return _language


def language() -> str:
    return _language


def tr(text: str) -> str:
    """Translate ``text`` (the English source) into the current language."""
    if _language == "en":
        return text
    return catalog(_language).get(text, text)


_qt_translators: list = []


def install_qt_translations(app) -> bool:
    """Qt's own texts (OK, Cancel, Close, the file dialogs) in the interface language.

    Uses the ``qtbase`` catalogue shipped with Qt; returns False in English or when it is missing.
    """
    from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator

    for old in _qt_translators:
        app.removeTranslator(old)
    _qt_translators.clear()
    if _language == "en":
        return False
    translator = QTranslator(app)
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if not translator.load(QLocale(_language), "qtbase", "_", folder):
        return False
    app.installTranslator(translator)
    _qt_translators.append(translator)
    return True


def tr_class(name) -> str:
    """A dataset's class name in the interface language ("Ankle boot" -> "앵클 부츠"; a folder's own
    class names and MNIST's digits stay as they are)."""
    return tr(str(name))


@cache
def error_catalog(lang: str) -> dict[str, str]:
    """``resources/i18n/<lang>.errors.json``: engine error code -> template with the English template's fields."""
    path = _CATALOG_DIR / f"{lang}.errors.json"
    if lang == "en" or not path.is_file():
        return {}
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def _translated_value(value):
    """A value of an engine error as the user reads it: nested messages and terms are translated too."""
    from engine.errors import Listing, Term

    if hasattr(value, "code") and isinstance(getattr(value, "values", None), dict):
        return tr_error(value)
    if isinstance(value, Term):
        return tr(value)
    if isinstance(value, Listing):
        return value.sep.join(str(_translated_value(v)) for v in value)
    return value


def tr_error(exc) -> str:
    """The message of ``exc`` in the interface language (for any exception a user may see).

    Engine errors (and engine :class:`~engine.errors.Message` notes) are translated by their ``code``
    from :func:`error_catalog`, formatted with their ``values`` (each value translated in turn); a code
    without a translation, and any other exception, shows its own text. A plain string goes through
    :func:`tr`.
    """
    if exc is None:
        return ""
    if isinstance(exc, str):
        return tr(exc)
    code, values = getattr(exc, "code", None), getattr(exc, "values", None)
    if _language == "en" or not isinstance(code, str) or not isinstance(values, dict):
        return str(exc)
    template = error_catalog(_language).get(code)
    if template is None:
        # Errors with a catalogue of their own (lesson files: gui/lessons/errors.py) translate themselves.
        own = getattr(type(exc), "message", None)
        return own(exc, _language) if callable(own) else str(exc)
    from engine.errors import render

    return render(template, {k: _translated_value(v) for k, v in values.items()})
