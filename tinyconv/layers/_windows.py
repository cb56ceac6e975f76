"""The strided views that convolution and pooling windows make of an image."""


def offset_view(a, row, col, stride, H_out, W_out):
    """Element (row, col) of every window of a[..., H, W] placed ``stride`` apart: a view (..., H_out, W_out)."""
    return a[..., row:row + stride * (H_out - 1) + 1:stride, col:col + stride * (W_out - 1) + 1:stride]
