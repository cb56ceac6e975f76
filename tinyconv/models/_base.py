"""What every tinyconv model shares: params, dtype, L2 penalty, config, buffers."""

import copy

import numpy as np

from tinyconv import _arguments

_RUNNING_STATS = ("running_mean", "running_var")
# The 2x2 max pool, stride 2, of the cs231n conv nets.
POOL_PARAM = {"pool_height": 2, "pool_width": 2, "stride": 2}


class Model:
    """Base class of the tinyconv models.

    Attributes
    ----------
    params : dict of str -> ndarray
        Learnable parameters. Weights are named ``W1, W2, ...``, biases
        ``b1, b2, ...`` and normalization scales and shifts ``gamma1, beta1, ...``.
    dtype : type
        ``np.float32`` or ``np.float64``; parameters, inputs (cast on entry),
        scores, losses and gradients all use it.
    reg : float
        L2 strength; the loss adds ``0.5 * reg * sum(W**2)`` for every weight
        (biases and normalization parameters are not regularized).
    """

    def __init__(self, config, reg, dtype):
        """``config`` holds the subclass's own validated constructor arguments."""
        self.reg = _arguments.nonnegative_float("reg", reg)
        self.dtype = _arguments.float_dtype(dtype)
        self._config = {**config, "reg": self.reg, "dtype": np.dtype(self.dtype).name}
        self.params = {}
        # Per-layer norm dicts (cs231n's bn_params): mode and running statistics.
        self.normalization = None
        self.bn_params = []

    def get_config(self):
        """Constructor keyword arguments, JSON-serializable: ``type(self)(**config)`` rebuilds the model."""
        return copy.deepcopy(self._config)

    # --- buffers (running statistics of batch normalization) -------------------------

    def _running_stats_owners(self):
        """Dict layer number -> the bn_param dict that holds that layer's running statistics."""
        if self.normalization != "batchnorm":
            return {}
        return dict(enumerate(self.bn_params, start=1))

    def _new_bn_param(self, size):
        # Running statistics exist from the start, so state() always has the same keys.
        return {
            "mode": "train",
            "running_mean": np.zeros(size, dtype=self.dtype),
            "running_var": np.zeros(size, dtype=self.dtype),
        }

    def state(self):
        """Non-parameter buffers, as a dict ``running_mean{n}`` / ``running_var{n}`` -> copy.

        ``n`` is the number of the layer the statistics belong to (the one that
        owns ``gamma{n}``). Empty for models without batch normalization.
        """
        return {
            f"{key}{number}": np.array(bn_param[key], copy=True)
            for number, bn_param in self._running_stats_owners().items()
            for key in _RUNNING_STATS
        }

    def load_state(self, state):
        """Set the buffers from a dict shaped like :meth:`state`'s result (arrays are copied)."""
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict, got {type(state).__name__}.")
        current = self.state()
        if set(state) != set(current):
            raise ValueError(
                f"state must have exactly the keys {sorted(current)}, got {sorted(state)}."
            )
        for key, value in state.items():
            if np.shape(value) != current[key].shape:
                raise ValueError(
                    f"state[{key!r}] must have shape {current[key].shape}, got {np.shape(value)}."
                )
        for number, bn_param in self._running_stats_owners().items():
            for key in _RUNNING_STATS:
                bn_param[key] = np.array(state[f"{key}{number}"], dtype=self.dtype, copy=True)

    # --- shared pieces of loss() -----------------------------------------------------

    def _set_batchnorm_mode(self, mode):
        """Put every batch norm in ``mode`` ('train' or 'test')."""
        if self.normalization == "batchnorm":
            for bn_param in self.bn_params:
                bn_param["mode"] = mode

    def _prepare_input(self, X, feature_shape):
        """``X`` cast to the model dtype, after checking its per-sample shape.

        ``feature_shape`` is a (C, H, W) tuple, or an int: the number of
        features each sample flattens to.
        """
        shape = getattr(X, "shape", None)
        if shape is None or len(shape) < 2:
            raise ValueError(f"X must be an array of shape (N, ...), got {type(X).__name__} {shape}.")
        matches = (
            int(np.prod(shape[1:])) == feature_shape
            if isinstance(feature_shape, int)
            else tuple(shape[1:]) == feature_shape
        )
        if not matches:
            raise ValueError(
                f"X must have shape (N, *{feature_shape}) for this model "
                f"(input_dim={self._config['input_dim']!r}), got {shape}."
            )
        return X.astype(self.dtype, copy=False)

    def _add_l2(self, data_loss, grads):
        """Add ``0.5 * reg * sum(W**2)`` over the weights to the loss and ``reg * W`` to their grads."""
        loss = data_loss
        for name, weight in self.params.items():
            if name.startswith("W"):
                loss = loss + self.dtype(0.5 * self.reg) * np.sum(weight * weight)
                grads[name] = grads[name] + self.dtype(self.reg) * weight
        return loss, grads
