"""Affine (fully connected) and ReLU layers."""

import math
from typing import NamedTuple

from .. import _checks
from .._backend import array_module
from .._parallel import blas_held
from ._workspace import map_batch_chunks, map_rows


class AffineCache(NamedTuple):
    """What ``affine_forward`` keeps for its backward."""

    x: object
    w: object
    forward = "affine_forward"


class ReluCache(NamedTuple):
    """What ``relu_forward`` keeps for its backward: its output, which is positive exactly where x is. Keeping
    the output rather than x lets x go once nothing else needs it, as in PyTorch."""

    out: object
    forward = "relu_forward"


def affine_forward(x, w, b):
    """Fully connected layer: ``out = x.reshape(N, D) @ w + b``.

    Parameters
    ----------
    x : array (N, d_1, ..., d_k), with D = d_1 * ... * d_k
    w : array (D, M); an integer array is converted to x's dtype
    b : array (M,); likewise

    Returns
    -------
    out : array (N, M)
    cache : for ``affine_backward``
    """
    where = "affine_forward"
    _checks.float_array(where, "x", x)
    w = _checks.parameter_array(where, "w", w, x, 2, "(D, M)")
    b = _checks.parameter_array(where, "b", b, x, 1, "(M,)")
    if x.ndim < 1:
        raise ValueError(f"{where}: x must have a batch axis, shape (N, d_1, ..., d_k), got a scalar")
    D = math.prod(x.shape[1:])
    if w.shape[0] != D:
        raise ValueError(
            f"{where}: w must have shape (D, M) with D = prod(x.shape[1:]) = {D}, got {tuple(w.shape)}"
        )
    _checks.shape_is(where, "b", b, (w.shape[1],), "(M,)")
    x2d = x.reshape(x.shape[0], D)
    if not blas_held():
        return x2d @ w + b, AffineCache(x, w)
    out = array_module(x).empty((x.shape[0], w.shape[1]), dtype=x.dtype)

    def rows(chunk):
        out[chunk] = x2d[chunk] @ w
        out[chunk] += b

    # In a training run BLAS is held at one thread: rows in chunks on the workers (see tinyconv._parallel).
    map_batch_chunks(array_module(x), rows, x.shape[0], (D + w.shape[1]) * x.itemsize,
                     _product_work(x.shape[0], D, w.shape[1], x.itemsize))
    return out, AffineCache(x, w)


def _product_work(N, D, M, itemsize):
    """The work of an (N, D) @ (D, M) product for the least work for workers, in bytes of memory passes:
    its multiply-adds times itemsize / 16. In float32 on two workers against one, with BLAS at one thread,
    a forward + backward of 4 million multiply-adds ran 2.1 times as long, of 17 million as long, of 41
    to 205 million 0.7 to 0.9 times as long (2-core machine)."""
    return N * D * M * itemsize // 16


def affine_backward(dout, cache):
    """Backward pass of ``affine_forward``.

    Parameters
    ----------
    dout : array (N, M), upstream gradient
    cache : from ``affine_forward``

    Returns
    -------
    dx : array (N, d_1, ..., d_k), shaped like x
    dw : array (D, M)
    db : array (M,)
    """
    x, w = _checks.cache("affine_backward", cache, AffineCache)
    _checks.gradient("affine_backward", dout, (x.shape[0], w.shape[1]), x.dtype)
    xp = array_module(x)
    N, (D, M) = x.shape[0], w.shape
    # Reshapes with explicit sizes: -1 is ambiguous for an empty batch.
    x2d = x.reshape(N, D)
    if not blas_held():
        return (dout @ w.T).reshape(x.shape), x2d.T @ dout, dout.sum(axis=0)
    dx, dw = xp.empty((N, D), dtype=x.dtype), xp.empty((D, M), dtype=x.dtype)

    def dx_rows(chunk):
        dx[chunk] = dout[chunk] @ w.T

    def dw_rows(chunk):  # rows of dw are columns of x: no partial sums to add up
        dw[chunk] = x2d[:, chunk].T @ dout

    work = _product_work(N, D, M, x.itemsize)
    map_batch_chunks(xp, dx_rows, N, (D + M) * x.itemsize, work)
    map_batch_chunks(xp, dw_rows, D, (N + M) * x.itemsize, work)
    return dx.reshape(x.shape), dw, dout.sum(axis=0)


def relu_forward(x):
    """Rectified linear unit, ``out = max(x, 0)``.

    Parameters
    ----------
    x : array of any shape

    Returns
    -------
    out : array shaped like x
    cache : for ``relu_backward``
    """
    _checks.float_array("relu_forward", "x", x)
    xp = array_module(x)
    if x.ndim == 0:
        out = xp.maximum(x, 0)
        return out, ReluCache(out)
    return _relu_into(x, xp.empty_like(x))


def _relu_in_place(x):
    """``relu_forward`` that overwrites ``x`` with its result, for a caller whose own fresh array it is (a
    sandwich, after its affine, conv or norm): no second activation-sized array to allocate and fill."""
    _checks.float_array("relu_forward", "x", x)
    return _relu_into(x, x)


def _relu_into(x, out):
    xp = array_module(x)
    map_rows(lambda chunk: xp.maximum(x[chunk], 0, out=out[chunk]), x)
    return out, ReluCache(out)


def relu_backward(dout, cache):
    """Backward pass of ``relu_forward``: the gradient flows where x > 0.

    Parameters
    ----------
    dout : array shaped like x
    cache : from ``relu_forward``

    Returns
    -------
    dx : array shaped like x
    """
    (out,) = _checks.cache("relu_backward", cache, ReluCache)
    _checks.gradient("relu_backward", dout, out.shape, out.dtype)
    # A product with the mask: several times faster than xp.where(out > 0, dout, 0) in NumPy.
    if out.ndim == 0:
        return dout * (out > 0)
    dx = array_module(dout).empty_like(dout)

    def masked(chunk):
        dx[chunk] = dout[chunk] * (out[chunk] > 0)

    map_rows(masked, out)
    return dx


def _relu_backward_in_place(grad, cache):
    """``relu_backward`` that overwrites ``grad`` with its result, for a caller whose own fresh gradient array
    it is (a sandwich, after the pool's backward): one activation-sized array fewer at the peak of memory."""
    (out,) = _checks.cache("relu_backward", cache, ReluCache)
    _checks.gradient("relu_backward", grad, out.shape, out.dtype, name="grad")
    grad *= out > 0
    return grad
