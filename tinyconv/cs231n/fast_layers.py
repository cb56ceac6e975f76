"""The starter's ``cs231n/fast_layers.py``: tinyconv's fast convolution and max pooling.

``conv_forward_fast`` and ``max_pool_forward_fast`` (and their backward passes) are tinyconv's. The
starter's other algorithms are faces over them, so every forward has the backward of the same name:

- ``conv_forward_im2col``, ``conv_forward_strides`` and the 2019 ``conv_forward_pytorch`` (which ran
  PyTorch's convolution) are ``conv_forward_fast`` with the im2col algorithm; their backward passes
  are ``conv_backward_fast``, which takes their caches.
- ``max_pool_forward_reshape`` and ``max_pool_forward_im2col`` are ``max_pool_forward_fast``, which
  handles every window and stride (the starter's reshape form only tiling square windows); their
  backward passes are ``max_pool_backward_fast``. Ties in a window send the gradient to the first
  maximum, where the starter's reshape form split it between them.

The im2col helpers come from :mod:`tinyconv.cs231n.im2col` and :mod:`tinyconv.cs231n.im2col_cython`,
which need no Cython build. ``torch`` and ``nn``, which the 2019 module imported, are imported when
first used.
"""

from __future__ import print_function

from builtins import range

import numpy as np

from tinyconv import _checks
from tinyconv.cs231n._optional import nn, torch
from tinyconv.cs231n.im2col import col2im_indices, get_im2col_indices, im2col_indices
from tinyconv.cs231n.im2col_cython import col2im_6d_cython, col2im_cython, im2col_cython
from tinyconv.layers import conv_backward_fast, conv_forward_fast, max_pool_backward_fast, max_pool_forward_fast


def conv_forward_im2col(x, w, b, conv_param):
    """``conv_forward_fast`` with the im2col algorithm.

    Parameters and results as ``conv_forward_fast``: x (N, C, H, W), w (F, C, HH, WW), b (F,),
    conv_param with ``stride`` and ``pad``; out (N, F, H_out, W_out) and a cache for
    ``conv_backward_im2col``. The caller's conv_param is not changed.
    """
    conv_param = _checks.dictionary("conv_forward_im2col", "conv_param", conv_param)
    return conv_forward_fast(x, w, b, {**conv_param, "algorithm": "im2col"})


conv_forward_strides = conv_forward_pytorch = conv_forward_im2col
conv_backward_im2col = conv_backward_strides = conv_backward_pytorch = conv_backward_fast
max_pool_forward_reshape = max_pool_forward_im2col = max_pool_forward_fast
max_pool_backward_reshape = max_pool_backward_im2col = max_pool_backward_fast
