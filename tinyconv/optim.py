"""First-order update rules.

Every rule has the interface::

    next_w, config = rule(w, dw, config=None)

Parameters
----------
w : ndarray
    Current weights, any shape.
dw : ndarray
    Gradient of the loss with respect to ``w``; same shape and dtype as ``w``.
config : dict or None
    Hyperparameters and per-parameter state (moving averages and the like).
    Missing hyperparameters are filled in with ``setdefault``, so the values a
    caller set are kept, and the dict passed in is the dict returned.

Returns
-------
next_w : ndarray
    Updated weights, same shape and dtype as ``w``. ``w`` itself is not modified.
config : dict
    The config, with its state updated, to pass to the next call.

The array module (NumPy or CuPy) is taken from ``w``; state arrays are created
in ``w``'s dtype, and hyperparameters are cast to it, so a float32 model stays
float32 even when a learning rate arrives as a float64 NumPy scalar.
"""

from tinyconv import _checks
from tinyconv._backend import array_module

__all__ = ["sgd", "sgd_momentum", "rmsprop", "adam", "adamw"]

# Each update rule's hyperparameters with their defaults, and the state it keeps in its config.
DEFAULTS = {
    "sgd": {"learning_rate": 1e-2},
    "sgd_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8},
    "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "t": 0},
    "adamw": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "t": 0, "weight_decay": 1e-2},
}
_STATE = {"sgd": (), "sgd_momentum": ("velocity",), "rmsprop": ("cache",), "adam": ("m", "v"), "adamw": ("m", "v")}
# The keys each update rule reads from its config.
CONFIG_KEYS = {rule: (*DEFAULTS[rule], *_STATE[rule]) for rule in DEFAULTS}


def _prepare(where, w, dw, config, defaults):
    """Validate the inputs, fill in default hyperparameters, return (xp, config)."""
    # An integer w would round every learning-rate step to 0: no update at all.
    _checks.float_array(where, "w", w)
    _checks.gradient(where, dw, w.shape, w.dtype, name="dw", like="w")
    if config is None:
        config = {}
    _checks.dictionary(where, "config", config)
    for key, value in defaults.items():
        config.setdefault(key, value)
    return array_module(w), config


def _state(where, xp, config, key, w):
    """The state array ``config[key]``, created as zeros like ``w`` on first use."""
    value = config.get(key)
    if value is None:
        return xp.zeros_like(w)
    # A state of another dtype would silently turn a float32 model into a float64 one.
    _checks.gradient(where, value, w.shape, w.dtype, name=f"config['{key}']", like="w")
    return value


def _as_w_dtype(value, w):
    # Hyperparameter arithmetic happens in Python floats; the result is cast to
    # w's dtype so that a float32 model stays float32.
    return w.dtype.type(value)


def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent: ``w - learning_rate * dw``.

    config: ``learning_rate`` (default 1e-2).
    """
    _, config = _prepare("sgd", w, dw, config, DEFAULTS["sgd"])
    next_w = w - _as_w_dtype(config["learning_rate"], w) * dw
    return next_w, config


def sgd_momentum(w, dw, config=None):
    """SGD with momentum.

    ``v = momentum * v - learning_rate * dw``; ``next_w = w + v``.

    config: ``learning_rate`` (default 1e-2), ``momentum`` (default 0.9; 0 gives
    plain SGD), ``velocity`` (array like ``w``, starts at zeros).
    """
    xp, config = _prepare("sgd_momentum", w, dw, config, DEFAULTS["sgd_momentum"])
    velocity = _state("sgd_momentum", xp, config, "velocity", w)
    velocity = (
        _as_w_dtype(config["momentum"], w) * velocity - _as_w_dtype(config["learning_rate"], w) * dw
    )
    config["velocity"] = velocity
    return w + velocity, config


def rmsprop(w, dw, config=None):
    """RMSProp: scale each step by a moving average of squared gradients.

    ``cache = decay_rate * cache + (1 - decay_rate) * dw**2``;
    ``next_w = w - learning_rate * dw / (sqrt(cache) + epsilon)``.

    config: ``learning_rate`` (default 1e-2), ``decay_rate`` (default 0.99),
    ``epsilon`` (default 1e-8, added after the square root), ``cache`` (array
    like ``w``, starts at zeros).
    """
    xp, config = _prepare("rmsprop", w, dw, config, DEFAULTS["rmsprop"])
    decay = float(config["decay_rate"])
    cache = (
        _as_w_dtype(decay, w) * _state("rmsprop", xp, config, "cache", w)
        + _as_w_dtype(1 - decay, w) * (dw * dw)
    )
    config["cache"] = cache
    step = (
        _as_w_dtype(config["learning_rate"], w)
        * dw
        / (xp.sqrt(cache) + _as_w_dtype(config["epsilon"], w))
    )
    return w - step, config


def adam(w, dw, config=None):
    """Adam: bias-corrected moving averages of the gradient and its square.

    ``t += 1`` (before use, so the first step has t = 1);
    ``m = beta1 * m + (1 - beta1) * dw``; ``v = beta2 * v + (1 - beta2) * dw**2``;
    ``next_w = w - learning_rate * m_hat / (sqrt(v_hat) + epsilon)`` with
    ``m_hat = m / (1 - beta1**t)`` and ``v_hat = v / (1 - beta2**t)``.

    config: ``learning_rate`` (default 1e-3), ``beta1`` (0.9), ``beta2`` (0.999),
    ``epsilon`` (1e-8), ``m`` and ``v`` (arrays like ``w``, start at zeros),
    ``t`` (int step count, starts at 0).
    """
    xp, config = _prepare("adam", w, dw, config, DEFAULTS["adam"])
    beta1, beta2 = float(config["beta1"]), float(config["beta2"])
    config["t"] = t = int(config["t"]) + 1
    m = _as_w_dtype(beta1, w) * _state("adam", xp, config, "m", w) + _as_w_dtype(1 - beta1, w) * dw
    v = _as_w_dtype(beta2, w) * _state("adam", xp, config, "v", w) + _as_w_dtype(1 - beta2, w) * (dw * dw)
    config["m"], config["v"] = m, v
    m_hat = m / _as_w_dtype(1 - beta1**t, w)
    v_hat = v / _as_w_dtype(1 - beta2**t, w)
    step = (
        _as_w_dtype(config["learning_rate"], w)
        * m_hat
        / (xp.sqrt(v_hat) + _as_w_dtype(config["epsilon"], w))
    )
    return w - step, config


def adamw(w, dw, config=None):
    """Adam with decoupled weight decay (AdamW, Loshchilov and Hutter): the weights shrink by
    ``learning_rate * weight_decay`` of themselves, apart from the gradient, then take the Adam step.

    ``next_w = (1 - learning_rate * weight_decay) * w - learning_rate * m_hat / (sqrt(v_hat) + epsilon)``.
    Unlike an L2 penalty in the loss, the decay is not rescaled by Adam's per-weight step sizes.

    config: as for :func:`adam`, plus ``weight_decay`` (default 1e-2, as PyTorch's AdamW).
    """
    _, config = _prepare("adamw", w, dw, config, DEFAULTS["adamw"])
    shrink = _as_w_dtype(1 - config["learning_rate"] * config["weight_decay"], w)
    return adam(w * shrink, dw, config)