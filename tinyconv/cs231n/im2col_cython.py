"""The functions of the starter's compiled ``cs231n/im2col_cython``, in NumPy: nothing to build.

``im2col_cython`` and ``col2im_cython`` are :func:`~tinyconv.cs231n.im2col.im2col_indices` and
:func:`~tinyconv.cs231n.im2col.col2im_indices` with the Cython signatures; for fields that are not
square they use the row layout of those (the Cython code mixed up the two field sizes there).
``col2im_6d_cython`` is the adjoint of the six-dimensional columns that tinyconv's im2col
convolution builds.
"""

import numpy as np

from tinyconv.cs231n.im2col import _output_size, col2im_indices as _col2im_indices, im2col_indices as im2col_cython
from tinyconv import _checks
from tinyconv.layers._im2col import _col2im


def col2im_cython(cols, N, C, H, W, field_height, field_width, padding, stride):
    """Sum columns (C*field_height*field_width, H_out*W_out*N) back into an array (N, C, H, W)."""
    return _col2im_indices(cols, (N, C, H, W), field_height, field_width, padding, stride)


def col2im_6d_cython(cols, N, C, H, W, HH, WW, pad, stride):
    """Sum columns (C, HH, WW, N, H_out, W_out) back into an array (N, C, H, W).

    Entry ``cols[c, kh, kw, n, i, j]`` is added to the padded input at ``(n, c, stride*i + kh,
    stride*j + kw)``, for a filter of HH x WW.
    """
    where = "col2im_6d_cython"
    H_out, W_out = _output_size(where, (N, C, H, W), HH, WW, pad, stride)
    _checks.float_array(where, "cols", cols, 6, "(C, HH, WW, N, H_out, W_out)")
    _checks.shape_is(where, "cols", cols, (C, HH, WW, N, H_out, W_out), "(C, HH, WW, N, H_out, W_out)")
    geometry = _checks.ConvGeometry.square(stride, pad, H_out, W_out)
    return np.ascontiguousarray(_col2im(cols, (N, C, H, W), geometry))
