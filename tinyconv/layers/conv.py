"""2-D convolution (cross-correlation, as in cs231n and PyTorch), naive and fast.

Shapes: x (N, C, H, W), w (F, C, HH, WW), b (F,), out (N, F, H_out, W_out) with
``H_out = 1 + (H + 2*pad - HH) / stride`` and likewise for W_out.

The naive pair loops over every output element and reads like the definition.
The fast pair is im2col: it copies each of the HH*WW kernel offsets' strided
views of the padded input into a column matrix and does one matrix product;
the backward scatters the column gradients back the same way, one strided add
per kernel offset. The batch is processed in chunks so that the workspace
stays under ``workspace_limit()`` bytes whatever the batch size.
"""

import contextlib

from .._backend import array_module
from . import _checks

_WORKSPACE_LIMIT = [64 * 2**20]


def workspace_limit():
    """Bytes of scratch memory one fast conv call may use (the batch is chunked to fit)."""
    return _WORKSPACE_LIMIT[0]


@contextlib.contextmanager
def limit_workspace(nbytes):
    """Temporarily set the fast conv workspace limit to ``nbytes``, e.g. ``with limit_workspace(16 * 2**20):``."""
    nbytes = _checks.integer("limit_workspace", "nbytes", nbytes, 1)
    previous = _WORKSPACE_LIMIT[0]
    _WORKSPACE_LIMIT[0] = nbytes
    try:
        yield
    finally:
        _WORKSPACE_LIMIT[0] = previous


def _pad(x, pad):
    xp = array_module(x)
    return xp.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


