"""Check every layer's backward pass against numerical gradients, from one table of cases.

Used by ``tinyconv gradcheck``; ``check_all_layers()`` returns the results for any other caller.
"""

import copy
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from . import layers as L
from .gradcheck import eval_numerical_gradient, eval_numerical_gradient_array, rel_error

_CONV = {"stride": 1, "pad": 1}
_CONV_OPTIONS = {"stride": 1, "pad": (1, 0, 2, 1), "dilation": 2, "groups": 2}
_CONV_TRANSPOSE = {"stride": 2, "pad": 1, "output_padding": 1, "groups": 2}
_CONV_STRIDED = {"stride": 2, "pad": 1}
_POOL = {"pool_height": 2, "pool_width": 2, "stride": 2}
_POOL_OVERLAPPING = {"pool_height": 3, "pool_width": 2, "stride": 1}
_AVG_POOL_PADDED = {"pool_height": 3, "pool_width": 2, "stride": 1, "pad": 1}
_TRAIN_BN = {"mode": "train"}


def _residual_projection_forward(x, w1, b1, gamma1, beta1, w2, b2, gamma2, beta2, ws, bs, gammas, betas, param):
    """The residual block with a projection shortcut, every array positional (as the table needs them)."""
    return L.residual_block_forward(x, w1, b1, gamma1, beta1, w2, b2, gamma2, beta2, param,
                                    (ws, bs, gammas, betas))


def _conv_bn_relu_max_pool_forward(x, w, b, gamma, beta, conv_param, bn_param, pool_param):
    """conv-bn-relu then a fast max pool, with the cache ``conv_block_max_pool_backward`` takes."""
    out, block_cache = L.conv_bn_relu_forward(x, w, b, gamma, beta, conv_param, bn_param)
    pooled, pool_cache = L.max_pool_forward_fast(out, pool_param)
    return pooled, (block_cache, pool_cache)


_RESIDUAL = (("w1", (3, 3, 3, 3)), ("b1", (3,)), ("gamma1", (3,)), ("beta1", (3,)),
             ("w2", (3, 3, 3, 3)), ("b2", (3,)), ("gamma2", (3,)), ("beta2", (3,)))
_PROJECTION = (("ws", (3, 2, 1, 1)), ("bs", (3,)), ("gammas", (3,)), ("betas", (3,)))
_LABELS = np.array([0, 3, 1, 4, 4, 2])  # for scores of shape (6, 5)
# Normalized outputs sum to zero over each group, so some of their input gradients are tiny and
# carry a larger relative error from rounding alone.
_NORM_TOLERANCE = 1e-5
# Winograd's transforms round the forward a little more than direct sums do, and the centred difference
# divides that rounding by 2h: the numerical side of a small gradient is less exact.
_WINOGRAD_TOLERANCE = 1e-5


@dataclass(frozen=True)
class GradCase:
    """One layer to check.

    ``forward(*arrays, *params)`` is called with random float64 arrays of the ``inputs`` shapes.
    With a ``backward``, it returns ``(out, cache)`` and ``backward(dout, cache)`` returns one
    gradient per input; without one (the losses), it returns ``(loss, dx)``. Gradients named in
    ``zero_gradients`` are exactly zero in exact arithmetic, so their relative error would compare
    rounding noise with rounding noise; they are checked for being (absolutely) tiny instead.
    """

    name: str
    forward: Callable
    backward: Optional[Callable]
    inputs: tuple  # ((name, shape), ...) in the forward's argument order
    params: tuple = ()
    tolerance: float = 1e-6
    zero_gradients: tuple = ()


