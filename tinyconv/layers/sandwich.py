"""Common layer stacks ("sandwiches") built on the fast layers.

Each forward returns ``(out, cache)`` and each backward the gradients of the forward's array inputs, in
order, like the layers they are made of.
"""

from typing import NamedTuple

from .. import _checks
from .._backend import array_module
from .affine import _relu_backward_in_place, _relu_in_place, affine_backward, affine_forward, relu_backward
from .conv import conv_backward_fast, conv_forward_fast
from .norms import (
    BatchnormCache,
    _batchnorm_backward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)
from .pool import MaxPoolFastCache, max_pool_backward_fast, max_pool_forward_fast
from ._windows import floor_padding


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
    out, relu_cache = _relu_in_place(a)
    return out, AffineReluCache(fc_cache, relu_cache)


def affine_relu_backward(dout, cache):
    """Backward of ``affine_relu_forward``. dout (N, M) -> dx (N, d_1, ..., d_k), dw (D, M), db (M,)."""
    fc_cache, relu_cache = _checks.cache("affine_relu_backward", cache, AffineReluCache)
    return affine_backward(relu_backward(dout, relu_cache), fc_cache)


def conv_relu_forward(x, w, b, conv_param):
    """Fast conv then ReLU. x (N, C, H, W), w (F, C, HH, WW), b (F,) -> out (N, F, H_out, W_out), cache."""
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    out, relu_cache = _relu_in_place(a)
    return out, ConvReluCache(conv_cache, relu_cache)


def conv_relu_backward(dout, cache, need_dx=True):
    """Backward of ``conv_relu_forward``. dout (N, F, H_out, W_out) -> dx (None without need_dx), dw, db."""
    conv_cache, relu_cache = _checks.cache("conv_relu_backward", cache, ConvReluCache)
    return conv_backward_fast(relu_backward(dout, relu_cache), conv_cache, need_dx)


def conv_relu_pool_forward(x, w, b, conv_param, pool_param):
    """Fast conv, ReLU, fast max pool. x (N, C, H, W) -> out (N, F, H_pool, W_pool), cache."""
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    s, relu_cache = _relu_in_place(a)
    out, pool_cache = max_pool_forward_fast(s, pool_param)
    return out, ConvReluPoolCache(conv_cache, relu_cache, pool_cache)


def conv_relu_pool_backward(dout, cache, need_dx=True):
    """Backward of ``conv_relu_pool_forward``. dout (N, F, H_pool, W_pool) -> dx (None without need_dx), dw,
    db."""
    where = "conv_relu_pool_backward"
    conv_cache, _, pool_cache = _checks.cache(where, cache, ConvReluPoolCache)
    return conv_backward_fast(_relu_max_pool_backward(where, dout, pool_cache), conv_cache, need_dx)


def _relu_max_pool_backward(where, dout, pool_cache):
    """The gradient at the input of ReLU for ReLU followed by a fast max pool, from the pool's dout.

    ReLU's backward runs on the pooled side: a window's gradient goes to the position of its maximum, where
    ReLU's output is that maximum, so ReLU lets it through exactly where the pooled output is positive. The
    same results as masking the pool's gradient, on an array a quarter of its size (2x2 pools), and the
    result is a fresh array the caller owns.
    """
    pooled = _checks.cache(where, pool_cache, MaxPoolFastCache).out
    _checks.gradient(where, dout, pooled.shape, pooled.dtype)
    return max_pool_backward_fast(dout * (pooled > 0), pool_cache)


