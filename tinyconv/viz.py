"""Pictures: image grids (NumPy only) and PNG plots of training runs (matplotlib, imported lazily)."""

import math

import numpy as np

from . import _checks
from ._files import atomic_write


def visualize_grid(Xs, ubound=255.0, padding=1):
    """Tile a batch of images into one image, each tile scaled to ``[0, ubound]`` on its own.

    Parameters
    ----------
    Xs : ndarray, shape (N, H, W, C)
        Images in NHWC, N >= 1.
    ubound : float
        Each tile is min-max scaled to ``[0, ubound]``. A constant tile becomes all zeros.
    padding : int
        Blank (zero) pixels between neighbouring tiles.

    Returns
    -------
    ndarray, shape (G*H + (G-1)*padding, G*W + (G-1)*padding, C) with G = ceil(sqrt(N))
        Tiles fill the grid row by row; cells after the last image stay zero. The dtype is
        Xs's if it is a float dtype, else float64.
    """
    where = "visualize_grid"
    _image_batch(where, Xs)
    ubound = _checks.positive_float(where, "ubound", ubound)
    padding = _checks.integer(where, "padding", padding, minimum=0)
    dtype = Xs.dtype if np.issubdtype(Xs.dtype, np.floating) else np.dtype(np.float64)
    tiles = Xs.astype(dtype)
    low = tiles.min(axis=(1, 2, 3), keepdims=True)
    span = tiles.max(axis=(1, 2, 3), keepdims=True) - low
    # A constant tile has no range to stretch; it maps to 0 instead of dividing by zero.
    safe_span = np.where(span > 0, span, 1)
    tiles = np.where(span > 0, (tiles - low) * (dtype.type(ubound) / safe_span), 0).astype(dtype)

    N, H, W, C = Xs.shape
    grid = np.zeros((*_grid_shape(N, H, W, padding), C), dtype=dtype)
    for tile, (top, left) in zip(tiles, _tile_corners(N, H, W, padding)):
        grid[top:top + H, left:left + W] = tile
    return grid


def _image_batch(where, Xs):
    """Refuse ``Xs`` unless it is an ndarray (N, H, W, C) with N >= 1."""
    _checks.dimensions(where, "Xs", _checks.array(where, "Xs", Xs), 4, "(N, H, W, C)")
    if Xs.shape[0] == 0:
        raise ValueError(f"{where}: Xs must hold at least one image, got shape {Xs.shape}")


def vis_grid(Xs):
    """Tile a batch of images with one-pixel gaps and scale the whole grid, gaps included, to ``[0, 1]``.

    Unlike :func:`visualize_grid`, which scales every tile on its own, this keeps the
    images comparable with each other (the cs231n ``vis_grid``).

    Parameters
    ----------
    Xs : ndarray, shape (N, H, W, C)
        Images in NHWC, N >= 1.

    Returns
    -------
    ndarray, shape (G*(H+1), G*(W+1), C) with G = ceil(sqrt(N))
        Tiles fill the grid row by row, each followed by a gap of one pixel; gaps and empty
        cells hold the smallest value of Xs, hence 0 after scaling. A constant grid is all
        zeros. The dtype is Xs's if it is a float dtype, else float64.
    """
    _image_batch("vis_grid", Xs)
    N, H, W, _ = Xs.shape
    side = math.ceil(math.sqrt(N))
    return _place_and_scale(Xs, _tile_corners(N, H, W, padding=1), (side * (H + 1), side * (W + 1)), Xs.min())


def vis_nn(rows):
    """Lay out rows of images (say, each query image and its nearest neighbours) and scale them to ``[0, 1]``.

    Parameters
    ----------
    rows : sequence of R sequences of D images, each an ndarray (H, W, C) of one shape

    Returns
    -------
    ndarray, shape (R*(H+1), D*(W+1), C)
        Image d of row r at ``(r*(H+1), d*(W+1))``; the one-pixel gaps after each image hold 1
        before the whole grid is min-max scaled (as in the cs231n ``vis_nn``). A constant grid is
        all zeros. The dtype is the images' if it is a float dtype, else float64.
    """
    if (isinstance(rows, (str, bytes)) or not hasattr(rows, "__len__")
            or any(isinstance(row, (str, bytes)) or not hasattr(row, "__len__") for row in rows)):
        raise TypeError(f"vis_nn: rows must be a list of lists of images (H, W, C), got {type(rows).__name__}")
    if len(rows) == 0:
        raise ValueError("vis_nn: rows must be a non-empty list of lists of images (H, W, C)")
    D = len(rows[0])
    images = [image for row in rows for image in row]
    if D == 0 or any(len(row) != D for row in rows):
        raise ValueError(f"vis_nn: every row must hold the same positive number of images, got row lengths "
                         f"{[len(row) for row in rows]}")
    for image in images:
        _checks.array("vis_nn", "every image", image)
    first = images[0]
    if any(image.ndim != 3 or image.shape != first.shape or image.dtype != first.dtype for image in images):
        raise ValueError("vis_nn: every image must be an ndarray (H, W, C) of the first image's shape "
                         f"{getattr(first, 'shape', type(first).__name__)} and dtype")
    H, W, _ = first.shape
    corners = [(r * (H + 1), d * (W + 1)) for r in range(len(rows)) for d in range(D)]
    return _place_and_scale(np.stack(images), corners, (len(rows) * (H + 1), D * (W + 1)), 1)