def conv_forward_naive(x, w, b, conv_param):
    """Convolution by explicit loops over samples, filters and output positions.

    Parameters
    ----------
    x : array (N, C, H, W)
    w : array (F, C, HH, WW)
    b : array (F,)
    conv_param : dict with ``stride`` (default 1) and ``pad`` (default 0, zeros on all four sides)

    Returns
    -------
    out : array (N, F, H_out, W_out)
    cache : (x, w, b, conv_param)
    """
    stride, pad, H_out, W_out = _checks.conv_geometry("conv_forward_naive", x, w, b, conv_param)
    xp = array_module(x)
    N, F = x.shape[0], w.shape[0]
    HH, WW = w.shape[2:]
    x_pad = _pad(x, pad)
    out = xp.zeros((N, F, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = (window * w[f]).sum() + b[f]
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    """Backward pass of ``conv_forward_naive`` by the same loops.

    Parameters
    ----------
    dout : array (N, F, H_out, W_out)
    cache : from ``conv_forward_naive``

    Returns
    -------
    dx : array (N, C, H, W)
    dw : array (F, C, HH, WW)
    db : array (F,)
    """
    x, w, b, conv_param = cache
    stride, pad, H_out, W_out = _checks.conv_geometry("conv_backward_naive", x, w, b, conv_param)
    N, F = x.shape[0], w.shape[0]
    _checks.gradient("conv_backward_naive", dout, (N, F, H_out, W_out), x.dtype)
    xp = array_module(x)
    H, W = x.shape[2:]
    HH, WW = w.shape[2:]
    x_pad = _pad(x, pad)
    dx_pad = xp.zeros_like(x_pad)
    dw = xp.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    rows = slice(i * stride, i * stride + HH)
                    cols = slice(j * stride, j * stride + WW)
                    dw[f] += x_pad[n, :, rows, cols] * dout[n, f, i, j]
                    dx_pad[n, :, rows, cols] += w[f] * dout[n, f, i, j]
    db = dout.sum(axis=(0, 2, 3))
    return dx_pad[:, :, pad:pad + H, pad:pad + W], dw, db


def _offset_view(a, kh, kw, stride, H_out, W_out):
    """The strided view of ``a[..., H, W]`` that kernel offset (kh, kw) sees at every output position."""
    return a[..., kh:kh + stride * (H_out - 1) + 1:stride, kw:kw + stride * (W_out - 1) + 1:stride]


def _im2col(x, HH, WW, stride, pad, H_out, W_out):
    """Columns of x: an array (C, HH, WW, n, H_out, W_out), reshaped by callers to (C*HH*WW, n*H_out*W_out)."""
    xp = array_module(x)
    n, C, H, W = x.shape
    # Channel-major padded copy, so each offset's copy below keeps the axis order of its target.
    x_pad = xp.zeros((C, n, H + 2 * pad, W + 2 * pad), dtype=x.dtype)
    x_pad[:, :, pad:pad + H, pad:pad + W] = x.transpose(1, 0, 2, 3)
    cols = xp.empty((C, HH, WW, n, H_out, W_out), dtype=x.dtype)
    for kh in range(HH):
        for kw in range(WW):
            cols[:, kh, kw] = _offset_view(x_pad, kh, kw, stride, H_out, W_out)
    return cols


def _col2im(dcols, x_shape, stride, pad):
    """Adjoint of ``_im2col``: sum the column gradients (C, HH, WW, n, H_out, W_out) into dx (n, C, H, W)."""
    xp = array_module(dcols)
    C, HH, WW, n, H_out, W_out = dcols.shape
    H, W = x_shape[2:]
    dx_pad = xp.zeros((C, n, H + 2 * pad, W + 2 * pad), dtype=dcols.dtype)
    for kh in range(HH):
        for kw in range(WW):
            _offset_view(dx_pad, kh, kw, stride, H_out, W_out)[...] += dcols[:, kh, kw]
    return dx_pad[:, :, pad:pad + H, pad:pad + W].transpose(1, 0, 2, 3)


def _batch_chunks(x, w, stride, pad, H_out, W_out):
    """Slices of the batch whose im2col workspace fits ``workspace_limit()`` (at least one sample each)."""
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    # Per sample: the columns and their gradient, the padded input and its gradient, the output block.
    per_sample = (2 * C * HH * WW * H_out * W_out + 2 * C * (H + 2 * pad) * (W + 2 * pad)
                  + 2 * F * H_out * W_out) * x.itemsize
    step = max(1, workspace_limit() // per_sample)
    return [slice(start, min(start + step, N)) for start in range(0, N, step)]


def conv_forward_fast(x, w, b, conv_param):
    """Convolution by im2col and one matrix product per batch chunk; same results as ``conv_forward_naive``.

    Parameters
    ----------
    x : array (N, C, H, W), NumPy or CuPy
    w : array (F, C, HH, WW)
    b : array (F,)
    conv_param : dict with ``stride`` (default 1) and ``pad`` (default 0)

    Returns
    -------
    out : array (N, F, H_out, W_out)
    cache : (x, w, b, conv_param)
    """
    stride, pad, H_out, W_out = _checks.conv_geometry("conv_forward_fast", x, w, b, conv_param)
    xp = array_module(x)
    N, F = x.shape[0], w.shape[0]
    HH, WW = w.shape[2:]
    w_rows = w.reshape(F, -1)
    out = xp.empty((N, F, H_out, W_out), dtype=x.dtype)
    for chunk in _batch_chunks(x, w, stride, pad, H_out, W_out):
        cols = _im2col(x[chunk], HH, WW, stride, pad, H_out, W_out)
        block = w_rows @ cols.reshape(w_rows.shape[1], -1)
        block += b[:, None]
        out[chunk] = block.reshape(F, -1, H_out, W_out).transpose(1, 0, 2, 3)
    return out, (x, w, b, conv_param)


def conv_backward_fast(dout, cache):
    """Backward pass of ``conv_forward_fast``; the columns are rebuilt per chunk rather than cached.

    Parameters
    ----------
    dout : array (N, F, H_out, W_out)
    cache : from ``conv_forward_fast``

    Returns
    -------
    dx : array (N, C, H, W)
    dw : array (F, C, HH, WW)
    db : array (F,)
    """
    x, w, b, conv_param = cache
    stride, pad, H_out, W_out = _checks.conv_geometry("conv_backward_fast", x, w, b, conv_param)
    N, F = x.shape[0], w.shape[0]
    _checks.gradient("conv_backward_fast", dout, (N, F, H_out, W_out), x.dtype)
    xp = array_module(x)
    HH, WW = w.shape[2:]
    w_rows = w.reshape(F, -1)
    dw_rows = xp.zeros_like(w_rows)
    dx = xp.empty_like(x)
    for chunk in _batch_chunks(x, w, stride, pad, H_out, W_out):
        cols = _im2col(x[chunk], HH, WW, stride, pad, H_out, W_out)
        dout_rows = dout[chunk].transpose(1, 0, 2, 3).reshape(F, -1)
        dw_rows += dout_rows @ cols.reshape(w_rows.shape[1], -1).T
        dcols = (w_rows.T @ dout_rows).reshape(cols.shape)
        dx[chunk] = _col2im(dcols, x.shape, stride, pad)
    return dx, dw_rows.reshape(w.shape), dout.sum(axis=(0, 2, 3))
