"""im2col convolution, forward and backward, for any filter size, stride and padding.

The forward copies, for each of the HH*WW kernel offsets, the strided view of
the padded input that the offset sees into a column matrix (C*HH*WW, P), P
being the number of output positions, and does one matrix product with the
filters (F, C*HH*WW). The backward multiplies by the transposes and scatters
the column gradients back with one strided addition per kernel offset
(``np.add.at`` would be many times slower). The forward keeps its columns for
the backward only when all of them fit in half the workspace limit; otherwise
the backward rebuilds them chunk by chunk, so memory stays bounded. Kept
columns live in the cache until the backward, outside the scratch limit.
"""

import math

from .._backend import array_module
from .._parallel import run_chunks
from ._windows import offset_view
from ._workspace import map_batch_chunks, workers_for_work, workspace_limit


def _im2col(x, HH, WW, stride, pad, H_out, W_out):
    """Columns of x (n, C, H, W): an array (C, HH, WW, n, H_out, W_out), i.e. (C*HH*WW, P) once reshaped."""
    xp = array_module(x)
    n, C, H, W = x.shape
    # Channel-major padded copy, so each offset's copy below keeps the axis order of its target.
    x_pad = xp.zeros((C, n, H + 2 * pad, W + 2 * pad), dtype=x.dtype)
    x_pad[:, :, pad:pad + H, pad:pad + W] = x.transpose(1, 0, 2, 3)
    cols = xp.empty((C, HH, WW, n, H_out, W_out), dtype=x.dtype)
    for kh in range(HH):
        for kw in range(WW):
            cols[:, kh, kw] = offset_view(x_pad, kh, kw, stride, H_out, W_out)
    return cols


def _col2im(dcols, x_shape, stride, pad):
    """Adjoint of ``_im2col``: sum column gradients (C, HH, WW, n, H_out, W_out) into dx (n, C, H, W)."""
    xp = array_module(dcols)
    C, HH, WW, n, H_out, W_out = dcols.shape
    H, W = x_shape[2:]
    dx_pad = xp.zeros((C, n, H + 2 * pad, W + 2 * pad), dtype=dcols.dtype)
    for kh in range(HH):
        for kw in range(WW):
            offset_view(dx_pad, kh, kw, stride, H_out, W_out)[...] += dcols[:, kh, kw]
    return dx_pad[:, :, pad:pad + H, pad:pad + W].transpose(1, 0, 2, 3)


def _as_matrix(cols):
    """Columns (C, HH, WW, n, H_out, W_out) as the matrix (C*HH*WW, n*H_out*W_out), sizes spelled out so
    that empty dimensions (no channels, no filters) reshape too."""
    return cols.reshape(math.prod(cols.shape[:3]), math.prod(cols.shape[3:]))


def _filter_rows(w):
    """Filters w (F, C, HH, WW) as the matrix (F, C*HH*WW)."""
    return w.reshape(w.shape[0], math.prod(w.shape[1:]))


def _bytes_per_sample(x, w, pad, H_out, W_out):
    _, C, H, W = x.shape
    F, _, HH, WW = w.shape
    # Per sample, at the backward's peak: columns and their gradient, the padded input gradient and the
    # channel-major copy of dout.
    per_sample = 2 * C * HH * WW * H_out * W_out + C * (H + 2 * pad) * (W + 2 * pad) + F * H_out * W_out
    return per_sample * x.itemsize


def _forward_chunk(x, w_rows, b, HH, WW, stride, pad, out):
    """Fill ``out`` (n, F, H_out, W_out) for one chunk x (n, C, H, W); return the chunk's columns."""
    n, F, H_out, W_out = out.shape
    cols = _im2col(x, HH, WW, stride, pad, H_out, W_out)
    block = w_rows @ _as_matrix(cols)
    block += b[:, None]
    out[...] = block.reshape(F, n, H_out, W_out).transpose(1, 0, 2, 3)
    return cols


def _backward_chunk(dout, x, w_rows, HH, WW, stride, pad, dx, cols=None):
    """Fill ``dx`` (n, C, H, W) for one chunk (unless dx is None) and return its contribution to dw
    (F, C*HH*WW).

    ``cols`` are the chunk's columns kept by the forward, or None to rebuild them.
    """
    n, F, H_out, W_out = dout.shape
    if cols is None:
        cols = _im2col(x, HH, WW, stride, pad, H_out, W_out)
    dout_rows = dout.transpose(1, 0, 2, 3).reshape(F, n * H_out * W_out)
    if dx is not None:
        dcols = (w_rows.T @ dout_rows).reshape(cols.shape)
        dx[...] = _col2im(dcols, x.shape, stride, pad)
    return _filter_gradient(dout_rows, _as_matrix(cols))


def _filter_gradient(dout_rows, col_matrix):
    """dw rows (F, K) = dout_rows (F, P) @ col_matrix (K, P).T.

    In float32 the transposed product col_matrix @ dout_rows.T ran 1.1 to 1.5
    times faster on OpenBLAS (its single-precision kernels favour the long
    axis P in that order); in float64 the two orders were level.
    """
    if col_matrix.dtype.itemsize == 4:
        return (col_matrix @ dout_rows.T).T
    return dout_rows @ col_matrix.T


def forward(x, w, b, stride, pad, H_out, W_out):
    """out (N, F, H_out, W_out) from x (N, C, H, W), w (F, C, HH, WW), b (F,), and what the backward may
    reuse: a list of (batch chunk, its columns) when all columns fit in half the workspace, else None."""
    xp = array_module(x)
    N, F = x.shape[0], w.shape[0]
    w_rows = _filter_rows(w)
    out = xp.empty((N, F, H_out, W_out), dtype=x.dtype)
    keep = N * w_rows.shape[1] * H_out * W_out * x.itemsize <= workspace_limit(xp) // 2

    def work(chunk):
        cols = _forward_chunk(x[chunk], w_rows, b, *w.shape[2:], stride, pad, out[chunk])
        return (chunk, cols) if keep else None

    saved = map_batch_chunks(xp, work, N, _bytes_per_sample(x, w, pad, H_out, W_out))
    return out, saved if keep else None


def backward(dout, x, w, stride, pad, H_out, W_out, saved=None, need_dx=True):
    """dx (N, C, H, W), or None without ``need_dx``, and dw (F, C, HH, WW) from dout (N, F, H_out, W_out);
    ``saved`` from ``forward``."""
    xp = array_module(x)
    w_rows = _filter_rows(w)
    dx = xp.empty_like(x) if need_dx else None

    def work(chunk, cols=None):
        return _backward_chunk(dout[chunk], x[chunk], w_rows, *w.shape[2:], stride, pad,
                               None if dx is None else dx[chunk], cols)

    bytes_per_sample = _bytes_per_sample(x, w, pad, H_out, W_out)
    if saved is None:
        parts = map_batch_chunks(xp, work, x.shape[0], bytes_per_sample)
    else:  # the forward's chunks, on as many workers as the forward had
        parts = run_chunks(lambda chunk_and_cols: work(*chunk_and_cols), saved,
                           workers_for_work(xp, x.shape[0] * bytes_per_sample))
    dw_rows = xp.zeros_like(w_rows)
    for part in parts:
        dw_rows += part
    return dx, dw_rows.reshape(w.shape)
