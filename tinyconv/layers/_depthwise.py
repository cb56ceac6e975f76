"""Depthwise convolution, forward and backward: each input channel convolved with its own filters
(``groups == C``, w (C*m, 1, HH, WW) for a depth multiplier m), as MobileNet's blocks have it.

im2col would make one tiny matrix product per channel, (m, HH*WW) @ (HH*WW, P), that leaves the BLAS idle.
Here each of the HH*WW kernel offsets is one multiply-add over the whole batch: the view of the padded
input that the offset sees, times that offset's tap of every filter, added to the output. The backward
runs the same passes the other way: the view times dout summed into the tap's gradient, and dout times the
tap added into the view of the input's gradient. The batch goes in chunks sized for the workspace, on the
available workers.
"""

from .._backend import array_module
from ._windows import offset_view, pad_spatial
from ._workspace import map_batch_chunks


def applies(x, w, geometry):
    """Whether the convolution is depthwise: as many groups as input channels (two or more)."""
    return geometry.groups == x.shape[1] > 1 and w.shape[1] == 1


def _bytes_per_sample(x, w, geometry):
    _, C, H, W = x.shape
    top, bottom, left, right = geometry.pad
    # The padded input (and its gradient), dout or out, and one product of a view and a tap.
    padded = C * (H + top + bottom) * (W + left + right)
    return (2 * padded + 2 * w.shape[0] * geometry.H_out * geometry.W_out) * x.itemsize


def _taps(w, C):
    """Filters w (C*m, 1, HH, WW) as (C, m, HH, WW): the m filters of each input channel."""
    return w.reshape(C, w.shape[0] // C, *w.shape[2:])


def forward(x, w, b, geometry):
    """out (N, C*m, H_out, W_out) from x (N, C, H, W), w (C*m, 1, HH, WW), b (C*m,)."""
    xp = array_module(x)
    N, C = x.shape[:2]
    H_out, W_out = geometry.H_out, geometry.W_out
    taps = _taps(w, C)
    multiplier, HH, WW = taps.shape[1:]
    (dh, dw), stride = geometry.dilation, geometry.stride
    out = xp.empty((N, w.shape[0], H_out, W_out), dtype=x.dtype)

    def work(chunk):
        x_pad = pad_spatial(x[chunk], geometry.pad)[:, :, None]  # (n, C, 1, H', W'), broadcast over m
        block = out[chunk].reshape(-1, C, multiplier, H_out, W_out)
        block[...] = b.reshape(C, multiplier)[:, :, None, None]
        product = xp.empty_like(block)
        for kh in range(HH):
            for kw in range(WW):
                xp.multiply(offset_view(x_pad, kh * dh, kw * dw, stride, H_out, W_out),
                            taps[:, :, kh, kw, None, None], out=product)
                block += product

    map_batch_chunks(xp, work, N, _bytes_per_sample(x, w, geometry))
    return out


def backward(dout, x, w, geometry, need_dx=True):
    """dx (N, C, H, W), or None without ``need_dx``, and dw (C*m, 1, HH, WW) from dout (N, C*m, H_out, W_out)."""
    xp = array_module(x)
    N, C, H, W = x.shape
    H_out, W_out = geometry.H_out, geometry.W_out
    taps = _taps(w, C)
    multiplier, HH, WW = taps.shape[1:]
    (dh, dw), stride = geometry.dilation, geometry.stride
    top, _, left, _ = geometry.pad
    dx = xp.empty_like(x) if need_dx else None

    def work(chunk):
        x_pad = pad_spatial(x[chunk], geometry.pad)
        grad = dout[chunk].reshape(-1, C, multiplier, H_out, W_out)
        dx_pad = xp.zeros_like(x_pad) if need_dx else None
        dtaps = xp.empty_like(taps)
        for kh in range(HH):
            for kw in range(WW):
                view = offset_view(x_pad, kh * dh, kw * dw, stride, H_out, W_out)
                dtaps[:, :, kh, kw] = xp.einsum("ncij,ncmij->cm", view, grad)
                if need_dx:
                    offset_view(dx_pad, kh * dh, kw * dw, stride, H_out, W_out)[...] += xp.einsum(
                        "ncmij,cm->ncij", grad, taps[:, :, kh, kw])
        if need_dx:
            dx[chunk] = dx_pad[:, :, top:top + H, left:left + W]
        return dtaps

    dtaps = xp.zeros_like(taps)
    for part in map_batch_chunks(xp, work, N, _bytes_per_sample(x, w, geometry)):
        dtaps += part
    return dx, dtaps.reshape(w.shape)
