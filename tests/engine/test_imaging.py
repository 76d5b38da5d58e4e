"""Decoding every image mode a user may drop, refusing bad files, and preparing images like the training data.

Every test image is generated here with Pillow (no binary files in the repository).
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from engine import imaging
from engine.errors import ImageError
from engine.imaging import load_image, preprocess


def _save(img: Image.Image, path, **kw):
    img.save(path, **kw)
    return path


def _gradient(w=32, h=24):
    return (np.arange(w)[None, :] * 255 // (w - 1) + np.zeros((h, 1), int)).astype(np.uint8)


# --- decoding: one test per mode ---------------------------------------------------------------
@pytest.mark.parametrize("ext", ["png", "bmp", "tiff", "gif", "webp"])
def test_grayscale_files_decode_to_h_w_uint8(tmp_path, ext):
    a = _gradient()
    kw = {"lossless": True} if ext == "webp" else {}
    out = load_image(_save(Image.fromarray(a, "L"), tmp_path / f"g.{ext}", **kw))
    assert out.dtype == np.uint8
    if ext == "webp":           # WebP stores RGB; equal channels come back as RGB of a gray picture
        out = out if out.ndim == 2 else out[..., 0]
    assert out.shape == (24, 32)
    np.testing.assert_allclose(out.astype(int), a.astype(int), atol=2)


@pytest.mark.parametrize("ext", ["png", "jpg", "bmp", "tiff", "webp"])
def test_rgb_files_decode_to_h_w_3(tmp_path, ext):
    a = np.zeros((20, 30, 3), np.uint8)
    a[..., 0] = 200
    a[:, 15:, 2] = 180
    kw = {"quality": 95} if ext in ("jpg", "webp") else {}
    out = load_image(_save(Image.fromarray(a, "RGB"), tmp_path / f"c.{ext}", **kw))
    assert out.shape == (20, 30, 3) and out.dtype == np.uint8
    np.testing.assert_allclose(out[2:-2, 2:12].astype(int), a[2:-2, 2:12].astype(int), atol=12)


@pytest.mark.parametrize("ext", imaging.IMAGE_EXTENSIONS)
def test_every_listed_extension_is_decoded(tmp_path, ext):
    """The one list of image extensions (folder datasets, open dialog, drops, desktop entry) names
    only files that load_image reads, whatever the letter case of the name."""
    a = _gradient()
    kw = {"lossless": True} if ext == ".webp" else {"quality": 95} if ext in (".jpg", ".jpeg") else {}
    mode = "RGB" if ext == ".ppm" else "L"
    img = Image.fromarray(np.stack([a] * 3, -1) if mode == "RGB" else a, mode)
    path = _save(img, tmp_path / f"picture{ext.upper()}", format=Image.registered_extensions()[ext], **kw)
    assert imaging.is_image_path(path)
    out = load_image(path)
    assert out.shape[:2] == (24, 32) and out.dtype == np.uint8
    np.testing.assert_allclose((out if out.ndim == 2 else out[..., 0]).astype(int), a.astype(int), atol=6)


def test_image_extensions_are_lower_case_with_a_dot_and_have_a_mime_type():
    exts = imaging.IMAGE_EXTENSIONS
    assert len(set(exts)) == len(exts) and all(e.startswith(".") and e == e.lower() for e in exts)
    assert set(imaging.IMAGE_MIME_TYPES) == set(exts)
    assert all(m.startswith("image/") for m in imaging.IMAGE_MIME_TYPES.values())
    assert not imaging.is_image_path("notes.txt") and not imaging.is_image_path("model.npz")
    assert imaging.is_image_path("Photo.JPG") and not imaging.is_image_path("png")


def test_rgba_is_composited_on_white(tmp_path):
    a = np.zeros((10, 10, 4), np.uint8)            # black, fully transparent -> white
    a[:5, :, :] = (255, 0, 0, 255)                 # opaque red stays red
    a[5:, :5, 3] = 128                             # half-transparent black -> mid grey
    out = load_image(_save(Image.fromarray(a, "RGBA"), tmp_path / "a.png"))
    assert out.shape == (10, 10, 3)
    assert out[0, 0].tolist() == [255, 0, 0]
    assert out[9, 9].tolist() == [255, 255, 255]
    assert abs(int(out[9, 0, 0]) - 127) <= 1


def test_grey_with_alpha_is_composited_on_white(tmp_path):
    la = Image.merge("LA", (Image.new("L", (8, 8), 0), Image.fromarray(np.tile([0, 255], (8, 4)).astype(np.uint8))))
    out = load_image(_save(la, tmp_path / "la.png"))
    assert out.shape == (8, 8) and out[0, 0] == 255 and out[0, 1] == 0


def test_palette_with_a_transparent_entry(tmp_path):
    p = Image.new("P", (6, 6), 0)
    p.putpalette([255, 255, 255, 0, 0, 255, 10, 200, 10] + [0] * (256 * 3 - 9))
    p.paste(1, (0, 0, 3, 6))
    p.paste(2, (3, 0, 6, 3))
    p.info["transparency"] = 0
    out = load_image(_save(p, tmp_path / "p.png", transparency=0))
    assert out.shape == (6, 6, 3)
    assert out[0, 0].tolist() == [0, 0, 255] and out[0, 5].tolist() == [10, 200, 10]
    assert out[5, 5].tolist() == [255, 255, 255]


def test_grey_palette_stays_one_channel(tmp_path):
    g = Image.fromarray(_gradient(), "L").convert("P")
    out = load_image(_save(g, tmp_path / "gp.gif"))
    assert out.ndim == 2


def test_one_bit_image(tmp_path):
    a = np.zeros((8, 8), bool)
    a[:, 4:] = True
    out = load_image(_save(Image.fromarray(a), tmp_path / "b.png"))
    assert out.dtype == np.uint8 and out[0, 0] == 0 and out[0, 7] == 255


def test_sixteen_bit_png_is_scaled_to_eight_bit(tmp_path):
    a = np.array([[0, 257 * 100, 65535]], np.uint16).repeat(4, axis=0)
    out = load_image(_save(Image.fromarray(a), tmp_path / "d.png"))
    assert out.dtype == np.uint8 and out[0].tolist() == [0, 100, 255]


def test_thirty_two_bit_integer_and_float_tiff(tmp_path):
    i32 = np.array([[0, 257 * 50, 65535]], np.int32).repeat(3, axis=0)
    assert load_image(_save(Image.fromarray(i32, "I"), tmp_path / "i.tif"))[0].tolist() == [0, 50, 255]
    f32 = np.array([[0.0, 0.5, 1.0]], np.float32).repeat(3, axis=0)
    assert load_image(_save(Image.fromarray(f32, "F"), tmp_path / "f.tif"))[0].tolist() == [0, 128, 255]


@pytest.mark.parametrize("ext", ["tif", "jpg"])
def test_cmyk_becomes_rgb(tmp_path, ext):
    cmyk = Image.new("CMYK", (16, 16), (0, 255, 255, 0))       # pure red ink
    out = load_image(_save(cmyk, tmp_path / f"k.{ext}", **({"quality": 95} if ext == "jpg" else {})))
    assert out.shape == (16, 16, 3)
    r, g, b = out[8, 8].astype(int)
    assert r > 200 and g < 60 and b < 60


def test_exif_rotation_is_applied(tmp_path):
    a = np.full((20, 40, 3), 255, np.uint8)       # stored 40 wide, 20 tall, a dark mark top-left
    a[:6, :6] = 0
    im = Image.fromarray(a)
    exif = im.getexif()
    exif[0x0112] = 6                                # "rotate 90 degrees clockwise to display"
    out = load_image(_save(im, tmp_path / "phone.jpg", exif=exif, quality=95))
    assert out.shape == (40, 20, 3)
    assert out[2, -3].max() < 60 and out[2, 2].min() > 200   # the mark moved to the top-right


def test_first_frame_of_an_animated_gif(tmp_path):
    frames = [Image.new("L", (8, 8), v) for v in (30, 220)]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100)
    out = load_image(path)
    assert out.shape == (8, 8) and abs(int(out[0, 0]) - 30) <= 2


def test_bytes_and_file_objects_are_accepted(tmp_path):
    buf = io.BytesIO()
    Image.fromarray(_gradient(), "L").save(buf, "PNG")
    np.testing.assert_array_equal(load_image(buf.getvalue()), _gradient())
    buf.seek(0)
    np.testing.assert_array_equal(load_image(buf), _gradient())


# --- bad files ----------------------------------------------------------------------------------
def _fails(path, *needles):
    with pytest.raises(ImageError) as info:
        load_image(path)
    msg = str(info.value)
    for needle in needles:
        assert needle in msg, msg
    return msg


def test_missing_file(tmp_path):
    _fails(tmp_path / "nothing.png", "nothing.png", "does not exist")


def test_folder_instead_of_file(tmp_path):
    _fails(tmp_path, "folder")


def test_zero_byte_file(tmp_path):
    p = tmp_path / "empty.png"
    p.write_bytes(b"")
    _fails(p, "empty.png", "empty (0 bytes)")


def test_text_file_with_an_image_name(tmp_path):
    p = tmp_path / "notes.jpg"
    p.write_text("hello, this is not a picture")
    _fails(p, "notes.jpg", "not an image", "PNG, JPEG")


@pytest.mark.parametrize("ext", ["png", "jpg"])
def test_truncated_file(tmp_path, ext):
    rng = np.random.default_rng(0)
    full = _save(Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)), tmp_path / f"full.{ext}")
    data = full.read_bytes()
    cut = tmp_path / f"cut.{ext}"
    cut.write_bytes(data[: len(data) // 2])
    _fails(cut, f"cut.{ext}", "truncated or damaged")


def _png_with_size(width: int, height: int) -> bytes:
    """A valid PNG signature + IHDR claiming width x height (no need for the pixels to exist)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    body = struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    idat = zlib.compress(b"\x00" * 64)
    body += struct.pack(">I", len(idat)) + b"IDAT" + idat + struct.pack(">I", zlib.crc32(b"IDAT" + idat))
    return b"\x89PNG\r\n\x1a\n" + body + struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))


