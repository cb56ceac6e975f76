"""Winograd convolution F(m x m, 3 x 3) for 3x3 filters at stride 1, forward and backward.

Each m x m block of outputs comes from a t x t tile d of the padded input
(t = m + 2) with t^2 multiplications per channel pair instead of 9 m^2
(Lavin and Gray, 2016):

    Y = A^T [ (G g G^T) * (B^T d B) ] A

g being a 3x3 filter and * the elementwise product. Summed over input channels,
the elementwise products become t^2 matrix products, one per position xi in the
tile: M[xi] (P, F) = V[xi] (P, C) @ U[xi]^T, P being the number of tiles and U[xi]
(F, C) kept in the filters' own order.
The backward applies the transposed maps in reverse order. F(2x2) saves a factor
2.25 in multiplications, F(4x4) a factor 4 at a small cost in rounding error.

The transforms run in channels-last layout (H, W, n, C), as matrix products:
B^T d B is B^T applied to the t rows of every row of tiles, a (t, t) @ (t, W n C)
product each, then B to the t columns of every tile, a (t, t) @ (t, n C)
product each. The tiles are overlapping windows of the array (a view, no copy),
and the products read each input once and write each result once, where a sum
of shifted slices would pass over the data once per term.
"""

import numpy as np

from .._backend import array_module, transposed_copy
from .._parallel import held_blas
from ._workspace import map_batch_chunks


class _Transforms:
    """The matrices of Winograd F(m x m, 3 x 3): m outputs per tile side, from input tiles of side t = m + 2."""

    def __init__(self, m, BT, G, AT):
        self.m, self.t = m, m + 2
        self.BT, self.G, self.AT = (np.array(a, dtype=np.float64) for a in (BT, G, AT))
        # A column of A^T that is all ones reaches every output of a tile exactly once: the bias goes there.
        ones = int(np.flatnonzero((self.AT == 1).all(axis=0))[0])
        self.bias_index = ones * self.t + ones


