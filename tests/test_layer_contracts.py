"""Contracts every layer keeps, checked over the whole table of layers behind ``tinyconv gradcheck``:
integer parameters take the input's dtype, a backward refuses another layer's cache, and empty
dimensions give empty results rather than NumPy errors."""

import copy
import re

import numpy as np
import pytest

import tinyconv.layers as L
from tinyconv.layer_gradcheck import CASES

PARAMETER = re.compile(r"(w|b|gamma|beta)(\d|s)?")  # w, b1, gamma2, betas (a residual block's shortcut)
LAYERS = [case for case in CASES if case.backward is not None]
WITH_PARAMETERS = [case for case in LAYERS if any(PARAMETER.fullmatch(name) for name, _ in case.inputs)]


def _inputs(case, rng, dtype):
    return [rng.standard_normal(shape).astype(dtype) for _, shape in case.inputs]


def _run(case, arrays, rng):
    out, cache = case.forward(*arrays, *copy.deepcopy(case.params))
    dout = np.random.default_rng(5).standard_normal(out.shape).astype(out.dtype)
    grads = case.backward(dout, cache)
    return out, grads if isinstance(grads, tuple) else (grads,)


@pytest.mark.parametrize("integer_dtype", [np.int64, np.int32, np.uint8])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", WITH_PARAMETERS, ids=lambda case: case.name)
def test_integer_parameters_take_the_dtype_of_the_input(rng, case, dtype, integer_dtype):
    as_floats = _inputs(case, rng, dtype)
    as_integers = list(as_floats)
    for index, (name, _) in enumerate(case.inputs):
        if PARAMETER.fullmatch(name):
            integers = np.rint(np.abs(as_floats[index]) * 3).astype(integer_dtype)
            as_integers[index], as_floats[index] = integers, integers.astype(dtype)
    out, grads = _run(case, as_integers, rng)
    expected_out, expected_grads = _run(case, as_floats, rng)
    assert out.dtype == dtype and all(grad.dtype == dtype for grad in grads)
    np.testing.assert_array_equal(out, expected_out)
    for grad, expected in zip(grads, expected_grads):
        np.testing.assert_array_equal(grad, expected)


@pytest.mark.parametrize("bad_dtype", [bool, np.float16, np.complex128, object])
@pytest.mark.parametrize("case", WITH_PARAMETERS, ids=lambda case: case.name)
def test_other_parameter_dtypes_are_refused_by_name(rng, case, bad_dtype):
    arrays = _inputs(case, rng, np.float64)
    index, name = next((i, name) for i, (name, _) in enumerate(case.inputs) if PARAMETER.fullmatch(name))
    arrays[index] = arrays[index].astype(bad_dtype)
    with pytest.raises(TypeError, match=rf"\b{name}\b"):
        case.forward(*arrays, *copy.deepcopy(case.params))


def test_integer_input_x_is_still_refused(rng):
    with pytest.raises(TypeError, match="x must be a float32 or float64 array"):
        L.conv_forward_fast(np.ones((1, 1, 3, 3), dtype=np.int64), np.ones((1, 1, 3, 3)), np.zeros(1), {})


def test_the_notebook_cells_with_integer_arrays_run():
    # cs231n's "convolution as image processing" cell: a grayscale filter and an edge detector.
    image = np.random.default_rng(0).uniform(0, 255, (2, 3, 8, 8))
    w = np.zeros((2, 3, 3, 3))
    w[0, 0, :, :] = [[0, 0, 0], [0, 0.3, 0], [0, 0, 0]]
    w[0, 1, :, :] = [[0, 0, 0], [0, 0.6, 0], [0, 0, 0]]
    w[0, 2, :, :] = [[0, 0, 0], [0, 0.1, 0], [0, 0, 0]]
    w[1, 2, :, :] = [[0, 0, 0], [-1, 2, -1], [0, 0, 0]]
    b = np.array([0, 128])
    for conv_forward in (L.conv_forward_naive, L.conv_forward_fast):
        out, _ = conv_forward(image, w, b, {"stride": 1, "pad": 1})
        assert out.dtype == np.float64
        # The edge detector's output is centred on its bias of 128: the blue channel's second difference.
        blue = np.pad(image[:, 2], ((0, 0), (1, 1), (1, 1)))
        np.testing.assert_allclose(out[:, 1], 128 + 2 * blue[:, 1:-1, 1:-1] - blue[:, 1:-1, :-2] - blue[:, 1:-1, 2:])
    # The spatial batch norm cell: integer gamma and beta shift and scale each channel.
    x = 4 * np.random.default_rng(1).standard_normal((2, 3, 4, 5)) + 10
    gamma, beta = np.asarray([3, 4, 5]), np.asarray([6, 7, 8])
    out, _ = L.spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), beta, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), gamma, rtol=1e-4)