def test_absurd_declared_size_is_refused_before_decoding(tmp_path):
    p = tmp_path / "bomb.png"
    p.write_bytes(_png_with_size(60000, 60000))
    _fails(p, "bomb.png", "3600000000 pixels", "too large")


def test_size_limit_applies_to_ordinary_images(tmp_path, monkeypatch):
    monkeypatch.setattr(imaging, "MAX_IMAGE_PIXELS", 100)
    p = _save(Image.new("L", (20, 20)), tmp_path / "big.png")
    _fails(p, "20x20")


def test_file_size_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(imaging, "MAX_FILE_BYTES", 10)
    p = _save(Image.new("L", (20, 20)), tmp_path / "heavy.png")
    _fails(p, "heavy.png", "MB")


# --- preprocess: "fit" ----------------------------------------------------------------------------
def test_fit_returns_float32_c_h_w_in_unit_range():
    x = preprocess(_gradient(40, 30), (1, 28, 28), "fit")
    assert x.shape == (1, 28, 28) and x.dtype == np.float32 and x.flags.c_contiguous
    assert 0.0 <= x.min() and x.max() <= 1.0


def test_fit_keeps_the_aspect_ratio_and_pads_with_the_border_colour():
    a = np.full((20, 80), 255, np.uint8)        # white 80x20 picture, black bar in the middle
    a[6:14, 20:60] = 0
    x = preprocess(a, (1, 28, 28), "fit")[0]
    assert np.allclose(x[:10], 1.0) and np.allclose(x[-10:], 1.0)   # 28 x 7 picture, padded above/below
    assert x[12:16, 14].min() < 0.2                                    # the bar, not stretched away
    row = x[12:16].min(axis=0)
    assert (row < 0.5).sum() in range(12, 17)                          # 40/80 of the width stays ~14 px


