"""conv_transpose_forward/backward, naive and fast: PyTorch's conv_transpose2d as the oracle with every
option, numerical gradients, naive == fast, the adjoint of the convolution, errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinyconv.layers import (
    conv_backward_fast,
    conv_forward_fast,
    conv_transpose_backward_fast,
    conv_transpose_backward_naive,
    conv_transpose_forward_fast,
    conv_transpose_forward_naive,
)

from .helpers import DTYPES, assert_naive_and_fast_agree, check_against_oracle, check_backward, check_layer_contract
from .oracle import F

TRANSPOSES = [
    pytest.param(conv_transpose_forward_naive, conv_transpose_backward_naive, id="naive"),
    pytest.param(conv_transpose_forward_fast, conv_transpose_backward_fast, id="fast"),
]


class Case:
    """x (N, C, H, W), w (C, F / groups, HH, WW) and conv_param's options."""

    def __init__(self, x_shape, filters_per_group, kernel, stride=1, pad=0, dilation=1, output_padding=0, groups=1):
        self.x_shape, self.filters_per_group, self.kernel, self.groups = x_shape, filters_per_group, kernel, groups
        self.param = {"stride": stride, "pad": pad, "dilation": dilation, "output_padding": output_padding,
                      "groups": groups}

    def inputs(self, rng, dtype=np.float64):
        C = self.x_shape[1]
        return (rng.standard_normal(self.x_shape).astype(dtype),
                rng.standard_normal((C, self.filters_per_group, *self.kernel)).astype(dtype),
                rng.standard_normal(self.filters_per_group * self.groups).astype(dtype))

    def torch(self, x, w, b):
        p = self.param
        return F.conv_transpose2d(x, w, b, stride=p["stride"], padding=p["pad"], output_padding=p["output_padding"],
                                  groups=p["groups"], dilation=p["dilation"])

    def __repr__(self):
        return f"x{self.x_shape} Fg={self.filters_per_group} k{self.kernel} {self.param}"


CASES = [
    Case((2, 3, 4, 4), 2, (3, 3)),
    Case((2, 2, 3, 4), 3, (3, 3), stride=2, pad=1, output_padding=1),  # doubles 3x4 to 6x8, as a decoder does
    Case((1, 3, 4, 3), 2, (4, 2), stride=(2, 3), pad=(1, 0), output_padding=(0, 2)),
    Case((2, 2, 3, 3), 2, (3, 2), dilation=(2, 3), pad=(2, 1), output_padding=(1, 0), stride=(2, 1)),
    Case((2, 4, 3, 3), 3, (3, 3), stride=2, groups=2),
    Case((1, 4, 3, 3), 1, (2, 2), stride=2, groups=4),  # depthwise
    Case((1, 2, 1, 1), 3, (1, 1)),  # one pixel to one pixel
    Case((2, 2, 2, 2), 2, (3, 3), pad=1),  # the pad crops the output to the input's size
]


@pytest.mark.parametrize("forward, backward", TRANSPOSES)
@pytest.mark.parametrize("case", CASES, ids=repr)
@pytest.mark.parametrize("dtype", DTYPES)
def test_matches_torch_conv_transpose2d(rng, forward, backward, case, dtype):
    inputs = case.inputs(rng, dtype)
    out, _ = forward(*inputs, case.param)
    dout = rng.standard_normal(out.shape).astype(dtype)
    check_against_oracle(lambda x, w, b: forward(x, w, b, case.param), backward, case.torch, inputs, dout,
                         names=["x", "w", "b"])


@pytest.mark.parametrize("forward, backward", TRANSPOSES)
@pytest.mark.parametrize("case", [CASES[2], CASES[3], CASES[4]], ids=repr)
def test_backward_numerical(rng, forward, backward, case):
    inputs = case.inputs(rng)
    out, _ = forward(*inputs, case.param)
    check_backward(lambda x, w, b: forward(x, w, b, case.param), backward, inputs, rng.standard_normal(out.shape),
                   names=["x", "w", "b"])


