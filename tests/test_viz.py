"""tinyconv.viz: visualize_grid and the PNG helpers."""

import math
import types
import warnings

import numpy as np
import pytest
from matplotlib.image import imread

from tinyconv.viz import (
    filters_to_tiles,
    save_conv_filters,
    save_training_curves,
    training_curves,
    vis_grid,
    vis_nn,
    visualize_grid,
)


@pytest.mark.parametrize("N", [1, 2, 4, 5, 10])
@pytest.mark.parametrize("padding", [0, 1, 3])
def test_grid_shape_placement_and_scaling(N, padding):
    rng = np.random.default_rng(N + 10 * padding)
    Xs = rng.normal(size=(N, 3, 4, 2)) * 7 + 2
    grid = visualize_grid(Xs, ubound=10.0, padding=padding)
    side = math.ceil(math.sqrt(N))
    assert grid.shape == (3 * side + padding * (side - 1), 4 * side + padding * (side - 1), 2)
    filled = np.zeros(grid.shape[:2], dtype=bool)
    for index in range(N):
        top, left = (index // side) * (3 + padding), (index % side) * (4 + padding)
        tile = grid[top:top + 3, left:left + 4]
        image = Xs[index]
        np.testing.assert_allclose(tile, 10.0 * (image - image.min()) / (image.max() - image.min()))
        filled[top:top + 3, left:left + 4] = True
    assert np.all(grid[~filled] == 0)


def test_constant_tile_becomes_zero_without_warnings():
    Xs = np.stack([np.full((2, 2, 1), 4.0), np.arange(4.0).reshape(2, 2, 1)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        grid = visualize_grid(Xs, padding=0)
    np.testing.assert_array_equal(grid[:2, :2, 0], 0)
    np.testing.assert_allclose(grid[:2, 2:4, 0], [[0, 85], [170, 255]])


@pytest.mark.parametrize("dtype, expected", [(np.float32, np.float32), (np.float64, np.float64),
                                             (np.uint8, np.float64)])
def test_grid_dtype_and_input_untouched(dtype, expected):
    Xs = np.random.default_rng(0).integers(0, 200, size=(3, 5, 5, 3)).astype(dtype)
    before = Xs.copy()
    grid = visualize_grid(Xs)
    assert grid.dtype == expected
    assert grid.max() == pytest.approx(255.0) and grid.min() == 0
    np.testing.assert_array_equal(Xs, before)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"Xs": np.zeros((3, 4, 4))}, ValueError, "Xs must be 4-D"),
    ({"Xs": np.zeros((0, 4, 4, 1))}, ValueError, "Xs must hold at least one image"),
    ({"Xs": [[[[1.0]]]]}, TypeError, "Xs must be a NumPy"),
    ({"Xs": np.ones((1, 2, 2, 1)), "padding": -1}, ValueError, "padding"),
    ({"Xs": np.ones((1, 2, 2, 1)), "padding": 1.5}, TypeError, "padding"),
    ({"Xs": np.ones((1, 2, 2, 1)), "ubound": 0}, ValueError, "ubound"),
    ({"Xs": np.ones((1, 2, 2, 1)), "ubound": float("nan")}, ValueError, "ubound"),
    ({"Xs": np.ones((1, 2, 2, 1)), "ubound": "255"}, TypeError, "ubound"),
])
def test_grid_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=f"visualize_grid: {message}"):
        visualize_grid(**kwargs)


def test_filters_to_tiles():
    colour = np.random.default_rng(1).normal(size=(4, 3, 5, 6))
    tiles = filters_to_tiles(colour)
    assert tiles.shape == (4, 5, 6, 3)
    np.testing.assert_array_equal(tiles[2, :, :, 1], colour[2, 1])
    two_channel = np.random.default_rng(2).normal(size=(4, 2, 3, 3))
    tiles = filters_to_tiles(two_channel)
    assert tiles.shape == (8, 3, 3, 1)
    np.testing.assert_array_equal(tiles[5, :, :, 0], two_channel[2, 1])


def _assert_png(path, folder):
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width = imread(path).shape[:2]
    assert height > 100 and width > 100
    assert sorted(child.name for child in folder.iterdir()) == [path.name]


