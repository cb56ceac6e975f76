"""Scoring a model on images: its class scores, batch by batch, and its accuracy and loss.

The Solver's accuracy checks and a finished run's figures both come from here.
"""

import numpy as np

from tinyconv import _checks
from tinyconv._backend import array_module, to_numpy
from tinyconv.layers import softmax_loss


def scores(model, X, batch_size=200, xp=np):
    """Class scores ``(N, num_classes)`` (a NumPy array) for images ``X (N, C, H, W)``, computed ``batch_size``
    at a time in array module ``xp``, where the model's arrays are."""
    return np.concatenate([to_numpy(model.loss(xp.asarray(X[start:start + batch_size])))
                           for start in range(0, len(X), batch_size)])


def accuracy(model, X, y, batch_size=200, where="accuracy", sample=None):
    """The fraction of ``X`` that ``model`` classifies as ``y`` (None for no images), or of the rows
    ``sample`` (indices) of them, after checking that ``y`` holds one label per image in [0, number of
    scores): an (N, 1) ``y`` would otherwise be compared with the (N,) predictions as N x N, and labels the
    model cannot give make every prediction wrong. The whole ``y`` is checked, sampled or not."""
    return accuracy_and_loss(model, X, y, batch_size, where, sample)[0]


def accuracy_and_loss(model, X, y, batch_size=200, where="accuracy", sample=None):
    """:func:`accuracy`, and the mean softmax cross-entropy of the same images' scores (the data loss, without
    regularization or label smoothing), from one pass over them; (None, None) for no images."""
    _checks.array(where, "X", X)
    count = X.shape[0] if X.ndim else 0
    if len(y) != count:
        raise ValueError(f"{where}: X and y must hold the same number of samples, got {count} and {len(y)}")
    if count == 0:
        return None, None
    rows = X if sample is None else X[sample]
    labels = y if sample is None else y[sample]
    correct, loss = 0, 0.0
    for start in range(0, len(rows), batch_size):
        batch_scores = model.loss(rows[start:start + batch_size])
        if start == 0:
            _checks.labels(where, y, count, batch_scores.shape[1])
        xp = array_module(batch_scores)
        batch_labels = xp.asarray(labels[start:start + batch_size])
        correct += int((batch_scores.argmax(axis=1) == batch_labels).sum())
        loss += float(softmax_loss(batch_scores, batch_labels)[0]) * len(batch_labels)
    return correct / len(rows), loss / len(rows)
