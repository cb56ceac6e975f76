"""The strided views that convolution and pooling windows make of an image, and the zero padding around it."""

from .._backend import array_module


def pad_spatial(x, pad):
    """x (N, C, H, W) with ``pad`` zeros on all four sides, or ``(top, bottom, left, right)`` zeros:
    (N, C, H + top + bottom, W + left + right)."""
    top, bottom, left, right = (pad,) * 4 if isinstance(pad, int) else pad
    return array_module(x).pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))


def floor_padding(size, window, pad, stride):
    """``(before, after, cut)`` for one axis of a convolution with PyTorch's output size
    ``(size + 2 * pad - window) // stride + 1``, where ``window`` is the (dilated) window's reach: tinyconv's
    convolution, whose windows must fit exactly, pads ``before`` and ``after`` and first cuts the ``cut`` last
    rows (or columns) of the input, which no window reaches however it is padded (a 1x1 window at stride 2 on
    an even size); the padding after is only what the windows reach."""
    short = (size + 2 * pad - window) % stride
    return pad, max(pad - short, 0), max(short - pad, 0)


def offset_view(a, row, col, stride, H_out, W_out):
    """Element (row, col) of every window of a[..., H, W] placed ``stride`` apart (an int, or a pair
    (sh, sw)): a view (..., H_out, W_out)."""
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    return a[..., row:row + sh * (H_out - 1) + 1:sh, col:col + sw * (W_out - 1) + 1:sw]


def window(a, i, j, geometry, HH, WW):
    """The window of output position (i, j) in a padded a[..., H, W] under ``geometry`` (a ConvGeometry):
    a view (..., HH, WW) of the taps ``dilation`` apart, as the definition of a convolution reads it."""
    (sh, sw), (dh, dw) = geometry.stride, geometry.dilation
    return a[..., i * sh:i * sh + dh * (HH - 1) + 1:dh, j * sw:j * sw + dw * (WW - 1) + 1:dw]
