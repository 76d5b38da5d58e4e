"""Image folders in colour at a chosen size: mixed modes convert the documented way; too big is refused early."""

import numpy as np
import pytest
from PIL import Image

from engine.datasets import folder as folder_module
from engine.datasets import load_image_folder
from engine.errors import DatasetError


def _save(path, image):
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def mixed_folder(root):
    """Two classes whose pictures come in every mode and size a real folder mixes."""
    # red: an RGB photo, a half-transparent RGBA drawing, a palette image, an odd-sized CMYK JPEG
    _save(root / "red" / "rgb.png", Image.new("RGB", (40, 30), (200, 20, 30)))
    rgba = np.zeros((20, 20, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[..., 3] = 128  # half transparent red on white -> (255, 127, 127)
    _save(root / "red" / "rgba.png", Image.fromarray(rgba, "RGBA"))
    _save(root / "red" / "palette.gif", Image.new("RGB", (17, 23), (180, 0, 0)).convert("P"))
    _save(root / "red" / "cmyk.jpg", Image.new("CMYK", (13, 9), (0, 255, 255, 40)))
    # gray: an 8-bit grayscale picture and a 16-bit one (I;16), both mid gray
    _save(root / "gray" / "l.png", Image.new("L", (31, 31), 128))
    sixteen = Image.new("I;16", (18, 12), 128 * 257)
    assert sixteen.mode == "I;16"
    _save(root / "gray" / "sixteen.png", sixteen)
    _save(root / "gray" / "la.png", Image.new("LA", (10, 10), (0, 0)))  # fully transparent -> white
    return root


def _by_name(ds, root):
    x = np.concatenate([ds.x_train, ds.x_test])
    y = np.concatenate([ds.y_train, ds.y_test])
    return x, y


def test_a_mixed_folder_loads_in_colour_at_the_chosen_size(tmp_path):
    root = mixed_folder(tmp_path / "pics")
    ds = load_image_folder(root, image_size=16, color="rgb", validation_split=0.0)
    assert ds.class_names == ["gray", "red"]
    assert ds.skipped == []
    x, y = _by_name(ds, root)
    assert x.shape == (7, 3, 16, 16) and x.dtype == np.uint8
    centre = x[:, :, 8, 8].astype(int)  # (N, 3): the colour in the middle of each picture
    gray = centre[y == 0]
    # grayscale among colour: three equal channels; 16-bit 128*257 -> 128; transparent -> white
    assert all(c[0] == c[1] == c[2] for c in gray)
    assert sorted(int(c[0]) for c in gray) == [128, 128, 255]
    red = centre[y == 1]
    assert all(c[0] > c[1] + 60 and c[0] > c[2] + 60 for c in red)  # every red picture stays red
    assert [255, 127, 127] in red.tolist() or [255, 128, 128] in red.tolist()  # RGBA composited on white


def test_the_same_folder_in_grayscale_and_at_a_rectangular_size(tmp_path):
    root = mixed_folder(tmp_path / "pics")
    ds = load_image_folder(root, image_size=(12, 20), color="grayscale", validation_split=0.0)
    x, y = _by_name(ds, root)
    assert x.shape == (7, 1, 12, 20)
    red_rgb = np.array([200, 20, 30])
    expected = round(float(red_rgb @ [0.299, 0.587, 0.114]))  # ITU-R 601 luma
    assert expected in x[y == 1][:, 0, 6, 10].tolist()


def test_exif_rotation_is_kept(tmp_path):
    root = tmp_path / "pics"
    tall = Image.new("RGB", (8, 24), (0, 0, 255))  # stored sideways, EXIF says rotate 90
    exif = tall.getexif()
    exif[0x0112] = 6
    (root / "a").mkdir(parents=True)
    tall.save(root / "a" / "p.jpg", exif=exif)
    _save(root / "b" / "q.png", Image.new("RGB", (24, 8), (0, 255, 0)))
    ds = load_image_folder(root, image_size=(8, 24), color="rgb", validation_split=0.0)
    x, y = _by_name(ds, root)
    rotated = x[y == 0][0]
    # shown 24 wide and 8 high, it fills the 8x24 frame completely (no padding bands)
    assert rotated[2].min() > 200 and rotated[1].max() < 60


def test_a_folder_too_big_for_the_memory_is_refused_before_loading(tmp_path, monkeypatch):
    root = mixed_folder(tmp_path / "pics")
    decoded = []
    monkeypatch.setattr(folder_module, "available_memory", lambda: 6 * 3 * 256 * 256)
    import engine.imaging

    real = engine.imaging.load_image
    monkeypatch.setattr(engine.imaging, "load_image", lambda p: decoded.append(p) or real(p))
    with pytest.raises(DatasetError) as info:
        load_image_folder(root, image_size=256, color="rgb")
    err = info.value
    assert err.code == "folder_too_big_for_memory"
    assert err.values["count"] == 7 and err.values["most"] == 1
    text = str(err)
    assert "256 x 256 x 3" in text and "smaller image size" in text and "grayscale" in text
    assert decoded == []  # refused before decoding a single file
    # the same folder in grayscale at 64x64 fits
    ds = load_image_folder(root, image_size=64, color="grayscale", validation_split=0.0)
    assert ds.x_train.shape == (7, 1, 64, 64)


def test_memory_check_numbers():
    assert folder_module.check_folder_fits_in_memory(100, (3, 32, 32), available=10**9) == 100 * 3 * 32 * 32 * 2
    with pytest.raises(DatasetError) as info:
        folder_module.check_folder_fits_in_memory(100_000, (3, 512, 512), "f", available=8 * 1024**3)
    assert info.value.values["needed_mb"] == round(100_000 * 3 * 512 * 512 * 2 / 1024**2)
    assert info.value.values["most"] == (4 * 1024**3) // (3 * 512 * 512 * 2)
    assert folder_module.available_memory() is None or folder_module.available_memory() > 0
