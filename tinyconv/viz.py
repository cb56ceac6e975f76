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


def png_bytes(figure):
    """A matplotlib Figure as PNG bytes."""
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def save_png(figure, path):
    """Write a matplotlib Figure to ``path`` as a PNG, atomically."""
    with atomic_write(path) as file:
        figure.savefig(file, format="png")


def training_curves(solver):
    """A matplotlib figure of a run's loss and accuracy.

    Left, on a log scale: the training loss of every update, its running mean over an epoch, and the
    validation loss at each accuracy check (placed at its update). Right: the train and validation accuracy
    at each check, the axis zoomed to the range of the checks after the first one (which comes after one
    update), and a dashed line at the epoch whose parameters the model kept.

    Parameters
    ----------
    solver : Solver, or any object with ``loss_history``, ``train_acc_history`` and ``val_acc_history``
        (lists of floats; one accuracy per epoch plus one at the start); ``val_loss_history``,
        ``iterations_per_epoch`` and ``model_epoch`` are drawn where it has them.
    """
    figure = new_figure(11, 4)
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    losses = np.asarray(solver.loss_history, dtype=np.float64)
    updates = np.arange(1, len(losses) + 1)
    loss_axes.plot(updates, losses, linewidth=0.6, alpha=0.35, color="C0", label="training, each update")
    per_epoch = getattr(solver, "iterations_per_epoch", None)
    if per_epoch and 1 < per_epoch <= len(losses):
        running = np.convolve(losses, np.ones(per_epoch) / per_epoch, mode="valid")
        loss_axes.plot(updates[per_epoch - 1:], running, color="C0", label="training, mean of an epoch")
    val_losses = np.asarray(getattr(solver, "val_loss_history", []), dtype=np.float64)
    if per_epoch and len(val_losses) and not np.isnan(val_losses).all():
        checks = np.maximum(np.arange(len(val_losses)) * per_epoch, 1)  # epoch 0's check follows update 1
        loss_axes.plot(checks, val_losses, "o-", color="C1", label="validation")
    if len(losses) and (losses > 0).all():
        loss_axes.set_yscale("log")
    loss_axes.set(title="Loss", xlabel="update", ylabel="loss (log scale)")
    loss_axes.legend(loc="upper right", fontsize="small")
    train, val = (np.asarray(history, dtype=np.float64) for history in (solver.train_acc_history,
                                                                        solver.val_acc_history))
    epochs = np.arange(len(train))
    accuracy_axes.plot(epochs, train, "o-", label="train")
    accuracy_axes.plot(epochs, val, "o-", label="validation")
    later = np.concatenate([train[1:], val[1:]]) if len(train) > 1 else np.concatenate([train, val])
    if len(later):
        low, high = later.min(), later.max()
        margin = max(0.005, 0.1 * (high - low))
        accuracy_axes.set_ylim(max(0.0, low - margin), min(1.0, high + margin) + 0.002)
    kept = _model_epoch(solver)
    if kept is not None:
        accuracy_axes.axvline(kept, color="gray", linestyle="--", linewidth=1, label=f"model: epoch {kept}")
    accuracy_axes.set(title="Accuracy (zoomed to the epochs after the first update)", xlabel="epoch",
                      ylabel="accuracy")
    accuracy_axes.xaxis.get_major_locator().set_params(integer=True)
    accuracy_axes.legend(loc="lower right", fontsize="small")
    return figure


def _model_epoch(solver):
    """The epoch whose parameters the model kept, where the solver says (after training), else None."""
    try:
        return solver.model_epoch
    except (AttributeError, ValueError):  # not a Solver, or one that has not trained
        return None


def save_training_curves(solver, path):
    """Write :func:`training_curves` of ``solver`` as a PNG at ``path`` (atomically)."""
    save_png(training_curves(solver), path)


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


