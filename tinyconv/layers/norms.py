"""Normalization layers: batch, layer, spatial batch and spatial group normalization.

All of them compute ``x_hat = (x - mean) / sqrt(var + eps)`` over some axes and
return ``gamma * x_hat + beta``; they differ only in which axes the statistics
run over. Layer and group norm share ``_normalize_backward``, the closed form
of the gradient through the normalization. The batch norms use the same closed
form with its sums shared with dgamma and dbeta (``_batchnorm_backward``),
which halves the passes over the data. ``batchnorm_backward`` instead walks the
computational graph step by step, as the derivation is first written down.

The fast batch norms pass over the batch in chunks on tinyconv's workers, as the fast conv and pool do:
each pass adds up per-chunk sums (in chunk order) or writes its chunk of the result.
"""

import math
from typing import NamedTuple

from .. import _checks
from .._backend import array_module
from ._workspace import map_rows

_BN_KEYS = ("mode", "eps", "momentum", "running_mean", "running_var")
# cs231n's models set 'mode' on every normalization dict, layer and group norm included.
_LN_KEYS = ("mode", "eps")


def _normalize(x, axes, eps):
    """Return ``(x_hat, inv_std)`` with statistics over ``axes`` (kept as size-1 axes)."""
    xp = array_module(x)
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=axes, keepdims=True)
    inv_std = 1 / xp.sqrt(var + eps)
    return centered * inv_std, inv_std


def _normalize_backward(dx_hat, x_hat, inv_std, axes):
    """Gradient through ``x_hat = (x - mean) * inv_std`` with statistics over ``axes``.

    ``dx = inv_std * (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat))``.
    """
    mean_dx_hat = dx_hat.mean(axis=axes, keepdims=True)
    mean_dx_hat_x_hat = (dx_hat * x_hat).mean(axis=axes, keepdims=True)
    return inv_std * (dx_hat - mean_dx_hat - x_hat * mean_dx_hat_x_hat)


def _features(a):
    """a (N, D) or (N, D, H, W) as (N, D, S): a batch norm's statistics run over axes 0 and 2 of this view."""
    return a.reshape(a.shape[0], a.shape[1], math.prod(a.shape[2:]))


def _feature_sum(a):
    """The sum over every axis but the feature axis 1: shape (D,). Sums along the contiguous axis first."""
    return _features(a).sum(axis=2).sum(axis=0)


def _feature_dot(a, b):
    """``_feature_sum(a * b)`` without the product array: shape (D,)."""
    return array_module(a).einsum("nds,nds->d", _features(a), _features(b))


def _added(parts):
    """The per-chunk partial sums ``parts`` added up in chunk order."""
    total = parts[0].copy()
    for part in parts[1:]:
        total += part
    return total


class BatchnormCache(NamedTuple):
    """What the batch norms keep for their backward; mean and var (shape (D,)) are None in test mode.

    x itself is not kept (the backward needs x_hat only, and x = x_hat / inv_std + mean), so the input can
    go once nothing else needs it.
    """

    mode: str
    x_hat: object
    gamma: object
    mean: object
    var: object
    inv_std: object
    eps: float
    forward = "batchnorm_forward or spatial_batchnorm_forward"


class LayernormCache(NamedTuple):
    """What ``layernorm_forward`` keeps for its backward."""

    x_hat: object
    gamma: object
    inv_std: object
    forward = "layernorm_forward"


class GroupnormCache(NamedTuple):
    """What ``spatial_groupnorm_forward`` keeps for its backward."""

    x_hat: object
    gamma: object
    inv_std: object
    G: int
    forward = "spatial_groupnorm_forward"


def _affine_params(where, x, gamma, beta, shape, layout):
    """gamma and beta checked against their expected shape, in x's dtype (integer arrays converted)."""
    gamma = _checks.parameter_array(where, "gamma", gamma, x)
    beta = _checks.parameter_array(where, "beta", beta, x)
    _checks.shape_is(where, "gamma", gamma, shape, layout)
    _checks.shape_is(where, "beta", beta, shape, layout)
    return gamma, beta


