"""Translations: ``tr("English text")`` returns the text in the current language.

The catalogs ``resources/i18n/<lang>.json`` and ``resources/i18n/<lang>.<panel>.json`` map English
source texts to their translation (one file per panel keeps edits apart). English is the source
language, so a missing entry falls back to English (and a test lists the gaps).
"""

from __future__ import annotations

import json
import locale
import os
from functools import lru_cache
from pathlib import Path

SUPPORTED = ("en", "ko")
_CATALOG_DIR = Path(__file__).resolve().parent.parent / "resources" / "i18n"
_language = "en"


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict[str, str]:
    if lang == "en":
        return {}
    merged: dict[str, str] = {}
    for path in sorted(_CATALOG_DIR.glob(f"{lang}.json")) + sorted(_CATALOG_DIR.glob(f"{lang}.*.json")):
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
