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
        ``seed`` (optional): makes the mask reproducible (gradient checks need this).

    Returns
    -------
    out : array shaped like x
    cache : (dropout_param, mask), mask None in test mode
    """
    where = "dropout_forward"
    _checks.float_array(where, "x", x)
    _checks.param_dict(where, "dropout_param", dropout_param, ("p", "mode", "seed"), required=("p",))
    p = _checks.probability(where, "dropout_param['p']", dropout_param["p"])
    mode = _checks.mode(where, "dropout_param", dropout_param)
    if mode == "test":
        return x.copy(), (dropout_param, None)
    xp = array_module(x)
    rng = xp.random.default_rng(dropout_param.get("seed"))
    mask = (rng.random(x.shape, dtype=x.dtype) < p) / x.dtype.type(p)
    return x * mask, (dropout_param, mask)


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
    _, mask = cache
    if mask is None:
        _checks.float_array("dropout_backward", "dout", dout)
        return dout.copy()
    _checks.gradient("dropout_backward", dout, mask.shape, mask.dtype)
    return dout * mask
