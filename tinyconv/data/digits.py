"""The UCI handwritten digits, bundled with tinyconv: 1,797 8x8 grayscale images of 10 digits.

Source and license (CC BY 4.0) are in DIGITS_LICENSE.txt next to this file.
"""

from importlib import resources

import numpy as np

from .. import _checks
from ._prepare import prepare_splits

NUM_DIGITS = 1797
DIGIT_SHAPE = (8, 8)


def load_digits():
    """Load the bundled digits.

    Returns
    -------
    images : ndarray of uint8, shape (1797, 8, 8, 1)
        NHWC images; each value 0..16 counts the set pixels of a 4x4 block of the original
        32x32 bitmap.
    labels : ndarray of int64, shape (1797,)
        The digit 0..9 each image shows.
    """
    with resources.files(__package__).joinpath("digits.npz").open("rb") as file:
        with np.load(file, allow_pickle=False) as archive:
            images, labels = archive["images"], archive["labels"]
    if images.shape != (NUM_DIGITS, *DIGIT_SHAPE) or labels.shape != (NUM_DIGITS,):
        raise ValueError(f"digits.npz is damaged: images {images.shape}, labels {labels.shape}")
    return images[..., np.newaxis], labels.astype(np.int64)


def stratified_order(labels, seed):
    """Return a permutation of ``range(len(labels))`` whose every prefix mixes classes evenly.

    Samples are shuffled within each class with ``seed``; then each sample is placed at the
    fraction of its class it completes, so any leading slice holds each class in proportion.

    Parameters
    ----------
    labels : ndarray of int, shape (N,)
    seed : int

    Returns
    -------
    ndarray of int, shape (N,)
    """
    shuffled = np.random.default_rng(seed).permutation(len(labels))
    position = np.empty(len(labels))
    for label in np.unique(labels):
        members = shuffled[labels[shuffled] == label]
        position[members] = (np.arange(len(members)) + 0.5) / len(members)
    return shuffled[np.argsort(position[shuffled], kind="stable")]


def get_digits_data(num_validation=200, num_test=200, subtract_mean=True, dtype=np.float32, seed=0):
    """The bundled digits, split and preprocessed like ``get_CIFAR10_data``.

    The validation and test rows are drawn first from a seeded, class-stratified order; the
    remaining 1797 - num_validation - num_test rows are the training split.

    Parameters
    ----------
    num_validation, num_test : int
        Sizes of the validation and test splits.
    subtract_mean : bool
        Subtract the mean training image from every split.
    dtype : float32 or float64
        dtype of the returned images.
    seed : int
        Seed of the split; the same seed gives the same split.

    Returns
    -------
    dict
        ``X_train, X_val, X_test`` of shape ``(N, 1, 8, 8)`` and ``y_train, y_val, y_test``
        int64 of shape ``(N,)``.
    """
    where = "get_digits_data"
    num_validation = _checks.integer(where, "num_validation", num_validation, minimum=0)
    num_test = _checks.integer(where, "num_test", num_test, minimum=0)
    seed = _checks.integer(where, "seed", seed, minimum=0)
    _checks.split_sizes(where, NUM_DIGITS - 1, "the digits (one must stay for training)",
                      num_validation=num_validation, num_test=num_test)
    images, labels = load_digits()
    order = stratified_order(labels, seed)
    val_rows = order[:num_validation]
    test_rows = order[num_validation:num_validation + num_test]
    train_rows = order[num_validation + num_test:]
    splits = {name: (images[rows], labels[rows])
              for name, rows in (("train", train_rows), ("val", val_rows), ("test", test_rows))}
    return prepare_splits(where, splits, subtract_mean=subtract_mean, dtype=dtype)
