"""Engine errors are data (code + values); every code reads in English and in Korean with the same fields."""

import ast
import json
import re
import string
from pathlib import Path

import pytest

import engine
from engine.errors import ArchitectureError, ConvScopeError, Listing, Message, Shape, ShapeError, Term
from engine.layers import Conv2D, Dense, Flatten
from engine.messages import MESSAGES
from engine.network import validate_architecture
from gui import i18n

ROOT = Path(__file__).resolve().parent.parent
ENGINE = Path(engine.__file__).resolve().parent
HANGUL = re.compile("[\uac00-\ud7a3]")
#: the classes whose first argument is a code (every ConvScopeError subclass in engine/, and notes)
CODED = {"ConvScopeError", "ShapeError", "ArchitectureError", "ModelFileError", "DatasetError", "ImageError",
         "LimitError", "DownloadError", "OnnxExportError", "OnnxUnavailableError", "RunStoreError", "HistoryError",
         "Message"}
#: keywords that are attributes of the exception, not values of its sentence
NOT_VALUES = {"DownloadError": {"network"}}


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.fixture
def korean():
    i18n.set_language("ko")
    i18n.catalog.cache_clear()
    i18n.error_catalog.cache_clear()
    yield
    i18n.set_language("en")


def test_every_code_has_a_korean_template_with_the_same_fields():
    korean_catalog = json.loads((ROOT / "resources" / "i18n" / "ko.errors.json").read_text(encoding="utf-8"))
    assert len(MESSAGES) > 150
    assert sorted(set(MESSAGES) - set(korean_catalog)) == []
    assert sorted(set(korean_catalog) - set(MESSAGES)) == []
    differ = {code: (sorted(_fields(MESSAGES[code])), sorted(_fields(korean_catalog[code])))
              for code in MESSAGES if _fields(MESSAGES[code]) != _fields(korean_catalog[code])}
    assert differ == {}
    untranslated = [code for code, text in korean_catalog.items() if text.strip() and not HANGUL.search(text)]
    assert untranslated == []


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_code_formats_in_both_languages(korean, code):
    values = {name: 3 for name in _fields(MESSAGES[code])}
    error = ConvScopeError(code, **values)
    english = str(error)
    assert english and "{" not in english
    assert "=3" not in english, "a value did not fit its English template"
    text = i18n.tr_error(error)
    assert text != english and HANGUL.search(text), text
    assert "=3" not in text, "a value did not fit its Korean template"


