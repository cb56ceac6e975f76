"""Demonstrations behind ``tinyconv demo``; they need scikit-image and matplotlib."""

import numpy as np

from .layers import conv_forward_fast
from .viz import new_figure, save_png

# Luma weights of the red, green and blue channels.
_GRAY_WEIGHTS = (0.3, 0.6, 0.1)
# Sobel-like vertical derivative: responds to horizontal edges.
_HORIZONTAL_EDGES = ((1, 2, 1), (0, 0, 0), (-1, -2, -1))


def square_photo(image, size):
    """Centre-crop an (H, W, 3) uint8 photo to a square and resize it to (3, size, size) float64 in 0..255."""
    from skimage.transform import resize

    height, width = image.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = image[top:top + side, left:left + side]
    return 255.0 * resize(square, (size, size), anti_aliasing=True).transpose(2, 0, 1)


def convolution_filters():
    """Two 3x3 filters on RGB input: a grayscale conversion and a horizontal edge detector.

    Returns
    -------
    w : ndarray, shape (2, 3, 3, 3)
    b : ndarray, shape (2,)
        The edge filter's bias 128 puts "no edge" at mid-gray.
    """
    w = np.zeros((2, 3, 3, 3))
    w[0, :, 1, 1] = _GRAY_WEIGHTS  # only the centre pixel: a per-pixel weighted sum of channels
    w[1, 2] = _HORIZONTAL_EDGES    # on the blue channel alone
    return w, np.array([0.0, 128.0])


def _to_unit_range(image):
    low, high = image.min(), image.max()
    return (image - low) / (high - low) if high > low else np.zeros_like(image)


def convolution_demo(path, size=200):
    """Write a PNG: two photos, and each after the grayscale and edge filters (stride 1, pad 1).

    Parameters
    ----------
    path : str or path-like
        The PNG to write (atomically).
    size : int
        Side of the square each photo is resized to; the filter outputs keep it.
    """
    from skimage import data

    photos = np.stack([square_photo(data.chelsea(), size), square_photo(data.coffee(), size)])
    w, b = convolution_filters()
    out, _ = conv_forward_fast(photos, w, b, {"stride": 1, "pad": 1})

    figure = new_figure(9, 6)
    axes = figure.subplots(2, 3)
    titles = ("original", "grayscale filter", "horizontal edges")
    for row in range(len(photos)):
        panels = (photos[row].transpose(1, 2, 0), out[row, 0], out[row, 1])
        for column, panel in enumerate(panels):
            axes[row, column].imshow(_to_unit_range(panel), cmap="gray")
            axes[row, column].set_title(titles[column])
            axes[row, column].axis("off")
    save_png(figure, path)