def conv_block_max_pool_backward(dout, cache, need_dx=True):
    """Backward of a conv block (``conv_relu``, ``conv_bn_relu`` or ``conv_gn_relu``) followed by a fast max
    pool, from the pool's dout (N, F, H_pool, W_pool). ``cache`` is ``(block_cache, pool_cache)``, the two
    forwards' caches. Returns the block's gradients, as its own backward returns them.

    The pool's gradient comes out with ReLU's mask in it (``_relu_max_pool_backward``) and, being this
    function's own array, the batch norm's backward overwrites it: of the activation-sized arrays that the
    pool, ReLU and norm backwards would make one after another, one is made.
    """
    where = "conv_block_max_pool_backward"
    if not isinstance(cache, tuple) or len(cache) != 2:
        raise TypeError(f"{where}: cache must be the pair (block_cache, pool_cache) of the conv block's and the "
                        f"max pool's forwards, got {_checks.describe(cache)}")
    block_cache, pool_cache = cache
    da = _relu_max_pool_backward(where, dout, pool_cache)
    if isinstance(block_cache, ConvReluCache):
        return conv_backward_fast(da, block_cache.conv, need_dx)
    if not isinstance(block_cache, ConvBnReluCache):
        _checks.cache(where, block_cache, ConvGnReluCache)
    return _conv_norm_backward(where, da, block_cache.conv, block_cache.norm, need_dx)


def conv_bn_relu_forward(x, w, b, gamma, beta, conv_param, bn_param):
    """Fast conv, spatial batchnorm, ReLU. gamma, beta (F,) -> out (N, F, H_out, W_out), cache."""
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    an, bn_cache = spatial_batchnorm_forward(a, gamma, beta, bn_param)
    out, relu_cache = _relu_in_place(an)
    return out, ConvBnReluCache(conv_cache, bn_cache, relu_cache)


def conv_bn_relu_backward(dout, cache, need_dx=True):
    """Backward of ``conv_bn_relu_forward``: dx (None without need_dx), dw, db, dgamma (F,), dbeta (F,)."""
    return _conv_norm_relu_backward("conv_bn_relu_backward", dout, cache, ConvBnReluCache, need_dx)


def conv_gn_relu_forward(x, w, b, gamma, beta, G, conv_param, gn_param):
    """Fast conv, spatial group norm with G groups, ReLU. gamma, beta (1, F, 1, 1) -> out (N, F, H_out, W_out),
    cache."""
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    an, gn_cache = spatial_groupnorm_forward(a, gamma, beta, G, gn_param)
    out, relu_cache = _relu_in_place(an)
    return out, ConvGnReluCache(conv_cache, gn_cache, relu_cache)


def conv_gn_relu_backward(dout, cache, need_dx=True):
    """Backward of ``conv_gn_relu_forward``: dx (None without need_dx), dw, db, dgamma (1, F, 1, 1),
    dbeta (1, F, 1, 1)."""
    return _conv_norm_relu_backward("conv_gn_relu_backward", dout, cache, ConvGnReluCache, need_dx)


def _conv_norm_relu_backward(where, dout, cache, cache_type, need_dx):
    conv_cache, norm_cache, relu_cache = _checks.cache(where, cache, cache_type)
    return _conv_norm_backward(where, relu_backward(dout, relu_cache), conv_cache, norm_cache, need_dx)


def _conv_norm_backward(where, grad, conv_cache, norm_cache, need_dx):
    """dx, dw, db, dgamma, dbeta of a conv and its batch or group norm from ``grad`` at the norm's output, a
    fresh array of the caller's (ReLU's gradient), which a batch norm's backward overwrites."""
    if isinstance(norm_cache, BatchnormCache):
        dan, dgamma, dbeta = _batchnorm_backward(where, grad, norm_cache, in_place=True)
    else:
        dan, dgamma, dbeta = spatial_groupnorm_backward(grad, norm_cache)
    dx, dw, db = conv_backward_fast(dan, conv_cache, need_dx)
    return dx, dw, db, dgamma, dbeta


# --- the residual basic block --------------------------------------------------------------------------


class _CutConvCache(NamedTuple):
    conv: tuple
    x_shape: tuple
    forward = "a residual block's strided conv"


