"""Winograd convolution F(m x m, 3 x 3) for 3x3 filters at stride 1, forward and backward.

Each m x m block of outputs comes from a t x t tile d of the padded input
(t = m + 2) with t^2 multiplications per channel pair instead of 9 m^2
(Lavin and Gray, 2016):

    Y = A^T [ (G g G^T) * (B^T d B) ] A

g being a 3x3 filter and * the elementwise product. Summed over input channels,
the elementwise products become t^2 matrix products, one per position xi in the
tile: M[xi] (P, F) = V[xi] (P, C) @ U[xi] (C, F), P being the number of tiles.
The backward applies the transposed maps in reverse order. F(2x2) saves a factor
2.25 in multiplications, F(4x4) a factor 4 at a small cost in rounding error.

The transforms run in channels-last layout (H, W, n, C): a tap of every tile is
then a strided slice along the two outer axes with long contiguous runs inside,
and each transform is a few additions of such slices, vectorized over channels,
samples and tiles.
"""

import numpy as np

from .._backend import array_module, transposed_copy
from ._workspace import map_batch_chunks


class _Transforms:
    """The matrices of Winograd F(m x m, 3 x 3) and their rows as sparse term lists.

    m outputs per tile side, from input tiles of side t = m + 2.
    """

    def __init__(self, m, BT, G, AT):
        self.m, self.t = m, m + 2
        self.G = np.array(G, dtype=np.float64)
        BT, AT = np.array(BT), np.array(AT)
        self.BT_rows, self.B_rows = _terms(BT), _terms(BT.T)
        self.AT_rows, self.A_rows = _terms(AT), _terms(AT.T)
        # A column of A^T that is all ones reaches every output of a tile exactly once: the bias goes there.
        ones = int(np.flatnonzero((AT == 1).all(axis=0))[0])
        self.bias_index = ones * self.t + ones


def _terms(matrix):
    """Each row of ``matrix`` as ((coefficient, column), ...) over its nonzero entries."""
    return tuple(tuple((c.item(), k) for k, c in enumerate(row) if c) for row in matrix)


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


def _accumulate(terms, pick, out):
    """``out += sum(c * pick(k) for c, k in terms)``, in place."""
    scratch = None
    for c, k in terms:
        if c == 1:
            out += pick(k)
        elif c == -1:
            out -= pick(k)
        else:
            if scratch is None:
                scratch = array_module(out).empty(out.shape, dtype=out.dtype)
            out += array_module(out).multiply(pick(k), c, out=scratch)


def _combine(terms, pick, out):
    """``out = sum(c * pick(k) for c, k in terms)``, the first two terms in a single pass when their signs allow."""
    xp = array_module(out)
    (c0, k0), *rest = terms
    if rest and (c0, rest[0][0]) in ((1, 1), (1, -1), (-1, 1)):
        (c1, k1), *rest = rest
        if c1 == 1 and c0 == 1:
            xp.add(pick(k0), pick(k1), out=out)
        elif c0 == 1:
            xp.subtract(pick(k0), pick(k1), out=out)
        else:
            xp.subtract(pick(k1), pick(k0), out=out)
    else:
        xp.multiply(pick(k0), c0, out=out)
    _accumulate(rest, pick, out)
    return out


