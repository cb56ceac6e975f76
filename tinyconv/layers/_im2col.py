"""im2col convolution, forward and backward, for any filter size, stride, padding, dilation and groups.

The forward copies, for each of the HH*WW kernel offsets, the strided view of
the padded input that the offset sees into a column matrix (C*HH*WW, P), P
being the number of output positions, and does one matrix product with the
filters (F, C*HH*WW); with groups, one product per group, batched: (G, F/G,
C/G*HH*WW) @ (G, C/G*HH*WW, P). The backward multiplies by the transposes and scatters
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


def _im2col(x, HH, WW, geometry):
    """Columns of x (n, C, H, W) under ``geometry`` (a ConvGeometry): an array (C, HH, WW, n, H_out, W_out),
    i.e. (C*HH*WW, P) once reshaped."""
    xp = array_module(x)
    n, C, H, W = x.shape
    top, bottom, left, right = geometry.pad
    (dh, dw), H_out, W_out = geometry.dilation, geometry.H_out, geometry.W_out
    # Channel-major padded copy, so each offset's copy below keeps the axis order of its target.
    x_pad = xp.zeros((C, n, H + top + bottom, W + left + right), dtype=x.dtype)
    x_pad[:, :, top:top + H, left:left + W] = x.transpose(1, 0, 2, 3)
    cols = xp.empty((C, HH, WW, n, H_out, W_out), dtype=x.dtype)
    for kh in range(HH):
        for kw in range(WW):
            cols[:, kh, kw] = offset_view(x_pad, kh * dh, kw * dw, geometry.stride, H_out, W_out)
    return cols


def _col2im(dcols, x_shape, geometry):
    """Adjoint of ``_im2col``: sum column gradients (C, HH, WW, n, H_out, W_out) into dx (n, C, H, W)."""
    xp = array_module(dcols)
    C, HH, WW, n, H_out, W_out = dcols.shape
    H, W = x_shape[2:]
    top, bottom, left, right = geometry.pad
    dh, dw = geometry.dilation
    dx_pad = xp.zeros((C, n, H + top + bottom, W + left + right), dtype=dcols.dtype)
    for kh in range(HH):
        for kw in range(WW):
            offset_view(dx_pad, kh * dh, kw * dw, geometry.stride, H_out, W_out)[...] += dcols[:, kh, kw]
    return dx_pad[:, :, top:top + H, left:left + W].transpose(1, 0, 2, 3)


def _as_matrices(cols, groups):
    """Columns (C, HH, WW, n, H_out, W_out) as the matrix (C*HH*WW, n*H_out*W_out), or with groups as
    (G, C/G*HH*WW, n*H_out*W_out); sizes spelled out so that empty dimensions reshape too."""
    rows, positions = math.prod(cols.shape[:3]), math.prod(cols.shape[3:])
    return cols.reshape(rows, positions) if groups == 1 else cols.reshape(groups, rows // groups, positions)


def _filter_rows(w, groups):
    """Filters w (F, C/G, HH, WW) as the matrix (F, C/G*HH*WW), or with groups as (G, F/G, C/G*HH*WW)."""
    F, per_filter = w.shape[0], math.prod(w.shape[1:])
    return w.reshape(F, per_filter) if groups == 1 else w.reshape(groups, F // groups, per_filter)


def _channel_rows(a, groups):
    """a (n, C, H, W) as the matrix (C, n*H*W), or with groups as (G, C/G, n*H*W)."""
    n, C, H, W = a.shape
    rows = a.transpose(1, 0, 2, 3).reshape(C, n * H * W)
    return rows if groups == 1 else rows.reshape(groups, C // groups, n * H * W)


def _transposed(a):
    """The transpose of a matrix, or of each matrix of a stack."""
    return a.T if a.ndim == 2 else a.transpose(0, 2, 1)


def _bytes_per_sample(x, w, geometry):
    _, C, H, W = x.shape
    F, _, HH, WW = w.shape
    top, bottom, left, right = geometry.pad
    outputs = geometry.H_out * geometry.W_out
    # Per sample, at the backward's peak: columns and their gradient, the padded input gradient and the
    # channel-major copy of dout.
    per_sample = 2 * C * HH * WW * outputs + C * (H + top + bottom) * (W + left + right) + F * outputs
    return per_sample * x.itemsize


def _forward_chunk(x, w_rows, b, HH, WW, geometry, out):
    """Fill ``out`` (n, F, H_out, W_out) for one chunk x (n, C, H, W); return the chunk's columns."""
    n, F, H_out, W_out = out.shape
    cols = _im2col(x, HH, WW, geometry)
    block = (w_rows @ _as_matrices(cols, geometry.groups)).reshape(F, n * H_out * W_out)
    block += b[:, None]
    out[...] = block.reshape(F, n, H_out, W_out).transpose(1, 0, 2, 3)
    return cols


def _backward_chunk(dout, x, w_rows, HH, WW, geometry, dx, cols=None):
    """Fill ``dx`` (n, C, H, W) for one chunk (unless dx is None) and return its contribution to dw
    (F, C/G*HH*WW), or (G, F/G, C/G*HH*WW) with groups.

    ``cols`` are the chunk's columns kept by the forward, or None to rebuild them.
    """
    groups = geometry.groups
    if cols is None:
        cols = _im2col(x, HH, WW, geometry)
    dout_rows = _channel_rows(dout, groups)
    if dx is not None:
        dcols = (_transposed(w_rows) @ dout_rows).reshape(cols.shape)
        dx[...] = _col2im(dcols, x.shape, geometry)
    return _filter_gradient(dout_rows, _as_matrices(cols, groups))


