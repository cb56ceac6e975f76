"""The sandwich layers: composition of the fast layers, PyTorch oracle, numerical gradients, errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinyconv.layers import (
    affine_forward,
    affine_relu_backward,
    affine_relu_forward,
    conv_backward_fast,
    conv_block_max_pool_backward,
    conv_bn_relu_backward,
    conv_bn_relu_forward,
    conv_forward_fast,
    conv_gn_relu_backward,
    conv_gn_relu_forward,
    conv_relu_backward,
    conv_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
    max_pool_backward_fast,
    max_pool_forward_fast,
    relu_backward,
    relu_forward,
    residual_block_backward,
    residual_block_forward,
    spatial_batchnorm_forward,
    spatial_groupnorm_forward,
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


class ConvGnRelu:
    names = ["x", "w", "b", "gamma", "beta"]
    backward = staticmethod(conv_gn_relu_backward)

    @staticmethod
    def inputs(rng, dtype):
        return arrays(rng, dtype, (2, 3, 4, 4), (4, 3, 3, 3), (4,), (1, 4, 1, 1), (1, 4, 1, 1))

    @staticmethod
    def forward(x, w, b, gamma, beta):
        return conv_gn_relu_forward(x, w, b, gamma, beta, 2, dict(CONV_PARAM), {})

    @staticmethod
    def composed(x, w, b, gamma, beta):
        conv_out = conv_forward_fast(x, w, b, dict(CONV_PARAM))[0]
        return relu_forward(spatial_groupnorm_forward(conv_out, gamma, beta, 2, {})[0])[0]

    @staticmethod
    def torch(x, w, b, gamma, beta):
        return F.relu(F.group_norm(F.conv2d(x, w, b, padding=1), 2, gamma.reshape(-1), beta.reshape(-1), eps=1e-5))


def _torch_batchnorm(x, gamma, beta):
    return F.batch_norm(x, None, None, gamma, beta, training=True, eps=1e-5)


class Residual:
    """The residual block with C channels in, F out, at ``stride``, on ``size`` x ``size`` images."""

    C, F, stride, size = 3, 3, 1, 4
    names = ["x", "w1", "b1", "gamma1", "beta1", "w2", "b2", "gamma2", "beta2"]

    @classmethod
    def projected(cls):
        return cls.C != cls.F or cls.stride != 1

    backward = staticmethod(residual_block_backward)

    @classmethod
    def inputs(cls, rng, dtype):
        C, F = cls.C, cls.F
        shapes = [(2, C, cls.size, cls.size), (F, C, 3, 3), (F,), (F,), (F,), (F, F, 3, 3), (F,), (F,), (F,)]
        shapes += [(F, C, 1, 1), (F,), (F,), (F,)] if cls.projected() else []
        return arrays(rng, dtype, *shapes)

    @classmethod
    def forward(cls, x, *params):
        block_param = {"stride": cls.stride, "bn_params": [{"mode": "train"} for _ in range(2 + cls.projected())]}
        return residual_block_forward(x, *params[:8], block_param, tuple(params[8:]) or None)

    @classmethod
    def composed(cls, x, w1, b1, gamma1, beta1, w2, b2, gamma2, beta2, *projection):
        def conv_bn(x, w, b, gamma, beta, stride, pad):
            x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
            reach = (x_pad.shape[2] - w.shape[2]) // stride * stride + w.shape[2]  # PyTorch's output size
            out = conv_forward_fast(x_pad[:, :, :reach, :reach], w, b, {"stride": stride, "pad": 0})[0]
            return spatial_batchnorm_forward(out, gamma, beta, {"mode": "train"})[0]

        a = relu_forward(conv_bn(x, w1, b1, gamma1, beta1, cls.stride, 1))[0]
        a = conv_bn(a, w2, b2, gamma2, beta2, 1, 1)
        shortcut = conv_bn(x, *projection, cls.stride, 0) if projection else x
        return relu_forward(a + shortcut)[0]

    @classmethod
    def torch(cls, x, w1, b1, gamma1, beta1, w2, b2, gamma2, beta2, *projection):
        a = F.relu(_torch_batchnorm(F.conv2d(x, w1, b1, stride=cls.stride, padding=1), gamma1, beta1))
        a = _torch_batchnorm(F.conv2d(a, w2, b2, padding=1), gamma2, beta2)
        if projection:
            ws, bs, gammas, betas = projection
            x = _torch_batchnorm(F.conv2d(x, ws, bs, stride=cls.stride), gammas, betas)
        return F.relu(a + x)


class ResidualProjected(Residual):
    C, F = 2, 4
    names = Residual.names + ["ws", "bs", "gammas", "betas"]


class ResidualDownsampledEven(ResidualProjected):
    C, F, stride, size = 2, 3, 2, 6  # PyTorch's output size floor((6 + 2 - 3) / 2) + 1 = 3


class ResidualDownsampledOdd(ResidualProjected):
    C, F, stride, size = 3, 3, 2, 5


SANDWICHES = [
    pytest.param(AffineRelu, id="affine_relu"),
    pytest.param(ConvRelu, id="conv_relu"),
    pytest.param(ConvReluPool, id="conv_relu_pool"),
    pytest.param(ConvBnRelu, id="conv_bn_relu"),
    pytest.param(ConvGnRelu, id="conv_gn_relu"),
    pytest.param(Residual, id="residual"),
    pytest.param(ResidualProjected, id="residual-projected"),
    pytest.param(ResidualDownsampledEven, id="residual-stride2-even"),
    pytest.param(ResidualDownsampledOdd, id="residual-stride2-odd"),
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


@given(
    window=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.integers(1, 3),
    negative_bias=st.booleans(),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**32 - 1),
)
def test_conv_relu_pool_backward_is_the_layers_backward_exactly(window, stride, negative_bias, dtype, seed):
    # ReLU's mask goes on the pooled gradient; layer by layer it goes on the pool's. Tilings and overlapping
    # windows, and with a negative bias windows of ReLU zeros (ties) everywhere, must give the same bits.
    rng = np.random.default_rng(seed)
    (ph, pw), out_size = window, (3, 4)
    x, w = arrays(rng, dtype, (2, 2, (out_size[0] - 1) * stride + ph, (out_size[1] - 1) * stride + pw), (3, 2, 3, 3))
    b = np.full(3, -2.0 if negative_bias else 0.0, dtype=dtype)
    pool_param = {"pool_height": ph, "pool_width": pw, "stride": stride}
    out, cache = conv_relu_pool_forward(x, w, b, dict(CONV_PARAM), pool_param)
    dout = rng.standard_normal(out.shape).astype(dtype)
    a, conv_cache = conv_forward_fast(x, w, b, dict(CONV_PARAM))
    s, relu_cache = relu_forward(a)
    _, pool_cache = max_pool_forward_fast(s, pool_param)
    expected = conv_backward_fast(relu_backward(max_pool_backward_fast(dout, pool_cache), relu_cache), conv_cache)
    for got, want in zip(conv_relu_pool_backward(dout, cache), expected):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("block", ["relu", "batchnorm", "groupnorm"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_a_conv_block_through_its_max_pool_is_the_layers_backward_exactly(rng, block, dtype):
    # ConvNet's pooled blocks: ReLU's mask on the pooled gradient, the norm's backward in place on the pool's.
    x, w, b = arrays(rng, dtype, (2, 3, 4, 6), (4, 3, 3, 3), (4,))
    b -= 1  # windows of ReLU zeros: ties
    gamma, beta = arrays(rng, dtype, (4,), (4,))
    forward, backward = {
        "relu": (lambda: conv_relu_forward(x, w, b, dict(CONV_PARAM)), conv_relu_backward),
        "batchnorm": (lambda: conv_bn_relu_forward(x, w, b, gamma, beta, dict(CONV_PARAM), {"mode": "train"}),
                      conv_bn_relu_backward),
        "groupnorm": (lambda: conv_gn_relu_forward(x, w, b, gamma.reshape(1, 4, 1, 1), beta.reshape(1, 4, 1, 1), 2,
                                                   dict(CONV_PARAM), {}), conv_gn_relu_backward),
    }[block]
    out, block_cache = forward()
    pooled, pool_cache = max_pool_forward_fast(out, dict(POOL_PARAM))
    dout = rng.standard_normal(pooled.shape).astype(dtype)
    expected = backward(max_pool_backward_fast(dout, pool_cache), block_cache)
    got = conv_block_max_pool_backward(dout, (block_cache, pool_cache), need_dx=True)
    assert len(got) == len(expected)
    for mine, theirs in zip(got, expected):
        np.testing.assert_array_equal(mine, theirs)


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


def test_residual_block_refuses_a_shortcut_that_does_not_fit(rng):
    x, *params = ResidualProjected.inputs(rng, np.float64)
    two, three = ({"bn_params": [{"mode": "train"} for _ in range(count)]} for count in (2, 3))
    with pytest.raises(ValueError, match=r"residual_block_forward: the shortcut changes the shape .* projection "
                                         r"must be a tuple"):
        residual_block_forward(x, *params[:8], two)
    with pytest.raises(ValueError, match=r"block_param\['bn_params'\] must be a list of 3"):
        residual_block_forward(x, *params[:8], two, tuple(params[8:]))
    with pytest.raises(ValueError, match=r"block_param\['stride'\]"):
        residual_block_forward(x, *params[:8], {**three, "stride": 3}, tuple(params[8:]))
    x, *params = Residual.inputs(rng, np.float64)
    with pytest.raises(ValueError, match="keeps the shape .* projection must be None"):
        residual_block_forward(x, *params, three, tuple(ResidualProjected.inputs(rng, np.float64)[9:]))
    with pytest.raises(ValueError, match="w1 must hold square filters of odd size"):
        residual_block_forward(x, params[0][:, :, :2], *params[1:], two)
    with pytest.raises(TypeError, match=r"\bgamma2\b"):
        residual_block_forward(x, *params[:6], params[6].astype(bool), *params[7:], two)


@pytest.mark.parametrize("layer", [ConvRelu, ConvReluPool, ConvBnRelu, ConvGnRelu, Residual, ResidualDownsampledEven],
                         ids=lambda layer: layer.__name__)
def test_without_dx_a_sandwich_gives_the_same_parameter_gradients(rng, layer):
    inputs = layer.inputs(rng, np.float64)
    out, cache = layer.forward(*inputs)
    dout = rng.standard_normal(out.shape)
    full = layer.backward(dout, cache)
    dx, *grads = layer.backward(dout, cache, need_dx=False)
    assert dx is None
    for grad, expected in zip(grads, full[1:]):
        np.testing.assert_array_equal(grad, expected)
