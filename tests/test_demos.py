"""tinyconv.demos: the filters and photo preparation of the convolution demo."""

import numpy as np

from tinyconv.demos import convolution_filters, square_photo
from tinyconv.layers import conv_forward_naive


def test_grayscale_filter_weights_the_channels_of_each_pixel():
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 255, size=(1, 3, 6, 6))
    w, b = convolution_filters()
    out, _ = conv_forward_naive(image, w, b, {"stride": 1, "pad": 1})
    expected = 0.3 * image[0, 0] + 0.6 * image[0, 1] + 0.1 * image[0, 2]
    np.testing.assert_allclose(out[0, 0], expected)


def test_edge_filter_answers_horizontal_edges_in_blue_only():
    step = np.zeros((1, 3, 6, 6))
    step[0, 2, 3:, :] = 100.0  # blue rises between rows 2 and 3
    w, b = convolution_filters()
    out, _ = conv_forward_naive(step, w, b, {"stride": 1, "pad": 1})
    interior = out[0, 1, 1:-1, 1:-1]  # away from the zero padding
    np.testing.assert_allclose(interior[[0, 3]], 128.0)   # flat rows: just the bias
    np.testing.assert_allclose(interior[[1, 2]], 128.0 - 400.0)
    red_step = step[:, [2, 1, 0]]
    out_red, _ = conv_forward_naive(red_step, w, b, {"stride": 1, "pad": 1})
    np.testing.assert_allclose(out_red[0, 1], 128.0)


def test_square_photo_crops_the_centre_and_resizes():
    photo = np.zeros((40, 60, 3), dtype=np.uint8)
    photo[:, 10:50] = 255  # the centre 40x40 square is white, the side strips black
    square = square_photo(photo, 20)
    assert square.shape == (3, 20, 20)
    np.testing.assert_allclose(square, 255.0, atol=1e-6)
