"""2-D convolution (cross-correlation, as in cs231n and PyTorch), naive and fast.

Shapes: x (N, C, H, W), w (F, C / groups, HH, WW), b (F,), out (N, F, H_out, W_out) with
``H_out = 1 + (H + pad_top + pad_bottom - (dilation_h * (HH - 1) + 1)) / stride_h`` (cs231n's
``1 + (H + 2*pad - HH) / stride`` without dilation), and likewise for W_out.

``conv_param`` has cs231n's ``stride`` and ``pad`` (ints) and PyTorch's options beside them: ``stride`` as
an (h, w) pair, ``pad`` as an (h, w) pair, (top, bottom, left, right) or 'same' (stride 1: the output keeps
the input's size, the odd pixel of padding after), ``dilation`` (int or pair: a filter's taps that far
apart) and ``groups`` (input channels and filters split into that many groups, each filter seeing its own
group's C / groups channels; groups == C is a depthwise convolution).

The naive pair loops over every output element and reads like the definition.
The fast pair picks an algorithm from the shapes and the array module alone
(``conv_param['algorithm']`` overrides it), so that the thread setting never
changes which arithmetic runs: Winograd F(4x4, 3x3) (``_winograd.py``) for 3x3
filters at stride 1 (no dilation, one group, the same pad on every side) on NumPy
with enough channels and pixels and filter banks that are not too large, a pass per
kernel offset for a depthwise convolution (``_depthwise.py``), im2col and one matrix
product per chunk and group (``_im2col.py``) otherwise; 'winograd2' (F(2x2, 3x3)) on
request. All process the batch in chunks so that their scratch memory stays under
``workspace_limit()`` bytes whatever the batch size.
"""

from typing import NamedTuple

import numpy as np

from .. import _checks
from .._backend import array_module
from . import _depthwise, _im2col, _winograd
from ._windows import pad_spatial, window

ALGORITHMS = ("auto", "im2col", "winograd2", "winograd4", "depthwise")
# Where Winograd F(4x4) beat im2col both on one thread and on two workers (benchmarks/algorithms.py,
# float32 and float64, forward + backward): from 16 input channels and 6x6 output pixels per sample up
# (with 3 channels, or 5x5 outputs, whose tiles are mostly padding, im2col won), and with F * C up to
# 256 * 128 (F filters); at 192 * 192 and 256 * 256 im2col tied or won in float64 on two workers.
# F(2x2) was slower than F(4x4) almost everywhere on that grid.
_WINOGRAD_MIN_CHANNELS = 16
_WINOGRAD_MIN_OUTPUTS = 6 * 6
_WINOGRAD_MAX_FILTERS = 256 * 128


class ConvNaiveCache(NamedTuple):
    """What ``conv_forward_naive`` keeps for its backward."""

    x: object
    w: object
    b: object
    conv_param: dict
    forward = "conv_forward_naive"


class ConvFastCache(NamedTuple):
    """What ``conv_forward_fast`` keeps for its backward: the inputs, the algorithm it ran and what that
    algorithm saved (im2col's columns when they fit the workspace, else None; Winograd's transformed
    filters)."""

    x: object
    w: object
    b: object
    conv_param: dict
    algorithm: str
    saved: object
    forward = "conv_forward_fast"


