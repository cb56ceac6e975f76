"""The ops that see each sample as a vector: affine layers (with their norm and ReLU) and dropout."""

import math
from dataclasses import dataclass, field

from tinyconv.layers import (
    affine_backward,
    affine_forward,
    affine_relu_backward,
    affine_relu_forward,
    batchnorm_backward,
    batchnorm_forward,
    dropout_backward,
    dropout_forward,
    dropout_forward_2017,
    layernorm_backward,
    layernorm_forward,
    relu_backward,
    relu_forward,
)
from tinyconv.ops import inference
from tinyconv.ops._op import Op, Plan, inference_norm

_NORMS = {
    "batchnorm": (batchnorm_forward, batchnorm_backward),
    "layernorm": (layernorm_forward, layernorm_backward),
}


@dataclass(frozen=True)
class Affine(Op):
    """affine - [batchnorm | layernorm] - [relu]: ``(N, d1, ..., dk) -> (N, units)``, each sample flattened.

    Params ``W{number} (d1 * ... * dk, units)``, ``b{number} (units,)`` and with a norm ``gamma{number}``,
    ``beta{number}`` ``(units,)``. A norm comes only with ReLU, as in the cs231n fully connected nets.
    """

    number: int
    units: int
    relu: bool = False
    normalization: str = None  # None, 'batchnorm' or 'layernorm'

    flat_input = True

    def plan(self, where, in_shape):
        n = self.number
        params = {f"W{n}": (math.prod(in_shape), self.units), f"b{n}": (self.units,)}
        norms = ()
        if self.normalization is not None:
            params.update({f"gamma{n}": (self.units,), f"beta{n}": (self.units,)})
            norms = (self.units if self.normalization == "batchnorm" else None,)
        return Plan((self.units,), params, norms, math.prod(in_shape) * self.units)

    def forward(self, params, x, norms, mode):
        w, b = params[f"W{self.number}"], params[f"b{self.number}"]
        if not self.relu:
            return affine_forward(x, w, b)
        if self.normalization is None:
            return affine_relu_forward(x, w, b)
        affine_out, affine_cache = affine_forward(x, w, b)
        normed, norm_cache = _NORMS[self.normalization][0](
            affine_out, params[f"gamma{self.number}"], params[f"beta{self.number}"], next(norms))
        out, relu_cache = relu_forward(normed)
        return out, (affine_cache, norm_cache, relu_cache)

    def backward(self, dout, cache, need_dx):
        n, grads = self.number, {}
        if not self.relu:
            dx, grads[f"W{n}"], grads[f"b{n}"] = affine_backward(dout, cache)
        elif self.normalization is None:
            dx, grads[f"W{n}"], grads[f"b{n}"] = affine_relu_backward(dout, cache)
        else:
            affine_cache, norm_cache, relu_cache = cache
            dnormed = relu_backward(dout, relu_cache)
            daffine, grads[f"gamma{n}"], grads[f"beta{n}"] = _NORMS[self.normalization][1](dnormed, norm_cache)
            dx, grads[f"W{n}"], grads[f"b{n}"] = affine_backward(daffine, affine_cache)
        return dx, grads

    def describe(self):
        parts = [f"affine, {self.units} units", self.normalization, "relu" if self.relu else None]
        return " - ".join(part for part in parts if part)

    def inference(self, params, norms, cast):
        n = self.number
        ops = [inference.Affine(str(n), cast(params[f"W{n}"]), cast(params[f"b{n}"]))]
        if self.normalization is not None:
            ops.append(inference_norm(self.normalization, params, str(n), next(norms), cast, spatial=False))
        if self.relu:
            ops.append(inference.ReLU())
        return tuple(ops)


@dataclass(frozen=True)
class Dropout(Op):
    """Inverted dropout keeping each unit with probability ``param['p']`` (with ``drops``, dropping it with
    that probability, as the 2016 and 2017 cs231n starters had it); any shape, no parameters.

    ``param`` is the cs231n dropout dict (``p`` and an optional ``seed``), which a model may share with its
    users (FullyConnectedNet's ``dropout_param``), where the model records its mode. The forward passes the
    layer a copy in the mode of its own call, so that two threads may run one model, one training while
    the other scores.
    """

    param: dict = field(compare=False)
    drops: bool = False

    flat_input = True

    def plan(self, where, in_shape):
        return Plan(tuple(in_shape), {})

    def record_mode(self, mode):
        self.param["mode"] = mode

    def forward(self, params, x, norms, mode):
        return (dropout_forward_2017 if self.drops else dropout_forward)(x, {**self.param, "mode": mode})

    def backward(self, dout, cache, need_dx):
        return dropout_backward(dout, cache), {}

    def describe(self):
        return f"dropout, {'dropping' if self.drops else 'keeping'} {self.param['p']:g}"

    def inference(self, params, norms, cast):
        return (inference.Dropout(1 - self.param["p"] if self.drops else self.param["p"]),)
