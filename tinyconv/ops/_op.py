"""What every op shares: the plan it makes of an input shape, and how it reads its norms' settings."""

from typing import NamedTuple

from tinyconv.ops import inference

# The eps that tinyconv's norms use when their parameter dict gives none.
DEFAULT_EPS = 1e-5


class Plan(NamedTuple):
    """What an op makes of one input shape (without the batch axis).

    ``params`` maps each parameter's name to its shape, in the order the model draws them; ``norms`` has
    one entry per norm dict the op reads from the model's ``bn_params``, in forward order: the number of
    running statistics of a batch norm, None for a norm that keeps none (group and layer norm);
    ``multiply_adds`` counts the multiply-adds of its products (convolutions, affine layers) for one sample.
    """

    out_shape: tuple
    params: dict
    norms: tuple = ()
    multiply_adds: int = 0


class Op:
    """One step of a model's forward pass: a layer or a block of layers, whose parameters are named as the
    model names them (``W3``, ``gamma2a``).

    A model is a list of ops; its ``loss`` runs their ``forward`` in order and their ``backward`` in
    reverse. Each op defines:

    - ``plan(where, in_shape) -> Plan``: the output shape and the parameters for an input of ``in_shape``
      (no batch axis), or a ValueError that starts with ``where`` when that input does not fit;
    - ``forward(params, x, norms, mode) -> (out, cache)``: ``params`` is the model's dict, ``norms`` an
      iterator over the model's norm dicts from which the op takes its own, ``mode`` 'train' or 'test';
    - ``backward(dout, cache, need_dx) -> (dx, grads)``: ``grads`` keyed like ``params``; without
      ``need_dx`` (the first op: nothing needs the gradient of the images) an op whose dx costs work of
      its own, a convolution's, skips it and returns None;
    - ``inference(params, norms, cast) -> tuple``: what the op computes at inference, as the primitives of
      :mod:`tinyconv.ops.inference`, with every array passed through ``cast``.

    ``describe()`` says what the op is in a few words (a model's summary lists them).

    ``flat_input`` is True for ops that see each sample as a vector: the exports flatten before the
    first of them.
    """

    flat_input = False

    def plan(self, where, in_shape):
        raise NotImplementedError

    def forward(self, params, x, norms, mode):
        raise NotImplementedError

    def backward(self, dout, cache, need_dx):
        raise NotImplementedError

    def inference(self, params, norms, cast):
        raise NotImplementedError

    def describe(self):
        """What the op is, in a few words, for a model's summary."""
        raise NotImplementedError

    def record_mode(self, mode):
        """Write ``mode`` where the model's users read it (a cs231n parameter dict); most ops keep none."""


def norm_names(params, suffix):
    """The names of a layer's arrays in ``params``: ``W``, ``b`` and, where it is normalized, ``gamma``,
    ``beta``, each followed by ``suffix``."""
    names = ("W", "b", "gamma", "beta") if f"gamma{suffix}" in params else ("W", "b")
    return [f"{name}{suffix}" for name in names]


def inference_norm(normalization, params, suffix, norm_param, cast, num_groups=None, spatial=True):
    """The inference primitive of a ``normalization`` with parameters ``gamma{suffix}``, ``beta{suffix}``."""
    gamma, beta = cast(params[f"gamma{suffix}"]).reshape(-1), cast(params[f"beta{suffix}"]).reshape(-1)
    eps = float(norm_param.get("eps", DEFAULT_EPS))
    if normalization == "batchnorm":
        return inference.BatchNorm(suffix, gamma, beta, cast(norm_param["running_mean"]),
                                   cast(norm_param["running_var"]), eps, spatial)
    if normalization == "groupnorm":
        return inference.GroupNorm(suffix, gamma, beta, num_groups, eps)
    return inference.LayerNorm(suffix, gamma, beta, eps)