CASES = (
    GradCase("affine", L.affine_forward, L.affine_backward, (("x", (3, 2, 3)), ("w", (6, 4)), ("b", (4,)))),
    GradCase("relu", L.relu_forward, L.relu_backward, (("x", (4, 5)),)),
    GradCase("dropout", L.dropout_forward, L.dropout_backward, (("x", (4, 5)),),
             ({"p": 0.7, "mode": "train", "seed": 7},)),
    GradCase("dropout (2017: p drops)", L.dropout_forward_2017, L.dropout_backward, (("x", (4, 5)),),
             ({"p": 0.3, "mode": "train", "seed": 7},)),
    GradCase("softmax_loss", L.softmax_loss, None, (("x", (6, 5)),), (_LABELS,)),
    GradCase("svm_loss", L.svm_loss, None, (("x", (6, 5)),), (_LABELS,)),
    GradCase("batchnorm", L.batchnorm_forward, L.batchnorm_backward,
             (("x", (4, 5)), ("gamma", (5,)), ("beta", (5,))), (_TRAIN_BN,), _NORM_TOLERANCE),
    GradCase("batchnorm (alt)", L.batchnorm_forward, L.batchnorm_backward_alt,
             (("x", (4, 5)), ("gamma", (5,)), ("beta", (5,))), (_TRAIN_BN,), _NORM_TOLERANCE),
    GradCase("layernorm", L.layernorm_forward, L.layernorm_backward,
             (("x", (4, 5)), ("gamma", (5,)), ("beta", (5,))), ({},), _NORM_TOLERANCE),
    GradCase("conv (naive)", L.conv_forward_naive, L.conv_backward_naive,
             (("x", (2, 3, 5, 5)), ("w", (3, 3, 3, 3)), ("b", (3,))), (_CONV,)),
    GradCase("conv (fast)", L.conv_forward_fast, L.conv_backward_fast,
             (("x", (2, 3, 5, 5)), ("w", (3, 3, 3, 3)), ("b", (3,))), (_CONV,)),
    *(GradCase(f"conv 3x3 ({algorithm}, fast)", L.conv_forward_fast, L.conv_backward_fast,
               (("x", (2, 3, 6, 7)), ("w", (2, 3, 3, 3)), ("b", (2,))), ({**_CONV, "algorithm": algorithm},),
               _WINOGRAD_TOLERANCE)
      for algorithm in ("winograd2", "winograd4")),
    GradCase("conv stride 2, 3x2 filter (naive)", L.conv_forward_naive, L.conv_backward_naive,
             (("x", (2, 2, 5, 6)), ("w", (2, 2, 3, 2)), ("b", (2,))), (_CONV_STRIDED,)),
    GradCase("conv stride 2, 3x2 filter (fast)", L.conv_forward_fast, L.conv_backward_fast,
             (("x", (2, 2, 5, 6)), ("w", (2, 2, 3, 2)), ("b", (2,))), (_CONV_STRIDED,)),
    *(GradCase(f"conv dilation 2, 2 groups, pads (1, 0, 2, 1) ({form})", forward, backward,
               (("x", (2, 4, 5, 6)), ("w", (4, 2, 3, 2)), ("b", (4,))), (_CONV_OPTIONS,))
      for form, forward, backward in (("naive", L.conv_forward_naive, L.conv_backward_naive),
                                      ("fast", L.conv_forward_fast, L.conv_backward_fast))),
    GradCase("conv depthwise 3x3, 2 filters a channel (fast)", L.conv_forward_fast, L.conv_backward_fast,
             (("x", (2, 3, 5, 5)), ("w", (6, 1, 3, 3)), ("b", (6,))), ({"stride": 1, "pad": 1, "groups": 3},)),
    *(GradCase(f"transposed conv stride 2, output_padding 1, 2 groups ({form})", forward, backward,
               (("x", (2, 4, 3, 2)), ("w", (4, 2, 3, 3)), ("b", (4,))), (_CONV_TRANSPOSE,))
      for form, forward, backward in (("naive", L.conv_transpose_forward_naive, L.conv_transpose_backward_naive),
                                      ("fast", L.conv_transpose_forward_fast, L.conv_transpose_backward_fast))),
    GradCase("max pool (naive)", L.max_pool_forward_naive, L.max_pool_backward_naive,
             (("x", (2, 3, 4, 4)),), (_POOL,)),
    GradCase("max pool (fast)", L.max_pool_forward_fast, L.max_pool_backward_fast,
             (("x", (2, 3, 4, 4)),), (_POOL,)),
    GradCase("max pool overlapping (naive)", L.max_pool_forward_naive, L.max_pool_backward_naive,
             (("x", (2, 2, 4, 5)),), (_POOL_OVERLAPPING,)),
    GradCase("max pool overlapping (fast)", L.max_pool_forward_fast, L.max_pool_backward_fast,
             (("x", (2, 2, 4, 5)),), (_POOL_OVERLAPPING,)),
    GradCase("avg pool padded, overlapping (naive)", L.avg_pool_forward_naive, L.avg_pool_backward_naive,
             (("x", (2, 2, 4, 5)),), (_AVG_POOL_PADDED,)),
    GradCase("avg pool padded, overlapping (fast)", L.avg_pool_forward_fast, L.avg_pool_backward_fast,
             (("x", (2, 2, 4, 5)),), (_AVG_POOL_PADDED,)),
    GradCase("global avg pool", L.global_avg_pool_forward, L.global_avg_pool_backward, (("x", (2, 3, 3, 4)),)),
    GradCase("spatial batchnorm", L.spatial_batchnorm_forward, L.spatial_batchnorm_backward,
             (("x", (2, 3, 4, 4)), ("gamma", (3,)), ("beta", (3,))), (_TRAIN_BN,), _NORM_TOLERANCE),
    GradCase("spatial groupnorm", L.spatial_groupnorm_forward, L.spatial_groupnorm_backward,
             (("x", (2, 4, 3, 3)), ("gamma", (1, 4, 1, 1)), ("beta", (1, 4, 1, 1))), (2, {}), _NORM_TOLERANCE),
    GradCase("affine-relu", L.affine_relu_forward, L.affine_relu_backward,
             (("x", (3, 6)), ("w", (6, 4)), ("b", (4,)))),
    GradCase("conv-relu", L.conv_relu_forward, L.conv_relu_backward,
             (("x", (2, 3, 5, 5)), ("w", (3, 3, 3, 3)), ("b", (3,))), (_CONV,)),
    GradCase("conv-relu-pool", L.conv_relu_pool_forward, L.conv_relu_pool_backward,
             (("x", (2, 3, 4, 4)), ("w", (3, 3, 3, 3)), ("b", (3,))), (_CONV, _POOL)),
    GradCase("conv-bn-relu", L.conv_bn_relu_forward, L.conv_bn_relu_backward,
             (("x", (2, 3, 4, 4)), ("w", (3, 3, 3, 3)), ("b", (3,)), ("gamma", (3,)), ("beta", (3,))),
             (_CONV, _TRAIN_BN), _NORM_TOLERANCE, zero_gradients=("db",)),  # batchnorm removes any per-channel shift
    GradCase("conv-bn-relu-max pool (block backward)", _conv_bn_relu_max_pool_forward, L.conv_block_max_pool_backward,
             (("x", (2, 3, 4, 4)), ("w", (3, 3, 3, 3)), ("b", (3,)), ("gamma", (3,)), ("beta", (3,))),
             (_CONV, _TRAIN_BN, _POOL), _NORM_TOLERANCE, zero_gradients=("db",)),
    GradCase("conv-gn-relu", L.conv_gn_relu_forward, L.conv_gn_relu_backward,
             (("x", (2, 3, 4, 4)), ("w", (4, 3, 3, 3)), ("b", (4,)), ("gamma", (1, 4, 1, 1)),
              ("beta", (1, 4, 1, 1))), (2, _CONV, {}), _NORM_TOLERANCE),
    GradCase("residual block", L.residual_block_forward, L.residual_block_backward,
             (("x", (2, 3, 4, 4)), *_RESIDUAL), ({"stride": 1, "bn_params": [{"mode": "train"}, {"mode": "train"}]},),
             _NORM_TOLERANCE, zero_gradients=("db1", "db2")),
    GradCase("residual block, stride 2 with projection", _residual_projection_forward, L.residual_block_backward,
             (("x", (2, 2, 4, 4)), ("w1", (3, 2, 3, 3)), *_RESIDUAL[1:], *_PROJECTION),
             ({"stride": 2, "bn_params": [{"mode": "train"}, {"mode": "train"}, {"mode": "train"}]},), _NORM_TOLERANCE,
             zero_gradients=("db1", "db2", "dbs")),
)
_ZERO_TOLERANCE = 1e-8


