"""Winograd F(2x2, 3x3) convolution for 3x3 filters at stride 1, forward and backward.

Each 2x2 block of outputs comes from a 4x4 tile d of the padded input with 16
multiplications per channel pair instead of 36 (Lavin and Gray, 2016):

    Y = A^T [ (G g G^T) * (B^T d B) ] A

g being a 3x3 filter and * the elementwise product. Summed over input channels,
the elementwise products become 16 matrix products, one per position xi in the
4x4 tile: M[xi] (F, P) = U[xi] (F, C) @ V[xi] (C, P), P being the number of
tiles. The backward applies the transposed maps in reverse order.

Tiles start at even rows and columns, so the padded input is first split by
row and column parity into four planes; every tap of every tile is then a
contiguous slice of a plane, shifted by 0 or 1, and the transforms are a few
additions of such slices, vectorized over channels, samples and tiles.
"""

import numpy as np

from .._backend import array_module
from ._workspace import batch_chunks

_BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]])
_G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
_AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]])


def _terms(matrix):
    """Each row of ``matrix`` as ((coefficient, column), ...) over its nonzero entries."""
    return tuple(tuple((c.item(), k) for k, c in enumerate(row) if c) for row in matrix)


_BT_ROWS, _B_ROWS = _terms(_BT), _terms(_BT.T)
_AT_ROWS, _A_ROWS = _terms(_AT), _terms(_AT.T)


def _accumulate(terms, pick, out):
    """``out += sum(c * pick(k) for c, k in terms)``, in place."""
    for c, k in terms:
        if c == 1:
            out += pick(k)
        elif c == -1:
            out -= pick(k)
        else:
            out += c * pick(k)


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


def tiles(H_out, W_out):
    """Number of 2x2 output tiles along H and W."""
    return (H_out + 1) // 2, (W_out + 1) // 2