def _strided_conv_forward(x, w, b, stride, pad):
    """Conv with PyTorch's output size ``floor((H + 2*pad - HH) / stride) + 1``: where the stride does not
    divide the padded input evenly (a stride-2 conv on an even size), padded only as far as the windows reach,
    and the input's last rows and columns cut where they reach less than it (``_windows.floor_padding``),
    which is what PyTorch's convolution sees."""
    (top, bottom, cut_h), (left, right, cut_w) = (floor_padding(size, window, pad, stride)
                                                  for size, window in zip(x.shape[2:], w.shape[2:]))
    H, W = x.shape[2:]
    out, conv_cache = conv_forward_fast(x[:, :, :H - cut_h, :W - cut_w], w, b,
                                        {"stride": stride, "pad": (top, bottom, left, right)})
    return out, _CutConvCache(conv_cache, x.shape) if cut_h or cut_w else conv_cache


def _strided_conv_backward(dout, cache, need_dx):
    if not isinstance(cache, _CutConvCache):
        return conv_backward_fast(dout, cache, need_dx)
    dx_cut, dw, db = conv_backward_fast(dout, cache.conv, need_dx)
    if not need_dx:
        return None, dw, db
    dx = array_module(dout).zeros(cache.x_shape, dtype=dx_cut.dtype)  # the cut rows and columns get none
    dx[:, :, :dx_cut.shape[2], :dx_cut.shape[3]] = dx_cut
    return dx, dw, db


class ResidualBlockCache(NamedTuple):
    conv1: tuple
    bn1: tuple
    relu1: tuple
    conv2: tuple
    bn2: tuple
    shortcut_conv: object  # None for the identity shortcut
    shortcut_bn: object
    relu_out: tuple
    forward = "residual_block_forward"