def conv_forward_naive(x, w, b, conv_param):
    """Convolution by explicit loops over samples, filters and output positions.

    Parameters
    ----------
    x : array (N, C, H, W)
    w : array (F, C / groups, HH, WW); an integer array is converted to x's dtype
    b : array (F,); likewise
    conv_param : dict with ``stride`` (default 1), ``pad`` (default 0), ``dilation`` (default 1) and
        ``groups`` (default 1); see the module docstring

    Returns
    -------
    out : array (N, F, H_out, W_out)
    cache : for ``conv_backward_naive``
    """
    w, b, geometry = _checks.conv_geometry("conv_forward_naive", x, w, b, conv_param)
    xp = array_module(x)
    N, F = x.shape[0], w.shape[0]
    C_group, HH, WW = w.shape[1:]
    F_group = F // geometry.groups
    x_pad = pad_spatial(x, geometry.pad)
    out = xp.zeros((N, F, geometry.H_out, geometry.W_out), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            group = f // F_group  # filter f sees its group's channels only
            channels = x_pad[n, group * C_group:(group + 1) * C_group]
            for i in range(geometry.H_out):
                for j in range(geometry.W_out):
                    out[n, f, i, j] = (window(channels, i, j, geometry, HH, WW) * w[f]).sum() + b[f]
    return out, ConvNaiveCache(x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    """Backward pass of ``conv_forward_naive`` by the same loops.

    Parameters
    ----------
    dout : array (N, F, H_out, W_out)
    cache : from ``conv_forward_naive``

    Returns
    -------
    dx : array (N, C, H, W)
    dw : array (F, C / groups, HH, WW)
    db : array (F,)
    """
    x, w, b, conv_param = _checks.cache("conv_backward_naive", cache, ConvNaiveCache)
    _, _, geometry = _checks.conv_geometry("conv_backward_naive", x, w, b, conv_param)
    N, F = x.shape[0], w.shape[0]
    _checks.gradient("conv_backward_naive", dout, (N, F, geometry.H_out, geometry.W_out), x.dtype)
    xp = array_module(x)
    H, W = x.shape[2:]
    C_group, HH, WW = w.shape[1:]
    F_group = F // geometry.groups
    x_pad = pad_spatial(x, geometry.pad)
    dx_pad = xp.zeros_like(x_pad)
    dw = xp.zeros_like(w)
    for n in range(N):
        for f in range(F):
            group = slice(f // F_group * C_group, (f // F_group + 1) * C_group)
            for i in range(geometry.H_out):
                for j in range(geometry.W_out):
                    dw[f] += window(x_pad[n, group], i, j, geometry, HH, WW) * dout[n, f, i, j]
                    window(dx_pad[n, group], i, j, geometry, HH, WW)[...] += w[f] * dout[n, f, i, j]
    db = dout.sum(axis=(0, 2, 3))
    top, _, left, _ = geometry.pad
    return dx_pad[:, :, top:top + H, left:left + W], dw, db


_WINOGRAD = {"winograd2": _winograd.F2, "winograd4": _winograd.F4}


def _algorithm(where, x, w, conv_param, geometry):
    """The fast algorithm for these shapes: a key of ``_WINOGRAD``, 'depthwise' or 'im2col'.

    'auto' decides from x (N, C, H, W), w (F, C / groups, HH, WW), the geometry and the array module only:
    never from the thread setting, whose changes would otherwise change the results.
    """
    requested = conv_param.get("algorithm", "auto")
    if requested not in ALGORITHMS:
        raise ValueError(f"{where}: conv_param['algorithm'] must be one of {ALGORITHMS}, got {requested!r}")
    winograd_fits = (w.shape[2:] == (3, 3) and geometry.stride == (1, 1) and geometry.dilation == (1, 1)
                     and geometry.groups == 1 and len(set(geometry.pad)) == 1)
    if requested in _WINOGRAD and not winograd_fits:
        raise ValueError(f"{where}: the {requested!r} algorithm needs 3x3 filters, stride 1, no dilation, one "
                         f"group and one pad on every side, got filters {tuple(w.shape[2:])}, stride "
                         f"{geometry.stride}, dilation {geometry.dilation}, groups {geometry.groups} and pad "
                         f"{geometry.pad}")
    depthwise = _depthwise.applies(x, w, geometry)
    if requested == "depthwise" and not depthwise:
        raise ValueError(f"{where}: the 'depthwise' algorithm needs groups == C (of at least 2) and w of shape "
                         f"(C * m, 1, HH, WW), got groups {geometry.groups}, C {x.shape[1]} and w {tuple(w.shape)}")
    if requested == "auto":
        if depthwise:
            return "depthwise"
        F, C = w.shape[:2]
        worth_it = (C >= _WINOGRAD_MIN_CHANNELS and F * C <= _WINOGRAD_MAX_FILTERS
                    and geometry.H_out * geometry.W_out >= _WINOGRAD_MIN_OUTPUTS and array_module(x) is np)
        return "winograd4" if winograd_fits and worth_it else "im2col"
    return requested


def conv_forward_fast(x, w, b, conv_param):
    """Vectorized convolution; same results as ``conv_forward_naive``.

    Parameters
    ----------
    x : array (N, C, H, W), NumPy or CuPy
    w : array (F, C / groups, HH, WW); an integer array is converted to x's dtype
    b : array (F,); likewise
    conv_param : dict with ``stride``, ``pad``, ``dilation`` and ``groups`` (see the module docstring) and
        optionally ``algorithm``: 'auto' (default), 'im2col', 'winograd2' or 'winograd4' (Winograd F(2x2, 3x3)
        or F(4x4, 3x3); 3x3 filters, stride 1, no dilation, one group, one pad), or 'depthwise'
        (groups == C)

    Returns
    -------
    out : array (N, F, H_out, W_out)
    cache : for ``conv_backward_fast``
    """
    where = "conv_forward_fast"
    w, b, geometry = _checks.conv_geometry(where, x, w, b, conv_param)
    algorithm = _algorithm(where, x, w, conv_param, geometry)
    saved = None
    if algorithm in _WINOGRAD:
        out, saved = _winograd.forward(x, w, b, geometry.pad[0], geometry.H_out, geometry.W_out,
                                       _WINOGRAD[algorithm])
    elif algorithm == "depthwise":
        out = _depthwise.forward(x, w, b, geometry)
    else:
        out, saved = _im2col.forward(x, w, b, geometry)
    return out, ConvFastCache(x, w, b, conv_param, algorithm, saved)


def conv_backward_fast(dout, cache, need_dx=True):
    """Backward pass of ``conv_forward_fast``, by the algorithm the forward used.

    Parameters
    ----------
    dout : array (N, F, H_out, W_out)
    cache : from ``conv_forward_fast``
    need_dx : bool
        False skips the gradient of x, which a network's first layer does not need (about a third of
        the backward's work); dx is then None.

    Returns
    -------
    dx : array (N, C, H, W), or None
    dw : array (F, C / groups, HH, WW)
    db : array (F,)
    """
    where = "conv_backward_fast"
    need_dx = _checks.boolean(where, "need_dx", need_dx)
    x, w, b, conv_param, algorithm, saved = _checks.cache(where, cache, ConvFastCache)
    _, _, geometry = _checks.conv_geometry(where, x, w, b, conv_param)
    _checks.gradient(where, dout, (x.shape[0], w.shape[0], geometry.H_out, geometry.W_out), x.dtype)
    if algorithm in _WINOGRAD:
        dx, dw = _winograd.backward(dout, x, saved, geometry.pad[0], geometry.H_out, geometry.W_out,
                                    _WINOGRAD[algorithm], need_dx)
    elif algorithm == "depthwise":
        dx, dw = _depthwise.backward(dout, x, w, geometry, need_dx)
    else:
        dx, dw = _im2col.backward(dout, x, w, geometry, saved, need_dx)
    return dx, dw, dout.sum(axis=(0, 2, 3))
