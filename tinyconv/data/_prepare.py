"""Preprocessing shared by every loader: NCHW layout, mean subtraction, dtype, splits."""

import numpy as np

from .. import _checks


class DataSourceMissing(ValueError):
    """No folder was given for a dataset that is not bundled, and none is configured."""


def prepare_splits(where, splits, subtract_mean=True, dtype=np.float32):
    """Turn raw image splits into the cs231n data dict.

    Parameters
    ----------
    where : str
        The public loader, for error messages.
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
        for each split given, and ``mean_image``: the float64 ``(C, H, W)`` image subtracted (None
        without mean subtraction), which a model trained on the data needs to prepare new images.
        The inputs are not modified.
    """
    dtype = _checks.float_dtype(where, "dtype", dtype)
    if "train" not in splits:
        raise ValueError(f"{where}: splits must include 'train', got {sorted(splits)}")
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
    data["mean_image"] = mean_image
    return data


def holdout_splits(where, load, what, num_training, num_validation, num_test, subtract_mean, dtype):
    """Split a dataset that ships as train and test sets, as cs231n's ``get_CIFAR10_data`` does.

    Validation takes training rows ``num_training .. num_training + num_validation``, training
    the rows before them, test the first ``num_test`` test images.

    Parameters
    ----------
    where : str
        The public loader, for error messages.
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
    num_training = _checks.integer(where, "num_training", num_training, minimum=0)
    num_validation = _checks.integer(where, "num_validation", num_validation, minimum=0)
    num_test = _checks.integer(where, "num_test", num_test, minimum=0)
    dtype = _checks.float_dtype(where, "dtype", dtype)
    Xtr, ytr, Xte, yte = load()
    _checks.split_sizes(where, len(Xtr), f"the {what} training set",
                        num_training=num_training, num_validation=num_validation)
    _checks.split_sizes(where, len(Xte), f"the {what} test set", num_test=num_test)
    val_rows = slice(num_training, num_training + num_validation)
    splits = {"train": (Xtr[:num_training], ytr[:num_training]),
              "val": (Xtr[val_rows], ytr[val_rows]),
              "test": (Xte[:num_test], yte[:num_test])}
    return prepare_splits(where, splits, subtract_mean=subtract_mean, dtype=dtype)