def _place_and_scale(tiles, corners, size, fill):
    """Tiles (N, H, W, C) at ``corners`` on a grid of ``size`` filled with ``fill``, min-max scaled to [0, 1]."""
    dtype = tiles.dtype if np.issubdtype(tiles.dtype, np.floating) else np.dtype(np.float64)
    _, H, W, C = tiles.shape
    grid = np.full((*size, C), fill, dtype=dtype)
    for tile, (top, left) in zip(tiles, corners):
        grid[top:top + H, left:left + W] = tile
    low, high = grid.min(), grid.max()
    return (grid - low) / (high - low) if high > low else np.zeros_like(grid)


def _grid_shape(N, H, W, padding):
    """(height, width) of the grid of N tiles of H x W that ``visualize_grid`` builds."""
    side = math.ceil(math.sqrt(N))
    return side * (H + padding) - padding, side * (W + padding) - padding


def _tile_corners(N, H, W, padding):
    """Top-left (row, column) of each of the N tiles, filling the grid row by row."""
    side = math.ceil(math.sqrt(N))
    return [(row * (H + padding), column * (W + padding))
            for row, column in (divmod(index, side) for index in range(N))]


def new_figure(width, height):
    """A matplotlib Figure drawn by the Agg backend, without touching pyplot's global state."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def save_png(figure, path):
    """Write a matplotlib Figure to ``path`` as a PNG, atomically."""
    with atomic_write(path) as file:
        figure.savefig(file, format="png")


def save_training_curves(solver, path):
    """Write a PNG of the loss per iteration and the train/val accuracy per epoch.

    Parameters
    ----------
    solver : Solver, or any object with ``loss_history``, ``train_acc_history`` and
        ``val_acc_history`` (lists of floats; one accuracy per epoch plus one at the start)
    path : str or path-like
        The PNG to write (atomically).
    """
    figure = new_figure(10, 4)
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    loss_axes.plot(solver.loss_history, linewidth=0.8)
    loss_axes.set(title="Training loss", xlabel="iteration", ylabel="loss")
    epochs = range(len(solver.train_acc_history))
    accuracy_axes.plot(epochs, solver.train_acc_history, "o-", label="train")
    accuracy_axes.plot(epochs, solver.val_acc_history, "o-", label="val")
    accuracy_axes.set(title="Accuracy", xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02))
    accuracy_axes.xaxis.get_major_locator().set_params(integer=True)
    accuracy_axes.legend(loc="lower right")
    save_png(figure, path)


def filters_to_tiles(weights):
    """Arrange conv filters as NHWC tiles for ``visualize_grid``.

    Parameters
    ----------
    weights : ndarray, shape (F, C, HH, WW)

    Returns
    -------
    ndarray, shape (F, HH, WW, 3) if C == 3 (one colour tile per filter), else (F*C, HH, WW, 1)
        (one grayscale tile per filter channel, channels of a filter consecutive).
    """
    _checks.dimensions("filters_to_tiles", "weights", _checks.array("filters_to_tiles", "weights", weights), 4,
                       "(F, C, HH, WW)")
    F, C, HH, WW = weights.shape
    if C == 3:
        return weights.transpose(0, 2, 3, 1)
    return weights.reshape(F * C, HH, WW, 1)


def save_conv_filters(weights, path, title="First-layer filters"):
    """Write a PNG of conv filters tiled with ``visualize_grid``.

    Parameters
    ----------
    weights : ndarray, shape (F, C, HH, WW)
        E.g. a model's ``params['W1']``.
    path : str or path-like
        The PNG to write (atomically).
    title : str
    """
    tiles = filters_to_tiles(weights)
    grid = visualize_grid(tiles, ubound=1.0)
    # White gaps instead of black ones, so that dark filter pixels stand out from the gaps.
    background = np.ones(grid.shape[:2], dtype=bool)
    N, H, W, _ = tiles.shape
    for top, left in _tile_corners(N, H, W, padding=1):
        background[top:top + H, left:left + W] = False
    grid[background] = 1.0
    figure = new_figure(5, 5)
    axes = figure.subplots()
    if grid.shape[2] == 1:
        axes.imshow(grid[:, :, 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    else:
        axes.imshow(grid, interpolation="nearest")
    axes.set_title(title)
    axes.axis("off")
    save_png(figure, path)
