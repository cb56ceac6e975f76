"""Pooling, naive and fast: max pooling (oracle, gradients, ties, naive == fast, errors), average pooling
with padding (the same), and global average pooling."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinyconv.layers import (
    avg_pool_backward_fast,
    avg_pool_backward_naive,
    avg_pool_forward_fast,
    avg_pool_forward_naive,
    global_avg_pool_backward,
    global_avg_pool_forward,
    max_pool_backward_fast,
    max_pool_backward_naive,
    max_pool_forward_fast,
    max_pool_forward_naive,
)

from .oracle import F
from .helpers import (
    DTYPES,
    check_against_oracle,
    check_backward,
    check_layer_contract,
    check_rejects_bad_dout,
    conv_input_size,
    distinct_values,
)

POOLS = [
    pytest.param(max_pool_forward_naive, max_pool_backward_naive, id="naive"),
    pytest.param(max_pool_forward_fast, max_pool_backward_fast, id="fast"),
]
FORWARDS = [pytest.param(max_pool_forward_naive, id="naive"), pytest.param(max_pool_forward_fast, id="fast")]

# (N, C, pool_height, pool_width, stride, H_out, W_out)
GEOMETRIES = [
    pytest.param((2, 3, 2, 2, 2, 3, 2), id="2x2-s2-tiling"),
    pytest.param((2, 2, 3, 3, 2, 3, 3), id="3x3-s2-overlapping"),
    pytest.param((1, 2, 3, 2, 1, 3, 4), id="3x2-s1-overlapping"),
    pytest.param((2, 1, 2, 3, 3, 2, 2), id="2x3-s3-gaps"),
    pytest.param((1, 3, 1, 1, 1, 2, 3), id="1x1"),
    pytest.param((1, 2, 4, 3, 2, 1, 1), id="single-window"),
]


def pool(forward, pool_height, pool_width, stride):
    """The forward with pool_param closed over; a fresh dict each call."""
    return lambda x: forward(x, {"pool_height": pool_height, "pool_width": pool_width, "stride": stride})


def x_shape(geometry):
    N, C, ph, pw, stride, H_out, W_out = geometry
    return N, C, conv_input_size(H_out, ph, stride, 0), conv_input_size(W_out, pw, stride, 0)


@pytest.mark.parametrize("forward", FORWARDS)
def test_forward_matches_notebook_example(forward):
    # The cs231n notebook check: x (2, 3, 4, 4) on linspace data, 2x2 windows, stride 2.
    x = np.linspace(-0.3, 0.4, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    out, _ = forward(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    expected = x.reshape(2, 3, 2, 2, 2, 2).max(axis=(3, 5))
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("forward, backward", POOLS)
@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_matches_torch_max_pool2d(rng, forward, backward, geometry, dtype):
    ph, pw, stride, H_out, W_out = geometry[2:]
    x = distinct_values(rng, x_shape(geometry), dtype)  # no ties: torch's tie rule is not ours to test
    dout = rng.standard_normal((*geometry[:2], H_out, W_out)).astype(dtype)
    check_against_oracle(
        pool(forward, ph, pw, stride),
        backward,
        lambda x: F.max_pool2d(x, (ph, pw), stride=stride),
        [x],
        dout,
        names=["x"],
    )


@pytest.mark.parametrize("forward, backward", POOLS)
@pytest.mark.parametrize("geometry", [GEOMETRIES[0], GEOMETRIES[1], GEOMETRIES[3]])
def test_backward_numerical(rng, forward, backward, geometry):
    ph, pw, stride, H_out, W_out = geometry[2:]
    x = distinct_values(rng, x_shape(geometry))  # spaced 0.01 apart, far more than the step h
    dout = rng.standard_normal((*geometry[:2], H_out, W_out))
    check_backward(pool(forward, ph, pw, stride), backward, [x], dout, names=["x"])


@pytest.mark.parametrize("forward, backward", POOLS)
def test_overlapping_windows_accumulate_gradient(forward, backward):
    # The centre of a 3x3 input is the maximum of all four 2x2 windows at stride 1.
    x = np.array([[[[0.0, 1.0, 0.0], [2.0, 9.0, 3.0], [0.0, 4.0, 0.0]]]])
    out, cache = pool(forward, 2, 2, 1)(x)
    np.testing.assert_array_equal(out, np.full((1, 1, 2, 2), 9.0))
    dx = backward(np.array([[[[1.0, 10.0], [100.0, 1000.0]]]]), cache)
    expected = np.zeros_like(x)
    expected[0, 0, 1, 1] = 1111.0
    np.testing.assert_array_equal(dx, expected)


@pytest.mark.parametrize("forward, backward", POOLS)
def test_ties_send_the_gradient_to_the_first_maximum_in_row_major_order(forward, backward):
    # The documented rule: within a window, the first maximal element in row-major order gets the gradient.
    x = np.array(
        [[[[5.0, 5.0, 1.0, 2.0],
           [5.0, 5.0, 7.0, 7.0],
           [0.0, 3.0, 4.0, 1.0],
           [3.0, 0.0, 4.0, 4.0]]]]
    )  # fmt: skip
    out, cache = pool(forward, 2, 2, 2)(x)
    np.testing.assert_array_equal(out[0, 0], [[5.0, 7.0], [3.0, 4.0]])
    dx = backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), cache)
    expected = np.zeros((4, 4))
    expected[0, 0] = 1.0  # four-way tie: top-left
    expected[1, 2] = 2.0  # tie within the bottom row: leftmost
    expected[2, 1] = 3.0  # 3 above-right beats the 3 below-left: rows first
    expected[2, 2] = 4.0  # 4 in the top row before the two 4s below
    np.testing.assert_array_equal(dx[0, 0], expected)


@pytest.mark.parametrize("forward, backward", POOLS)
def test_a_window_whose_maximum_is_nan_passes_no_gradient(forward, backward):
    x = np.array([[[[1.0, np.nan, 3.0, 0.0], [0.0, 2.0, 1.0, 5.0]]]])
    out, cache = forward(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    dx = backward(np.ones_like(out), cache)
    np.testing.assert_array_equal(dx, [[[[0, 0, 0, 0], [0, 0, 0, 1]]]])


@pytest.mark.parametrize("forward, backward", POOLS)
def test_overlapping_ties_use_each_windows_own_first_maximum(forward, backward):
    # A constant input: every window picks its own top-left element.
    x = np.ones((1, 1, 3, 4))
    out, cache = pool(forward, 2, 2, 1)(x)
    dx = backward(np.ones_like(out), cache)
    expected = np.zeros((3, 4))
    expected[:2, :3] = 1.0
    np.testing.assert_array_equal(dx[0, 0], expected)


@st.composite
def pool_cases(draw):
    """A valid pooling: window 1..4 each way, stride 1..3 (overlapping, tiling and gapped), either dtype."""
    ph, pw, stride = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    geometry = (draw(st.integers(1, 3)), draw(st.integers(1, 3)), ph, pw, stride,
                draw(st.integers(1, 4)), draw(st.integers(1, 4)))  # fmt: skip
    return geometry, draw(st.sampled_from(DTYPES)), draw(st.integers(0, 2**32 - 1))


def naive_and_fast(geometry, x, dout):
    ph, pw, stride = geometry[2:5]
    results = []
    for forward, backward in [
        (max_pool_forward_naive, max_pool_backward_naive),
        (max_pool_forward_fast, max_pool_backward_fast),
    ]:
        out, cache = pool(forward, ph, pw, stride)(x)
        results.append((out, backward(dout, cache)))
    return results


@given(pool_cases())
def test_naive_and_fast_agree(case):
    geometry, dtype, seed = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape(geometry)).astype(dtype)
    dout = rng.standard_normal((*geometry[:2], *geometry[5:])).astype(dtype)
    (out_naive, dx_naive), (out_fast, dx_fast) = naive_and_fast(geometry, x, dout)
    assert out_naive.dtype == out_fast.dtype == dx_naive.dtype == dx_fast.dtype == dtype
    np.testing.assert_array_equal(out_fast, out_naive)  # a maximum is exact
    # Overlapping windows may add their gradients in another order: the rounding is relative to the
    # terms added (at most ph * pw of them), which cancellation can make larger than the sum.
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    ph, pw = geometry[2:4]
    np.testing.assert_allclose(dx_fast, dx_naive, rtol=rtol, atol=rtol * ph * pw * np.abs(dout).max())


@given(pool_cases())
def test_naive_and_fast_agree_exactly_on_ties(case):
    # Small integers make ties common; integer dout makes every sum exact, so the dx must be identical,
    # which they are only if both pick the same element in every window.
    geometry, dtype, seed = case
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, x_shape(geometry)).astype(dtype)
    dout = rng.integers(1, 1000, (*geometry[:2], *geometry[5:])).astype(dtype)
    (out_naive, dx_naive), (out_fast, dx_fast) = naive_and_fast(geometry, x, dout)
    np.testing.assert_array_equal(out_fast, out_naive)
    np.testing.assert_array_equal(dx_fast, dx_naive)
    np.testing.assert_array_equal(dx_naive.sum(), dout.sum())  # every window routes all its gradient


@pytest.mark.parametrize("forward, backward", POOLS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_and_purity(rng, forward, backward, dtype):
    x = distinct_values(rng, (2, 2, 5, 5), dtype)
    check_layer_contract(pool(forward, 3, 3, 2), backward, [x], rng)


@pytest.mark.parametrize("forward, backward", POOLS)
def test_rejects_bad_dout(rng, forward, backward):
    check_rejects_bad_dout(pool(forward, 2, 2, 2), backward, [rng.standard_normal((1, 2, 4, 4))])


@pytest.mark.parametrize("forward", FORWARDS)
def test_rejects_bad_x(rng, forward):
    f = pool(forward, 2, 2, 2)
    x = rng.standard_normal((1, 2, 4, 4))
    with pytest.raises(TypeError, match=r"\bx\b"):
        f(x.tolist())
    with pytest.raises(TypeError, match=r"\bx\b"):
        f(x.astype(np.int32))
    with pytest.raises(ValueError, match=r"\bx\b"):
        f(x[0])


@pytest.mark.parametrize("forward", FORWARDS)
@pytest.mark.parametrize(
    "x_hw, ph, pw, stride", [((5, 4), 2, 2, 2), ((4, 6), 2, 3, 2), ((7, 7), 3, 3, 3), ((4, 4), 1, 2, 3)]
)
def test_rejects_non_integer_output_size(rng, forward, x_hw, ph, pw, stride):
    x = rng.standard_normal((1, 1, *x_hw))
    with pytest.raises(ValueError, match="whole number|integer"):
        forward(x, {"pool_height": ph, "pool_width": pw, "stride": stride})


@pytest.mark.parametrize("forward", FORWARDS)
@pytest.mark.parametrize(
    "key, value, error", [("pool_height", 0, ValueError), ("pool_width", -1, ValueError), ("stride", 0, ValueError),
                          ("stride", 2.0, TypeError), ("pool_height", 1.5, TypeError)]
)  # fmt: skip
def test_rejects_bad_pool_param(rng, forward, key, value, error):
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2} | {key: value}
    with pytest.raises(error, match=key):
        forward(rng.standard_normal((1, 1, 4, 4)), pool_param)


@pytest.mark.parametrize("forward", FORWARDS)
@pytest.mark.parametrize("x_hw, ph, pw, stride", [((3, 6), 4, 2, 2), ((6, 3), 2, 5, 1), ((2, 2), 3, 3, 1)])
def test_rejects_window_larger_than_input(rng, forward, x_hw, ph, pw, stride):
    x = rng.standard_normal((1, 1, *x_hw))
    with pytest.raises(ValueError, match="larger"):
        forward(x, {"pool_height": ph, "pool_width": pw, "stride": stride})


@pytest.mark.parametrize("forward, backward", POOLS)
def test_non_contiguous_input_gives_the_same_results(rng, forward, backward):
    x = distinct_values(rng, (2, 3, 5, 5))
    view = np.asfortranarray(x)
    dout = rng.standard_normal((2, 3, 2, 2))
    out, cache = pool(forward, 3, 3, 2)(x)
    out_view, cache_view = pool(forward, 3, 3, 2)(view)
    np.testing.assert_array_equal(out_view, out)
    np.testing.assert_array_equal(backward(dout, cache_view), backward(dout, cache))


@pytest.mark.parametrize("forward, backward", POOLS)
def test_pool_param_is_not_modified(rng, forward, backward):
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    out, cache = forward(rng.standard_normal((1, 1, 4, 4)), pool_param)
    backward(np.ones_like(out), cache)
    assert pool_param == {"pool_height": 2, "pool_width": 2, "stride": 2}


# --- average pooling ----------------------------------------------------------------------------------

AVG_POOLS = [
    pytest.param(avg_pool_forward_naive, avg_pool_backward_naive, id="naive"),
    pytest.param(avg_pool_forward_fast, avg_pool_backward_fast, id="fast"),
]
# (N, C, pool_height, pool_width, stride, pad, H_out, W_out)
AVG_GEOMETRIES = [
    pytest.param((2, 3, 2, 2, 2, 0, 3, 2), id="2x2-s2-tiling"),
    pytest.param((2, 2, 3, 3, 2, 1, 3, 3), id="3x3-s2-pad1-overlapping"),
    pytest.param((1, 2, 3, 2, 1, 1, 3, 4), id="3x2-s1-pad1-overlapping"),
    pytest.param((2, 1, 2, 3, 3, 0, 2, 2), id="2x3-s3-gaps"),
    pytest.param((1, 2, 4, 4, 1, 2, 2, 3), id="4x4-s1-pad2"),
]


def avg_pool(forward, ph, pw, stride, pad):
    return lambda x: forward(x, {"pool_height": ph, "pool_width": pw, "stride": stride, "pad": pad})


def avg_x_shape(geometry):
    N, C, ph, pw, stride, pad, H_out, W_out = geometry
    return N, C, conv_input_size(H_out, ph, stride, pad), conv_input_size(W_out, pw, stride, pad)


@pytest.mark.parametrize("forward, backward", AVG_POOLS)
@pytest.mark.parametrize("geometry", AVG_GEOMETRIES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_avg_pool_matches_torch_avg_pool2d(rng, forward, backward, geometry, dtype):
    ph, pw, stride, pad, H_out, W_out = geometry[2:]
    x = rng.standard_normal(avg_x_shape(geometry)).astype(dtype)
    dout = rng.standard_normal((*geometry[:2], H_out, W_out)).astype(dtype)
    check_against_oracle(avg_pool(forward, ph, pw, stride, pad), backward,
                         lambda x: F.avg_pool2d(x, (ph, pw), stride=stride, padding=pad), [x], dout, names=["x"])


@pytest.mark.parametrize("forward, backward", AVG_POOLS)
@pytest.mark.parametrize("geometry", AVG_GEOMETRIES)
def test_avg_pool_backward_numerical(rng, forward, backward, geometry):
    ph, pw, stride, pad, H_out, W_out = geometry[2:]
    x = rng.standard_normal(avg_x_shape(geometry))
    dout = rng.standard_normal((*geometry[:2], H_out, W_out))
    check_backward(avg_pool(forward, ph, pw, stride, pad), backward, [x], dout, names=["x"])


@st.composite
def avg_pool_cases(draw):
    """A valid average pooling: window 1..4 each way, stride 1..3, padding up to half the window."""
    ph, pw, stride = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    pad = draw(st.integers(0, min(ph, pw) // 2))
    geometry = (draw(st.integers(1, 3)), draw(st.integers(1, 3)), ph, pw, stride, pad,
                draw(st.integers(1, 4)), draw(st.integers(1, 4)))  # fmt: skip
    return geometry, draw(st.sampled_from(DTYPES)), draw(st.integers(0, 2**32 - 1))


@given(avg_pool_cases())
def test_avg_pool_naive_and_fast_agree(case):
    geometry, dtype, seed = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(avg_x_shape(geometry)).astype(dtype)
    dout = rng.standard_normal((*geometry[:2], *geometry[6:])).astype(dtype)
    ph, pw, stride, pad = geometry[2:6]
    results = []
    for forward, backward in ((avg_pool_forward_naive, avg_pool_backward_naive),
                              (avg_pool_forward_fast, avg_pool_backward_fast)):
        out, cache = avg_pool(forward, ph, pw, stride, pad)(x)
        results.append((out, backward(dout, cache)))
    (out_naive, dx_naive), (out_fast, dx_fast) = results
    assert out_naive.dtype == out_fast.dtype == dx_naive.dtype == dx_fast.dtype == dtype
    # Sums of up to ph * pw terms in another order.
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(out_fast, out_naive, rtol=rtol, atol=rtol * np.abs(x).max(initial=0))  # x may be empty: all padding
    np.testing.assert_allclose(dx_fast, dx_naive, rtol=rtol, atol=rtol * ph * pw * np.abs(dout).max())


@pytest.mark.parametrize("forward, backward", AVG_POOLS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_avg_pool_dtype_and_purity(rng, forward, backward, dtype):
    check_layer_contract(avg_pool(forward, 3, 3, 2, 1), backward, [rng.standard_normal((2, 2, 5, 5)).astype(dtype)],
                         rng)


@pytest.mark.parametrize("forward, backward", AVG_POOLS)
def test_avg_pool_rejects_bad_dout(rng, forward, backward):
    check_rejects_bad_dout(avg_pool(forward, 2, 2, 2, 0), backward, [rng.standard_normal((1, 2, 4, 4))])


@pytest.mark.parametrize("forward", [avg_pool_forward_naive, avg_pool_forward_fast])
@pytest.mark.parametrize("pool_param, error, match", [
    ({"pool_height": 2, "pool_width": 2, "stride": 2, "pad": 2}, ValueError, r"pool_param\['pad'\] = 2 must be at most half"),
    ({"pool_height": 2, "pool_width": 2, "stride": 2, "pad": -1}, ValueError, "pad"),
    ({"pool_height": 2, "pool_width": 2, "stride": 2, "pad": 0.5}, TypeError, "pad"),
    ({"pool_height": 3, "pool_width": 3, "stride": 2}, ValueError, "not a whole number"),
    ({"pool_height": 2, "pool_width": 2, "stride": 2, "padding": 1}, ValueError, "unknown key"),
])
def test_avg_pool_rejects_bad_pool_param(rng, forward, pool_param, error, match):
    with pytest.raises(error, match=f"{forward.__name__}: .*{match}"):
        forward(rng.standard_normal((1, 1, 4, 4)), pool_param)


def test_avg_pool_counts_the_padding_in_the_average():
    x = np.ones((1, 1, 2, 2))
    out, _ = avg_pool_forward_fast(x, {"pool_height": 2, "pool_width": 2, "stride": 1, "pad": 1})
    np.testing.assert_array_equal(out[0, 0], [[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]])


# --- global average pooling ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_global_avg_pool_matches_torch(rng, dtype):
    x = rng.standard_normal((3, 4, 5, 2)).astype(dtype)
    dout = rng.standard_normal((3, 4)).astype(dtype)
    check_against_oracle(global_avg_pool_forward, global_avg_pool_backward,
                         lambda x: F.adaptive_avg_pool2d(x, 1).flatten(1), [x], dout, names=["x"])


def test_global_avg_pool_gradient_and_contract(rng):
    x = rng.standard_normal((2, 3, 4, 3))
    check_backward(global_avg_pool_forward, global_avg_pool_backward, [x], rng.standard_normal((2, 3)), names=["x"])
    check_layer_contract(global_avg_pool_forward, global_avg_pool_backward, [x.astype(np.float32)], rng)
    check_rejects_bad_dout(global_avg_pool_forward, global_avg_pool_backward, [x])


def test_global_avg_pool_rejects_bad_x(rng):
    with pytest.raises(ValueError, match=r"global_avg_pool_forward: x must be 4-D"):
        global_avg_pool_forward(rng.standard_normal((2, 3)))
    with pytest.raises(ValueError, match="empty feature maps"):
        global_avg_pool_forward(np.zeros((2, 3, 0, 4)))
