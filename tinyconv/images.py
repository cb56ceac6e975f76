"""Preparing an image file for a trained model the way its training images were prepared.

A model file written by ``tinyconv train`` records, in its metadata, the image format of its dataset
(``tinyconv.recipes.ImageFormat`` as a dict: channels, height, width, value range, background, fit) and the
mean image subtracted during training. :func:`prepare_image` turns a PNG or JPEG into the model's input:

1. read it with Pillow, turned upright as its EXIF orientation says (a phone's photo), and convert it to
   grayscale or RGB (a transparent image is put on white first; a 16-bit image is scaled from 0..65535);
2. where the dataset's objects are light on a dark ground (digits, clothing) and the image's border is the
   lighter part, invert it: a photo of a digit written on paper becomes light ink on a dark ground;
3. bring it to the dataset's size: 'content' crops to the object's bounding box and centres it in a
   square (the UCI digits fill their box), 'pad' pads to a square with the
   background, 'crop' cuts the centre square, 'stretch' keeps it as it is; then resize with area averaging;
4. scale the pixel values from 0..255 to the dataset's value range and subtract the mean image.

Needs Pillow (in the ``cli`` extra).
"""

import numpy as np

from . import _checks

# A transparent pixel counts as white paper.
_PAPER = (255, 255, 255)
# The most pixels an image may have (a 50-megapixel photo), and the longest side over the shortest: beyond
# them a file is refused before it is decoded, since a small file can declare a picture that fills memory
# (a 99-byte PNG of 20000 x 20000), and a thin strip padded to a square is its long side squared.
MAX_PIXELS = 50_000_000
MAX_ASPECT_RATIO = 50


class ImageError(ValueError):
    """An image file that cannot be read or prepared; the message names the file."""


def read_image(path, channels):
    """The image at ``path`` as a float64 array (H, W, channels) of values 0..255.

    Raises ImageError naming the file when it is missing, unreadable, truncated, empty, larger than
    :data:`MAX_PIXELS` or thinner than 1 : :data:`MAX_ASPECT_RATIO` (decided from its header, before it is
    decoded), or of a mode that cannot be converted.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            _check_size(path, image.width, image.height)
            image.load()
            image = ImageOps.exif_transpose(image)
            if image.mode in ("RGBA", "LA", "PA") or image.mode == "P" and "transparency" in image.info:
                image = image.convert("RGBA")
                flat = Image.new("RGB", image.size, _PAPER)
                flat.paste(image, mask=image.getchannel("A"))
                image = flat
            if image.mode.startswith("I") or image.mode == "F":
                return _deep_gray(image, channels)
            converted = image.convert("L" if channels == 1 else "RGB")
    except ImageError:
        raise
    except Image.DecompressionBombError as error:  # Pillow's own limit, checked as it opens the file
        raise ImageError(f"{path}: the image is more than the {MAX_PIXELS:,} pixels tinyconv reads ({error}); "
                         "scale it down first") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise ImageError(f"{path}: not a readable image ({type(error).__name__}: {error})") from None
    pixels = np.asarray(converted, dtype=np.float64)
    return pixels[:, :, None] if pixels.ndim == 2 else pixels


def _check_size(path, width, height):
    """An ImageError naming ``path`` for a picture that is empty, too large or too thin to prepare."""
    if width == 0 or height == 0:
        raise ImageError(f"{path}: the image is empty ({width}x{height})")
    if width * height > MAX_PIXELS:
        raise ImageError(f"{path}: the image is {width}x{height}, more than the {MAX_PIXELS:,} pixels tinyconv "
                         "reads; scale it down first")
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        raise ImageError(f"{path}: the image is {width}x{height}, longer than {MAX_ASPECT_RATIO} times its width; "
                         "crop it to the object first")


def _deep_gray(image, channels):
    """A gray image of 16 or 32-bit integers or floats as values 0..255: 16-bit ones (and 32-bit ones holding
    values above 255, as Pillow reads some 16-bit PNGs) scaled from 0..65535, the rest taken as they are."""
    values = np.asarray(image, dtype=np.float64)
    top = 65535.0 if image.mode.startswith("I;16") or values.max(initial=0) > 255 else 255.0
    gray = np.clip(values * (255.0 / top), 0, 255)[:, :, None]
    return gray if channels == 1 else np.repeat(gray, 3, axis=2)


def _to_square(pixels, fit, background):
    """The image cut or padded to a square, as ``fit`` says (see the module docstring); as it is for 'stretch'."""
    if fit == "stretch":
        return pixels
    height, width = pixels.shape[:2]
    if fit == "content":
        ink = pixels.mean(axis=2) > background + 0.1 * (pixels.max() - background)
        if ink.any():
            rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
            pixels = pixels[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
            height, width = pixels.shape[:2]
        fit = "pad"
    side = max(height, width) if fit == "pad" else min(height, width)
    if fit == "pad":
        square = np.full((side, side, pixels.shape[2]), background, dtype=np.float64)
        top, left = (side - height) // 2, (side - width) // 2
        square[top:top + height, left:left + width] = pixels
        return square
    top, left = (height - side) // 2, (width - side) // 2
    return pixels[top:top + side, left:left + side]


def resize(pixels, height, width):
    """An image (H, W, C) of float values brought to (height, width, C) by area averaging, channel by channel
    (as float64)."""
    from PIL import Image

    return np.stack([np.asarray(Image.fromarray(pixels[:, :, c].astype(np.float32), mode="F")
                                .resize((width, height), Image.Resampling.BOX), dtype=np.float64)
                     for c in range(pixels.shape[2])], axis=2)


def prepare_image(path, image_format, mean_image, dtype=np.float32):
    """The model input ``(1, C, H, W)`` for the image file at ``path``.

    Parameters
    ----------
    path : str or path-like
    image_format : dict
        ``channels``, ``height``, ``width``, ``value_range`` ([low, high]), ``background`` ('dark' or None)
        and ``fit`` ('content', 'pad', 'crop' or 'stretch'), as a model file's metadata records them.
    mean_image : ndarray (C, H, W) or None
        Subtracted at the end, as in training.
    dtype : float32 or float64
    """
    dtype = _checks.float_dtype("prepare_image", "dtype", dtype)
    channels, height, width = (image_format[key] for key in ("channels", "height", "width"))
    pixels = read_image(path, channels)
    background = 0.0
    if image_format.get("background") == "dark":
        gray = pixels.mean(axis=2)
        border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
        if np.median(border) > gray.mean():  # a light ground: invert to light ink on dark
            pixels = 255.0 - pixels
    else:
        background = float(np.median(pixels))
    square = _to_square(pixels, image_format.get("fit", "crop"), background)
    low, high = image_format["value_range"]
    image = low + resize(square, height, width).transpose(2, 0, 1) * ((high - low) / 255.0)
    if mean_image is not None:
        image = image - np.asarray(mean_image, dtype=np.float64)
    return image[None].astype(dtype)
