"""The engine's teaching errors reach Korean students in Korean (the engine itself writes English)."""

import re

import pytest

from engine.errors import ArchitectureError
from engine.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from engine.network import Sequential, validate_architecture
from gui import i18n

HANGUL = re.compile("[\uac00-\ud7a3]")

CASES = {
    "kernel larger than its input": [Conv2D(6, 5, padding=2), MaxPooling2D(2), Conv2D(16, 16), Flatten(), Dense(10)],
    "stride 0": [Conv2D(6, 3, strides=0), Flatten(), Dense(10)],
    "no filters": [Conv2D(0, 3), Flatten(), Dense(10)],
    "Dense before Flatten": [Conv2D(6, 3), Dense(10)],
    "pool window larger than its input": [Conv2D(6, 3), MaxPooling2D(40), Flatten(), Dense(10)],
    "Conv2D after Flatten": [Flatten(), Conv2D(6, 3), Dense(10)],
    "wrong class count": [Conv2D(6, 3), Flatten(), Dense(7)],
    "dropout rate": [Flatten(), Dropout(1.5), Dense(10)],
    "output shrinks to nothing": [Conv2D(4, 3, strides=2), Conv2D(4, 3, strides=2), Conv2D(4, 3, strides=2),
                                  Conv2D(4, 3), Flatten(), Dense(10)],
}

ENGLISH_LEFTOVERS = ("does not fit", "must be", "needs", "Use a smaller", "Add a Flatten", "End the model", "got ")


@pytest.fixture
def korean():
    i18n.set_language("ko")
    i18n.catalog.cache_clear()
    i18n.error_catalog.cache_clear()
    yield
    i18n.set_language("en")


def _errors(layers):
    rows = validate_architecture(layers, (1, 28, 28), num_classes=10)
    return [r.exception for r in rows if r.error]


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_architecture_error_reads_in_korean(korean, case):
    errors = _errors(CASES[case])
    assert errors, case
    for error in errors:
        korean_text = i18n.tr_error(error)
        assert korean_text != str(error)
        assert HANGUL.search(korean_text)
        assert not any(bit in korean_text for bit in ENGLISH_LEFTOVERS), korean_text


def test_the_received_values_survive_translation(korean):
    (error,) = _errors(CASES["kernel larger than its input"])
    korean_text = i18n.tr_error(error)
    assert korean_text.startswith("Conv2D 'conv2d_1' (입력 14 x 14 x 6): 커널 크기 16은(는) 패딩 0인 14x14 입력에")
    assert "(14 + 2*0 - 16)/1 + 1 = -1" in korean_text and "최대 14" in korean_text


def test_a_build_error_with_its_layer_prefix_is_translated_whole(korean):
    with pytest.raises(ArchitectureError) as info:
        Sequential([Conv2D(6, 3, strides=0), Flatten(), Dense(10)]).build((1, 28, 28))
    korean_text = i18n.tr_error(info.value)
    assert korean_text.startswith("0번 층 (conv2d): ")
    assert "스트라이드은(는) 1 이상이어야 합니다" in korean_text


def test_english_and_unknown_messages_stay_as_they_are(korean):
    assert i18n.tr_error(RuntimeError("something nobody translated: 42")) == "something nobody translated: 42"
    i18n.set_language("en")
    (error,) = _errors(CASES["Dense before Flatten"])
    assert i18n.tr_error(error) == str(error) == (
        "Dense needs a flat input, but receives 26 x 26 x 6 (3-D feature maps). Add a Flatten layer before this "
        "Dense layer.")


def test_a_corrupt_model_file_is_explained_in_korean(korean, tmp_path):
    from engine.errors import ModelFileError
    from engine.persistence import load_model

    bad = tmp_path / "bad.npz"
    bad.write_text("not a model")
    with pytest.raises(ModelFileError) as info:
        load_model(bad)
    assert i18n.tr_error(info.value) == (
        "bad.npz은(는) ConvScope 모델 파일이 아닙니다(.npz 파일 형식이 아님). "
        "ConvScope에서 저장한 모델 파일을 고르세요(파일 > 모델 저장)."
    )
