"""Max pooling, naive and fast.

Shapes: x (N, C, H, W), out (N, C, H_out, W_out) with
``H_out = 1 + (H - pool_height) / stride``; windows may overlap (stride < window).

Ties: when several elements of a window share the maximum, the whole gradient of
that window goes to the first of them in row-major order (smallest row, then
smallest column), as ``np.argmax`` over the flattened window picks it. Naive and
fast forms follow this rule exactly. With overlapping windows an element that is
the chosen maximum of several windows receives the sum of their gradients.
"""

from .._backend import array_module
from . import _checks


def max_pool_forward_naive(x, pool_param):
    """Max pooling by explicit loops over samples, channels and output positions.

    Parameters
    ----------
    x : array (N, C, H, W)
    pool_param : dict with ``pool_height``, ``pool_width`` and ``stride`` (defaults 2, 2, 2; no padding)

    Returns
    -------
    out : array (N, C, H_out, W_out)
    cache : (x, pool_param)
    """
    ph, pw, stride, H_out, W_out = _checks.pool_geometry("max_pool_forward_naive", x, pool_param)
    xp = array_module(x)
    N, C = x.shape[:2]
    out = xp.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, c, i, j] = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw].max()
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    """Backward pass of ``max_pool_forward_naive``: each window's gradient goes to its first maximum.

    Parameters
    ----------
    dout : array (N, C, H_out, W_out)
    cache : from ``max_pool_forward_naive``

    Returns
    -------
    dx : array (N, C, H, W)
    """
    x, pool_param = cache
    ph, pw, stride, H_out, W_out = _checks.pool_geometry("max_pool_backward_naive", x, pool_param)
    N, C = x.shape[:2]
    _checks.gradient("max_pool_backward_naive", dout, (N, C, H_out, W_out), x.dtype)
    xp = array_module(x)
    dx = xp.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
                    r, s = divmod(int(window.argmax()), pw)
                    dx[n, c, i * stride + r, j * stride + s] += dout[n, c, i, j]
    return dx


def _window_offsets(ph, pw):
    """Offsets (r, s) inside a pooling window, in row-major order (the tie-breaking order)."""
    return [(r, s) for r in range(ph) for s in range(pw)]


def _offset_view(a, r, s, stride, H_out, W_out):
    """The strided view of ``a`` holding element (r, s) of every pooling window."""
    return a[:, :, r:r + stride * (H_out - 1) + 1:stride, s:s + stride * (W_out - 1) + 1:stride]


def max_pool_forward_fast(x, pool_param):
    """Max pooling as a running maximum over the window offsets; same results as the naive form.

    Loops only over the ph*pw offsets inside a window, each step vectorized over
    the batch, channels and output positions, so any window and stride work.

    Parameters
    ----------
    x : array (N, C, H, W), NumPy or CuPy
    pool_param : dict with ``pool_height``, ``pool_width`` and ``stride`` (defaults 2, 2, 2)

    Returns
    -------
    out : array (N, C, H_out, W_out)
    cache : (x, out, pool_param)
    """
    ph, pw, stride, H_out, W_out = _checks.pool_geometry("max_pool_forward_fast", x, pool_param)
    xp = array_module(x)
    (r0, s0), *rest = _window_offsets(ph, pw)
    out = _offset_view(x, r0, s0, stride, H_out, W_out).copy()
    for r, s in rest:
        xp.maximum(out, _offset_view(x, r, s, stride, H_out, W_out), out=out)
    return out, (x, out, pool_param)


def max_pool_backward_fast(dout, cache):
    """Backward pass of ``max_pool_forward_fast``, with the naive form's tie rule.

    Visits the window offsets in row-major order; each window's gradient goes to
    the first offset whose value equals the window's maximum.

    Parameters
    ----------
    dout : array (N, C, H_out, W_out)
    cache : from ``max_pool_forward_fast``

    Returns
    -------
    dx : array (N, C, H, W)
    """
    x, out, pool_param = cache
    ph, pw, stride, H_out, W_out = _checks.pool_geometry("max_pool_backward_fast", x, pool_param)
    _checks.gradient("max_pool_backward_fast", dout, out.shape, x.dtype)
    xp = array_module(x)
    dx = xp.zeros_like(x)
    unclaimed = xp.ones(out.shape, dtype=bool)
    for r, s in _window_offsets(ph, pw):
        hit = _offset_view(x, r, s, stride, H_out, W_out) == out
        hit &= unclaimed
        unclaimed &= ~hit
        _offset_view(dx, r, s, stride, H_out, W_out)[...] += xp.where(hit, dout, 0)
    return dx
