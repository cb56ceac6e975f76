"""Pooling: max and average pooling, naive and fast, and global average pooling.

Shapes: x (N, C, H, W), out (N, C, H_out, W_out) with
``H_out = 1 + (H + 2*pad - pool_height) / stride``; windows may overlap (stride < window).
Max pooling takes no padding (as in cs231n); average pooling takes zero padding, which
counts in the average (as PyTorch's default).

Max-pool ties: when several elements of a window share the maximum, the whole gradient of
that window goes to the first of them in row-major order (smallest row, then
smallest column). Naive and fast forms follow this rule exactly. With
overlapping windows an element that is the chosen maximum of several windows
receives the sum of their gradients. A window whose maximum is NaN passes no
gradient (no element compares equal to NaN).
"""

from typing import NamedTuple

from .. import _checks
from .._backend import array_module
from ._windows import offset_view, pad_spatial
from ._workspace import map_batch_chunks


class MaxPoolNaiveCache(NamedTuple):
    """What ``max_pool_forward_naive`` keeps for its backward."""

    x: object
    pool_param: dict
    forward = "max_pool_forward_naive"


class MaxPoolFastCache(NamedTuple):
    """What ``max_pool_forward_fast`` keeps for its backward: the input, the output and the parameters."""

    x: object
    out: object
    pool_param: dict
    forward = "max_pool_forward_fast"


def max_pool_forward_naive(x, pool_param):
    """Max pooling by explicit loops over samples, channels and output positions.

    Parameters
    ----------
    x : array (N, C, H, W)
    pool_param : dict with ``pool_height``, ``pool_width`` and ``stride`` (defaults 2, 2, 2; no padding)

    Returns
    -------
    out : array (N, C, H_out, W_out)
    cache : for ``max_pool_backward_naive``
    """
    ph, pw, stride, _, H_out, W_out = _checks.pool_geometry("max_pool_forward_naive", x, pool_param)
    xp = array_module(x)
    N, C = x.shape[:2]
    out = xp.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, c, i, j] = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw].max()
    return out, MaxPoolNaiveCache(x, pool_param)


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
    x, pool_param = _checks.cache("max_pool_backward_naive", cache, MaxPoolNaiveCache)
    ph, pw, stride, _, H_out, W_out = _checks.pool_geometry("max_pool_backward_naive", x, pool_param)
    N, C = x.shape[:2]
    _checks.gradient("max_pool_backward_naive", dout, (N, C, H_out, W_out), x.dtype)
    xp = array_module(x)
    dx = xp.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
                    maxima = xp.flatnonzero(window == window.max())  # row-major order
                    if maxima.size:
                        r, s = divmod(int(maxima[0]), pw)
                        dx[n, c, i * stride + r, j * stride + s] += dout[n, c, i, j]
    return dx


def _window_offsets(ph, pw):
    """Offsets (r, s) inside a pooling window, in row-major order (the tie-breaking order)."""
    return [(r, s) for r in range(ph) for s in range(pw)]


def _running_max(x, ph, pw, stride, out):
    """out (n, C, H_out, W_out) = the maximum over the window offsets of x (n, C, H, W)."""
    xp = array_module(x)
    H_out, W_out = out.shape[2:]
    (r0, s0), *rest = _window_offsets(ph, pw)
    out[...] = offset_view(x, r0, s0, stride, H_out, W_out)
    for r, s in rest:
        xp.maximum(out, offset_view(x, r, s, stride, H_out, W_out), out=out)


def _route_to_first_maximum(dout, x, out, ph, pw, stride, dx):
    """Fill dx (n, C, H, W): each window's gradient to the first offset that holds the window's maximum."""
    xp = array_module(x)
    H_out, W_out = out.shape[2:]
    overlapping = stride < max(ph, pw)
    if stride != ph or stride != pw:
        dx[...] = 0  # windows that tile x exactly write every element once, with no zero fill first
    is_max = xp.empty(out.shape, dtype=bool)
    unclaimed = xp.ones(out.shape, dtype=bool)
    routed = xp.empty_like(dout) if overlapping else None
    for r, s in _window_offsets(ph, pw):
        xp.equal(offset_view(x, r, s, stride, H_out, W_out), out, out=is_max)
        is_max &= unclaimed  # the first maximum of each window only
        unclaimed ^= is_max
        target = offset_view(dx, r, s, stride, H_out, W_out)
        if overlapping:
            target += xp.multiply(dout, is_max, out=routed)
        else:
            xp.multiply(dout, is_max, out=target)