@pytest.mark.parametrize("forward, backward", TRANSPOSES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_and_purity(rng, forward, backward, dtype):
    case = CASES[4]
    check_layer_contract(lambda x, w, b: forward(x, w, b, case.param), backward, case.inputs(rng, dtype), rng)


def test_it_is_the_adjoint_of_the_convolution(rng):
    """<conv(z), x> == <z, conv_transpose(x)> for the same filters and options, without biases."""
    z, w = rng.standard_normal((2, 4, 9, 9)), rng.standard_normal((6, 2, 3, 2))
    param = {"stride": 2, "pad": 1, "dilation": (1, 2), "groups": 2}
    y, _ = conv_forward_fast(z, w, np.zeros(6), param)
    x = rng.standard_normal(y.shape)
    back, _ = conv_transpose_forward_fast(x, w, np.zeros(4), param)
    assert back.shape == z.shape
    np.testing.assert_allclose(np.vdot(y, x), np.vdot(z, back), rtol=1e-12)
    # and its input gradient is the convolution's input gradient
    dz, _, _ = conv_backward_fast(x, conv_forward_fast(z, w, np.zeros(6), param)[1])
    np.testing.assert_allclose(back, dz, rtol=1e-12, atol=1e-12)


def test_need_dx_false_skips_only_dx(rng):
    case = CASES[1]
    inputs = case.inputs(rng)
    out, cache = conv_transpose_forward_fast(*inputs, case.param)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv_transpose_backward_fast(dout, cache, need_dx=False)
    full = conv_transpose_backward_fast(dout, cache)
    assert dx is None and full[0].shape == inputs[0].shape
    np.testing.assert_array_equal(dw, full[1])
    np.testing.assert_array_equal(db, full[2])


@st.composite
def transpose_cases(draw):
    groups = draw(st.integers(1, 2))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    x_size = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    pad, extra = [], []
    for axis in range(2):
        full = (x_size[axis] - 1) * stride[axis] + dilation[axis] * (kernel[axis] - 1) + 1
        pad.append(draw(st.integers(0, (full - 1) // 2)))  # at least one output pixel is left
        extra.append(draw(st.integers(0, max(stride[axis], dilation[axis]) - 1)))
    case = Case((draw(st.integers(1, 2)), groups * draw(st.integers(1, 2)), *x_size), draw(st.integers(1, 2)),
                kernel, stride, tuple(pad), dilation, tuple(extra), groups)
    return case, draw(st.sampled_from(DTYPES)), draw(st.integers(0, 2**32 - 1))


@given(transpose_cases())
def test_naive_and_fast_agree(drawn):
    case, dtype, seed = drawn
    rng = np.random.default_rng(seed)
    inputs = case.inputs(rng, dtype)
    dout = rng.standard_normal(conv_transpose_forward_naive(*inputs, case.param)[0].shape).astype(dtype)
    assert_naive_and_fast_agree(
        (lambda *arrays: conv_transpose_forward_naive(*arrays, case.param), conv_transpose_backward_naive),
        (lambda *arrays: conv_transpose_forward_fast(*arrays, case.param), conv_transpose_backward_fast),
        inputs, dout, repr(case))


@pytest.mark.parametrize("forward", [conv_transpose_forward_naive, conv_transpose_forward_fast])
@pytest.mark.parametrize("x_shape, w_shape, param, match", [
    ((1, 3, 4, 4), (2, 2, 3, 3), {}, r"w has 2 input channels \(w.shape\[0\]; a transposed convolution's filters "
                                     r"are \(C, F / groups, HH, WW\)\) but x has 3"),
    ((1, 3, 4, 4), (3, 2, 3, 3), {"groups": 2}, r"conv_param\['groups'\] = 2 must divide the 3 input channels"),
    ((1, 2, 4, 4), (2, 2, 3, 3), {"stride": 2, "output_padding": 2}, r"conv_param\['output_padding'\] 2 on the "
                                                                     r"height must be smaller than the stride 2 or "
                                                                     r"the dilation 1"),
    ((1, 2, 1, 1), (2, 2, 2, 2), {"pad": 1}, r"output height \(1 - 1\) \* 1 - 2\*1 \+ 1 \* \(2 - 1\) \+ 0 \+ 1 = 0 "
                                             r"is not positive; use less padding"),
    ((1, 2, 4, 4), (2, 2, 3, 3), {"pad": (1, 2, 3, 4)}, r"conv_param\['pad'\] must be an int or a \(height, width\) "
                                                        r"pair, got 4 values"),
    ((1, 2, 4, 4), (2, 2, 3, 3), {"algorithm": "im2col"}, r"conv_param has unknown key\(s\) \['algorithm'\]"),
])
def test_impossible_options_are_refused_with_the_numbers(rng, forward, x_shape, w_shape, param, match):
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b = np.zeros(w_shape[1] * param.get("groups", 1))
    with pytest.raises(ValueError, match=match):
        forward(x, w, b, param)