def confusion_figure(counts, class_names):
    """A matplotlib figure of a confusion matrix: true classes down, predictions across, each cell's count
    written in it and shaded by its share of the true class."""
    counts = np.asarray(counts)
    size = max(4.0, 0.45 * len(class_names) + 2)
    figure = new_figure(size, size)
    axes = figure.subplots()
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros(counts.shape, dtype=np.float64), where=totals > 0)
    axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ticks = np.arange(len(class_names))
    axes.set_xticks(ticks, labels=class_names, rotation=45 if max(map(len, class_names)) > 2 else 0, ha="right")
    axes.set_yticks(ticks, labels=class_names)
    axes.set(xlabel="predicted", ylabel="true", title="Confusion matrix")
    for row in range(len(class_names)):
        for column in range(len(class_names)):
            if counts[row, column]:
                axes.text(column, row, str(counts[row, column]), ha="center", va="center", fontsize="small",
                          color="white" if shares[row, column] > 0.5 else "black")
    return figure


def errors_figure(images, errors, class_names):
    """A matplotlib figure of misclassified images, each titled with its true class and the predicted one and
    its probability.

    Parameters
    ----------
    images : ndarray (N, C, H, W)
        The images to show, as they look (values scaled to [0, 1] by the caller); ``errors``' indices
        point into them.
    errors : list of dict
        :func:`tinyconv.evaluation.worst_errors`' records.
    class_names : list of str
    """
    columns = max(1, min(8, len(errors)))
    rows = max(1, -(-len(errors) // columns))
    figure = new_figure(1.6 * columns, 1.9 * rows)
    grid = figure.subplots(rows, columns, squeeze=False)
    for axes in grid.flat:
        axes.axis("off")
    for axes, error in zip(grid.flat, errors):
        image = np.clip(images[error["index"]].transpose(1, 2, 0), 0, 1)
        axes.imshow(image[:, :, 0] if image.shape[2] == 1 else image, cmap="gray", vmin=0, vmax=1,
                    interpolation="nearest")
        axes.set_title(f"true {class_names[error['true']]}\n{class_names[error['predicted']]} "
                       f"{error['predicted_probability']:.2f}", fontsize="small")
    if not errors:
        grid[0, 0].text(0.5, 0.5, "no errors", ha="center", va="center")
    return figure


def as_seen(images, mean_image=None, value_range=None):
    """Images ``(N, C, H, W)`` as a dataset's files show them, in [0, 1]: the mean image added back where one
    was subtracted, then the ``value_range`` [low, high] of the raw values (else the images' own range)
    scaled to [0, 1]."""
    raw = np.asarray(images, dtype=np.float64)
    if mean_image is not None:
        raw = raw + np.asarray(mean_image, dtype=np.float64)
    low, high = value_range if value_range is not None else (raw.min(), raw.max())
    return (raw - low) / ((high - low) or 1.0)


def explanation_figure(image, saliency_map, top, title=""):
    """A matplotlib figure of why a model classified one image so: the image as prepared for the model
    (``image (C, H, W)`` in [0, 1]), its saliency map for the predicted class (``(H, W)``), and the top classes
    with their probabilities (``top``: (label, probability) pairs, the predicted class first)."""
    figure = new_figure(9, 3.2)
    image_axes, saliency_axes, bars = figure.subplots(1, 3)
    shown = np.clip(np.asarray(image).transpose(1, 2, 0), 0, 1)
    image_axes.imshow(shown[:, :, 0] if shown.shape[2] == 1 else shown, cmap="gray", vmin=0, vmax=1,
                      interpolation="nearest")
    image_axes.set_title("input, as the model sees it", fontsize="small")
    saliency_axes.imshow(saliency_map, cmap="hot", interpolation="nearest")
    saliency_axes.set_title(f"saliency of '{top[0][0]}'", fontsize="small")
    for axes in (image_axes, saliency_axes):
        axes.axis("off")
    labels, probabilities = zip(*top)
    positions = np.arange(len(labels))[::-1]
    bars.barh(positions, probabilities, color="C0")
    bars.set_yticks(positions, labels=labels)
    bars.set(xlim=(0, 1), title="top classes", xlabel="probability")
    if title:
        figure.suptitle(title, fontsize="small")
    return figure