def _running_stat(where, bn_param, key, xp, num_features, dtype):
    """Fetch ``bn_param[key]``, creating zeros the first time; it must match (D,) and x's dtype."""
    stat = bn_param.get(key)
    if stat is None:
        return xp.zeros(num_features, dtype=dtype)
    _checks.float_array(where, f"bn_param['{key}']", stat)
    _checks.shape_is(where, f"bn_param['{key}']", stat, (num_features,), "(D,)")
    if stat.dtype != dtype:
        raise TypeError(f"{where}: bn_param['{key}'] has dtype {stat.dtype} but x has {dtype}")
    return stat


def _batchnorm(where, x, gamma, beta, bn_param):
    """Batch normalization of x (N, D) or (N, D, H, W) over every axis but the feature axis 1; gamma, beta and
    the running statistics are (D,)."""
    _checks.param_dict(where, "bn_param", bn_param, _BN_KEYS)
    mode = _checks.mode(where, "bn_param", bn_param)
    eps = _checks.positive_float(where, "bn_param['eps']", bn_param.get("eps", 1e-5))
    momentum = _checks.real(where, "bn_param['momentum']", bn_param.get("momentum", 0.9), 0, 1)
    xp = array_module(x)
    D = x.shape[1]
    running_mean = _running_stat(where, bn_param, "running_mean", xp, D, x.dtype)
    running_var = _running_stat(where, bn_param, "running_var", xp, D, x.dtype)
    broadcast = [1] * x.ndim
    broadcast[1] = D
    x_hat, out = xp.empty_like(x), xp.empty_like(x)
    if mode == "train":
        if x.shape[0] == 0:
            raise ValueError(f"{where}: training mode needs at least one sample, got x of shape {tuple(x.shape)}")
        count = x.size // D
        mean = _added(map_rows(lambda chunk: _feature_sum(x[chunk]), x)) / count

        def center(chunk):
            xp.subtract(x[chunk], mean.reshape(broadcast), out=x_hat[chunk])
            return _feature_dot(x_hat[chunk], x_hat[chunk])

        var = _added(map_rows(center, x)) / count
        inv_std = 1 / xp.sqrt(var + eps)
        # New arrays rather than in-place updates: the caller's arrays are never modified.
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
    else:
        inv_std = 1 / xp.sqrt(running_var + eps)
        mean = var = None
        bn_param["running_mean"], bn_param["running_var"] = running_mean, running_var

    def normalize(chunk):
        if mode == "test":  # centred by the running mean; in training, center() did it
            xp.subtract(x[chunk], running_mean.reshape(broadcast), out=x_hat[chunk])
        x_hat[chunk] *= inv_std.reshape(broadcast)
        xp.multiply(x_hat[chunk], gamma.reshape(broadcast), out=out[chunk])
        out[chunk] += beta.reshape(broadcast)

    map_rows(normalize, x)
    return out, BatchnormCache(mode, x_hat, gamma, mean, var, inv_std, eps)


def _batchnorm_backward(where, dout, cache, staged=False, in_place=False):
    """Backward of the batch norms: the closed form, or with ``staged`` the graph walked node by node.

    The closed form ``dx = gamma * inv_std * (dout - mean(dout) - x_hat * mean(dout * x_hat))`` takes its
    two means from dbeta and dgamma, which are those sums already. With ``in_place`` it overwrites ``dout``
    with dx, for a caller whose own fresh array dout is (a sandwich, after ReLU's backward).
    """
    cache = _checks.cache(where, cache, BatchnormCache)
    x_hat, gamma = cache.x_hat, cache.gamma
    _checks.gradient(where, dout, x_hat.shape, x_hat.dtype)
    broadcast = [1] * x_hat.ndim
    broadcast[1] = gamma.shape[0]
    xp = array_module(dout)
    D = gamma.shape[0]
    if x_hat.shape[0] == 0:
        dgamma = dbeta = xp.zeros(D, dtype=x_hat.dtype)
    else:
        sums = map_rows(lambda chunk: (_feature_dot(dout[chunk], x_hat[chunk]), _feature_sum(dout[chunk])), dout)
        dgamma, dbeta = _added([dot for dot, _ in sums]), _added([total for _, total in sums])
    scale = gamma * cache.inv_std
    if staged and cache.mode == "train":
        return _staged(dout * gamma.reshape(broadcast), cache), dgamma, dbeta
    train = cache.mode == "train"  # in test mode the running statistics are constants: dx = dout * scale
    if train:
        count = x_hat.size // D
        from_dgamma = (scale * dgamma / count).reshape(broadcast)
        from_dbeta = (scale * dbeta / count).reshape(broadcast)
    dx = dout if in_place else xp.empty_like(dout)

    def gradient(chunk):
        xp.multiply(dout[chunk], scale.reshape(broadcast), out=dx[chunk])
        if train:
            dx[chunk] -= x_hat[chunk] * from_dgamma
            dx[chunk] -= from_dbeta

    map_rows(gradient, dout)
    return dx, dgamma, dbeta


