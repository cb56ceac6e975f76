"""The sandwich layers: composition of the fast layers, PyTorch oracle, numerical gradients, errors."""

import numpy as np
import pytest

from tinyconv.layers import (
    affine_forward,
    affine_relu_backward,
    affine_relu_forward,
    conv_bn_relu_backward,
    conv_bn_relu_forward,
    conv_forward_fast,
    conv_relu_backward,
    conv_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
    max_pool_forward_fast,
    relu_forward,
    spatial_batchnorm_forward,
)

from .oracle import F
from .helpers import DTYPES, check_against_oracle, check_backward, check_layer_contract, check_rejects_bad_dout

CONV_PARAM = {"stride": 1, "pad": 1}
POOL_PARAM = {"pool_height": 2, "pool_width": 2, "stride": 2}


def arrays(rng, dtype, *shapes):
    return [rng.standard_normal(shape).astype(dtype) for shape in shapes]


class AffineRelu:
    names = ["x", "w", "b"]
    backward = staticmethod(affine_relu_backward)

    @staticmethod
    def inputs(rng, dtype):
        return arrays(rng, dtype, (3, 2, 3), (6, 4), (4,))

    @staticmethod
    def forward(x, w, b):
        return affine_relu_forward(x, w, b)

    @staticmethod
    def composed(x, w, b):
        return relu_forward(affine_forward(x, w, b)[0])[0]

    @staticmethod
    def torch(x, w, b):
        return F.relu(F.linear(x.reshape(x.shape[0], -1), w.T, b))


class ConvRelu:
    names = ["x", "w", "b"]
    backward = staticmethod(conv_relu_backward)

    @staticmethod
    def inputs(rng, dtype):
        return arrays(rng, dtype, (2, 2, 4, 5), (3, 2, 3, 2), (3,))

    @staticmethod
    def forward(x, w, b):
        return conv_relu_forward(x, w, b, dict(CONV_PARAM))

    @staticmethod
    def composed(x, w, b):
        return relu_forward(conv_forward_fast(x, w, b, dict(CONV_PARAM))[0])[0]

    @staticmethod
    def torch(x, w, b):
        return F.relu(F.conv2d(x, w, b, padding=1))


class ConvReluPool:
    names = ["x", "w", "b"]
    backward = staticmethod(conv_relu_pool_backward)

    @staticmethod
    def inputs(rng, dtype):
        return arrays(rng, dtype, (2, 2, 4, 6), (3, 2, 3, 3), (3,))

    @staticmethod
    def forward(x, w, b):
        return conv_relu_pool_forward(x, w, b, dict(CONV_PARAM), dict(POOL_PARAM))

    @staticmethod
    def composed(x, w, b):
        return max_pool_forward_fast(ConvRelu.composed(x, w, b), dict(POOL_PARAM))[0]

    @staticmethod
    def torch(x, w, b):
        # Windows that are all zeros after the relu are ties, but every candidate has a zero gradient.
        return F.max_pool2d(ConvRelu.torch(x, w, b), 2, stride=2)


class ConvBnRelu:
    names = ["x", "w", "b", "gamma", "beta"]
    backward = staticmethod(conv_bn_relu_backward)

    @staticmethod
    def inputs(rng, dtype):
        # 8 input channels and 3x3 filters at stride 1: the shapes where the fast conv may choose Winograd.
        return arrays(rng, dtype, (2, 8, 3, 4), (3, 8, 3, 3), (3,), (3,), (3,))

    @staticmethod
    def forward(x, w, b, gamma, beta):
        return conv_bn_relu_forward(x, w, b, gamma, beta, dict(CONV_PARAM), {"mode": "train"})

    @staticmethod
    def composed(x, w, b, gamma, beta):
        conv_out = conv_forward_fast(x, w, b, dict(CONV_PARAM))[0]
        return relu_forward(spatial_batchnorm_forward(conv_out, gamma, beta, {"mode": "train"})[0])[0]

    @staticmethod
    def torch(x, w, b, gamma, beta):
        return F.relu(F.batch_norm(F.conv2d(x, w, b, padding=1), None, None, gamma, beta, training=True, eps=1e-5))


SANDWICHES = [
    pytest.param(AffineRelu, id="affine_relu"),
    pytest.param(ConvRelu, id="conv_relu"),
    pytest.param(ConvReluPool, id="conv_relu_pool"),
    pytest.param(ConvBnRelu, id="conv_bn_relu"),
]


@pytest.mark.parametrize("layer", SANDWICHES)
def test_forward_is_the_composition_of_the_fast_layers(rng, layer):
    inputs = layer.inputs(rng, np.float64)
    np.testing.assert_allclose(layer.forward(*inputs)[0], layer.composed(*inputs), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("layer", SANDWICHES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_matches_torch(rng, layer, dtype):
    inputs = layer.inputs(rng, dtype)
    out, _ = layer.forward(*inputs)
    dout = rng.standard_normal(out.shape).astype(dtype)
    check_against_oracle(layer.forward, layer.backward, layer.torch, inputs, dout, names=layer.names)


@pytest.mark.parametrize("layer", SANDWICHES)
def test_backward_numerical(rng, layer):
    inputs = layer.inputs(rng, np.float64)
    out, _ = layer.forward(*inputs)
    check_backward(layer.forward, layer.backward, inputs, rng.standard_normal(out.shape), names=layer.names)


@pytest.mark.parametrize("layer", SANDWICHES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_and_purity(rng, layer, dtype):
    check_layer_contract(layer.forward, layer.backward, layer.inputs(rng, dtype), rng)


@pytest.mark.parametrize("layer", SANDWICHES)
def test_rejects_bad_dout(rng, layer):
    check_rejects_bad_dout(layer.forward, layer.backward, layer.inputs(rng, np.float64))


def test_conv_bn_relu_writes_running_stats_back(rng):
    x, w, b, gamma, beta = ConvBnRelu.inputs(rng, np.float64)
    bn_param = {"mode": "train"}
    conv_bn_relu_forward(x, w, b, gamma, beta, dict(CONV_PARAM), bn_param)
    conv_out = conv_forward_fast(x, w, b, dict(CONV_PARAM))[0]
    np.testing.assert_allclose(bn_param["running_mean"], 0.1 * conv_out.mean(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(bn_param["running_var"], 0.1 * conv_out.var(axis=(0, 2, 3)), rtol=1e-12)


def test_errors_come_from_the_layer_that_meets_them(rng):
    x, w, b, gamma, beta = ConvBnRelu.inputs(rng, np.float64)
    with pytest.raises(ValueError, match="stride"):
        conv_relu_forward(x, w, b, {"stride": 0, "pad": 1})
    with pytest.raises(ValueError, match="whole number|integer"):
        conv_relu_pool_forward(x, w, b, dict(CONV_PARAM), {"pool_height": 2, "pool_width": 2, "stride": 3})
    with pytest.raises(ValueError, match="mode"):
        conv_bn_relu_forward(x, w, b, gamma, beta, dict(CONV_PARAM), {})
    with pytest.raises(ValueError, match="gamma"):
        conv_bn_relu_forward(x, w, b, gamma[:2], beta, dict(CONV_PARAM), {"mode": "train"})
    with pytest.raises(ValueError, match=r"\bw\b"):
        affine_relu_forward(x, np.ones((5, 3)), b)