def _parity_slices(size, pad):
    """For each parity p: (first input index whose padded index has parity p, its index in the plane)."""
    return [((p - pad) % 2, ((p - pad) % 2 + pad) // 2) for p in (0, 1)]


def _to_planes(x, pad, tiles_h, tiles_w):
    """x (n, C, H, W) zero-padded, split by parity, channels last:
    planes (2, 2, tiles_h + 1, tiles_w + 1, n, C) with ``planes[r % 2, s % 2, r // 2, s // 2] = x_pad[:, :, r, s]``.

    Samples and channels go innermost so that every slice the transforms take is
    a long contiguous run, whatever the image size.
    """
    xp = array_module(x)
    n, C, H, W = x.shape
    planes = xp.zeros((2, 2, tiles_h + 1, tiles_w + 1, n, C), dtype=x.dtype)
    for pr, (row0, prow0) in enumerate(_parity_slices(H, pad)):
        for pc, (col0, pcol0) in enumerate(_parity_slices(W, pad)):
            src = x[:, :, row0::2, col0::2].transpose(2, 3, 0, 1)
            planes[pr, pc, prow0:prow0 + src.shape[0], pcol0:pcol0 + src.shape[1]] = src
    return planes


def _from_planes(dplanes, x_shape, pad):
    """Adjoint of ``_to_planes``: dx (n, C, H, W) from dplanes (2, 2, tiles_h + 1, tiles_w + 1, n, C)."""
    xp = array_module(dplanes)
    n, C, H, W = x_shape
    dx = xp.empty(x_shape, dtype=dplanes.dtype)
    for pr, (row0, prow0) in enumerate(_parity_slices(H, pad)):
        for pc, (col0, pcol0) in enumerate(_parity_slices(W, pad)):
            target = dx[:, :, row0::2, col0::2]
            rows, cols = target.shape[2:]
            target[...] = dplanes[pr, pc, prow0:prow0 + rows, pcol0:pcol0 + cols].transpose(2, 3, 0, 1)
    return dx


def _row_tap(planes, k, tiles_h):
    """Row k of every tile: (2, tiles_h, tiles_w + 1, n, C), by column parity."""
    return planes[k % 2, :, k // 2:k // 2 + tiles_h]


def _col_tap(rows, l, tiles_w):
    """Column l of every tile from row-transformed planes (2, th, tw + 1, n, C): (th, tw, n, C)."""
    return rows[l % 2, :, l // 2:l // 2 + tiles_w]


def transform_filters(w):
    """U = G g G^T for every filter: w (F, C, 3, 3) -> U (16, C, F)."""
    xp = array_module(w)
    G = xp.asarray(_G, dtype=w.dtype)
    return xp.einsum("ik,fckl,jl->ijcf", G, w, G).reshape(16, w.shape[1], w.shape[0])


def filter_gradient(dU):
    """Adjoint of ``transform_filters``, dw = G^T dU G: dU (16, C, F) -> dw (F, C, 3, 3)."""
    xp = array_module(dU)
    G = xp.asarray(_G, dtype=dU.dtype)
    return xp.einsum("ik,ijcf,jl->fckl", G, dU.reshape(4, 4, *dU.shape[1:]), G)


def transform_input(x, pad, tiles_h, tiles_w):
    """V = B^T d B for every 4x4 tile d: x (n, C, H, W) -> V (16, P, C), P = tiles_h * tiles_w * n."""
    xp = array_module(x)
    n, C = x.shape[:2]
    planes = _to_planes(x, pad, tiles_h, tiles_w)
    rows = xp.empty((4, 2, tiles_h, tiles_w + 1, n, C), dtype=x.dtype)
    for i, terms in enumerate(_BT_ROWS):
        _combine(terms, lambda k: _row_tap(planes, k, tiles_h), rows[i])
    V = xp.empty((4, 4, tiles_h, tiles_w, n, C), dtype=x.dtype)
    for i in range(4):
        for j, terms in enumerate(_BT_ROWS):
            _combine(terms, lambda l: _col_tap(rows[i], l, tiles_w), V[i, j])
    return V.reshape(16, -1, C)


def input_gradient(dV, x_shape, pad, tiles_h, tiles_w):
    """Adjoint of ``transform_input``: dx (n, C, H, W) from dV (16, P, C)."""
    xp = array_module(dV)
    n, C = x_shape[:2]
    dV = dV.reshape(4, 4, tiles_h, tiles_w, n, C)
    drows = xp.zeros((4, 2, tiles_h, tiles_w + 1, n, C), dtype=dV.dtype)
    for i in range(4):
        for l, terms in enumerate(_B_ROWS):
            _accumulate(terms, lambda j: dV[i, j], _col_tap(drows[i], l, tiles_w))
    dplanes = xp.zeros((2, 2, tiles_h + 1, tiles_w + 1, n, C), dtype=dV.dtype)
    for k, terms in enumerate(_B_ROWS):
        _accumulate(terms, lambda i: drows[i], _row_tap(dplanes, k, tiles_h))
    return _from_planes(dplanes, x_shape, pad)


def transform_output(M, n, tiles_h, tiles_w):
    """Y = A^T M A for every tile: M (16, P, F) -> Y (2, 2, tiles_h, tiles_w, n, F), Y[a, b] the outputs at
    offset (a, b) of each tile."""
    xp = array_module(M)
    M = M.reshape(4, 4, tiles_h, tiles_w, n, -1)
    rows = xp.empty((2,) + M.shape[1:], dtype=M.dtype)
    for a, terms in enumerate(_AT_ROWS):
        _combine(terms, lambda i: M[i], rows[a])
    Y = xp.empty((2, 2) + M.shape[2:], dtype=M.dtype)
    for a in range(2):
        for b, terms in enumerate(_AT_ROWS):
            _combine(terms, lambda j: rows[a, j], Y[a, b])
    return Y


def output_gradient(dY):
    """Adjoint of ``transform_output``, dM = A dY A^T: dY (2, 2, th, tw, n, F) -> dM (16, P, F)."""
    xp = array_module(dY)
    rows = xp.empty((4,) + dY.shape[1:], dtype=dY.dtype)
    for i, terms in enumerate(_A_ROWS):
        _combine(terms, lambda a: dY[a], rows[i])
    dM = xp.empty((4, 4) + dY.shape[2:], dtype=dY.dtype)
    for i in range(4):
        for j, terms in enumerate(_A_ROWS):
            _combine(terms, lambda b: rows[i, b], dM[i, j])
    return dM.reshape(16, -1, dY.shape[-1])


def _interleaved(out, tiles_h, tiles_w):
    """View of out (n, F, 2*th, 2*tw) as (a, b, th, tw, n, F), matching Y's layout."""
    n, F = out.shape[:2]
    return out.reshape(n, F, tiles_h, 2, tiles_w, 2).transpose(3, 5, 2, 4, 0, 1)


def _chunks(x, F, tiles_h, tiles_w):
    N, C = x.shape[:2]
    # Per sample, in tiles: V or dV (16 C), M or dM (16 F), the planes and row transforms (~12 C),
    # the output tiles (8 F).
    per_sample = (28 * C + 24 * F) * tiles_h * tiles_w
    return batch_chunks(N, per_sample * x.itemsize)


def forward(x, w, b, pad, H_out, W_out):
    """out (N, F, H_out, W_out) from x (N, C, H, W), w (F, C, 3, 3), b (F,), stride 1."""
    xp = array_module(x)
    N, F = x.shape[0], w.shape[0]
    tiles_h, tiles_w = tiles(H_out, W_out)
    U = transform_filters(w)
    out = xp.empty((N, F, H_out, W_out), dtype=x.dtype)
    whole_tiles = (H_out, W_out) == (2 * tiles_h, 2 * tiles_w)
    for chunk in _chunks(x, F, tiles_h, tiles_w):
        M = transform_input(x[chunk], pad, tiles_h, tiles_w) @ U
        # Column 1 of A^T is all ones, so M[1, 1] reaches every output once: the cheapest place for the bias.
        M[5] += b
        n = M.shape[1] // (tiles_h * tiles_w)
        target = out[chunk] if whole_tiles else xp.empty((n, F, 2 * tiles_h, 2 * tiles_w), dtype=x.dtype)
        _interleaved(target, tiles_h, tiles_w)[...] = transform_output(M, n, tiles_h, tiles_w)
        if not whole_tiles:
            out[chunk] = target[:, :, :H_out, :W_out]
    return out


def backward(dout, x, w, pad, H_out, W_out):
    """dx (N, C, H, W) and dw (F, C, 3, 3) from dout (N, F, H_out, W_out)."""
    xp = array_module(x)
    F = w.shape[0]
    tiles_h, tiles_w = tiles(H_out, W_out)
    U_T = transform_filters(w).transpose(0, 2, 1)
    dU = xp.zeros((16, x.shape[1], F), dtype=x.dtype)
    dx = xp.empty_like(x)
    for chunk in _chunks(x, F, tiles_h, tiles_w):
        n = dout[chunk].shape[0]
        V = transform_input(x[chunk], pad, tiles_h, tiles_w)
        dout_tiles = xp.zeros((n, F, 2 * tiles_h, 2 * tiles_w), dtype=x.dtype)
        dout_tiles[:, :, :H_out, :W_out] = dout[chunk]
        dM = output_gradient(xp.ascontiguousarray(_interleaved(dout_tiles, tiles_h, tiles_w)))
        dU += V.transpose(0, 2, 1) @ dM
        dx[chunk] = input_gradient(dM @ U_T, dx[chunk].shape, pad, tiles_h, tiles_w)
    return dx, filter_gradient(dU)
