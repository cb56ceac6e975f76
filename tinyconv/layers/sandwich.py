"""Common layer stacks ("sandwiches") built on the fast layers.

Each forward returns ``(out, cache)`` and each backward the gradients of the forward's array inputs, in
order, like the layers they are made of.
"""

from typing import NamedTuple

from .. import _checks
from .affine import affine_backward, affine_forward, relu_backward, relu_forward
from .conv import conv_backward_fast, conv_forward_fast
from .norms import (
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)
from .pool import max_pool_backward_fast, max_pool_forward_fast


class AffineReluCache(NamedTuple):
    affine: tuple
    relu: tuple
    forward = "affine_relu_forward"


class ConvReluCache(NamedTuple):
    conv: tuple
    relu: tuple
    forward = "conv_relu_forward"


class ConvReluPoolCache(NamedTuple):
    conv: tuple
    relu: tuple
    pool: tuple
    forward = "conv_relu_pool_forward"


class ConvBnReluCache(NamedTuple):
    conv: tuple
    norm: tuple
    relu: tuple
    forward = "conv_bn_relu_forward"


class ConvGnReluCache(NamedTuple):
    conv: tuple
    norm: tuple
    relu: tuple
    forward = "conv_gn_relu_forward"


def affine_relu_forward(x, w, b):
    """Affine then ReLU. x (N, d_1, ..., d_k), w (D, M), b (M,) -> out (N, M), cache."""
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return out, AffineReluCache(fc_cache, relu_cache)


def affine_relu_backward(dout, cache):
    """Backward of ``affine_relu_forward``. dout (N, M) -> dx (N, d_1, ..., d_k), dw (D, M), db (M,)."""
    fc_cache, relu_cache = _checks.cache("affine_relu_backward", cache, AffineReluCache)
    return affine_backward(relu_backward(dout, relu_cache), fc_cache)


def conv_relu_forward(x, w, b, conv_param):
    """Fast conv then ReLU. x (N, C, H, W), w (F, C, HH, WW), b (F,) -> out (N, F, H_out, W_out), cache."""
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    out, relu_cache = relu_forward(a)
    return out, ConvReluCache(conv_cache, relu_cache)


def conv_relu_backward(dout, cache):
    """Backward of ``conv_relu_forward``. dout (N, F, H_out, W_out) -> dx, dw, db."""
    conv_cache, relu_cache = _checks.cache("conv_relu_backward", cache, ConvReluCache)
    return conv_backward_fast(relu_backward(dout, relu_cache), conv_cache)


def conv_relu_pool_forward(x, w, b, conv_param, pool_param):
    """Fast conv, ReLU, fast max pool. x (N, C, H, W) -> out (N, F, H_pool, W_pool), cache."""
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    s, relu_cache = relu_forward(a)
    out, pool_cache = max_pool_forward_fast(s, pool_param)
    return out, ConvReluPoolCache(conv_cache, relu_cache, pool_cache)


def conv_relu_pool_backward(dout, cache):
    """Backward of ``conv_relu_pool_forward``. dout (N, F, H_pool, W_pool) -> dx, dw, db."""
    conv_cache, relu_cache, pool_cache = _checks.cache("conv_relu_pool_backward", cache, ConvReluPoolCache)
    ds = max_pool_backward_fast(dout, pool_cache)
    return conv_backward_fast(relu_backward(ds, relu_cache), conv_cache)


def conv_bn_relu_forward(x, w, b, gamma, beta, conv_param, bn_param):
    """Fast conv, spatial batchnorm, ReLU. gamma, beta (F,) -> out (N, F, H_out, W_out), cache."""
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    an, bn_cache = spatial_batchnorm_forward(a, gamma, beta, bn_param)
    out, relu_cache = relu_forward(an)
    return out, ConvBnReluCache(conv_cache, bn_cache, relu_cache)


def conv_bn_relu_backward(dout, cache):
    """Backward of ``conv_bn_relu_forward``: dx, dw, db, dgamma (F,), dbeta (F,)."""
    return _conv_norm_relu_backward("conv_bn_relu_backward", dout, cache, ConvBnReluCache,
                                    spatial_batchnorm_backward)


def conv_gn_relu_forward(x, w, b, gamma, beta, G, conv_param, gn_param):
    """Fast conv, spatial group norm with G groups, ReLU. gamma, beta (1, F, 1, 1) -> out (N, F, H_out, W_out),
    cache."""
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    an, gn_cache = spatial_groupnorm_forward(a, gamma, beta, G, gn_param)
    out, relu_cache = relu_forward(an)
    return out, ConvGnReluCache(conv_cache, gn_cache, relu_cache)


def conv_gn_relu_backward(dout, cache):
    """Backward of ``conv_gn_relu_forward``: dx, dw, db, dgamma (1, F, 1, 1), dbeta (1, F, 1, 1)."""
    return _conv_norm_relu_backward("conv_gn_relu_backward", dout, cache, ConvGnReluCache,
                                    spatial_groupnorm_backward)


def _conv_norm_relu_backward(where, dout, cache, cache_type, norm_backward):
    conv_cache, norm_cache, relu_cache = _checks.cache(where, cache, cache_type)
    dan, dgamma, dbeta = norm_backward(relu_backward(dout, relu_cache), norm_cache)
    dx, dw, db = conv_backward_fast(dan, conv_cache)
    return dx, dw, db, dgamma, dbeta
