"""Scoring a model on images: its class scores and predictions, batch by batch, and its accuracy.

The Solver's accuracy checks and a finished run's figures both come from here.
"""

import numpy as np

from tinyconv import _checks
from tinyconv._backend import array_module, to_numpy


def scores(model, X, batch_size=200, xp=np):
    """Class scores ``(N, num_classes)`` (a NumPy array) for images ``X (N, C, H, W)``, computed ``batch_size``
    at a time in array module ``xp``, where the model's arrays are."""
    return np.concatenate([to_numpy(model.loss(xp.asarray(X[start:start + batch_size])))
                           for start in range(0, len(X), batch_size)])


def predictions(model, X, batch_size=200):
    """The class each image of ``X (N, ...)`` scores highest, in X's array module, and the number of classes
    the model scores; computed ``batch_size`` images at a time to bound memory."""
    chosen, num_classes = [], 0
    for start in range(0, len(X), batch_size):
        batch_scores = model.loss(X[start:start + batch_size])
        num_classes = batch_scores.shape[1]
        chosen.append(batch_scores.argmax(axis=1))
    return array_module(X).concatenate(chosen), num_classes


def accuracy(model, X, y, batch_size=200, where="accuracy", sample=None):
    """The fraction of ``X`` that ``model`` classifies as ``y`` (None for no images), or of the rows
    ``sample`` (indices) of them, after checking that ``y`` holds one label per image in [0, number of
    scores): an (N, 1) ``y`` would otherwise be compared with the (N,) predictions as N x N, and labels the
    model cannot give make every prediction wrong. The whole ``y`` is checked, sampled or not."""
    _checks.array(where, "X", X)
    count = X.shape[0] if X.ndim else 0
    if len(y) != count:
        raise ValueError(f"{where}: X and y must hold the same number of samples, got {count} and {len(y)}")
    if count == 0:
        return None
    chosen, num_classes = predictions(model, X if sample is None else X[sample], batch_size)
    _checks.labels(where, y, count, num_classes)
    return float(np.mean(chosen == (y if sample is None else y[sample])))
