"""The starter's ``cs231n/layers.py``: the naive and single-form layers, from :mod:`tinyconv.layers`.

Differences from the starter: dtype in is dtype out (float32 stays float32), bad input raises a
ValueError or TypeError that names the argument, and seeded dropout (``dropout_param['seed']``) seeds
NumPy's global RNG as the starter's reference solution does.
"""

from builtins import range

import numpy as np

from tinyconv.layers import (
    affine_backward,
    affine_forward,
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    conv_backward_naive,
    conv_forward_naive,
    dropout_backward,
    dropout_forward,
    layernorm_backward,
    layernorm_forward,
    max_pool_backward_naive,
    max_pool_forward_naive,
    relu_backward,
    relu_forward,
    softmax_loss,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
    svm_loss,
)
