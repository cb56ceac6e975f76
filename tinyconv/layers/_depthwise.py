"""Depthwise convolution, forward and backward: each input channel convolved with its own filters
(``groups == C``, w (C*m, 1, HH, WW) for a depth multiplier m), as MobileNet's blocks have it.

im2col would make one tiny matrix product per channel, (m, HH*WW) @ (HH*WW, P), that leaves the BLAS idle.
Here each of the HH*WW kernel offsets is one multiply-add over the whole batch: the view of the padded
input that the offset sees, times that offset's tap of every filter, added to the output. The backward
runs the same passes the other way: the view times dout summed into the tap's gradient, and dout times the
tap added into the view of the input's gradient. The batch goes in chunks sized for the workspace, on the
available workers.

NumPy's elementwise loops cost per row of a view, and a row of an output is only W_out long. At stride 1
the views are made flat instead (:class:`_Layout`): each padded image is one row, and the view of an offset
is one contiguous run of it, ``H_out`` rows of the padded width, whose last columns wrap around into the
next row and are dropped at the end (a float32 forward on one thread took 20 instead of 24 ms, and the
taps' gradient 11 instead of 23, on 64 channels of 32x32 at batch 64).
"""

from .._backend import array_module
from ._windows import offset_view, pad_spatial
from ._workspace import map_batch_chunks


def applies(x, w, geometry):
    """Whether the convolution is depthwise: as many groups as input channels (two or more)."""
    return geometry.groups == x.shape[1] > 1 and w.shape[1] == 1


class _Layout:
    """How a chunk's padded images are viewed at each kernel offset: as strided windows, or at stride 1 as
    runs of the images flattened, each output row then as wide as a padded row."""

    def __init__(self, geometry, height, width):
        self.geometry, self.height, self.width = geometry, height, width
        self.flat = geometry.stride == (1, 1)
        top, bottom, left, right = geometry.pad
        self.padded_width = width + left + right
        # The run of the last offset ends past the last padded row by its column offset: one more row of zeros.
        self.pad = (top, bottom + 1, left, right) if self.flat else geometry.pad

    def padded(self, x):
        """x (n, C, H, W) padded, flat (n, C, rows * padded width) at stride 1."""
        x_pad = pad_spatial(x, self.pad)
        return x_pad.reshape(*x_pad.shape[:2], -1) if self.flat else x_pad

    def view(self, padded, kh, kw):
        """What kernel offset (kh, kw) sees of every output position: (n, C, H_out, W_out), or flat
        (n, C, H_out * padded width)."""
        (dh, dw), H_out = self.geometry.dilation, self.geometry.H_out
        if self.flat:
            start = kh * dh * self.padded_width + kw * dw
            return padded[..., start:start + H_out * self.padded_width]
        return offset_view(padded, kh * dh, kw * dw, self.geometry.stride, H_out, self.geometry.W_out)

    def spatial(self):
        """The output positions' own shape in this layout."""
        H_out = self.geometry.H_out
        return (H_out * self.padded_width,) if self.flat else (H_out, self.geometry.W_out)

    def crop(self, outputs):
        """Outputs (n, C, m, *spatial) as (n, C * m, H_out, W_out): the wrapped columns dropped."""
        n, C, m = outputs.shape[:3]
        H_out, W_out = self.geometry.H_out, self.geometry.W_out
        if self.flat:
            outputs = outputs.reshape(n, C, m, H_out, self.padded_width)[..., :W_out]
        return outputs.reshape(n, C * m, H_out, W_out)

    def spread(self, dout, C):
        """dout (n, C * m, H_out, W_out) as (n, C, m, *spatial), zeros in the wrapped columns."""
        xp = array_module(dout)
        n, H_out, W_out = dout.shape[0], self.geometry.H_out, self.geometry.W_out
        grad = dout.reshape(n, C, -1, H_out, W_out)
        if not self.flat:
            return grad
        wide = xp.zeros((*grad.shape[:4], self.padded_width), dtype=dout.dtype)
        wide[..., :W_out] = grad
        return wide.reshape(*grad.shape[:3], -1)

    def unpadded(self, padded, n, C):
        """The padded input's gradient as (n, C, H, W)."""
        top, _, left, _ = self.pad
        rows = padded.reshape(n, C, -1, self.padded_width)
        return rows[:, :, top:top + self.height, left:left + self.width]