F2 = _Transforms(
    2,
    BT=[[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
    G=[[1, 0, 0], [1 / 2, 1 / 2, 1 / 2], [1 / 2, -1 / 2, 1 / 2], [0, 0, 1]],
    AT=[[1, 1, 1, 0], [0, 1, -1, -1]],
)
F4 = _Transforms(
    4,
    BT=[[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
        [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]],
    G=[[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
       [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]],
    AT=[[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]],
)


def tiles(H_out, W_out, m):
    """Number of m x m output tiles along H and W."""
    return -(-H_out // m), -(-W_out // m)


def _channels_last(x, pad, height, width):
    """x (n, C, H, W) zero-padded to (height, width, n, C): samples and channels innermost, so that every
    tile's row is a long contiguous run whatever the image size."""
    xp = array_module(x)
    n, C, H, W = x.shape
    x_pad = xp.zeros((height, width, n, C), dtype=x.dtype)
    x_pad[pad:pad + H, pad:pad + W] = _transposed(x.reshape(n * C, H * W)).reshape(H, W, n, C)
    return x_pad


def _channels_first(a, out):
    """Inverse layout change: fills ``out`` (n, C, H, W) from a (H, W, n, C)."""
    H, W, n, C = a.shape
    a = array_module(a).ascontiguousarray(a)
    transposed_copy(a.reshape(H * W, n * C), out.reshape(n * C, H * W))


def _tiles_along(a, axis, count, tf):
    """View of ``a`` with ``axis`` split in two, (count, t): tile i holds entries m*i ... m*i + t - 1 of it,
    so neighbouring tiles share t - m entries. No copy."""
    xp = array_module(a)
    windows = xp.lib.stride_tricks.sliding_window_view(a, tf.t, axis=axis)
    windows = windows[(slice(None),) * axis + (slice(0, tf.m * count, tf.m),)]
    return xp.moveaxis(windows, -1, axis + 1)


def _product(a, b, out):
    """``out[...] = a @ b``, written straight into the view ``out`` where the array module can."""
    if array_module(b) is np:
        return np.matmul(a, b, out=out)
    out[...] = a @ b
    return out


def transform_filters(w, tf):
    """U = G g G^T for every filter g: w (F, C, 3, 3) -> U (t^2, F, C)."""
    F, C = w.shape[:2]
    G = _matrix(tf.G, w)
    # G^T from the right over each filter's columns, then G from the left over its rows, in one (t, 3)
    # product after a blocked transpose: no gather with a stride.
    right = (w.reshape(F * C * 3, 3) @ G.T).reshape(F * C, 3 * tf.t)  # (F, C, k, j)
    return (G @ _transposed(right).reshape(3, tf.t * F * C)).reshape(tf.t ** 2, F, C)


def filter_gradient(dU, tf):
    """Adjoint of ``transform_filters``, dw = G^T dU G: dU (t^2, F, C) -> dw (F, C, 3, 3)."""
    F, C = dU.shape[1:]
    G = _matrix(tf.G, dU)
    left = (G.T @ dU.reshape(tf.t, tf.t * F * C)).reshape(3 * tf.t, F * C)  # (k, j, F, C)
    return (_transposed(left).reshape(F * C * 3, tf.t) @ G).reshape(F, C, 3, 3)


def _transposed(a):
    """A C-ordered copy of the transpose of the 2-D array a."""
    return transposed_copy(a, array_module(a).empty(a.shape[::-1], dtype=a.dtype))


def _matrix(values, like):
    """A transform matrix (float64 NumPy) in the array module and dtype of ``like``."""
    return array_module(like).asarray(values, dtype=like.dtype)


def transform_input(x, pad, tiles_h, tiles_w, tf):
    """V = B^T d B for every t x t tile d: x (n, C, H, W) -> V (t^2, P, C), P = tiles_h * tiles_w * n."""
    xp = array_module(x)
    n, C = x.shape[:2]
    m, t = tf.m, tf.t
    BT = _matrix(tf.BT, x)
    x_pad = _channels_last(x, pad, m * tiles_h + 2, m * tiles_w + 2)
    width = x_pad.shape[1]
    # B^T from the left: one product per row of tiles, (t, t) @ (t, width * n * C) over its t input rows.
    rows = BT @ _tiles_along(x_pad, 0, tiles_h, tf).reshape(tiles_h, t, width * n * C)
    # B from the right: one product per tile, (t, t) @ (t, n * C), written in V's order (xi_a, xi_b, tiles).
    V = xp.empty((t, t, tiles_h, tiles_w, n * C), dtype=x.dtype)
    _product(BT, _tiles_along(rows.reshape(tiles_h, t, width, n * C), 2, tiles_w, tf), V.transpose(2, 0, 3, 1, 4))
    return V.reshape(t * t, tiles_h * tiles_w * n, C)


def input_gradient(dV, dx, pad, tiles_h, tiles_w, tf):
    """Adjoint of ``transform_input``: fills dx (n, C, H, W) from dV (t^2, P, C).

    Each tile's gradient B dV B^T lands on its t x t patch; neighbouring patches overlap by t - m rows and
    columns. The first m rows (columns) of the tiles cover the image exactly once and are written; the
    other t - m of each tile are added onto the next tile's.
    """
    xp = array_module(dV)
    n, C, H, W = dx.shape
    m, t = tf.m, tf.t
    B = _matrix(tf.BT.T, dV)
    width = m * tiles_w + 2
    # B from the right, over the columns of every tile: (t, t) @ (t, n * C) per tile.
    drows = xp.empty((t, tiles_h, width, n * C), dtype=dV.dtype)
    _add_tiles(B, dV.reshape(t, t, tiles_h, tiles_w, n * C).transpose(0, 2, 3, 1, 4), drows, 2, tiles_w, tf)
    # B^T from the left, over the rows of every tile: (t, t) @ (t, width * n * C) per row of tiles.
    dx_pad = xp.empty((m * tiles_h + 2, width * n * C), dtype=dV.dtype)
    _add_tiles(B, drows.reshape(t, tiles_h, width * n * C).transpose(1, 0, 2), dx_pad, 0, tiles_h, tf)
    _channels_first(dx_pad.reshape(m * tiles_h + 2, width, n, C)[pad:pad + H, pad:pad + W], dx)


def _add_tiles(B, per_tile, out, axis, count, tf):
    """Adjoint of ``_tiles_along``: fills ``out``, whose ``axis`` holds m * count + t - m entries, with the sum
    of every tile's ``B @ per_tile`` (t entries each, on that axis) placed m * i onwards.

    per_tile holds each tile's (t, ...) matrix in its last two axes, its tiles in the ``count`` axis before.
    The first m entries of the tiles cover the axis once and are written; the other t - m of each tile are
    added onto the next tile's.
    """
    m, t = tf.m, tf.t
    before = (slice(None),) * axis
    head = out[before + (slice(0, m * count),)]
    _product(B[:m], per_tile, head.reshape(head.shape[:axis] + (count, m) + head.shape[axis + 1:]))
    out[before + (slice(m * count, None),)] = 0
    overlap = B[m:] @ per_tile
    for r in range(t - m):
        out[before + (slice(m + r, m + r + m * count, m),)] += overlap[..., r, :]


def transform_output(M, n, tiles_h, tiles_w, tf):
    """Y = A^T M A for every tile: M (t^2, P, F) -> Y (m * tiles_h, m * tiles_w, n, F), channels last."""
    xp = array_module(M)
    m, t = tf.m, tf.t
    F = M.shape[-1]
    AT = _matrix(tf.AT, M)
    # A^T from the left: a single (m, t) @ (t, t * P * F) product over the first tile index.
    rows = (AT @ M.reshape(t, t * tiles_h * tiles_w * n * F)).reshape(m, t, tiles_h, tiles_w, n * F)
    # A from the right: (m, t) @ (t, n * F) per tile, written in Y's order.
    Y = xp.empty((tiles_h, m, tiles_w, m, n * F), dtype=M.dtype)
    _product(AT, rows.transpose(2, 0, 3, 1, 4), Y)
    return Y.reshape(m * tiles_h, m * tiles_w, n, F)


def output_gradient(dY, tf):
    """Adjoint of ``transform_output``, dM = A dY A^T: dY (m * th, m * tw, n, F) -> dM (t^2, P, F)."""
    xp = array_module(dY)
    m, t = tf.m, tf.t
    tiles_h, tiles_w = dY.shape[0] // m, dY.shape[1] // m
    nF = dY.shape[2] * dY.shape[3]
    A = _matrix(tf.AT.T, dY)
    # A from the left over each tile's rows, then from the right over its columns, written in dM's order.
    rows = (A @ dY.reshape(tiles_h, m, tiles_w * m * nF)).reshape(tiles_h, t, tiles_w, m, nF)
    dM = xp.empty((t, t, tiles_h, tiles_w, nF), dtype=dY.dtype)
    _product(A, rows, dM.transpose(2, 0, 3, 1, 4))
    return dM.reshape(t * t, tiles_h * tiles_w * dY.shape[2], dY.shape[3])


def _bytes_per_sample(x, F, tiles_h, tiles_w, tf):
    C = x.shape[1]
    # Per sample: V or dV and M or dM (t^2 per tile each), the row transforms and padded input, and the
    # outputs, all in units of one tile's worth of channels.
    t2, m2 = tf.t ** 2, tf.m ** 2
    per_sample = (2 * t2 + tf.t * tf.m + 2 * m2) * (C + F) * tiles_h * tiles_w
    return per_sample * x.itemsize


def _forward_chunk(x, U, b, pad, tiles_h, tiles_w, tf, out):
    """Fill ``out`` (n, F, H_out, W_out) for one chunk x (n, C, H, W); its buffers die on return."""
    M = transform_input(x, pad, tiles_h, tiles_w, tf) @ U.transpose(0, 2, 1)
    M[tf.bias_index] += b
    Y = transform_output(M, x.shape[0], tiles_h, tiles_w, tf)
    _channels_first(Y[:out.shape[2], :out.shape[3]], out)


def _backward_chunk(dout, x, U, pad, tiles_h, tiles_w, tf, dx):
    """Fill ``dx`` (n, C, H, W) for one chunk (unless dx is None) and return its contribution to dU
    (t^2, F, C)."""
    V = transform_input(x, pad, tiles_h, tiles_w, tf)
    dM = output_gradient(_channels_last(dout, 0, tf.m * tiles_h, tf.m * tiles_w), tf)
    if dx is not None:
        input_gradient(dM @ U, dx, pad, tiles_h, tiles_w, tf)
    return dM.transpose(0, 2, 1) @ V


def forward(x, w, b, pad, H_out, W_out, tf):
    """out (N, F, H_out, W_out) from x (N, C, H, W), w (F, C, 3, 3), b (F,), stride 1, and the transformed
    filters U (t^2, F, C), which the backward takes again rather than transforming w a second time."""
    xp = array_module(x)
    N, F = x.shape[0], w.shape[0]
    tiles_h, tiles_w = tiles(H_out, W_out, tf.m)
    out = xp.empty((N, F, H_out, W_out), dtype=x.dtype)
    # BLAS at one thread for the filter transform too: threads it spread that product over would spin on after
    # it, taking the cores from the workers (on 2 cores a 128x128-filter conv ran slower on 2 workers than 1).
    with held_blas():
        U = transform_filters(w, tf)
        map_batch_chunks(xp, lambda chunk: _forward_chunk(x[chunk], U, b, pad, tiles_h, tiles_w, tf, out[chunk]),
                         N, _bytes_per_sample(x, F, tiles_h, tiles_w, tf))
    return out, U


def backward(dout, x, U, pad, H_out, W_out, tf, need_dx=True):
    """dx (N, C, H, W), or None without ``need_dx``, and dw (F, C, 3, 3) from dout (N, F, H_out, W_out) and
    the filters U (t^2, F, C) that ``forward`` transformed."""
    xp = array_module(x)
    tiles_h, tiles_w = tiles(H_out, W_out, tf.m)
    dU = xp.zeros_like(U)
    # C order: _channels_first writes through a reshape.
    dx = xp.empty(x.shape, dtype=x.dtype) if need_dx else None
    with held_blas():  # as in forward
        for part in map_batch_chunks(
            xp, lambda chunk: _backward_chunk(dout[chunk], x[chunk], U, pad, tiles_h, tiles_w, tf,
                                              None if dx is None else dx[chunk]),
            x.shape[0], _bytes_per_sample(x, U.shape[1], tiles_h, tiles_w, tf),
        ):
            dU += part
        return dx, filter_gradient(dU, tf)
