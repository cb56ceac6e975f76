"""Preparing image files for a trained model: colour, polarity, framing, size, value range, mean image."""

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from tinyconv.images import ImageError, prepare_image

from .helpers import assert_refused_before_allocating

DIGITS = {"channels": 1, "height": 8, "width": 8, "value_range": [0, 16], "background": "dark", "fit": "content"}
CLOTHING = {"channels": 1, "height": 28, "width": 28, "value_range": [0, 255], "background": "dark", "fit": "pad"}
PHOTOS = {"channels": 3, "height": 4, "width": 4, "value_range": [0, 255], "background": None, "fit": "crop"}


def _save(tmp_path, pixels, name="image.png", mode=None):
    path = tmp_path / name
    Image.fromarray(np.asarray(pixels, dtype=np.uint8), mode=mode).save(path)
    return path


def test_an_image_already_in_the_dataset_s_format_comes_back_unchanged(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (28, 28))
    pixels[0, :] = pixels[-1, :] = pixels[:, 0] = pixels[:, -1] = 0  # a dark ground
    mean_image = np.full((1, 28, 28), 10.0)
    prepared = prepare_image(_save(tmp_path, pixels), CLOTHING, mean_image, np.float64)
    assert prepared.shape == (1, 1, 28, 28) and prepared.dtype == np.float64
    np.testing.assert_allclose(prepared[0, 0], pixels - 10.0)


def test_a_light_ground_is_inverted_to_light_on_dark(tmp_path):
    pixels = np.full((28, 28), 250)
    pixels[10:18, 12:16] = 20  # a dark object on white
    prepared = prepare_image(_save(tmp_path, pixels), CLOTHING, None)
    assert prepared.dtype == np.float32
    assert prepared[0, 0, 0, 0] == pytest.approx(5) and prepared[0, 0, 12, 13] == pytest.approx(235)


def test_a_narrow_image_is_padded_to_a_square_with_the_ground(tmp_path):
    pixels = np.zeros((28, 14))
    pixels[:, 5:9] = 200
    prepared = prepare_image(_save(tmp_path, pixels), CLOTHING, None)[0, 0]
    # Centred: 7 columns of ground on each side, the object's columns 5..8 at 12..15.
    np.testing.assert_array_equal(prepared[:, :12], 0)
    np.testing.assert_allclose(prepared[:, 12:16], 200)
    np.testing.assert_array_equal(prepared[:, 16:], 0)


def test_a_digit_is_cropped_to_its_ink_and_scaled_to_the_value_range(tmp_path):
    paper = np.full((100, 60), 255)
    paper[20:52, 10:42] = 0  # a solid dark square, off centre, on white paper
    prepared = prepare_image(_save(tmp_path, paper), DIGITS, None)[0, 0]
    np.testing.assert_allclose(prepared, 16.0)  # the square fills the 8x8 box with full ink


def test_a_photo_keeps_its_colours_and_its_centre_square(tmp_path):
    pixels = np.zeros((4, 8, 3))
    pixels[:, 2:6] = [200, 100, 50]  # the centre 4x4 is orange, the sides black
    prepared = prepare_image(_save(tmp_path, pixels), PHOTOS, None, np.float64)[0]
    np.testing.assert_allclose(prepared[:, 0, 0], [200, 100, 50])
    assert prepared.shape == (3, 4, 4)


def test_transparency_counts_as_white_paper(tmp_path):
    rgba = np.zeros((28, 28, 4))
    rgba[8:20, 8:20] = [0, 0, 0, 255]  # an opaque black square on transparent ground
    prepared = prepare_image(_save(tmp_path, rgba, mode="RGBA"), CLOTHING, None)[0, 0]
    assert prepared[0, 0] == pytest.approx(0) and prepared[14, 14] == pytest.approx(255)


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_declaring(width, height):
    """A PNG of a few dozen bytes whose header declares a gray picture of ``width`` x ``height``."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + _chunk(b"IEND", b""))


def _png_of_size_zero():
    header = struct.pack(">IIBBBBB", 0, 0, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IEND", b"")


@pytest.mark.parametrize("content", [
    b"not an image at all",
    b"",
    _png_of_size_zero(),
])
def test_files_that_are_not_images_are_refused_naming_the_file(tmp_path, content):
    path = tmp_path / "odd.png"
    path.write_bytes(content)
    with pytest.raises(ImageError, match=f"{path}"):
        prepare_image(path, CLOTHING, None)


def test_a_truncated_image_is_refused_naming_the_file(tmp_path):
    path = _save(tmp_path, np.random.default_rng(1).integers(0, 256, (64, 64)))
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ImageError, match=f"{path}.*not a readable image"):
        prepare_image(path, CLOTHING, None)


def test_a_sixteen_bit_image_reads_as_its_eight_bit_twin(tmp_path):
    # A scanner's 16-bit gray PNG was read as a blank white page: every value above 255 clipped to white.
    eight = np.random.default_rng(3).integers(0, 256, (28, 20)).astype(np.uint8)
    deep = tmp_path / "deep.png"
    Image.fromarray(eight.astype(np.uint16) * 257).save(deep)
    assert Image.open(deep).mode.startswith("I")
    for image_format in (CLOTHING, PHOTOS):
        np.testing.assert_allclose(prepare_image(deep, image_format, None),
                                   prepare_image(_save(tmp_path, eight), image_format, None), atol=1e-3)


def test_a_phones_photo_is_turned_upright_as_its_exif_says(tmp_path):
    upright = np.zeros((28, 20), dtype=np.uint8)
    upright[:6] = 255  # a bar along the top
    stored = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)  # as the sensor stored it
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
    sideways = tmp_path / "phone.png"
    stored.save(sideways, exif=exif)
    np.testing.assert_array_equal(prepare_image(sideways, CLOTHING, None),
                                  prepare_image(_save(tmp_path, upright), CLOTHING, None))


@pytest.mark.parametrize("width, height, message", [
    (20000, 20000, "more than the 50,000,000 pixels tinyconv reads"),
    (9000, 6000, "9000x6000, more than the 50,000,000 pixels tinyconv reads"),
    (80_000_000, 1, "more than the 50,000,000 pixels tinyconv reads"),
    (2000, 10, "2000x10, longer than 50 times its width"),
])
def test_a_picture_too_large_or_too_thin_is_refused_before_it_is_decoded(tmp_path, width, height, message):
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_declaring(width, height))
    assert path.stat().st_size < 120
    assert_refused_before_allocating(lambda: prepare_image(path, CLOTHING, None), ImageError,
                                     f"{path}: the image is .*{message}")


def test_a_missing_file_is_refused_naming_it(tmp_path):
    with pytest.raises(ImageError, match="absent.png"):
        prepare_image(tmp_path / "absent.png", CLOTHING, None)