def residual_block_forward(x, w1, b1, gamma1, beta1, w2, b2, gamma2, beta2, block_param, projection=None):
    """The residual basic block: ``relu(bn(conv(relu(bn(conv(x))))) + shortcut(x))``.

    Both convolutions use "same" padding ``(k - 1) // 2`` for odd k x k filters; the first one runs at
    ``block_param['stride']`` (1, or 2 to halve the spatial size, with PyTorch's output size
    ``floor((H - 1) / 2) + 1`` for 3x3 filters). The shortcut is x itself when the shapes allow, else a
    1x1 convolution at the same stride followed by batchnorm (``projection``).

    Parameters
    ----------
    x : array (N, C, H, W)
    w1 : array (F, C, k, k), b1 : (F,), gamma1, beta1 : (F,)
    w2 : array (F, F, k, k), b2 : (F,), gamma2, beta2 : (F,)
    block_param : dict
        ``stride`` (1 or 2, default 1) and ``bn_params``: a list of the batchnorm dicts of the two
        convolutions and, with a projection, of the shortcut (as ``spatial_batchnorm_forward`` takes them).
    projection : None or tuple (ws (F, C, 1, 1), bs (F,), gammas (F,), betas (F,))
        Needed exactly when the shortcut changes the shape (C != F or stride 2).

    Returns
    -------
    out : array (N, F, H_out, W_out)
    cache : for ``residual_block_backward``
    """
    where = "residual_block_forward"
    _checks.float_array(where, "x", x, 4, "(N, C, H, W)")
    # Checked here, so that a mistake is reported under the block's own argument names.
    w1, b1, gamma1, beta1, w2, b2, gamma2, beta2 = (
        _checks.parameter_array(where, name, value, x) for name, value in
        zip(("w1", "b1", "gamma1", "beta1", "w2", "b2", "gamma2", "beta2"), (w1, b1, gamma1, beta1, w2, b2, gamma2, beta2)))
    if projection is not None:
        if not isinstance(projection, (tuple, list)) or len(projection) != 4:
            raise TypeError(f"{where}: projection must be None or a tuple (ws, bs, gammas, betas), got "
                            f"{_checks.describe(projection)}")
        projection = tuple(_checks.parameter_array(where, name, value, x)
                           for name, value in zip(("ws", "bs", "gammas", "betas"), projection))
    _checks.param_dict(where, "block_param", block_param, ("stride", "bn_params"), required=("bn_params",))
    stride = _checks.integer(where, "block_param['stride']", block_param.get("stride", 1), 1, 2)
    bn_params = block_param["bn_params"]
    changes_shape = stride != 1 or x.shape[1] != w1.shape[0]
    if changes_shape != (projection is not None):
        raise ValueError(f"{where}: the shortcut {'changes' if changes_shape else 'keeps'} the shape (C={x.shape[1]} "
                         f"-> F={w1.shape[0]}, stride {stride}), so projection must be "
                         f"{'a tuple (ws, bs, gammas, betas)' if changes_shape else 'None'}")
    if not isinstance(bn_params, (list, tuple)) or len(bn_params) != 2 + changes_shape:
        raise ValueError(f"{where}: block_param['bn_params'] must be a list of {2 + changes_shape} batchnorm dicts "
                         "(conv 1, conv 2" + (", shortcut)" if changes_shape else ")"))
    for name, w in (("w1", w1), ("w2", w2)):
        _checks.dimensions(where, name, w, 4, "(F, C, k, k)")
        if w.shape[2] != w.shape[3] or w.shape[2] % 2 == 0:
            raise ValueError(f"{where}: {name} must hold square filters of odd size, got {tuple(w.shape)}")
    a, conv1 = _strided_conv_forward(x, w1, b1, stride, (w1.shape[2] - 1) // 2)
    a, bn1 = spatial_batchnorm_forward(a, gamma1, beta1, bn_params[0])
    a, relu1 = _relu_in_place(a)
    a, conv2 = conv_forward_fast(a, w2, b2, {"stride": 1, "pad": (w2.shape[2] - 1) // 2})
    a, bn2 = spatial_batchnorm_forward(a, gamma2, beta2, bn_params[1])
    shortcut, shortcut_conv, shortcut_bn = x, None, None
    if projection is not None:
        ws, bs, gammas, betas = projection
        shortcut, shortcut_conv = _strided_conv_forward(x, ws, bs, stride, 0)
        shortcut, shortcut_bn = spatial_batchnorm_forward(shortcut, gammas, betas, bn_params[2])
    if shortcut.shape != a.shape:
        raise ValueError(f"{where}: the shortcut has shape {tuple(shortcut.shape)} but the block's output "
                         f"{tuple(a.shape)}; check the shapes of w1, w2 and the projection")
    out, relu_out = _relu_in_place(a + shortcut)
    return out, ResidualBlockCache(conv1, bn1, relu1, conv2, bn2, shortcut_conv, shortcut_bn, relu_out)


def residual_block_backward(dout, cache, need_dx=True):
    """Backward of ``residual_block_forward``.

    Returns
    -------
    dx (None without need_dx), dw1, db1, dgamma1, dbeta1, dw2, db2, dgamma2, dbeta2, and with a projection
    also dws, dbs, dgammas, dbetas, each shaped like its input.
    """
    cache = _checks.cache("residual_block_backward", cache, ResidualBlockCache)
    dsum = relu_backward(dout, cache.relu_out)
    da, dgamma2, dbeta2 = spatial_batchnorm_backward(dsum, cache.bn2)
    da, dw2, db2 = conv_backward_fast(da, cache.conv2)
    # conv_backward_fast's dx is this function's own array: ReLU's mask and then the batch norm overwrite it.
    da = _relu_backward_in_place(da, cache.relu1)
    da, dgamma1, dbeta1 = _batchnorm_backward("residual_block_backward", da, cache.bn1, in_place=True)
    dx, dw1, db1 = _strided_conv_backward(da, cache.conv1, need_dx)
    grads = (dw1, db1, dgamma1, dbeta1, dw2, db2, dgamma2, dbeta2)
    if cache.shortcut_conv is None:
        return (dx + dsum if need_dx else None, *grads)
    ds, dgammas, dbetas = spatial_batchnorm_backward(dsum, cache.shortcut_bn)
    dxs, dws, dbs = _strided_conv_backward(ds, cache.shortcut_conv, need_dx)
    return (dx + dxs if need_dx else None, *grads, dws, dbs, dgammas, dbetas)