def _bytes_per_sample(x, w, geometry):
    _, C, H, W = x.shape
    top, bottom, left, right = geometry.pad
    # The padded input (and its gradient), dout or out (as wide as a padded row), and one product.
    padded = C * (H + top + bottom + 1) * (W + left + right)
    return (2 * padded + 3 * w.shape[0] * geometry.H_out * (W + left + right)) * x.itemsize


def _taps(w, C):
    """Filters w (C*m, 1, HH, WW) as (C, m, HH, WW): the m filters of each input channel."""
    return w.reshape(C, w.shape[0] // C, *w.shape[2:])


def forward(x, w, b, geometry):
    """out (N, C*m, H_out, W_out) from x (N, C, H, W), w (C*m, 1, HH, WW), b (C*m,)."""
    xp = array_module(x)
    N, C, H, W = x.shape
    taps = _taps(w, C)
    multiplier, HH, WW = taps.shape[1:]
    layout = _Layout(geometry, H, W)
    out = xp.empty((N, w.shape[0], geometry.H_out, geometry.W_out), dtype=x.dtype)

    def work(chunk):
        padded = layout.padded(x[chunk])[:, :, None]  # (n, C, 1, ...): broadcast over the m filters
        outputs = xp.empty((padded.shape[0], C, multiplier, *layout.spatial()), dtype=x.dtype)
        outputs[...] = b.reshape(C, multiplier, *(1,) * len(layout.spatial()))
        product = xp.empty_like(outputs)
        for kh in range(HH):
            for kw in range(WW):
                tap = taps[:, :, kh, kw].reshape(C, multiplier, *(1,) * len(layout.spatial()))
                xp.multiply(layout.view(padded, kh, kw), tap, out=product)
                outputs += product
        out[chunk] = layout.crop(outputs)

    map_batch_chunks(xp, work, N, _bytes_per_sample(x, w, geometry))
    return out


def backward(dout, x, w, geometry, need_dx=True):
    """dx (N, C, H, W), or None without ``need_dx``, and dw (C*m, 1, HH, WW) from dout (N, C*m, H_out, W_out)."""
    xp = array_module(x)
    N, C, H, W = x.shape
    taps = _taps(w, C)
    multiplier, HH, WW = taps.shape[1:]
    layout = _Layout(geometry, H, W)
    dx = xp.empty_like(x) if need_dx else None
    axes = "l" if layout.flat else "ij"  # the output positions: one flat axis, or rows and columns

    def work(chunk):
        padded = layout.padded(x[chunk])
        grad = layout.spread(dout[chunk], C)  # (n, C, m, *spatial)
        dx_padded = xp.zeros_like(padded) if need_dx else None
        dtaps = xp.empty_like(taps)
        for kh in range(HH):
            for kw in range(WW):
                dtaps[:, :, kh, kw] = xp.einsum(f"nc{axes},ncm{axes}->cm", layout.view(padded, kh, kw), grad)
                if need_dx:
                    layout.view(dx_padded, kh, kw)[...] += xp.einsum(f"ncm{axes},cm->nc{axes}", grad,
                                                                     taps[:, :, kh, kw])
        if need_dx:
            dx[chunk] = layout.unpadded(dx_padded, len(padded), C)
        return dtaps

    dtaps = xp.zeros_like(taps)
    for part in map_batch_chunks(xp, work, N, _bytes_per_sample(x, w, geometry)):
        dtaps += part
    return dx, dtaps.reshape(w.shape)