def tiles(H_out, W_out, m):
    """Number of m x m output tiles along H and W."""
    return -(-H_out // m), -(-W_out // m)


def _channels_last(x, pad, height, width):
    """x (n, C, H, W) zero-padded to (height, width, n, C): samples and channels innermost, so that every
    tap the transforms read is a long contiguous run whatever the image size."""
    xp = array_module(x)
    n, C, H, W = x.shape
    x_t = transposed_copy(x.reshape(n * C, H * W), xp.empty((H * W, n * C), dtype=x.dtype))
    x_pad = xp.zeros((height, width, n, C), dtype=x.dtype)
    x_pad[pad:pad + H, pad:pad + W] = x_t.reshape(H, W, n, C)
    return x_pad


def _channels_first(a, out):
    """Inverse layout change: fills ``out`` (n, C, H, W) from a (H, W, n, C)."""
    H, W, n, C = a.shape
    a = array_module(a).ascontiguousarray(a)
    transposed_copy(a.reshape(H * W, n * C), out.reshape(n * C, H * W))


def _tap(a, k, count, m, axis=0):
    """Elements k, k + m, ..., k + m * (count - 1) of ``axis``: tap k of ``count`` tiles placed m apart."""
    return a[(slice(None),) * axis + (slice(k, k + m * count, m),)]


def transform_filters(w, tf):
    """U = G g G^T for every filter: w (F, C, 3, 3) -> U (t^2, C, F)."""
    xp = array_module(w)
    G = xp.asarray(tf.G, dtype=w.dtype)
    return xp.einsum("ik,fckl,jl->ijcf", G, w, G, optimize=True).reshape(tf.t ** 2, w.shape[1], w.shape[0])


def filter_gradient(dU, tf):
    """Adjoint of ``transform_filters``, dw = G^T dU G: dU (t^2, C, F) -> dw (F, C, 3, 3)."""
    xp = array_module(dU)
    G = xp.asarray(tf.G, dtype=dU.dtype)
    return xp.einsum("ik,ijcf,jl->fckl", G, dU.reshape(tf.t, tf.t, *dU.shape[1:]), G, optimize=True)


def transform_input(x, pad, tiles_h, tiles_w, tf):
    """V = B^T d B for every t x t tile d: x (n, C, H, W) -> V (t^2, P, C), P = tiles_h * tiles_w * n."""
    xp = array_module(x)
    n, C = x.shape[:2]
    m, t = tf.m, tf.t
    x_pad = _channels_last(x, pad, m * tiles_h + 2, m * tiles_w + 2)
    rows = xp.empty((t, tiles_h, m * tiles_w + 2, n, C), dtype=x.dtype)
    for i, terms in enumerate(tf.BT_rows):
        _combine(terms, lambda k: _tap(x_pad, k, tiles_h, m), rows[i])
    # One operation per column of the tile does all t rows at once: few, large array operations.
    V = xp.empty((t, t, tiles_h, tiles_w, n, C), dtype=x.dtype)
    for j, terms in enumerate(tf.BT_rows):
        _combine(terms, lambda l: _tap(rows, l, tiles_w, m, axis=2), V[:, j])
    return V.reshape(t * t, tiles_h * tiles_w * n, C)


def input_gradient(dV, dx, pad, tiles_h, tiles_w, tf):
    """Adjoint of ``transform_input``: fills dx (n, C, H, W) from dV (t^2, P, C)."""
    xp = array_module(dV)
    n, C, H, W = dx.shape
    m, t = tf.m, tf.t
    dV = dV.reshape(t, t, tiles_h, tiles_w, n, C)
    drows = xp.zeros((t, tiles_h, m * tiles_w + 2, n, C), dtype=dV.dtype)
    for l, terms in enumerate(tf.B_rows):
        _accumulate(terms, lambda j: dV[:, j], _tap(drows, l, tiles_w, m, axis=2))
    dx_pad = xp.zeros((m * tiles_h + 2, m * tiles_w + 2, n, C), dtype=dV.dtype)
    for k, terms in enumerate(tf.B_rows):
        _accumulate(terms, lambda i: drows[i], _tap(dx_pad, k, tiles_h, m))
    _channels_first(dx_pad[pad:pad + H, pad:pad + W], dx)


def transform_output(M, n, tiles_h, tiles_w, tf):
    """Y = A^T M A for every tile: M (t^2, P, F) -> Y (m * tiles_h, m * tiles_w, n, F), channels last."""
    xp = array_module(M)
    m, t = tf.m, tf.t
    M = M.reshape(t, t, tiles_h, tiles_w, n, M.shape[-1])
    rows = xp.empty((m,) + M.shape[1:], dtype=M.dtype)
    for a, terms in enumerate(tf.AT_rows):
        _combine(terms, lambda i: M[i], rows[a])
    Y = xp.empty((tiles_h, m, tiles_w, m) + M.shape[4:], dtype=M.dtype)
    for b, terms in enumerate(tf.AT_rows):
        _combine(terms, lambda j: rows[:, j], Y[:, :, :, b].swapaxes(0, 1))
    return Y.reshape(m * tiles_h, m * tiles_w, n, Y.shape[-1])


def output_gradient(dY, tf):
    """Adjoint of ``transform_output``, dM = A dY A^T: dY (m * th, m * tw, n, F) -> dM (t^2, P, F)."""
    xp = array_module(dY)
    m, t = tf.m, tf.t
    tiles_h, tiles_w = dY.shape[0] // m, dY.shape[1] // m
    dY = dY.reshape(tiles_h, m, tiles_w, m, *dY.shape[2:])
    rows = xp.empty((t, tiles_h, tiles_w, m) + dY.shape[4:], dtype=dY.dtype)
    for i, terms in enumerate(tf.A_rows):
        _combine(terms, lambda a: dY[:, a], rows[i])
    dM = xp.empty((t, t, tiles_h, tiles_w) + dY.shape[4:], dtype=dY.dtype)
    for j, terms in enumerate(tf.A_rows):
        _combine(terms, lambda b: rows[:, :, :, b], dM[:, j])
    return dM.reshape(t * t, tiles_h * tiles_w * dY.shape[4], dY.shape[-1])


def _bytes_per_sample(x, F, tiles_h, tiles_w, tf):
    C = x.shape[1]
    # Per sample: V or dV and M or dM (t^2 per tile each), the row transforms and padded input, and the
    # outputs, all in units of one tile's worth of channels.
    t2, m2 = tf.t ** 2, tf.m ** 2
    per_sample = (2 * t2 + tf.t * tf.m + 2 * m2) * (C + F) * tiles_h * tiles_w
    return per_sample * x.itemsize


def _forward_chunk(x, U, b, pad, tiles_h, tiles_w, tf, out):
    """Fill ``out`` (n, F, H_out, W_out) for one chunk x (n, C, H, W); its buffers die on return."""
    M = transform_input(x, pad, tiles_h, tiles_w, tf) @ U
    M[tf.bias_index] += b
    Y = transform_output(M, x.shape[0], tiles_h, tiles_w, tf)
    _channels_first(Y[:out.shape[2], :out.shape[3]], out)


def _backward_chunk(dout, x, U_T, pad, tiles_h, tiles_w, tf, dx):
    """Fill ``dx`` (n, C, H, W) for one chunk (unless dx is None) and return its contribution to dU
    (t^2, C, F)."""
    V = transform_input(x, pad, tiles_h, tiles_w, tf)
    dM = output_gradient(_channels_last(dout, 0, tf.m * tiles_h, tf.m * tiles_w), tf)
    if dx is not None:
        input_gradient(dM @ U_T, dx, pad, tiles_h, tiles_w, tf)
    return V.transpose(0, 2, 1) @ dM


def forward(x, w, b, pad, H_out, W_out, tf):
    """out (N, F, H_out, W_out) from x (N, C, H, W), w (F, C, 3, 3), b (F,), stride 1."""
    xp = array_module(x)
    N, F = x.shape[0], w.shape[0]
    tiles_h, tiles_w = tiles(H_out, W_out, tf.m)
    U = transform_filters(w, tf)
    out = xp.empty((N, F, H_out, W_out), dtype=x.dtype)
    map_batch_chunks(xp, lambda chunk: _forward_chunk(x[chunk], U, b, pad, tiles_h, tiles_w, tf, out[chunk]),
                     N, _bytes_per_sample(x, F, tiles_h, tiles_w, tf))
    return out


def backward(dout, x, w, pad, H_out, W_out, tf, need_dx=True):
    """dx (N, C, H, W), or None without ``need_dx``, and dw (F, C, 3, 3) from dout (N, F, H_out, W_out)."""
    xp = array_module(x)
    tiles_h, tiles_w = tiles(H_out, W_out, tf.m)
    U_T = transform_filters(w, tf).transpose(0, 2, 1)
    dU = xp.zeros((tf.t ** 2, x.shape[1], w.shape[0]), dtype=x.dtype)
    # C order: _channels_first writes through a reshape.
    dx = xp.empty(x.shape, dtype=x.dtype) if need_dx else None
    for part in map_batch_chunks(
        xp, lambda chunk: _backward_chunk(dout[chunk], x[chunk], U_T, pad, tiles_h, tiles_w, tf,
                                          None if dx is None else dx[chunk]),
        x.shape[0], _bytes_per_sample(x, w.shape[0], tiles_h, tiles_w, tf),
    ):
        dU += part
    return dx, filter_gradient(dU, tf)
