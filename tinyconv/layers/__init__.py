"""Every layer as a forward/backward pair, cs231n-compatible: ``out, cache = *_forward(...)``,
gradients ``= *_backward(dout, cache)``.

Where a layer has two forms, ``*_naive`` loops like the math and ``*_fast`` is vectorized;
both live side by side in the same module (conv.py, conv_transpose.py, pool.py). Weights, biases, gamma and beta given
as integer arrays (as cs231n's notebooks write them) take the dtype of the layer's input.
"""

from ._workspace import limit_workspace, workspace_limit
from .affine import affine_backward, affine_forward, relu_backward, relu_forward
from .conv import conv_backward_fast, conv_backward_naive, conv_forward_fast, conv_forward_naive
from .conv_transpose import (
    conv_transpose_backward_fast,
    conv_transpose_backward_naive,
    conv_transpose_forward_fast,
    conv_transpose_forward_naive,
)
from .dropout import dropout_backward, dropout_forward, dropout_forward_2017
from .losses import softmax_loss, svm_loss
from .norms import (
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)
from .pool import (
    avg_pool_backward_fast,
    avg_pool_backward_naive,
    avg_pool_forward_fast,
    avg_pool_forward_naive,
    global_avg_pool_backward,
    global_avg_pool_forward,
    max_pool_backward_fast,
    max_pool_backward_naive,
    max_pool_forward_fast,
    max_pool_forward_naive,
)
from .sandwich import (
    affine_relu_backward,
    affine_relu_forward,
    conv_block_max_pool_backward,
    conv_bn_relu_backward,
    conv_bn_relu_forward,
    conv_gn_relu_backward,
    conv_gn_relu_forward,
    conv_relu_backward,
    conv_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
    residual_block_backward,
    residual_block_forward,
)

__all__ = [
    # affine.py
    "affine_forward", "affine_backward", "relu_forward", "relu_backward",
    # conv.py
    "conv_forward_naive", "conv_backward_naive", "conv_forward_fast", "conv_backward_fast",
    # conv_transpose.py
    "conv_transpose_forward_naive", "conv_transpose_backward_naive", "conv_transpose_forward_fast",
    "conv_transpose_backward_fast",
    # pool.py
    "max_pool_forward_naive", "max_pool_backward_naive", "max_pool_forward_fast", "max_pool_backward_fast",
    "avg_pool_forward_naive", "avg_pool_backward_naive", "avg_pool_forward_fast", "avg_pool_backward_fast",
    "global_avg_pool_forward", "global_avg_pool_backward",
    # norms.py
    "batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt",
    "spatial_batchnorm_forward", "spatial_batchnorm_backward",
    "layernorm_forward", "layernorm_backward",
    "spatial_groupnorm_forward", "spatial_groupnorm_backward",
    # dropout.py
    "dropout_forward", "dropout_backward", "dropout_forward_2017",
    # losses.py
    "softmax_loss", "svm_loss",
    # sandwich.py
    "affine_relu_forward", "affine_relu_backward",
    "conv_relu_forward", "conv_relu_backward",
    "conv_relu_pool_forward", "conv_relu_pool_backward",
    "conv_bn_relu_forward", "conv_bn_relu_backward",
    "conv_gn_relu_forward", "conv_gn_relu_backward", "conv_block_max_pool_backward",
    "residual_block_forward", "residual_block_backward",
    # _workspace.py
    "limit_workspace", "workspace_limit",
]
