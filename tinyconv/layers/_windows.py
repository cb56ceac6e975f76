"""The strided views that convolution and pooling windows make of an image, and the zero padding around it."""

from .._backend import array_module


def pad_spatial(x, pad):
    """x (N, C, H, W) with ``pad`` zeros on all four sides: (N, C, H + 2 pad, W + 2 pad)."""
    return array_module(x).pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


def offset_view(a, row, col, stride, H_out, W_out):
    """Element (row, col) of every window of a[..., H, W] placed ``stride`` apart: a view (..., H_out, W_out)."""
    return a[..., row:row + stride * (H_out - 1) + 1:stride, col:col + stride * (W_out - 1) + 1:stride]
