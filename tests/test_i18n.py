"""Every user-visible text passed to tr() has a Korean translation."""

import ast
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _tr_literals():
    found = {}
    for path in (ROOT / "gui").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "tr"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.setdefault(node.args[0].value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_tr_text_has_a_korean_translation():
    from gui.i18n import catalog as load_catalog

    load_catalog.cache_clear()
    catalog = load_catalog("ko")
    literals = _tr_literals()
    assert len(literals) > 10
    missing = {text: where for text, where in literals.items() if not catalog.get(text)}
    assert missing == {}


def test_glossary_covers_the_seed_terms_in_both_languages():
    entries = json.loads((ROOT / "resources" / "glossary.json").read_text(encoding="utf-8"))
    names = " ".join(e["en"] for e in entries).lower()
    for term in ("filter", "feature map", "padding", "stride", "pooling", "parameter sharing", "relu", "dropout"):
        assert term in names
    for e in entries:
        assert e["text_ko"].strip() and e["text_en"].strip()


def _fields(text):
    """Resolved (argument index, format spec) pairs of a str.format template."""
    import string

    out, auto = [], 0
    for _, name, spec, _ in string.Formatter().parse(text):
        if name is None:
            continue
        if name == "":
            index, auto = auto, auto + 1
        else:
            index = int(name) if name.isdigit() else name
        out.append((index, spec or ""))
    return sorted(out, key=str)


def test_translations_fill_the_same_placeholders():
    # A Korean sentence often needs another word order: it must then number its fields ({1} {0}).
    from gui.i18n import catalog as load_catalog

    load_catalog.cache_clear()
    wrong = {en: ko for en, ko in load_catalog("ko").items() if _fields(en) != _fields(ko)}
    assert wrong == {}


def test_reordered_korean_sentence_reads_in_korean_order():
    from gui import i18n

    i18n.set_language("ko")
    try:
        assert i18n.tr("{} channels of {} x {}").format(6, 28, 28) == "28 x 28 크기의 채널 6개"
    finally:
        i18n.set_language("en")