def test_fit_converts_rgb_to_grey_with_luma_weights_and_grey_to_rgb():
    rgb = np.zeros((28, 28, 3), np.uint8)
    rgb[..., 1] = 200
    grey = preprocess(rgb, (1, 28, 28), "fit")
    assert grey.shape == (1, 28, 28) and abs(float(grey[0, 5, 5]) - round(0.587 * 200) / 255) < 1e-6
    g3 = preprocess(_gradient(28, 28), (3, 28, 28), "fit")
    assert g3.shape == (3, 28, 28)
    np.testing.assert_array_equal(g3[0], g3[2])


def test_fit_accepts_c_h_w_float_bool_rgba_and_pillow_inputs():
    chw = np.random.default_rng(0).random((3, 16, 16)).astype(np.float32)
    assert preprocess(chw, (3, 16, 16), "fit").shape == (3, 16, 16)
    np.testing.assert_allclose(preprocess(chw, (3, 16, 16), "fit"), np.round(chw * 255) / 255, atol=1e-6)
    assert preprocess(np.eye(10, dtype=bool), (1, 10, 10), "fit")[0, 0, 0] == 1.0
    rgba = np.zeros((10, 10, 4), np.uint8)
    assert preprocess(rgba, (1, 10, 10), "fit").min() == 1.0           # transparent -> white
    assert preprocess(Image.new("RGB", (5, 5), (0, 0, 0)), (1, 8, 8), "fit").max() == 0.0


