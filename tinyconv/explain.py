"""Why a model predicted what it did: saliency maps.

A saliency map (Simonyan, Vedaldi and Zisserman, "Deep Inside Convolutional Networks", 2014; cs231n
assignment 3) is the size of the gradient of one class's score with respect to each input pixel, the
largest over the pixel's channels: the pixels whose change would change that score most. tinyconv computes
it with the model's own backward passes, in test mode (``Model.input_gradient``).
"""

import numpy as np

from tinyconv import _checks


def saliency(model, X, y=None):
    """Saliency maps ``(N, H, W)`` of images ``X (N, C, H, W)`` for the classes ``y (N,)`` (default: each
    image's predicted class), in X's dtype: ``|d score[y] / d X|``, the largest over the channels.

    ``model`` is a tinyconv model (one with ``input_gradient``); X is prepared as its training images were
    (the mean image subtracted).
    """
    where = "saliency"
    if not callable(getattr(model, "input_gradient", None)):
        raise TypeError(f"{where}: model must be a tinyconv model (with input_gradient), got "
                        f"{_checks.describe(model)}")
    _checks.float_array(where, "X", X, 4, "(N, C, H, W)")
    scores = model.loss(X)
    if y is None:
        y = scores.argmax(axis=1)
    y = np.asarray(y)
    _checks.labels(where, y, len(X), scores.shape[1])
    dscores = np.zeros_like(scores)
    dscores[np.arange(len(X)), y] = 1
    _, dX = model.input_gradient(X, dscores)
    return np.abs(dX).max(axis=1)
