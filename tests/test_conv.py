"""conv_forward/backward, naive and fast: PyTorch oracle, numerical gradients, naive == fast, errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from tinyconv.layers import (
    conv_backward_fast,
    conv_backward_naive,
    conv_forward_fast,
    conv_forward_naive,
    limit_workspace,
    workspace_limit,
)

from .oracle import F
from .helpers import (
    DTYPES,
    assert_naive_and_fast_agree,
    check_against_oracle,
    check_backward,
    check_layer_contract,
    check_rejects_bad_dout,
    conv_input_size,
)

CONVS = [
    pytest.param(conv_forward_naive, conv_backward_naive, id="naive"),
    pytest.param(conv_forward_fast, conv_backward_fast, id="fast"),
]
FORWARDS = [pytest.param(conv_forward_naive, id="naive"), pytest.param(conv_forward_fast, id="fast")]

# (N, C, F, HH, WW, stride, pad, H_out, W_out); H and W follow from the output size.
GEOMETRIES = [
    pytest.param((2, 3, 4, 3, 3, 1, 1, 4, 4), id="3x3-s1-p1"),
    pytest.param((2, 3, 4, 3, 2, 2, 1, 3, 4), id="3x2-s2-p1"),
    pytest.param((1, 2, 3, 5, 3, 3, 2, 2, 3), id="5x3-s3-p2"),
    pytest.param((3, 1, 2, 1, 1, 1, 0, 3, 4), id="1x1"),
    pytest.param((2, 2, 2, 2, 4, 1, 0, 3, 2), id="2x4-s1-p0"),
    pytest.param((1, 3, 2, 4, 4, 3, 3, 2, 2), id="pad-wider-than-input"),
]


# 3x3 filters at stride 1, where the fast conv can run Winograd when asked ('auto' keeps to im2col on
# shapes this small: it wants 32+ channels and 8x8+ outputs).
WINOGRAD_GEOMETRIES = [
    pytest.param((2, 8, 4, 3, 3, 1, 1, 4, 4), id="even-output"),
    pytest.param((1, 8, 3, 3, 3, 1, 0, 3, 5), id="odd-output-no-pad"),
    pytest.param((2, 9, 2, 3, 3, 1, 2, 5, 3), id="pad-2"),
    pytest.param((1, 8, 2, 3, 3, 1, 3, 7, 6), id="pad-3-tiny-input"),
    pytest.param((1, 8, 2, 3, 3, 1, 1, 1, 1), id="single-output"),
]
ALGORITHMS = ["auto", "im2col", "winograd2", "winograd4"]
WINOGRAD = ["winograd2", "winograd4"]


def conv(forward, stride, pad, algorithm=None):
    """The forward with conv_param closed over; a fresh dict each call. `algorithm` is for the fast form."""
    extra = {} if algorithm is None else {"algorithm": algorithm}
    return lambda x, w, b: forward(x, w, b, {"stride": stride, "pad": pad} | extra)


def conv_inputs(rng, geometry, dtype=np.float64):
    N, C, F_, HH, WW, stride, pad, H_out, W_out = geometry
    H, W = conv_input_size(H_out, HH, stride, pad), conv_input_size(W_out, WW, stride, pad)
    assert H >= 1 and W >= 1, f"invalid test geometry {geometry}"
    return (
        rng.standard_normal((N, C, H, W)).astype(dtype),
        rng.standard_normal((F_, C, HH, WW)).astype(dtype),
        rng.standard_normal(F_).astype(dtype),
    )


def reference_conv(x, w, b, stride, pad):
    """Cross-correlation by explicit windows, independent of the library."""
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_window_view(padded, w.shape[2:], axis=(2, 3))[:, :, ::stride, ::stride]
    return np.einsum("nchwij,fcij->nfhw", windows, w) + b[None, :, None, None]


@pytest.mark.parametrize("forward", FORWARDS)
def test_forward_matches_notebook_example(forward):
    # The cs231n notebook check, x (2, 3, 4, 4), w (3, 3, 4, 4), stride 2, pad 1, on linspace data.
    x = np.linspace(-0.1, 0.5, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    w = np.linspace(-0.2, 0.3, num=3 * 3 * 4 * 4).reshape(3, 3, 4, 4)
    b = np.linspace(-0.1, 0.2, num=3)
    out, _ = forward(x, w, b, {"stride": 2, "pad": 1})
    assert out.shape == (2, 3, 2, 2)
    np.testing.assert_allclose(out, reference_conv(x, w, b, 2, 1), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("forward", FORWARDS)
def test_forward_by_hand(forward):
    # A 2x2 input, 1 channel, a 2x2 filter with pad 1: every output sees part of the input.
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    w = np.array([[[[1.0, 10.0], [100.0, 1000.0]]]])
    out, _ = forward(x, w, np.array([0.5]), {"stride": 1, "pad": 1})
    expected = np.array([[1000 * 1, 100 * 1 + 1000 * 2, 100 * 2],
                         [10 * 1 + 1000 * 3, 1 + 10 * 2 + 100 * 3 + 1000 * 4, 1 * 2 + 100 * 4],
                         [10 * 3, 1 * 3 + 10 * 4, 1 * 4]]) + 0.5  # fmt: skip
    np.testing.assert_array_equal(out[0, 0], expected)


@pytest.mark.parametrize("forward, backward", CONVS)
@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_matches_torch_conv2d(rng, forward, backward, geometry, dtype):
    stride, pad, H_out, W_out = geometry[5:]
    inputs = conv_inputs(rng, geometry, dtype)
    dout = rng.standard_normal((geometry[0], geometry[2], H_out, W_out)).astype(dtype)
    check_against_oracle(
        conv(forward, stride, pad),
        backward,
        lambda x, w, b: F.conv2d(x, w, b, stride=stride, padding=pad),
        inputs,
        dout,
        names=["x", "w", "b"],
    )


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("geometry", WINOGRAD_GEOMETRIES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_fast_3x3_stride_1_matches_torch_conv2d_with_every_algorithm(rng, algorithm, geometry, dtype):
    pad, H_out, W_out = geometry[6:]
    inputs = conv_inputs(rng, geometry, dtype)
    dout = rng.standard_normal((geometry[0], geometry[2], H_out, W_out)).astype(dtype)
    check_against_oracle(
        conv(conv_forward_fast, 1, pad, algorithm),
        conv_backward_fast,
        lambda x, w, b: F.conv2d(x, w, b, padding=pad),
        inputs,
        dout,
        names=["x", "w", "b"],
    )


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_fast_3x3_stride_1_backward_numerical(rng, algorithm):
    geometry = (2, 2, 2, 3, 3, 1, 1, 3, 2)
    inputs = conv_inputs(rng, geometry)
    dout = rng.standard_normal((2, 2, 3, 2))
    check_backward(conv(conv_forward_fast, 1, 1, algorithm), conv_backward_fast, inputs, dout, names=["x", "w", "b"])


@pytest.mark.parametrize("forward, backward", CONVS)
@pytest.mark.parametrize(
    "geometry",
    [(2, 2, 3, 3, 3, 1, 1, 3, 3), (1, 2, 2, 3, 2, 2, 1, 2, 3), (1, 1, 2, 2, 2, 3, 2, 2, 2)],
    ids=["3x3-s1-p1", "3x2-s2-p1", "2x2-s3-p2"],
)
def test_backward_numerical(rng, forward, backward, geometry):
    stride, pad, H_out, W_out = geometry[5:]
    inputs = conv_inputs(rng, geometry)
    dout = rng.standard_normal((geometry[0], geometry[2], H_out, W_out))
    check_backward(conv(forward, stride, pad), backward, inputs, dout, names=["x", "w", "b"])


@st.composite
def conv_cases(draw):
    """A valid convolution: random sizes, non-square filters, stride 1..3, pad 0..3, either dtype."""
    HH, WW = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride, pad = draw(st.integers(1, 3)), draw(st.integers(0, 3))

    def output_size(filter_size):
        # The smallest output size whose input size is at least 1, plus up to 3.
        smallest = max(1, 1 - (-(1 + 2 * pad - filter_size) // stride))
        return draw(st.integers(smallest, smallest + 3))

    geometry = (
        draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3)),
        HH, WW, stride, pad, output_size(HH), output_size(WW),
    )  # fmt: skip
    algorithms = ALGORITHMS if (HH, WW, stride) == (3, 3, 1) else ["auto", "im2col"]
    return geometry, draw(st.sampled_from(algorithms)), draw(st.sampled_from(DTYPES)), draw(st.integers(0, 2**32 - 1))


@st.composite
def winograd_cases(draw):
    """3x3 filters at stride 1 with any padding and output size (sizes that are not multiples of the tile
    leave partial tiles)."""
    pad = draw(st.integers(0, 3))
    smallest = max(1, 2 * pad - 1)  # the input must be at least 1 pixel
    geometry = (
        draw(st.integers(1, 3)), draw(st.integers(1, 9)), draw(st.integers(1, 4)), 3, 3, 1, pad,
        draw(st.integers(smallest, smallest + 6)), draw(st.integers(smallest, smallest + 6)),
    )  # fmt: skip
    return geometry, draw(st.sampled_from(WINOGRAD)), draw(st.sampled_from(DTYPES)), draw(st.integers(0, 2**32 - 1))


def check_naive_and_fast_agree(case):
    geometry, algorithm, dtype, seed = case
    rng = np.random.default_rng(seed)
    stride, pad, H_out, W_out = geometry[5:]
    inputs = conv_inputs(rng, geometry, dtype)
    dout = rng.standard_normal((geometry[0], geometry[2], H_out, W_out)).astype(dtype)
    assert_naive_and_fast_agree((conv(conv_forward_naive, stride, pad), conv_backward_naive),
                                (conv(conv_forward_fast, stride, pad, algorithm), conv_backward_fast), inputs, dout)


@given(conv_cases())
def test_naive_and_fast_agree(case):
    check_naive_and_fast_agree(case)


@given(winograd_cases())
def test_naive_and_winograd_agree(case):
    check_naive_and_fast_agree(case)


@pytest.mark.parametrize("forward, backward", CONVS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_and_purity(rng, forward, backward, dtype):
    geometry = (2, 3, 2, 3, 2, 2, 1, 2, 3)
    check_layer_contract(conv(forward, 2, 1), backward, conv_inputs(rng, geometry, dtype), rng)


@pytest.mark.parametrize("forward, backward", CONVS)
def test_rejects_bad_dout(rng, forward, backward):
    check_rejects_bad_dout(conv(forward, 1, 1), backward, conv_inputs(rng, (1, 2, 2, 3, 3, 1, 1, 3, 3)))


@pytest.mark.parametrize("forward", FORWARDS)
def test_rejects_bad_arrays(rng, forward):
    x, w, b = conv_inputs(rng, (2, 3, 4, 3, 3, 1, 1, 4, 4))
    f = conv(forward, 1, 1)
    with pytest.raises(TypeError, match=r"\bx\b"):
        f(x.tolist(), w, b)
    with pytest.raises(TypeError, match=r"\bx\b"):
        f(x.astype(np.int64), w, b)
    with pytest.raises(ValueError, match=r"\bx\b"):
        f(x[0], w, b)
    with pytest.raises(TypeError, match=r"\bw\b"):
        f(x, w.astype(bool), b)  # integer weights are converted, booleans refused
    with pytest.raises(ValueError, match=r"\bw\b"):
        f(x, w[0], b)
    with pytest.raises(ValueError, match=r"\bw\b.*channel|channel.*\bw\b"):
        f(x, w[:, :2], b)  # 2 input channels, x has 3
    with pytest.raises(ValueError, match=r"\bb\b"):
        f(x, w, b[:-1])
    with pytest.raises(ValueError, match=r"\bb\b"):
        f(x, w, b[:, None])


@pytest.mark.parametrize("forward", FORWARDS)
def test_rejects_mixed_dtypes(rng, forward):
    x, w, b = conv_inputs(rng, (2, 3, 4, 3, 3, 1, 1, 4, 4), np.float32)
    f = conv(forward, 1, 1)
    with pytest.raises(TypeError, match=r"\bw\b"):
        f(x, w.astype(np.float64), b)
    with pytest.raises(TypeError, match=r"\bb\b"):
        f(x, w, b.astype(np.float64))


@pytest.mark.parametrize("forward", FORWARDS)
@pytest.mark.parametrize(
    "x_hw, filter_hw, stride, pad",
    [((6, 6), (3, 3), 2, 0), ((4, 5), (3, 3), 2, 1), ((6, 6), (2, 3), 3, 0), ((7, 5), (3, 2), 2, 1)],
)
def test_rejects_non_integer_output_size(rng, forward, x_hw, filter_hw, stride, pad):
    # e.g. 1 + (4 + 2 - 3) / 2 = 2.5 rows: the starter would floor or assert; we say so.
    x = rng.standard_normal((1, 2, *x_hw))
    w = rng.standard_normal((2, 2, *filter_hw))
    with pytest.raises(ValueError, match="whole number|integer"):
        forward(x, w, np.zeros(2), {"stride": stride, "pad": pad})


@pytest.mark.parametrize("forward", FORWARDS)
@pytest.mark.parametrize("stride, pad, match", [(0, 1, "stride"), (-1, 1, "stride"), (1, -1, "pad"), (1, -2, "pad")])
def test_rejects_bad_stride_and_pad(rng, forward, stride, pad, match):
    x, w, b = conv_inputs(rng, (1, 2, 2, 3, 3, 1, 1, 3, 3))
    with pytest.raises(ValueError, match=match):
        forward(x, w, b, {"stride": stride, "pad": pad})


@pytest.mark.parametrize("forward", FORWARDS)
@pytest.mark.parametrize("stride, pad, match", [(1.5, 1, "stride"), (1, 0.5, "pad"), (True, 1, "stride")])
def test_rejects_non_integer_stride_and_pad(rng, forward, stride, pad, match):
    x, w, b = conv_inputs(rng, (1, 2, 2, 3, 3, 1, 1, 3, 3))
    with pytest.raises(TypeError, match=match):
        forward(x, w, b, {"stride": stride, "pad": pad})


@pytest.mark.parametrize("forward", FORWARDS)
@pytest.mark.parametrize("filter_hw, stride, pad", [((5, 3), 2, 0), ((3, 7), 1, 1), ((6, 6), 4, 1)])
def test_rejects_filter_larger_than_padded_input(rng, forward, filter_hw, stride, pad):
    # With a 3x3 input, 1 + (3 + 2*pad - HH) / stride can be a whole number <= 0: still an error.
    x = rng.standard_normal((1, 1, 3, 3))
    w = rng.standard_normal((1, 1, *filter_hw))
    with pytest.raises(ValueError, match="larger"):
        forward(x, w, np.zeros(1), {"stride": stride, "pad": pad})


@pytest.mark.parametrize(
    "geometry, algorithm",
    [((5, 2, 3, 3, 2, 2, 1, 3, 2), "im2col"), ((5, 2, 3, 3, 3, 1, 1, 3, 2), "winograd2"),
     ((5, 2, 3, 3, 3, 1, 1, 5, 6), "winograd4")],
    ids=["im2col", "winograd2", "winograd4"],
)
@pytest.mark.parametrize("limit", [1, 2**11, 2**12, 2**13, 2**30])
def test_fast_conv_in_batch_chunks_matches_naive(rng, geometry, algorithm, limit):
    # A tiny workspace forces one or a few samples per chunk, often with a short last chunk.
    stride, pad, H_out, W_out = geometry[5:]
    inputs = conv_inputs(rng, geometry)
    dout = rng.standard_normal((5, 3, H_out, W_out))
    out_naive, cache_naive = conv(conv_forward_naive, stride, pad)(*inputs)
    grads_naive = conv_backward_naive(dout, cache_naive)
    with limit_workspace(limit):
        assert workspace_limit() == limit
        out_fast, cache_fast = conv(conv_forward_fast, stride, pad, algorithm)(*inputs)
        grads_fast = conv_backward_fast(dout, cache_fast)
    assert workspace_limit() != limit
    for name, fast, naive in zip(["out", "dx", "dw", "db"], [out_fast, *grads_fast], [out_naive, *grads_naive]):
        np.testing.assert_allclose(fast, naive, rtol=1e-10, atol=1e-12, err_msg=name)


def test_limit_workspace_rejects_non_positive_sizes():
    with pytest.raises(ValueError, match="nbytes"):
        with limit_workspace(0):
            pass


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_non_contiguous_inputs_give_the_same_results_with_every_algorithm(rng, algorithm):
    # 3x3 filters at stride 1 on 32 channels and 8x8 outputs, where 'auto' picks Winograd too.
    x = rng.standard_normal((2, 32, 8, 8))
    w = rng.standard_normal((3, 32, 3, 3))
    b = rng.standard_normal(3)
    dout = rng.standard_normal((2, 3, 8, 8))
    conv_param = {"stride": 1, "pad": 1, "algorithm": algorithm}
    views = (x.transpose(0, 1, 3, 2).copy().transpose(0, 1, 3, 2), np.asfortranarray(w), b)
    dout_view = dout.transpose(0, 1, 3, 2).copy().transpose(0, 1, 3, 2)
    assert not (views[0].flags.c_contiguous or views[1].flags.c_contiguous or dout_view.flags.c_contiguous)
    out, cache = conv_forward_fast(x, w, b, conv_param)
    out_views, cache_views = conv_forward_fast(*views, conv_param)
    np.testing.assert_allclose(out_views, out, rtol=1e-12, atol=1e-12)
    for grad_views, grad in zip(conv_backward_fast(dout_view, cache_views), conv_backward_fast(dout, cache)):
        np.testing.assert_allclose(grad_views, grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("forward, backward", CONVS)
def test_non_contiguous_inputs_give_the_same_results(rng, forward, backward):
    geometry = (2, 3, 2, 3, 2, 2, 1, 2, 3)
    stride, pad = geometry[5:7]
    x, w, b = conv_inputs(rng, geometry)
    views = (np.asfortranarray(x), w.transpose(0, 1, 3, 2).copy().transpose(0, 1, 3, 2), np.repeat(b, 2)[::2])
    assert not any(v.flags.c_contiguous for v in views)
    dout = rng.standard_normal((2, 2, *geometry[7:]))
    out, cache = conv(forward, stride, pad)(x, w, b)
    out_views, cache_views = conv(forward, stride, pad)(*views)
    np.testing.assert_allclose(out_views, out, rtol=1e-12, atol=1e-14)
    for grad_views, grad in zip(backward(dout[:, :, ::1], cache_views), backward(dout, cache)):
        np.testing.assert_allclose(grad_views, grad, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("forward, backward", CONVS)
def test_conv_param_is_not_modified(rng, forward, backward):
    x, w, b = conv_inputs(rng, (1, 2, 2, 3, 3, 1, 1, 3, 3))
    conv_param = {"stride": 1, "pad": 1}
    out, cache = forward(x, w, b, conv_param)
    backward(np.ones_like(out), cache)
    assert conv_param == {"stride": 1, "pad": 1}


@pytest.mark.parametrize(
    "filter_hw, stride", [((5, 5), 1), ((3, 3), 2), ((3, 2), 1), ((1, 1), 1)]
)
@pytest.mark.parametrize("algorithm", WINOGRAD)
def test_winograd_rejects_filters_it_cannot_handle(rng, filter_hw, stride, algorithm):
    x = rng.standard_normal((1, 2, 7, 7))
    w = rng.standard_normal((2, 2, *filter_hw))
    with pytest.raises(ValueError, match="needs 3x3 filters, stride 1, no dilation, one group and one pad"):
        conv_forward_fast(x, w, np.zeros(2), {"stride": stride, "pad": 0, "algorithm": algorithm})


@pytest.mark.parametrize("algorithm", ["fft", "winograd", "Winograd2", None, ""])
def test_fast_conv_rejects_unknown_algorithms(rng, algorithm):
    x, w, b = conv_inputs(rng, (1, 2, 2, 3, 3, 1, 1, 3, 3))
    with pytest.raises(ValueError, match="algorithm"):
        conv_forward_fast(x, w, b, {"stride": 1, "pad": 1, "algorithm": algorithm})


def test_conv_param_rejects_unknown_keys(rng):
    x, w, b = conv_inputs(rng, (1, 2, 2, 3, 3, 1, 1, 3, 3))
    for forward in (conv_forward_naive, conv_forward_fast):
        with pytest.raises(ValueError, match="padding"):
            forward(x, w, b, {"stride": 1, "padding": 1})


@pytest.mark.parametrize("algorithm", ["im2col", "winograd2", "winograd4"])
@pytest.mark.parametrize("keep_columns", [True, False])
def test_without_dx_the_backward_gives_the_same_dw_and_db(rng, algorithm, keep_columns):
    x, w, b = (rng.standard_normal(shape) for shape in ((3, 4, 6, 6), (5, 4, 3, 3), (5,)))
    workspace = 2**30 if keep_columns else 1  # the columns kept for the backward, or rebuilt there
    with limit_workspace(workspace):
        out, cache = conv_forward_fast(x, w, b, {"stride": 1, "pad": 1, "algorithm": algorithm})
        dout = rng.standard_normal(out.shape)
        dx, dw, db = conv_backward_fast(dout, cache)
        skipped, dw_alone, db_alone = conv_backward_fast(dout, cache, need_dx=False)
    assert skipped is None and dx.shape == x.shape
    np.testing.assert_array_equal(dw_alone, dw)
    np.testing.assert_array_equal(db_alone, db)


@pytest.mark.parametrize("need_dx", [0, "no", None])
def test_need_dx_must_be_a_bool(rng, need_dx):
    x, w, b = (rng.standard_normal(shape) for shape in ((1, 2, 4, 4), (2, 2, 3, 3), (2,)))
    out, cache = conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
    with pytest.raises(TypeError, match="conv_backward_fast: need_dx must be True or False, got"):
        conv_backward_fast(np.ones_like(out), cache, need_dx=need_dx)


@pytest.mark.parametrize("algorithm", ["winograd2", "winograd4"])
def test_winograd_backward_reuses_the_filters_the_forward_transformed(rng, monkeypatch, algorithm):
    from tinyconv.layers import _winograd

    x, w, b = (rng.standard_normal(shape) for shape in ((2, 3, 6, 6), (4, 3, 3, 3), (4,)))
    out, cache = conv_forward_fast(x, w, b, {"stride": 1, "pad": 1, "algorithm": algorithm})
    dout = rng.standard_normal(out.shape)
    transformed = []
    real = _winograd.transform_filters
    monkeypatch.setattr(_winograd, "transform_filters", lambda *args: transformed.append(1) or real(*args))
    dx, dw, _ = conv_backward_fast(dout, cache)
    skipped, dw_alone, _ = conv_backward_fast(dout, cache, need_dx=False)
    assert transformed == [], "the backward transformed the filters again"
    assert skipped is None
    np.testing.assert_array_equal(dw_alone, dw)
    dx_naive, dw_naive, _ = conv_backward_naive(dout, conv_forward_naive(x, w, b, {"stride": 1, "pad": 1})[1])
    np.testing.assert_allclose(dx, dx_naive, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(dw, dw_naive, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("forward", [conv_forward_naive, conv_forward_fast])
def test_a_padding_nobody_can_allocate_is_refused_with_the_numbers(forward, monkeypatch):
    monkeypatch.setattr("tinyconv._checks.memory_bytes", lambda: 16 * 2**30)
    x, w, b = np.zeros((2, 3, 4, 4)), np.zeros((5, 3, 3, 3)), np.zeros(5)
    with pytest.raises(ValueError, match=rf"{forward.__name__}: the padded input \(N, C, H \+ 2\*pad, W \+ 2\*pad\) "
                                         r"= \(2, 3, 2000000004, 2000000004\) would take [0-9,]+ values of float64, "
                                         r"[0-9,.]+ GiB, more than this machine's 16.0 GiB of memory"):
        forward(x, w, b, {"stride": 1, "pad": 10**9})
    monkeypatch.setattr("tinyconv._checks.memory_bytes", lambda: 2**30)
    many = np.zeros((1000, 3, 1, 1))  # a padded input of 24 MiB, an output of 32 GiB
    with pytest.raises(ValueError, match=r"the output \(N, F, H_out, W_out\) = \(1, 1000, 2001, 2001\)"):
        forward(x[:1, :, :1, :1], many, np.zeros(1000), {"stride": 1, "pad": 1000})