def _staged(dx_hat, cache):
    """The chain rule through the graph x -> mean -> centered -> var -> std -> x_hat, one node at a time.

    Sums run over every axis but the feature axis 1, so a spatial batch norm's cache works too.
    """
    xp = array_module(dx_hat)
    x_hat, var, eps = cache.x_hat, cache.var, cache.eps
    D = x_hat.shape[1]
    count = x_hat.size // D
    per_feature = [1] * x_hat.ndim
    per_feature[1] = D
    std = xp.sqrt(var + eps).reshape(per_feature)
    centered = x_hat * std  # x - mean, from what the forward kept
    # x_hat = centered / std
    dcentered = dx_hat / std
    dstd = -_feature_dot(dx_hat, centered).reshape(per_feature) / (std * std)
    # std = sqrt(var + eps)
    dvar = dstd / (2 * std)
    # var = mean(centered ** 2)
    dcentered += 2 * centered * dvar / count
    # centered = x - mean
    dmean = -_feature_sum(dcentered).reshape(per_feature)
    # mean = sum(x) / count
    return dcentered + dmean / count


def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalization of features over the batch.

    In 'train' mode normalizes with the batch mean and (biased) variance and
    updates the running averages ``running = momentum * running + (1 - momentum) * batch``,
    writing them back into ``bn_param``. In 'test' mode normalizes with the running averages.

    Parameters
    ----------
    x : array (N, D)
    gamma, beta : arrays (D,), scale and shift
    bn_param : dict
        ``mode`` (required): 'train' or 'test'; ``eps`` (default 1e-5);
        ``momentum`` (default 0.9); ``running_mean``, ``running_var``: arrays (D,),
        created as zeros on the first call.

    Returns
    -------
    out : array (N, D)
    cache : for ``batchnorm_backward`` and ``batchnorm_backward_alt``
    """
    where = "batchnorm_forward"
    _checks.float_array(where, "x", x, 2, "(N, D)")
    gamma, beta = _affine_params(where, x, gamma, beta, (x.shape[1],), "(D,)")
    return _batchnorm(where, x, gamma, beta, bn_param)


def batchnorm_backward(dout, cache):
    """Backward pass of ``batchnorm_forward``, following the computational graph node by node.

    Parameters
    ----------
    dout : array (N, D)
    cache : from ``batchnorm_forward``

    Returns
    -------
    dx : array (N, D)
    dgamma, dbeta : arrays (D,)
    """
    return _batchnorm_backward("batchnorm_backward", dout, cache, staged=True)


def batchnorm_backward_alt(dout, cache):
    """Backward pass of ``batchnorm_forward`` in simplified closed form.

    ``dx = inv_std * (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat))`` with
    ``dx_hat = dout * gamma`` and means over the batch. Same cache and results as
    ``batchnorm_backward``.

    Returns
    -------
    dx : array (N, D)
    dgamma, dbeta : arrays (D,)
    """
    return _batchnorm_backward("batchnorm_backward_alt", dout, cache)


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalization per channel, with statistics over N, H and W.

    Parameters
    ----------
    x : array (N, C, H, W)
    gamma, beta : arrays (C,)
    bn_param : dict, as for ``batchnorm_forward`` (running statistics of shape (C,))

    Returns
    -------
    out : array (N, C, H, W)
    cache : for ``spatial_batchnorm_backward``
    """
    where = "spatial_batchnorm_forward"
    _checks.float_array(where, "x", x, 4, "(N, C, H, W)")
    gamma, beta = _affine_params(where, x, gamma, beta, (x.shape[1],), "(C,)")
    return _batchnorm(where, x, gamma, beta, bn_param)


