"""2-D transposed convolution (PyTorch's ``conv_transpose2d``, a "deconvolution"), naive and fast.

Shapes: x (N, C, H, W), w (C, F / groups, HH, WW) (PyTorch's layout: input channels first), b (F,),
out (N, F, H_out, W_out) with
``H_out = (H - 1) * stride - 2 * pad + dilation * (HH - 1) + output_padding + 1`` and likewise for W_out.

Each input pixel scatters its value times every filter tap into the output: pixel (i, j) adds
``x[n, c, i, j] * w[c, f, kh, kw]`` at ``(i * stride + kh * dilation, j * stride + kw * dilation)`` of the
output before ``pad`` is cropped from every side; ``output_padding`` (less than the stride or the dilation)
adds rows and columns after, which say which of the input sizes a strided convolution maps to the same
output the transposed one should give back. So it is the input gradient of the convolution with the same
filters, stride, pad, dilation and groups, and its own gradients are that convolution's forward (dx) and
filter gradient (dw): the fast pair runs exactly those on im2col's columns (``_im2col.py``).

``conv_param`` takes ``stride``, ``pad``, ``dilation`` and ``output_padding`` (each an int or an (h, w)
pair) and ``groups``.
"""

from typing import NamedTuple

from .. import _checks
from .._backend import array_module
from . import _im2col
from ._windows import window


class ConvTransposeNaiveCache(NamedTuple):
    """What ``conv_transpose_forward_naive`` keeps for its backward."""

    x: object
    w: object
    b: object
    conv_param: dict
    forward = "conv_transpose_forward_naive"


class ConvTransposeFastCache(NamedTuple):
    """What ``conv_transpose_forward_fast`` keeps for its backward."""

    x: object
    w: object
    b: object
    conv_param: dict
    forward = "conv_transpose_forward_fast"


def _scatter_loops(x, w, geometry, out_pad, dx=None, dw=None, dout_pad=None):
    """The loops of the definition: every input pixel and filter tap. With ``out_pad`` (the output before
    the pad is cropped) they scatter x into it; with ``dout_pad`` they gather its gradient into ``dx`` and
    ``dw`` instead."""
    conv = geometry.conv
    N, C, H, W = x.shape
    F_group, HH, WW = w.shape[1:]
    C_group = C // conv.groups
    for n in range(N):
        for c in range(C):
            filters = slice(c // C_group * F_group, (c // C_group + 1) * F_group)  # the filters of c's group
            for i in range(H):
                for j in range(W):
                    if dout_pad is None:  # out[window] += x * w[c], for each filter of the group
                        window(out_pad[n, filters], i, j, conv, HH, WW)[...] += x[n, c, i, j] * w[c]
                    else:
                        seen = window(dout_pad[n, filters], i, j, conv, HH, WW)
                        dx[n, c, i, j] = (seen * w[c]).sum()
                        dw[c] += x[n, c, i, j] * seen


def _padded_size(geometry):
    """The output's height and width before the pad is cropped from every side."""
    top, bottom, left, right = geometry.conv.pad
    return geometry.H_out + top + bottom, geometry.W_out + left + right


def conv_transpose_forward_naive(x, w, b, conv_param):
    """Transposed convolution by explicit loops over samples, input channels and input pixels.

    Parameters
    ----------
    x : array (N, C, H, W)
    w : array (C, F / groups, HH, WW); an integer array is converted to x's dtype
    b : array (F,); likewise
    conv_param : dict with ``stride``, ``pad``, ``dilation``, ``output_padding`` (ints or (h, w) pairs,
        defaults 1, 0, 1, 0) and ``groups`` (default 1)

    Returns
    -------
    out : array (N, F, H_out, W_out)
    cache : for ``conv_transpose_backward_naive``
    """
    w, b, geometry = _checks.conv_transpose_geometry("conv_transpose_forward_naive", x, w, b, conv_param)
    xp = array_module(x)
    F = b.shape[0]
    top, _, left, _ = geometry.conv.pad
    out_pad = xp.zeros((x.shape[0], F, *_padded_size(geometry)), dtype=x.dtype)
    _scatter_loops(x, w, geometry, out_pad)
    out = out_pad[:, :, top:top + geometry.H_out, left:left + geometry.W_out] + b[:, None, None]
    return out, ConvTransposeNaiveCache(x, w, b, conv_param)


def conv_transpose_backward_naive(dout, cache):
    """Backward pass of ``conv_transpose_forward_naive`` by the same loops.

    Parameters
    ----------
    dout : array (N, F, H_out, W_out)
    cache : from ``conv_transpose_forward_naive``

    Returns
    -------
    dx : array (N, C, H, W)
    dw : array (C, F / groups, HH, WW)
    db : array (F,)
    """
    where = "conv_transpose_backward_naive"
    x, w, b, conv_param = _checks.cache(where, cache, ConvTransposeNaiveCache)
    _, _, geometry = _checks.conv_transpose_geometry(where, x, w, b, conv_param)
    _checks.gradient(where, dout, (x.shape[0], b.shape[0], geometry.H_out, geometry.W_out), x.dtype)
    xp = array_module(x)
    top, _, left, _ = geometry.conv.pad
    dout_pad = xp.zeros((*dout.shape[:2], *_padded_size(geometry)), dtype=dout.dtype)
    dout_pad[:, :, top:top + geometry.H_out, left:left + geometry.W_out] = dout
    dx, dw = xp.zeros_like(x), xp.zeros_like(w)
    _scatter_loops(x, w, geometry, None, dx, dw, dout_pad)
    return dx, dw, dout.sum(axis=(0, 2, 3))


def conv_transpose_forward_fast(x, w, b, conv_param):
    """Vectorized transposed convolution; same results as ``conv_transpose_forward_naive``.

    Parameters
    ----------
    x : array (N, C, H, W), NumPy or CuPy
    w : array (C, F / groups, HH, WW); an integer array is converted to x's dtype
    b : array (F,); likewise
    conv_param : as for ``conv_transpose_forward_naive``

    Returns
    -------
    out : array (N, F, H_out, W_out)
    cache : for ``conv_transpose_backward_fast``
    """
    w, b, geometry = _checks.conv_transpose_geometry("conv_transpose_forward_fast", x, w, b, conv_param)
    return _im2col.transpose_forward(x, w, b, geometry), ConvTransposeFastCache(x, w, b, conv_param)


def conv_transpose_backward_fast(dout, cache, need_dx=True):
    """Backward pass of ``conv_transpose_forward_fast``.

    Parameters
    ----------
    dout : array (N, F, H_out, W_out)
    cache : from ``conv_transpose_forward_fast``
    need_dx : bool
        False skips the gradient of x; dx is then None.

    Returns
    -------
    dx : array (N, C, H, W), or None
    dw : array (C, F / groups, HH, WW)
    db : array (F,)
    """
    where = "conv_transpose_backward_fast"
    need_dx = _checks.boolean(where, "need_dx", need_dx)
    x, w, b, conv_param = _checks.cache(where, cache, ConvTransposeFastCache)
    _, _, geometry = _checks.conv_transpose_geometry(where, x, w, b, conv_param)
    _checks.gradient(where, dout, (x.shape[0], b.shape[0], geometry.H_out, geometry.W_out), x.dtype)
    dx, dw = _im2col.transpose_backward(dout, x, w, geometry, need_dx)
    return dx, dw, dout.sum(axis=(0, 2, 3))
