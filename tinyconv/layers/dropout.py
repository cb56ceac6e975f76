"""Inverted dropout."""

from typing import NamedTuple

from .. import _checks
from .._backend import array_module


class DropoutCache(NamedTuple):
    """What ``dropout_forward`` keeps for its backward: the input's shape and dtype, and the scaled mask
    (None in test mode)."""

    shape: tuple
    dtype: object
    mask: object
    forward = "dropout_forward"


def dropout_forward(x, dropout_param):
    """Inverted dropout: in training keep each unit with probability p and scale it by 1/p (the cs231n
    convention from 2018 on; :func:`dropout_forward_2017` takes the probability of dropping one).

    Parameters
    ----------
    x : array of any shape
    dropout_param : dict
        ``p``: probability of KEEPING a unit, in (0, 1].
        ``mode``: 'train' applies dropout, 'test' is the identity.
        ``seed`` (optional): seeds NumPy's global RNG with it (``np.random.seed(seed)``, in
        both modes) before the mask is drawn with ``np.random.rand``, so every call with this
        dict drops the same units (gradient checks need this). This is what the cs231n
        reference does, and the side effect is deliberate: the notebooks' later cells draw
        from the global RNG after it, so their printed numbers depend on that state. Without
        a seed (or with ``seed`` None) the mask comes from the global ``np.random`` state as it is.

    Returns
    -------
    out : array shaped like x
    cache : for ``dropout_backward``
    """
    return _dropout(x, dropout_param, keeping=True)


def dropout_forward_2017(x, dropout_param):
    """Inverted dropout as the 2016 and 2017 cs231n starters defined it: ``dropout_param['p']`` is the
    probability of DROPPING a unit, in [0, 1); a kept unit is scaled by 1 / (1 - p), and the mask is
    ``np.random.rand(*x.shape) >= p``. Otherwise as :func:`dropout_forward`, whose backward it shares.
    """
    return _dropout(x, dropout_param, keeping=False)


def _dropout(x, dropout_param, keeping):
    """The two conventions' forward: ``p`` keeps (``keeping``) or drops each unit with its probability."""
    where = "dropout_forward"
    _checks.float_array(where, "x", x)
    _checks.param_dict(where, "dropout_param", dropout_param, ("p", "mode", "seed"), required=("p",))
    if keeping:
        p = _checks.probability(where, "dropout_param['p']", dropout_param["p"])
    else:
        p = _checks.real(where, "dropout_param['p'] (the probability of dropping a unit)", dropout_param["p"], 0, 1,
                         max_open=True)
    mode = _checks.mode(where, "dropout_param", dropout_param)
    xp = array_module(x)
    seed = _checks.optional_seed(where, "dropout_param['seed']", dropout_param.get("seed"))
    if seed is not None:
        xp.random.seed(seed)
    if mode == "test":
        return x.copy(), DropoutCache(x.shape, x.dtype, None)
    draws = xp.random.rand(*x.shape)
    mask = (draws < p) / x.dtype.type(p) if keeping else (draws >= p) / x.dtype.type(1 - p)
    return x * mask, DropoutCache(x.shape, x.dtype, mask)


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
    shape, dtype, mask = _checks.cache("dropout_backward", cache, DropoutCache)
    _checks.gradient("dropout_backward", dout, shape, dtype)
    return dout.copy() if mask is None else dout * mask