def _bytes_per_sample(x):
    # The input sample, plus its output, gradient and masks at most as large again.
    return 2 * x[:1].nbytes


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
    cache : for ``max_pool_backward_fast``
    """
    ph, pw, stride, _, H_out, W_out = _checks.pool_geometry("max_pool_forward_fast", x, pool_param)
    xp = array_module(x)
    out = xp.empty((*x.shape[:2], H_out, W_out), dtype=x.dtype)
    map_batch_chunks(xp, lambda chunk: _running_max(x[chunk], ph, pw, stride, out[chunk]),
                     x.shape[0], _bytes_per_sample(x), x.nbytes)
    return out, MaxPoolFastCache(x, out, pool_param)


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
    x, out, pool_param = _checks.cache("max_pool_backward_fast", cache, MaxPoolFastCache)
    ph, pw, stride, _, H_out, W_out = _checks.pool_geometry("max_pool_backward_fast", x, pool_param)
    _checks.gradient("max_pool_backward_fast", dout, out.shape, x.dtype)
    xp = array_module(x)
    dx = xp.empty_like(x)
    map_batch_chunks(
        xp, lambda chunk: _route_to_first_maximum(dout[chunk], x[chunk], out[chunk], ph, pw, stride, dx[chunk]),
        x.shape[0], _bytes_per_sample(x), x.nbytes,
    )
    return dx


# --- average pooling ---------------------------------------------------------------------------------

_AVG_POOL_KEYS = ("pool_height", "pool_width", "stride", "pad")


class AvgPoolCache(NamedTuple):
    """What the average pools keep for their backward: the input's shape and dtype and the parameters."""

    shape: tuple
    dtype: object
    pool_param: dict
    forward = "avg_pool_forward_naive or avg_pool_forward_fast"


def _avg_pool_window(where, shape, pool_param):
    """Validate an average pool's parameters for input ``shape``; return ``(ph, pw, stride, pad, H_out, W_out)``."""
    ph, pw, stride, pad, H_out, W_out = _checks.pool_window(where, shape, pool_param, _AVG_POOL_KEYS)
    if 2 * pad > min(ph, pw):
        raise ValueError(f"{where}: pool_param['pad'] = {pad} must be at most half the window "
                         f"({ph}x{pw}), or some windows would hold nothing but padding")
    return ph, pw, stride, pad, H_out, W_out


def _avg_pool_geometry(where, x, pool_param):
    _checks.float_array(where, "x", x, 4, "(N, C, H, W)")
    geometry = _avg_pool_window(where, x.shape, pool_param)
    _checks.padded_input_fits(where, x, geometry[3])
    return geometry


def _backward_geometry(where, dout, cache):
    shape, dtype, pool_param = _checks.cache(where, cache, AvgPoolCache)
    geometry = _avg_pool_window(where, shape, pool_param)
    _checks.gradient(where, dout, (*shape[:2], *geometry[4:]), dtype)
    return shape, dtype, geometry


def avg_pool_forward_naive(x, pool_param):
    """Average pooling by explicit loops over samples, channels and output positions.

    Zero padding counts in the average (as in PyTorch's default, ``count_include_pad=True``).

    Parameters
    ----------
    x : array (N, C, H, W)
    pool_param : dict with ``pool_height``, ``pool_width``, ``stride`` (defaults 2, 2, 2) and ``pad``
        (default 0, zeros on all four sides, at most half the window)

    Returns
    -------
    out : array (N, C, H_out, W_out), ``H_out = 1 + (H + 2*pad - pool_height) / stride``
    cache : for ``avg_pool_backward_naive``
    """
    ph, pw, stride, pad, H_out, W_out = _avg_pool_geometry("avg_pool_forward_naive", x, pool_param)
    xp = array_module(x)
    N, C = x.shape[:2]
    x_pad = pad_spatial(x, pad)
    out = xp.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, c, i, j] = x_pad[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw].mean()
    return out, AvgPoolCache(x.shape, x.dtype, pool_param)