@dataclass(frozen=True)
class GradResult:
    layer: str
    gradient: str  # "dx", "dw", ...
    error: float   # max relative error between analytic and numerical gradient, or max |analytic|
    tolerance: float
    measure: str   # "relative error" or "max |grad|" (for gradients that must be zero)

    @property
    def passed(self):
        return self.error <= self.tolerance


def check_case(case, rng):
    """Compare ``case``'s analytic gradients with centered differences on random float64 inputs.

    Returns
    -------
    list of GradResult, one per input array
    """
    arrays = [rng.standard_normal(shape) for _, shape in case.inputs]
    params = copy.deepcopy(case.params)  # forwards may write into their dicts (running statistics)

    def output(_):
        return case.forward(*arrays, *params)[0]

    if case.backward is None:
        analytic = (case.forward(*arrays, *params)[1],)
        numerical = (eval_numerical_gradient(output, arrays[0], verbose=False),)
    else:
        out, cache = case.forward(*arrays, *params)
        dout = rng.standard_normal(out.shape)
        analytic = case.backward(dout, cache)
        analytic = analytic if isinstance(analytic, tuple) else (analytic,)
        numerical = tuple(eval_numerical_gradient_array(output, array, dout) for array in arrays)
    results = []
    for (name, _), exact, estimate in zip(case.inputs, analytic, numerical, strict=True):
        gradient = f"d{name}"
        if gradient in case.zero_gradients:
            error = float(max(np.abs(exact).max(), np.abs(estimate).max()))
            results.append(GradResult(case.name, gradient, error, _ZERO_TOLERANCE, "max |grad|"))
        else:
            results.append(GradResult(case.name, gradient, rel_error(exact, estimate), case.tolerance,
                                      "relative error"))
    return results


def check_all_layers(seed=0):
    """Run every case in ``CASES``; returns a list of GradResult."""
    rng = np.random.default_rng(seed)
    return [result for case in CASES for result in check_case(case, rng)]
