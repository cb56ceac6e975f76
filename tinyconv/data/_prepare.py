"""Preprocessing shared by every loader: argument checks, NCHW layout, mean subtraction, dtype."""

import numpy as np

from .. import _arguments


class DataSourceMissing(ValueError):
    """No folder was given for a dataset that is not bundled, and none is configured."""


def check_count(name, value):
    """Return ``value`` as an int if it is an integer >= 0; raise TypeError/ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return int(value)


def check_float_dtype(dtype):
    """Return ``np.dtype(dtype)`` if it is float32 or float64, else raise ValueError."""
    return np.dtype(_arguments.float_dtype(dtype))


def check_split_sizes(available, what, **sizes):
    """Raise ValueError unless the requested split sizes fit in ``available`` rows of ``what``."""
    requested = sum(sizes.values())
    if requested > available:
        asked = " + ".join(f"{name}={size}" for name, size in sizes.items())
        raise ValueError(f"{asked} = {requested} exceeds the {available} images of {what}")


def prepare_splits(splits, subtract_mean=True, dtype=np.float32):
    """Turn raw image splits into the cs231n data dict.

    Parameters
    ----------
    splits : dict
        ``{'train': (images, labels), 'val': (...), 'test': (...)}``; ``'train'`` is required.
        images are ``(N, H, W, C)`` in any real dtype (uint8 as stored on disk), labels ``(N,)``.
    subtract_mean : bool
        Subtract the mean training image (computed in float64) from every split.
    dtype : float32 or float64
        dtype of the returned images.

    Returns
    -------
    dict
        ``X_<split>`` of shape ``(N, C, H, W)`` and dtype ``dtype``, ``y_<split>`` int64 ``(N,)``,
        for each split given. The inputs are not modified.
    """
    dtype = check_float_dtype(dtype)
    if "train" not in splits:
        raise ValueError(f"splits must include 'train', got {sorted(splits)}")
    train_images = splits["train"][0]
    mean_image = None
    if subtract_mean and len(train_images) > 0:
        mean_image = train_images.mean(axis=0, dtype=np.float64).transpose(2, 0, 1)
    data = {}
    for name, (images, labels) in splits.items():
        # Transpose first, then one astype: a single NCHW-contiguous copy in the target dtype.
        nchw = images.transpose(0, 3, 1, 2).astype(dtype, order="C")
        if mean_image is not None:
            nchw -= mean_image.astype(dtype)
        data[f"X_{name}"] = nchw
        data[f"y_{name}"] = np.asarray(labels, dtype=np.int64).copy()
    return data


def holdout_splits(load, what, num_training, num_validation, num_test, subtract_mean, dtype):
    """Split a dataset that ships as train and test sets, as cs231n's ``get_CIFAR10_data`` does.

    Validation takes training rows ``num_training .. num_training + num_validation``, training
    the rows before them, test the first ``num_test`` test images.

    Parameters
    ----------
    load : callable
        ``load() -> (Xtr, ytr, Xte, yte)`` with NHWC images; called after the arguments are checked.
    what : str
        Name of the dataset for error messages.
    num_training, num_validation, num_test : int
    subtract_mean : bool
    dtype : float32 or float64

    Returns
    -------
    dict
        As ``prepare_splits``, with splits train, val and test.
    """
    num_training = check_count("num_training", num_training)
    num_validation = check_count("num_validation", num_validation)
    num_test = check_count("num_test", num_test)
    dtype = check_float_dtype(dtype)
    Xtr, ytr, Xte, yte = load()
    check_split_sizes(len(Xtr), f"the {what} training set",
                      num_training=num_training, num_validation=num_validation)
    check_split_sizes(len(Xte), f"the {what} test set", num_test=num_test)
    val_rows = slice(num_training, num_training + num_validation)
    splits = {"train": (Xtr[:num_training], ytr[:num_training]),
              "val": (Xtr[val_rows], ytr[val_rows]),
              "test": (Xte[:num_test], yte[:num_test])}
    return prepare_splits(splits, subtract_mean=subtract_mean, dtype=dtype)