def avg_pool_backward_naive(dout, cache):
    """Backward pass of the average pools by loops: each window spreads its gradient evenly over its cells.

    Parameters
    ----------
    dout : array (N, C, H_out, W_out)
    cache : from ``avg_pool_forward_naive`` (or ``avg_pool_forward_fast``: they keep the same cache)

    Returns
    -------
    dx : array (N, C, H, W)
    """
    shape, dtype, (ph, pw, stride, pad, H_out, W_out) = _backward_geometry("avg_pool_backward_naive", dout, cache)
    xp = array_module(dout)
    N, C, H, W = shape
    dx_pad = xp.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    dx_pad[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw] += dout[n, c, i, j] / (ph * pw)
    return dx_pad[:, :, pad:pad + H, pad:pad + W]


def avg_pool_forward_fast(x, pool_param):
    """Average pooling as a running sum over the window offsets; same results as the naive form.

    Parameters and returns as ``avg_pool_forward_naive``; x may be a NumPy or CuPy array.
    """
    ph, pw, stride, pad, H_out, W_out = _avg_pool_geometry("avg_pool_forward_fast", x, pool_param)
    xp = array_module(x)
    x_pad = pad_spatial(x, pad) if pad else x
    out = xp.zeros((*x.shape[:2], H_out, W_out), dtype=x.dtype)
    for r, s in _window_offsets(ph, pw):
        out += offset_view(x_pad, r, s, stride, H_out, W_out)
    out *= x.dtype.type(1 / (ph * pw))
    return out, AvgPoolCache(x.shape, x.dtype, pool_param)


def avg_pool_backward_fast(dout, cache):
    """Backward pass of the average pools: dout / (ph * pw) added into every window offset at once.

    Parameters and returns as ``avg_pool_backward_naive``.
    """
    shape, dtype, (ph, pw, stride, pad, H_out, W_out) = _backward_geometry("avg_pool_backward_fast", dout, cache)
    xp = array_module(dout)
    N, C, H, W = shape
    share = dout * dtype.type(1 / (ph * pw))
    dx_pad = xp.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=dtype)
    for r, s in _window_offsets(ph, pw):
        offset_view(dx_pad, r, s, stride, H_out, W_out)[...] += share
    return dx_pad[:, :, pad:pad + H, pad:pad + W] if pad else dx_pad


# --- global average pooling --------------------------------------------------------------------------


class GlobalAvgPoolCache(NamedTuple):
    """What ``global_avg_pool_forward`` keeps for its backward: the input's shape and dtype."""

    shape: tuple
    dtype: object
    forward = "global_avg_pool_forward"


def global_avg_pool_forward(x):
    """The mean of every feature map: x (N, C, H, W) -> out (N, C), cache."""
    _checks.float_array("global_avg_pool_forward", "x", x, 4, "(N, C, H, W)")
    if x.shape[2] * x.shape[3] == 0:
        raise ValueError(f"global_avg_pool_forward: x has empty feature maps, shape {tuple(x.shape)}")
    return x.mean(axis=(2, 3)), GlobalAvgPoolCache(x.shape, x.dtype)


def global_avg_pool_backward(dout, cache):
    """Backward pass of ``global_avg_pool_forward``: dout (N, C) -> dx (N, C, H, W), each map's gradient
    spread evenly over its H * W cells."""
    shape, dtype = _checks.cache("global_avg_pool_backward", cache, GlobalAvgPoolCache)
    _checks.gradient("global_avg_pool_backward", dout, shape[:2], dtype)
    xp = array_module(dout)
    share = dout * dtype.type(1 / (shape[2] * shape[3]))
    return xp.broadcast_to(share[:, :, None, None], shape).copy()
