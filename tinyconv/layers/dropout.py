"""Inverted dropout."""

from .._backend import array_module
from . import _checks


def dropout_forward(x, dropout_param):
    """Inverted dropout: in training keep each unit with probability p and scale it by 1/p.

    Parameters
    ----------
    x : array of any shape
    dropout_param : dict
        ``p``: probability of KEEPING a unit, in (0, 1].
        ``mode``: 'train' applies dropout, 'test' is the identity.
        ``seed`` (optional): draw the mask from a generator seeded with it, so every call
        with this dict drops the same units (gradient checks need this). Without a seed the
        mask comes from the global ``np.random`` state, which ``np.random.seed`` fixes.

    Returns
    -------
    out : array shaped like x
    cache : (x.shape, x.dtype, mask), mask None in test mode
    """
    where = "dropout_forward"
    _checks.float_array(where, "x", x)
    _checks.param_dict(where, "dropout_param", dropout_param, ("p", "mode", "seed"), required=("p",))
    p = _checks.probability(where, "dropout_param['p']", dropout_param["p"])
    mode = _checks.mode(where, "dropout_param", dropout_param)
    if mode == "test":
        return x.copy(), (x.shape, x.dtype, None)
    xp = array_module(x)
    seed = dropout_param.get("seed")
    uniform = xp.random.random_sample(x.shape) if seed is None else xp.random.default_rng(seed).random(x.shape)
    mask = (uniform < p) / x.dtype.type(p)
    return x * mask, (x.shape, x.dtype, mask)


def dropout_backward(dout, cache):
    """Backward pass of ``dropout_forward``.

    Parameters
    ----------
    dout : array shaped like x
    cache : from ``dropout_forward``

    Returns
    -------
    dx : array shaped like x
    """
    shape, dtype, mask = cache
    _checks.gradient("dropout_backward", dout, shape, dtype)
    return dout.copy() if mask is None else dout * mask