@pytest.mark.parametrize("args, needle", [
    (((1, 28, 28), "stretch"), "unknown preprocessing style"),
    (((2, 28, 28), "fit"), "1 or 3"),
    (((1, 28), "fit"), "channels, height, width"),
])
def test_bad_preprocess_arguments(args, needle):
    with pytest.raises(ImageError, match=needle):
        preprocess(_gradient(), *args)


def test_bad_arrays_are_refused():
    with pytest.raises(ImageError, match="shape"):
        preprocess(np.zeros((4, 4, 5), np.uint8), (1, 28, 28), "fit")
    with pytest.raises(ImageError):
        preprocess(np.zeros((0, 3), np.uint8), (1, 28, 28), "fit")


# --- preprocess: "mnist" ---------------------------------------------------------------------------
def _centre_of_mass(x):
    m = x.sum()
    return (x.sum(1) * np.arange(x.shape[0])).sum() / m, (x.sum(0) * np.arange(x.shape[1])).sum() / m


def test_mnist_style_on_a_large_dark_on_light_drawing():
    # a black "7" drawn off-centre on a 300x200 white page (the way a student draws on paper)
    page = Image.new("L", (300, 200), 245)
    from PIL import ImageDraw

    d = ImageDraw.Draw(page)
    d.line([(30, 20), (110, 20), (60, 150)], fill=10, width=9)
    x = preprocess(np.asarray(page), (1, 28, 28), "mnist")[0]
    assert x.dtype == np.float32 and x.shape == (28, 28)
    assert x[0].max() == 0 and x[:, 0].max() == 0 and x[-1].max() == 0   # black background, like MNIST
    assert x.max() > 0.95                                                # full-strength ink
    rows, cols = np.flatnonzero(x.max(1) > 0), np.flatnonzero(x.max(0) > 0)
    assert max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1) == 20     # the longer side fills 20 px
    cy, cx = _centre_of_mass(x)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5                    # centred by mass


def test_mnist_style_keeps_light_on_dark_drawings_and_rgb_input():
    canvas = np.zeros((100, 100, 3), np.uint8)
    canvas[20:80, 45:55] = 255                        # a white "1" on black, in RGB
    x = preprocess(canvas, (1, 28, 28), "mnist")[0]
    assert x[14, 14] > 0.9 and x[0, 0] == 0
    rows = np.flatnonzero(x.max(1) > 0)
    assert rows[-1] - rows[0] + 1 == 20


def test_mnist_style_reproduces_mnist_digits(shared_data):
    from engine.datasets.idx import read_idx

    digits = read_idx(shared_data / "mnist" / "t10k-images-idx3-ubyte.gz")[:300]
    diffs = [np.abs(preprocess(d, (1, 28, 28), "mnist")[0] - d / 255.0).mean() for d in digits]
    assert np.median(diffs) < 0.005 and np.mean(diffs) < 0.02
    # and a 10x enlarged, inverted digit (a scan of a printed MNIST digit) comes back close to it
    big = 255 - np.kron(digits[0], np.ones((10, 10), np.uint8))
    assert np.abs(preprocess(big, (1, 28, 28), "mnist")[0] - digits[0] / 255.0).mean() < 0.02


def test_mnist_style_on_a_blank_canvas_gives_an_empty_field():
    x = preprocess(np.full((50, 50), 255, np.uint8), (1, 28, 28), "mnist")
    assert x.shape == (1, 28, 28) and x.max() == 0


def test_mnist_style_scales_to_other_input_shapes():
    canvas = np.zeros((60, 60), np.uint8)
    canvas[10:50, 28:32] = 255
    x = preprocess(canvas, (3, 56, 56), "mnist")
    assert x.shape == (3, 56, 56)
    np.testing.assert_array_equal(x[0], x[1])
    rows = np.flatnonzero(x[0].max(1) > 0)
    assert rows[-1] - rows[0] + 1 == 40                # 20/28 of 56
