"""conv_param's PyTorch options, naive and fast: per-axis stride and pad, (top, bottom, left, right) and 'same'
padding, dilation, groups and depthwise convolution. PyTorch oracle, numerical gradients, naive == fast,
errors. cs231n's int stride and pad are tests/test_conv.py's."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinyconv.layers import conv_backward_fast, conv_backward_naive, conv_forward_fast, conv_forward_naive

from .helpers import DTYPES, assert_naive_and_fast_agree, check_against_oracle, check_backward, check_layer_contract
from .oracle import F

CONVS = [
    pytest.param(conv_forward_naive, conv_backward_naive, id="naive"),
    pytest.param(conv_forward_fast, conv_backward_fast, id="fast"),
]


class Case:
    """One convolution: x (N, C, H, W), w (F, C / groups, HH, WW) and conv_param's options."""

    def __init__(self, x_shape, filters, kernel, stride=1, pad=0, dilation=1, groups=1):
        self.x_shape, self.filters, self.kernel = x_shape, filters, kernel
        self.stride, self.pad, self.dilation, self.groups = stride, pad, dilation, groups

    def conv_param(self, algorithm=None):
        param = {"stride": self.stride, "pad": self.pad, "dilation": self.dilation, "groups": self.groups}
        return param if algorithm is None else {**param, "algorithm": algorithm}

    def inputs(self, rng, dtype=np.float64):
        C = self.x_shape[1]
        return (rng.standard_normal(self.x_shape).astype(dtype),
                rng.standard_normal((self.filters, C // self.groups, *self.kernel)).astype(dtype),
                rng.standard_normal(self.filters).astype(dtype))

    def torch(self, x, w, b):
        """The same convolution by PyTorch: F.pad first where the padding differs on two sides of an axis."""
        pad = self.pad
        if isinstance(pad, (tuple, list)) and len(pad) == 4:
            top, bottom, left, right = pad
            x, pad = F.pad(x, (left, right, top, bottom)), 0
        return F.conv2d(x, w, b, stride=self.stride, padding=pad, dilation=self.dilation, groups=self.groups)

    def __repr__(self):
        return (f"x{self.x_shape} F={self.filters} k{self.kernel} s{self.stride} p{self.pad} d{self.dilation} "
                f"g{self.groups}")


CASES = [
    Case((2, 3, 7, 6), 4, (3, 2), stride=(2, 1), pad=(1, 0)),
    Case((1, 2, 5, 7), 3, (2, 3), pad=(0, 1, 2, 0)),
    Case((2, 2, 6, 6), 3, (3, 3), pad="same"),
    Case((1, 3, 6, 5), 2, (2, 2), pad="same", dilation=2),  # an even window: the odd pixel goes after
    Case((2, 2, 9, 8), 3, (3, 2), dilation=(2, 3), pad=1),
    Case((1, 3, 7, 7), 2, (3, 3), stride=2, pad=2, dilation=2),
    Case((2, 4, 5, 5), 6, (3, 3), pad=1, groups=2),
    Case((2, 3, 6, 6), 3, (3, 3), pad=1, groups=3),  # depthwise
    Case((1, 2, 6, 6), 4, (3, 2), stride=(1, 2), pad=(1, 1, 0, 1), dilation=(1, 2), groups=2),  # depthwise x2
    Case((2, 4, 7, 7), 8, (3, 3), stride=2, pad=1, groups=4),  # depthwise, multiplier 2, stride 2
    Case((1, 2, 3, 3), 2, (3, 3), groups=2),  # depthwise, a one-pixel output
    Case((2, 3, 4, 4), 3, (1, 1), dilation=3),  # a 1x1 window dilates to itself
]


@pytest.mark.parametrize("forward, backward", CONVS)
@pytest.mark.parametrize("case", CASES, ids=repr)
@pytest.mark.parametrize("dtype", DTYPES)
def test_matches_torch_conv2d(rng, forward, backward, case, dtype):
    inputs = case.inputs(rng, dtype)
    out, _ = forward(*inputs, case.conv_param())
    dout = rng.standard_normal(out.shape).astype(dtype)
    check_against_oracle(lambda x, w, b: forward(x, w, b, case.conv_param()), backward, case.torch, inputs, dout,
                         names=["x", "w", "b"])


@pytest.mark.parametrize("forward, backward", CONVS)
@pytest.mark.parametrize("case", [CASES[1], CASES[3], CASES[5], CASES[8], CASES[9]], ids=repr)
def test_backward_numerical(rng, forward, backward, case):
    inputs = case.inputs(rng)
    out, _ = forward(*inputs, case.conv_param())
    check_backward(lambda x, w, b: forward(x, w, b, case.conv_param()), backward, inputs,
                   rng.standard_normal(out.shape), names=["x", "w", "b"])


@pytest.mark.parametrize("algorithm", ["im2col", "depthwise"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_both_algorithms_of_a_depthwise_conv_match_torch_and_skip_dx_on_request(rng, algorithm, dtype):
    case = Case((3, 4, 8, 8), 8, (3, 3), stride=1, pad=1, groups=4)
    inputs = case.inputs(rng, dtype)
    out, cache = conv_forward_fast(*inputs, case.conv_param(algorithm))
    assert cache.algorithm == algorithm
    dout = rng.standard_normal(out.shape).astype(dtype)
    check_against_oracle(lambda x, w, b: conv_forward_fast(x, w, b, case.conv_param(algorithm)), conv_backward_fast,
                         case.torch, inputs, dout, names=["x", "w", "b"])
    dx, dw, db = conv_backward_fast(dout, cache, need_dx=False)
    full = conv_backward_fast(dout, cache)
    assert dx is None
    np.testing.assert_array_equal(dw, full[1])
    np.testing.assert_array_equal(db, full[2])


def test_auto_picks_the_depthwise_pass_for_a_depthwise_conv_only(rng):
    depthwise = Case((1, 4, 6, 6), 4, (3, 3), pad=1, groups=4)
    assert conv_forward_fast(*depthwise.inputs(rng), depthwise.conv_param())[1].algorithm == "depthwise"
    grouped = Case((1, 4, 6, 6), 4, (3, 3), pad=1, groups=2)
    assert conv_forward_fast(*grouped.inputs(rng), grouped.conv_param())[1].algorithm == "im2col"


@pytest.mark.parametrize("forward, backward", CONVS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_and_purity(rng, forward, backward, dtype):
    case = CASES[8]
    check_layer_contract(lambda x, w, b: forward(x, w, b, case.conv_param()), backward, case.inputs(rng, dtype), rng)


def test_old_calls_are_the_same_geometry_spelled_out(rng):
    """cs231n's int stride and pad give bit for bit what their pairs and four pads give."""
    x, w, b = Case((2, 3, 7, 7), 4, (3, 3)).inputs(rng)
    for forward in (conv_forward_naive, conv_forward_fast):
        old, _ = forward(x, w, b, {"stride": 2, "pad": 1})
        spelled, _ = forward(x, w, b, {"stride": (2, 2), "pad": (1, 1, 1, 1), "dilation": (1, 1), "groups": 1})
        np.testing.assert_array_equal(spelled, old)


@st.composite
def option_cases(draw):
    """A valid convolution with every option drawn: groups of 1 to 3 channels and filters each, per-axis
    stride 1..3, dilation 1..3, four pads 0..2, windows 1..3, and output sizes from 1 up."""
    groups = draw(st.integers(1, 3))
    C, filters = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    pad = tuple(draw(st.integers(0, 2)) for _ in range(4))
    sizes = []
    for axis in range(2):
        reach = dilation[axis] * (kernel[axis] - 1) + 1
        pads = pad[2 * axis] + pad[2 * axis + 1]
        out = draw(st.integers(1, 4))
        size = (out - 1) * stride[axis] + reach - pads  # the input that gives `out` exactly
        if size < 1:
            size += stride[axis] * ((stride[axis] - size) // stride[axis])
        sizes.append(size)
    case = Case((draw(st.integers(1, 2)), C, *sizes), filters, kernel, stride, pad, dilation, groups)
    return case, draw(st.sampled_from(DTYPES)), draw(st.integers(0, 2**32 - 1))


@given(option_cases())
def test_naive_and_fast_agree(drawn):
    case, dtype, seed = drawn
    rng = np.random.default_rng(seed)
    inputs = case.inputs(rng, dtype)
    dout = rng.standard_normal(conv_forward_naive(*inputs, case.conv_param())[0].shape).astype(dtype)
    assert_naive_and_fast_agree((lambda *arrays: conv_forward_naive(*arrays, case.conv_param()), conv_backward_naive),
                                (lambda *arrays: conv_forward_fast(*arrays, case.conv_param()), conv_backward_fast),
                                inputs, dout, repr(case))


@pytest.mark.parametrize("forward", [conv_forward_naive, conv_forward_fast])
@pytest.mark.parametrize("x_shape, w_shape, param, error, match", [
    ((1, 4, 5, 5), (6, 2, 3, 3), {"groups": 3}, ValueError,
     r"conv_param\['groups'\] = 3 must divide the 4 input channels and the 6 filters \(C % groups = 1, "
     r"F % groups = 0\)"),
    ((1, 4, 5, 5), (6, 4, 3, 3), {"groups": 2}, ValueError,
     r"w has 4 input channels per filter \(w.shape\[1\]\), but each of the 2 groups has C / groups = 4 / 2 = 2"),
    ((1, 4, 5, 5), (4, 4, 3, 3), {"groups": 0}, ValueError, r"conv_param\['groups'\] must be a positive integer"),
    ((1, 1, 5, 5), (1, 1, 3, 3), {"dilation": 0}, ValueError, r"conv_param\['dilation'\] must be a positive"),
    ((1, 1, 5, 5), (1, 1, 3, 3), {"dilation": (1, 2, 3)}, ValueError,
     r"conv_param\['dilation'\] must be an int or a \(height, width\) pair, got 3 values"),
    ((1, 1, 5, 5), (1, 1, 3, 3), {"stride": (1, 0)}, ValueError, r"conv_param\['stride'\]\[1\] must be a positive"),
    ((1, 1, 5, 5), (1, 1, 3, 3), {"stride": 1.5}, TypeError,
     r"conv_param\['stride'\] must be a positive integer or a \(height, width\) pair of them, got 1.5"),
    ((1, 1, 5, 5), (1, 1, 3, 3), {"pad": (1, 2, 3)}, ValueError,
     r"conv_param\['pad'\] must be an int, an \(h, w\) pair or \(top, bottom, left, right\), got 3 values"),
    ((1, 1, 5, 5), (1, 1, 3, 3), {"pad": (1, -1, 0, 0)}, ValueError, r"conv_param\['pad'\]\[1\] must be a non-neg"),
    ((1, 1, 5, 5), (1, 1, 3, 3), {"pad": "valid"}, ValueError, r"must be an int, a pair, four ints or 'same'"),
    ((1, 1, 5, 5), (1, 1, 3, 3), {"pad": "same", "stride": 2}, ValueError,
     r"conv_param\['pad'\]='same' keeps the input size, which needs stride 1, got stride \(2, 2\)"),
    ((1, 1, 5, 5), (1, 1, 3, 3), {"dilation": 3}, ValueError,
     r"the window height 7 \(the window 3 dilated by 3\) is larger than the padded input height 5 \+ 2\*0 = 5"),
    ((1, 1, 7, 5), (1, 1, 3, 3), {"dilation": 2, "stride": 2, "pad": (0, 1, 0, 0)}, ValueError,
     r"output height 1 \+ \(7 \+ 0 \+ 1 - 5\) / 2 = 2.5 is not a whole number"),
])
def test_impossible_options_are_refused_with_the_numbers(rng, forward, x_shape, w_shape, param, error, match):
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    with pytest.raises(error, match=match):
        forward(x, w, b, param)


@pytest.mark.parametrize("param, match", [
    ({"dilation": 2, "pad": 2, "algorithm": "winograd4"}, r"'winograd4' algorithm needs 3x3 filters, stride 1, no "
                                                          r"dilation, one group and one pad on every side"),
    ({"pad": (1, 1, 0, 0), "algorithm": "winograd2"}, r"got filters \(3, 3\), stride \(1, 1\), dilation \(1, 1\), "
                                                      r"groups 1 and pad \(1, 1, 0, 0\)"),
    ({"groups": 2, "pad": 1, "algorithm": "depthwise"}, r"the 'depthwise' algorithm needs groups == C \(of at least "
                                                        r"2\) and w of shape \(C \* m, 1, HH, WW\), got groups 2, C 4"),
])
def test_an_algorithm_that_cannot_run_the_options_is_refused(rng, param, match):
    groups = param.get("groups", 1)
    x, w, b = rng.standard_normal((1, 4, 6, 6)), rng.standard_normal((4, 4 // groups, 3, 3)), np.zeros(4)
    with pytest.raises(ValueError, match=match):
        conv_forward_fast(x, w, b, param)