def spatial_batchnorm_backward(dout, cache):
    """Backward pass of ``spatial_batchnorm_forward``.

    Returns
    -------
    dx : array (N, C, H, W)
    dgamma, dbeta : arrays (C,)
    """
    return _batchnorm_backward("spatial_batchnorm_backward", dout, cache)


def layernorm_forward(x, gamma, beta, ln_param):
    """Layer normalization: each sample normalized over its D features.

    Parameters
    ----------
    x : array (N, D)
    gamma, beta : arrays (D,)
    ln_param : dict with optional ``eps`` (default 1e-5); a ``mode`` key is accepted and ignored

    Returns
    -------
    out : array (N, D)
    cache : for ``layernorm_backward``
    """
    where = "layernorm_forward"
    _checks.float_array(where, "x", x, 2, "(N, D)")
    gamma, beta = _affine_params(where, x, gamma, beta, (x.shape[1],), "(D,)")
    _checks.param_dict(where, "ln_param", ln_param, _LN_KEYS)
    eps = _checks.positive_float(where, "ln_param['eps']", ln_param.get("eps", 1e-5))
    x_hat, inv_std = _normalize(x, (1,), eps)
    return gamma * x_hat + beta, LayernormCache(x_hat, gamma, inv_std)


def layernorm_backward(dout, cache):
    """Backward pass of ``layernorm_forward``.

    Returns
    -------
    dx : array (N, D)
    dgamma, dbeta : arrays (D,)
    """
    x_hat, gamma, inv_std = _checks.cache("layernorm_backward", cache, LayernormCache)
    _checks.gradient("layernorm_backward", dout, x_hat.shape, x_hat.dtype)
    dx = _normalize_backward(dout * gamma, x_hat, inv_std, (1,))
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    """Group normalization: each sample's C channels split into G contiguous groups, each normalized over
    its channels and H, W.

    Parameters
    ----------
    x : array (N, C, H, W)
    gamma, beta : arrays (1, C, 1, 1)
    G : int, number of groups; must divide C
    gn_param : dict with optional ``eps`` (default 1e-5); a ``mode`` key is accepted and ignored

    Returns
    -------
    out : array (N, C, H, W)
    cache : for ``spatial_groupnorm_backward``
    """
    where = "spatial_groupnorm_forward"
    _checks.float_array(where, "x", x, 4, "(N, C, H, W)")
    N, C, H, W = x.shape
    gamma, beta = _affine_params(where, x, gamma, beta, (1, C, 1, 1), "(1, C, 1, 1)")
    G = _checks.integer(where, "G", G, 1)
    if C % G:
        raise ValueError(f"{where}: the number of groups G={G} must divide the number of channels C={C}")
    _checks.param_dict(where, "gn_param", gn_param, _LN_KEYS)
    eps = _checks.positive_float(where, "gn_param['eps']", gn_param.get("eps", 1e-5))
    x_hat, inv_std = _normalize(x.reshape(N, G, C // G * H * W), (2,), eps)
    x_hat = x_hat.reshape(x.shape)
    return gamma * x_hat + beta, GroupnormCache(x_hat, gamma, inv_std, G)


def spatial_groupnorm_backward(dout, cache):
    """Backward pass of ``spatial_groupnorm_forward``.

    Returns
    -------
    dx : array (N, C, H, W)
    dgamma, dbeta : arrays (1, C, 1, 1)
    """
    x_hat, gamma, inv_std, G = _checks.cache("spatial_groupnorm_backward", cache, GroupnormCache)
    _checks.gradient("spatial_groupnorm_backward", dout, x_hat.shape, x_hat.dtype)
    N, C, H, W = x_hat.shape
    grouped = (N, G, C // G * H * W)
    dx = _normalize_backward((dout * gamma).reshape(grouped), x_hat.reshape(grouped), inv_std, (2,))
    dgamma = (dout * x_hat).sum(axis=(0, 2, 3), keepdims=True)
    dbeta = dout.sum(axis=(0, 2, 3), keepdims=True)
    return dx.reshape(x_hat.shape), dgamma, dbeta
