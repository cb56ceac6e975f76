"""Classification losses on scores of shape (N, C)."""

from .. import _checks
from .._backend import array_module


def _check_scores(where, x, y):
    _checks.float_array(where, "x", x, 2, "(N, C)")
    _checks.labels(where, y, x.shape[0], x.shape[1])
    if x.shape[0] == 0:
        raise ValueError(f"{where}: x must hold at least one sample, got shape {tuple(x.shape)}")


def softmax_loss(x, y, label_smoothing=0.0):
    """Softmax cross-entropy loss, averaged over the batch.

    With ``label_smoothing`` e the target of each sample is ``1 - e`` on its label plus ``e / C`` spread over
    all C classes, as in ``torch.nn.functional.cross_entropy(x, y, label_smoothing=e)``.

    Parameters
    ----------
    x : array (N, C), class scores
    y : integer array (N,), labels in [0, C)
    label_smoothing : float in [0, 1]

    Returns
    -------
    loss : scalar of x's dtype
    dx : array (N, C), gradient of the loss with respect to x
    """
    where = "softmax_loss"
    _check_scores(where, x, y)
    smoothing = _checks.real(where, "label_smoothing", label_smoothing, minimum=0, maximum=1)
    xp = array_module(x)
    N, C = x.shape
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
    rows = xp.arange(N)
    # The loss's two parts: -log p(label) weighted 1 - e, and the mean of -log p over the classes weighted e.
    loss = -log_probs[rows, y].sum() / N
    if smoothing:
        loss = (1 - smoothing) * loss - smoothing * log_probs.mean(axis=1).sum() / N
    dx = xp.exp(log_probs)
    if smoothing:
        dx -= smoothing / C
    dx[rows, y] -= 1 - smoothing
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