def test_the_curves_show_the_loss_on_a_log_scale_the_accuracy_zoomed_and_the_kept_epoch():
    history = types.SimpleNamespace(loss_history=list(np.geomspace(2.3, 0.05, 30)), iterations_per_epoch=10,
                                    train_acc_history=[0.1, 0.95, 0.97, 0.99], val_acc_history=[0.12, 0.96, 0.98, 0.97],
                                    val_loss_history=[2.2, 0.3, 0.1, 0.12], model_epoch=2)
    loss_axes, accuracy_axes = training_curves(history).axes
    assert loss_axes.get_yscale() == "log"
    labels = [line.get_label() for line in loss_axes.get_lines()]
    assert labels == ["training, each update", "training, mean of an epoch", "validation"]
    np.testing.assert_array_equal(loss_axes.get_lines()[2].get_xdata(), [1, 10, 20, 30])  # at their updates
    low, high = accuracy_axes.get_ylim()
    assert 0.9 < low < 0.95 and 0.99 < high <= 1.0  # the range after the first update, not 0 to 1
    kept = [line for line in accuracy_axes.get_lines() if line.get_label() == "model: epoch 2"]
    assert len(kept) == 1 and list(kept[0].get_xdata()) == [2, 2]


def test_save_training_curves(tmp_path):
    history = types.SimpleNamespace(loss_history=[2.3, 1.5, 0.9, 0.7], train_acc_history=[0.1, 0.6, 0.9],
                                    val_acc_history=[0.1, 0.5, 0.8])
    path = tmp_path / "curves.png"
    save_training_curves(history, path)
    _assert_png(path, tmp_path)


@pytest.mark.parametrize("channels", [1, 3])
def test_save_conv_filters(tmp_path, channels):
    path = tmp_path / "filters.png"
    save_conv_filters(np.random.default_rng(3).normal(size=(6, channels, 3, 3)), path)
    _assert_png(path, tmp_path)


@pytest.mark.parametrize("N", [1, 3, 4, 7])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_vis_grid_scales_the_whole_grid_and_fills_gaps_with_the_minimum(N, dtype):
    rng = np.random.default_rng(N)
    Xs = (rng.normal(size=(N, 3, 2, 2)) * 5 + 1).astype(dtype)
    grid = vis_grid(Xs)
    side = math.ceil(math.sqrt(N))
    assert grid.shape == (side * 4, side * 3, 2) and grid.dtype == dtype
    low, span = Xs.min(), Xs.max() - Xs.min()
    covered = np.zeros(grid.shape[:2], dtype=bool)
    for index in range(N):
        top, left = (index // side) * 4, (index % side) * 3
        np.testing.assert_allclose(grid[top:top + 3, left:left + 2], (Xs[index] - low) / span, rtol=1e-6)
        covered[top:top + 3, left:left + 2] = True
    assert np.all(grid[~covered] == 0) and grid.max() == 1


def test_vis_nn_lays_out_rows_with_gaps_of_one_before_scaling():
    images = [[np.full((2, 3, 1), 10.0 * (r * 2 + d) - 5) for d in range(2)] for r in range(3)]
    grid = vis_nn(images)
    assert grid.shape == (3 * 3, 2 * 4, 1)
    low, high = -5.0, 45.0  # the gap value 1 lies inside the images' range
    for r in range(3):
        for d in range(2):
            np.testing.assert_allclose(grid[r * 3:r * 3 + 2, d * 4:d * 4 + 3], (images[r][d] - low) / (high - low))
    np.testing.assert_allclose(grid[2, :, 0], (1 - low) / (high - low))


def test_vis_grid_and_vis_nn_of_constant_images_are_zero_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(vis_grid(np.ones((4, 2, 2, 1))), 0)
        np.testing.assert_array_equal(vis_nn([[np.ones((2, 2, 1), np.uint8)]]), 0)
    assert vis_nn([[np.ones((2, 2, 1), np.uint8)]]).dtype == np.float64


@pytest.mark.parametrize("call, error, match", [
    (lambda: vis_grid(np.ones((2, 2, 3))), ValueError, r"vis_grid: Xs must .*\(N, H, W, C\).* \(2, 2, 3\)"),
    (lambda: vis_grid(np.ones((0, 2, 2, 3))), ValueError, "vis_grid: Xs must hold at least one image"),
    (lambda: vis_grid([[[[1.0]]]]), TypeError, "vis_grid: Xs must be"),
    (lambda: vis_nn([]), ValueError, "vis_nn: rows must be a non-empty list"),
    (lambda: vis_nn("images"), TypeError, "vis_nn: rows must be a list of lists"),
    (lambda: vis_nn([[np.ones((2, 2, 1))], []]), ValueError, r"row lengths \[1, 0\]"),
    (lambda: vis_nn([[np.ones((2, 2, 1)), [[1.0]]]]), TypeError, "vis_nn: every image must be"),
    (lambda: vis_nn([[np.ones((2, 2, 1)), np.ones((2, 3, 1))]]), ValueError, r"first image's shape \(2, 2, 1\)"),
])
def test_vis_grid_and_vis_nn_name_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
