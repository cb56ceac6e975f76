"""Classification losses on scores of shape (N, C)."""

from .. import _checks
from .._backend import array_module


def _check_scores(where, x, y):
    _checks.float_array(where, "x", x, 2, "(N, C)")
    _checks.labels(where, y, x.shape[0], x.shape[1])
    if x.shape[0] == 0:
        raise ValueError(f"{where}: x must hold at least one sample, got shape {tuple(x.shape)}")


def softmax_loss(x, y):
    """Softmax cross-entropy loss, averaged over the batch.

    Parameters
    ----------
    x : array (N, C), class scores
    y : integer array (N,), labels in [0, C)

    Returns
    -------
    loss : scalar of x's dtype
    dx : array (N, C), gradient of the loss with respect to x
    """
    _check_scores("softmax_loss", x, y)
    xp = array_module(x)
    N = x.shape[0]
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
    rows = xp.arange(N)
    loss = -log_probs[rows, y].sum() / N
    dx = xp.exp(log_probs)
    dx[rows, y] -= 1
    dx /= N
    return loss, dx


def svm_loss(x, y):
    """Multiclass SVM (hinge) loss with margin 1, averaged over the batch.

    Parameters
    ----------
    x : array (N, C), class scores
    y : integer array (N,), labels in [0, C)

    Returns
    -------
    loss : scalar of x's dtype
    dx : array (N, C), gradient of the loss with respect to x
    """
    _check_scores("svm_loss", x, y)
    xp = array_module(x)
    N = x.shape[0]
    rows = xp.arange(N)
    margins = xp.maximum(0, x - x[rows, y][:, None] + 1)
    margins[rows, y] = 0
    loss = margins.sum() / N
    dx = (margins > 0).astype(x.dtype)
    dx[rows, y] -= dx.sum(axis=1)
    dx /= N
    return loss, dx