def _coded_calls():
    """(file:line, class, code, keyword names) of every call that makes a coded error or message in engine/."""
    for path in sorted(ENGINE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if name not in CODED or path.name == "errors.py":
                continue
            where = f"{path.relative_to(ENGINE.parent)}:{node.lineno}"
            first = node.args[0] if node.args else None
            code = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
            keywords = {k.arg for k in node.keywords} - NOT_VALUES.get(name, set())
            yield where, name, code, keywords, node


def test_every_error_the_engine_makes_uses_a_known_code_with_exactly_its_fields():
    calls = list(_coded_calls())
    assert len(calls) > 150
    problems = []
    for where, name, code, keywords, node in calls:
        if isinstance(node.args[0], ast.Name) and node.args[0].id == "code" and None in keywords:
            continue  # forwards a code and values received from another call (checked there)
        if code is None:
            # a code chosen at run time: each possible value must be a constant of the expression
            options = [n.value for n in ast.walk(node.args[0]) if isinstance(n, ast.Constant)] if node.args else []
            if not options or any(o not in MESSAGES or _fields(MESSAGES[o]) != keywords for o in options):
                problems.append(f"{where}: {name} without a literal code")
            continue
        if code not in MESSAGES:
            problems.append(f"{where}: unknown code {code!r}")
        elif None in keywords:
            problems.append(f"{where}: {code} takes **values; list them")
        elif keywords != _fields(MESSAGES[code]):
            problems.append(f"{where}: {code} gets {sorted(keywords)} but its template uses "
                            f"{sorted(_fields(MESSAGES[code]))}")
    assert problems == []


def test_no_engine_error_is_built_from_an_english_sentence():
    # The old style, ShapeError(f"... {value} ..."), cannot be translated by code.
    offenders = []
    for path in sorted(ENGINE.rglob("*.py")):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\b(" + "|".join(sorted(CODED)) + r")\(\s*f?\"[^\"]*[ .:]", line):
                offenders.append(f"{path.name}:{lineno}: {line.strip()}")
    assert offenders == []


def test_a_layer_error_keeps_the_inner_error_as_a_value_and_as_its_cause():
    from engine.network import Sequential

    with pytest.raises(ArchitectureError) as info:
        Sequential([Conv2D(6, 5, padding=2), Conv2D(4, 40), Flatten(), Dense(10)]).build((1, 28, 28))
    outer = info.value
    assert outer.code == "in_layer" and outer.layer_index == 1 and outer.layer_name == "conv2d_1"
    inner = outer.values["error"]
    assert isinstance(inner, ShapeError) and inner.code == "layer_with_input" and outer.__cause__ is inner
    assert inner.values["shape"] == (6, 28, 28) and str(inner.values["shape"]) == "28 x 28 x 6"
    assert inner.values["error"].code == "window_too_large"
    assert inner.values["error"].values["size"] == 40
    assert str(outer).startswith("layer 1 (conv2d_1): Conv2D 'conv2d_1' with input 28 x 28 x 6: kernel 40 does not")


def test_nested_values_are_translated_inside_the_korean_sentence(korean):
    rows = validate_architecture([Conv2D(6, 5, padding=2), Conv2D(4, 40), Flatten(), Dense(10)], (1, 28, 28))
    text = i18n.tr_error(rows[1].exception)
    assert text.startswith("Conv2D 'conv2d_1' (입력 28 x 28 x 6): 커널 크기 40은(는)")
    assert "kernel" not in text and "with input" not in text


def test_terms_listings_and_messages_are_translated_each_on_its_own(korean):
    note = Message("dataset_loaded_from", dataset="MNIST", license="CC BY-SA 3.0", source="/data",
                   origin=Message("downloaded_from", mirror="https://example.org"))
    assert i18n.tr_error(note) == "MNIST (CC BY-SA 3.0)을(를) /data에서 불러왔습니다(https://example.org에서 내려받음)."
    problems = Listing([ShapeError("empty_training_set"), ShapeError("no_layers")], sep=" ")
    text = i18n.tr_error(ConvScopeError("copies_unusable", problems=problems))
    assert text == ("\n찾았지만 쓸 수 없는 복사본: 훈련 세트가 비어 있습니다. 모델에 층이 없습니다. "
                    "적어도 Flatten과 Dense(클래스 개수)를 넣으세요.")
    assert i18n.tr_error(ShapeError("too_small", owner=Term("kernel"), what=Term("stride"), minimum=1, value=0)) == (
        "커널: 스트라이드은(는) 1 이상이어야 합니다. 지금 값은 0입니다.")
    assert str(Shape((3, 32, 64))) == "32 x 64 x 3" and str(Shape((10,))) == "10"


def test_an_unknown_exception_or_a_code_without_translation_shows_its_own_text(korean):
    assert i18n.tr_error(OSError("disk full")) == "disk full"
    assert i18n.tr_error(ConvScopeError("a sentence nobody coded")) == "a sentence nobody coded"
    assert i18n.tr_error(None) == ""


def test_errors_survive_pickling_with_their_code_and_values():
    import pickle

    from engine.datasets.mnist import DownloadError

    error = ArchitectureError.in_layer(2, "dense", ShapeError("dense_needs_flat", shape=Shape((4, 5, 5)), dims=3))
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is ArchitectureError and copy.code == "in_layer" and str(copy) == str(error)
    down = pickle.loads(pickle.dumps(DownloadError("download_cancelled", url="u")))
    assert down.network is False and down.code == "download_cancelled"


def test_an_offline_dataset_error_and_a_folder_reason_read_in_korean(korean, tmp_path):
    from engine.datasets import load_image_folder
    from engine.datasets.mnist import load_mnist_like
    from engine.errors import DatasetError

    with pytest.raises(DatasetError) as info:
        load_mnist_like("mnist", download=False, cache_dir=tmp_path, home=tmp_path, cwd=tmp_path, roots=[],
                        system_dirs=[], env={})
    assert info.value.code == "dataset_unavailable" and info.value.values["why"].code == "download_turned_off"
    text = i18n.tr_error(info.value)
    assert text.startswith("MNIST이(가) 이 컴퓨터에 없고 내려받을 수도 없었습니다(내려받기가 꺼져 있습니다).")
    assert "train-images-idx3-ubyte.gz" in text and "To use it offline" not in text

    for cls in ("a", "b"):
        (tmp_path / "folder" / cls).mkdir(parents=True)
        from PIL import Image

        for i in range(2):
            Image.new("L", (8, 8), 255 * i).save(tmp_path / "folder" / cls / f"{i}.png")
    (tmp_path / "folder" / "a" / "notes.txt").write_text("not a picture")
    ds = load_image_folder(tmp_path / "folder", validation_split=0.5)
    (path, reason), = ds.skipped
    assert path.endswith("notes.txt") and reason.code == "not_image_type"
    assert i18n.tr_error(reason).startswith("이미지 파일 형식이 아님(.txt;")
    assert [i18n.tr_error(note) for note in ds.notes] == ["파일 1개를 건너뛰었습니다(건너뛴 파일 목록을 보세요)."]
