"""The starter's ``cs231n/im2col.py``: the column matrix of a convolution and its adjoint.

The columns are those of tinyconv's im2col convolution (``tinyconv/layers/_im2col.py``), laid out as
the starter has them: a matrix ``(C*field_height*field_width, H_out*W_out*N)`` whose row
``(c*field_height + kh)*field_width + kw`` holds the padded input at channel c, offset (kh, kw) inside
the window, and whose column ``(i*W_out + j)*N + n`` is output position (i, j) of sample n.
"""

from builtins import range

import numpy as np

from tinyconv import _checks
from tinyconv.layers._im2col import _col2im, _im2col


def _output_size(where, x_shape, field_height, field_width, padding, stride):
    """(H_out, W_out) of a field sliding over x_shape (N, C, H, W), after checking the arguments."""
    if len(x_shape) != 4:
        raise ValueError(f"{where}: x_shape must be (N, C, H, W), got {tuple(x_shape)}")
    field_height = _checks.integer(where, "field_height", field_height, 1)
    field_width = _checks.integer(where, "field_width", field_width, 1)
    padding = _checks.integer(where, "padding", padding, 0)
    stride = _checks.integer(where, "stride", stride, 1)
    H, W = x_shape[2:]
    return (_checks.output_size(where, "height", H, field_height, padding, stride),
            _checks.output_size(where, "width", W, field_width, padding, stride))


def get_im2col_indices(x_shape, field_height, field_width, padding=1, stride=1):
    """Index arrays that gather the columns out of the padded input.

    Parameters
    ----------
    x_shape : (N, C, H, W)
    field_height, field_width : int, the window
    padding, stride : int

    Returns
    -------
    k : int array (C*field_height*field_width, 1), the channel of each row
    i, j : int arrays (C*field_height*field_width, H_out*W_out), the padded row and column of each entry;
        ``x_padded[:, k, i, j]`` is ``(N, C*field_height*field_width, H_out*W_out)``
    """
    H_out, W_out = _output_size("get_im2col_indices", x_shape, field_height, field_width, padding, stride)
    C = x_shape[1]
    channel, kh, kw = np.unravel_index(np.arange(C * field_height * field_width), (C, field_height, field_width))
    out_row, out_col = np.unravel_index(np.arange(H_out * W_out), (H_out, W_out))
    return channel[:, None], kh[:, None] + stride * out_row, kw[:, None] + stride * out_col


def im2col_indices(x, field_height, field_width, padding=1, stride=1):
    """Columns of x (N, C, H, W): an array (C*field_height*field_width, H_out*W_out*N), see the module docstring."""
    where = "im2col_indices"
    _checks.float_array(where, "x", x, 4, "(N, C, H, W)")
    H_out, W_out = _output_size(where, x.shape, field_height, field_width, padding, stride)
    geometry = _checks.ConvGeometry.square(stride, padding, H_out, W_out)
    cols = _im2col(x, field_height, field_width, geometry)  # (C, fh, fw, N, H_out, W_out)
    return cols.transpose(0, 1, 2, 4, 5, 3).reshape(-1, H_out * W_out * x.shape[0])


def col2im_indices(cols, x_shape, field_height=3, field_width=3, padding=1, stride=1):
    """Adjoint of :func:`im2col_indices`: sum columns (C*field_height*field_width, H_out*W_out*N) into x_shape."""
    where = "col2im_indices"
    H_out, W_out = _output_size(where, x_shape, field_height, field_width, padding, stride)
    N, C = x_shape[:2]
    _checks.float_array(where, "cols", cols, 2, "(C*field_height*field_width, H_out*W_out*N)")
    _checks.shape_is(where, "cols", cols, (C * field_height * field_width, H_out * W_out * N),
                     "(C*field_height*field_width, H_out*W_out*N)")
    blocks = cols.reshape(C, field_height, field_width, H_out, W_out, N).transpose(0, 1, 2, 5, 3, 4)
    geometry = _checks.ConvGeometry.square(stride, padding, H_out, W_out)
    return np.ascontiguousarray(_col2im(blocks, x_shape, geometry))