@pytest.mark.parametrize("case", LAYERS, ids=lambda case: case.name)
def test_a_backward_refuses_the_cache_of_another_layer(rng, case):
    foreign = next(other for other in LAYERS if other.backward is not case.backward
                   and other.forward is not case.forward)
    _, foreign_cache = foreign.forward(*_inputs(foreign, rng, np.float64),
                                       *copy.deepcopy(foreign.params))
    with pytest.raises(TypeError, match=rf"{case.backward.__name__}: cache must be the cache returned by "):
        case.backward(np.ones(3), foreign_cache)
    with pytest.raises(TypeError, match="cache must be"):
        case.backward(np.ones(3), (np.ones(3),))


CONV_PAIRS = [(L.conv_forward_naive, L.conv_backward_naive, {})] + [
    (L.conv_forward_fast, L.conv_backward_fast, {"algorithm": algorithm})
    for algorithm in ("auto", "im2col", "winograd2", "winograd4")
]


@pytest.mark.parametrize("N, C, F", [(2, 3, 0), (2, 0, 4), (0, 3, 4), (0, 0, 0)])
@pytest.mark.parametrize("forward, backward, extra", CONV_PAIRS,
                         ids=["naive", "auto", "im2col", "winograd2", "winograd4"])
def test_conv_with_empty_dimensions_gives_the_empty_or_bias_only_result(rng, forward, backward, extra, N, C, F):
    x = rng.standard_normal((N, C, 6, 6))
    w = rng.standard_normal((F, C, 3, 3))
    b = rng.standard_normal(F)
    out, cache = forward(x, w, b, {"stride": 1, "pad": 1, **extra})
    # With no input channels the convolution sums nothing: every output is its filter's bias.
    np.testing.assert_array_equal(out, np.broadcast_to(b[None, :, None, None], (N, F, 6, 6)))
    dout = rng.standard_normal(out.shape)
    dx, dw, db = backward(dout, cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    np.testing.assert_array_equal(dx, 0 * x)
    np.testing.assert_array_equal(dw, 0 * w)
    np.testing.assert_allclose(db, dout.sum(axis=(0, 2, 3)))


@pytest.mark.parametrize("forward, backward", [(L.max_pool_forward_naive, L.max_pool_backward_naive),
                                               (L.max_pool_forward_fast, L.max_pool_backward_fast)])
@pytest.mark.parametrize("shape", [(0, 3, 4, 4), (2, 0, 4, 4)])
def test_pool_with_an_empty_batch_or_no_channels(forward, backward, shape):
    x = np.ones(shape)
    out, cache = forward(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    assert out.shape == shape[:2] + (2, 2)
    assert backward(np.ones(out.shape), cache).shape == shape


def test_affine_backward_on_an_empty_batch(rng):
    x, w, b = np.zeros((0, 3, 2)), rng.standard_normal((6, 4)), rng.standard_normal(4)
    out, cache = L.affine_forward(x, w, b)
    assert out.shape == (0, 4)
    dx, dw, db = L.affine_backward(np.zeros((0, 4)), cache)
    assert dx.shape == (0, 3, 2)
    np.testing.assert_array_equal(dw, np.zeros((6, 4)))
    np.testing.assert_array_equal(db, np.zeros(4))


def test_filters_of_zero_size_are_refused(rng):
    with pytest.raises(ValueError, match=r"conv_forward_fast: w must have filters of at least 1x1"):
        L.conv_forward_fast(rng.standard_normal((1, 2, 4, 4)), np.zeros((3, 2, 0, 3)), np.zeros(3), {})