def _filter_gradient(dout_rows, col_matrix):
    """dw rows (F, K) = dout_rows (F, P) @ col_matrix (K, P).T (for each group, with groups).

    In float32 the transposed product col_matrix @ dout_rows.T ran 1.1 to 1.5
    times faster on OpenBLAS (its single-precision kernels favour the long
    axis P in that order); in float64 the two orders were level.
    """
    if col_matrix.dtype.itemsize == 4:
        return _transposed(col_matrix @ _transposed(dout_rows))
    return dout_rows @ _transposed(col_matrix)


def forward(x, w, b, geometry):
    """out (N, F, H_out, W_out) from x (N, C, H, W), w (F, C/G, HH, WW), b (F,) under ``geometry``, and what
    the backward may reuse: a list of (batch chunk, its columns) when all columns fit in half the workspace,
    else None."""
    xp = array_module(x)
    N, F = x.shape[0], w.shape[0]
    w_rows = _filter_rows(w, geometry.groups)
    out = xp.empty((N, F, geometry.H_out, geometry.W_out), dtype=x.dtype)
    keep = N * x.shape[1] * math.prod(w.shape[2:]) * geometry.H_out * geometry.W_out * x.itemsize <= \
        workspace_limit(xp) // 2

    def work(chunk):
        cols = _forward_chunk(x[chunk], w_rows, b, *w.shape[2:], geometry, out[chunk])
        return (chunk, cols) if keep else None

    saved = map_batch_chunks(xp, work, N, _bytes_per_sample(x, w, geometry))
    return out, saved if keep else None


def backward(dout, x, w, geometry, saved=None, need_dx=True):
    """dx (N, C, H, W), or None without ``need_dx``, and dw (F, C/G, HH, WW) from dout (N, F, H_out, W_out);
    ``saved`` from ``forward``."""
    xp = array_module(x)
    w_rows = _filter_rows(w, geometry.groups)
    dx = xp.empty_like(x) if need_dx else None

    def work(chunk, cols=None):
        return _backward_chunk(dout[chunk], x[chunk], w_rows, *w.shape[2:], geometry,
                               None if dx is None else dx[chunk], cols)

    bytes_per_sample = _bytes_per_sample(x, w, geometry)
    if saved is None:
        parts = map_batch_chunks(xp, work, x.shape[0], bytes_per_sample)
    else:  # the forward's chunks, on as many workers as the forward had
        parts = run_chunks(lambda chunk_and_cols: work(*chunk_and_cols), saved,
                           workers_for_work(xp, x.shape[0] * bytes_per_sample))
    dw_rows = xp.zeros_like(w_rows)
    for part in parts:
        dw_rows += part
    return dx, dw_rows.reshape(w.shape)


# --- the transposed convolution: the input gradient of a convolution, and that convolution's own passes ---


def _transpose_bytes_per_sample(x, w, geometry):
    C, H, W = x.shape[1:]
    conv = geometry.conv
    top, bottom, left, right = conv.pad
    F, K = w.shape[1] * conv.groups, math.prod(w.shape[2:])
    # Columns and the padded output (or, backward, the padded dout), and a channel-major copy of x.
    per_sample = F * K * H * W + F * (geometry.H_out + top + bottom) * (geometry.W_out + left + right) + C * H * W
    return per_sample * x.itemsize


def transpose_forward(x, w, b, geometry):
    """out (N, F, H_out, W_out) of the transposed convolution of x (N, C, H, W) by w (C, F/G, HH, WW) and b
    (F,) under ``geometry`` (a TransposeGeometry): the input gradient of the convolution ``geometry.conv``
    with filters w and x as its output gradient, i.e. the columns W^T x summed back into an image."""
    xp = array_module(x)
    conv = geometry.conv
    N, F, (HH, WW) = x.shape[0], w.shape[1] * conv.groups, w.shape[2:]
    w_rows = _filter_rows(w, conv.groups)
    out = xp.empty((N, F, geometry.H_out, geometry.W_out), dtype=x.dtype)

    def work(chunk):
        n = x[chunk].shape[0]
        dcols = (_transposed(w_rows) @ _channel_rows(x[chunk], conv.groups)).reshape(F, HH, WW, n, *x.shape[2:])
        out[chunk] = _col2im(dcols, out[chunk].shape, conv)
        out[chunk] += b[:, None, None]

    map_batch_chunks(xp, work, N, _transpose_bytes_per_sample(x, w, geometry))
    return out


def transpose_backward(dout, x, w, geometry, need_dx=True):
    """dx (N, C, H, W), or None without ``need_dx``, and dw (C, F/G, HH, WW) of the transposed convolution
    from dout (N, F, H_out, W_out): dx is the convolution ``geometry.conv`` of dout by w, dw the product of x
    with dout's columns."""
    xp = array_module(x)
    conv = geometry.conv
    HH, WW = w.shape[2:]
    w_rows = _filter_rows(w, conv.groups)
    dx = xp.empty_like(x) if need_dx else None

    def work(chunk):
        col_matrix = _as_matrices(_im2col(dout[chunk], HH, WW, conv), conv.groups)
        if need_dx:
            n, C, H, W = x[chunk].shape
            dx[chunk] = (w_rows @ col_matrix).reshape(C, n, H, W).transpose(1, 0, 2, 3)
        return _filter_gradient(_channel_rows(x[chunk], conv.groups), col_matrix)

    dw_rows = xp.zeros_like(w_rows)
    for part in map_batch_chunks(xp, work, x.shape[0], _transpose_bytes_per_sample(x, w, geometry)):
        dw_rows += part
    return dx, dw_rows.reshape(w.shape)
