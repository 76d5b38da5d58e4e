"""Translations: ``tr("English text")`` returns the text in the current language.

The catalogs ``resources/i18n/<lang>.json`` and ``resources/i18n/<lang>.<panel>.json`` map English
source texts to their translation (one file per panel keeps edits apart). English is the source
language, so a missing entry falls back to English (and a test lists the gaps).
"""

from __future__ import annotations

import json
import locale
import os
import re
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


_NAMED_FIELD = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


@lru_cache(maxsize=None)
def _message_patterns(lang: str) -> tuple[tuple[re.Pattern, str], ...]:
    """Catalog entries with named fields ("{layer}: {what} must be ...") as regular expressions.

    The engine writes its teaching errors in English with the received values filled in; these
    patterns recover the values so the sentence can be rebuilt in the user's language.
    """
    patterns = []
    for source, target in catalog(lang).items():
        if "{}" in source or not _NAMED_FIELD.search(source):
            continue
        parts = _NAMED_FIELD.split(source)
        regex, seen = "", set()
        for i, part in enumerate(parts):
            if i % 2 == 0:
                regex += re.escape(part)
            elif part in seen:
                regex += f"(?P={part})"
            else:
                regex += f"(?P<{part}>.+?)"
                seen.add(part)
        wrapper = source.endswith("{message}")
        patterns.append((wrapper, len(_NAMED_FIELD.sub("", source)), re.compile(regex + r"\Z", re.S), target))
    # Wrappers ("layer 2 (conv2d_1): {message}") peel off first, so an inner template never swallows
    # them; otherwise the template with the most fixed text is the most specific one.
    patterns.sort(key=lambda p: (not p[0], -p[1]))
    return tuple((regex, target) for _, _, regex, target in patterns)


def tr_message(text: str, _depth: int = 0) -> str:
    """Translate a message composed by the engine (e.g. a teaching error) into the current language.

    Messages nest ("layer 2 (conv2d_1): Conv2D ... with input ...: kernel 16 does not fit ..."), so
    every value recovered from a template is translated too. Unknown text stays as it is.
    """
    if _language == "en" or not text or _depth > 6:
        return text
    table = catalog(_language)
    if text in table:
        return table[text]
    for regex, target in _message_patterns(_language):
        match = regex.match(text)
        if match:
            values = {k: tr_message(v, _depth + 1) for k, v in match.groupdict().items()}
            return target.format(**values)
    return text


def tr_error(exc: BaseException) -> str:
    """The message of ``exc`` in the interface language (for any exception a user may see)."""
    return tr_message(str(exc))
