"""affine_forward/backward and relu_forward/backward: oracle, numerical gradients, contracts, errors."""

import numpy as np
import pytest

from tinyconv.layers import affine_backward, affine_forward, relu_backward, relu_forward

from .oracle import F
from .helpers import (
    DTYPES,
    check_against_oracle,
    check_backward,
    check_layer_contract,
    check_rejects_bad_dout,
)

X_SHAPE = (3, 2, 3, 2)  # flattened to D = 12
M = 5


def affine_inputs(rng, dtype=np.float64):
    D = int(np.prod(X_SHAPE[1:]))
    return (
        rng.standard_normal(X_SHAPE).astype(dtype),
        rng.standard_normal((D, M)).astype(dtype),
        rng.standard_normal(M).astype(dtype),
    )


def relu_input(rng, dtype=np.float64, shape=(3, 4, 2)):
    """Values at least 0.05 away from the kink at zero."""
    x = rng.uniform(0.05, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    return x.astype(dtype)


# ---------------------------------------------------------------------------------------------- affine


def test_affine_forward_matches_notebook_example():
    # The cs231n notebook check, with the expectation computed without flattening x.
    N, input_shape, M_out = 2, (4, 5, 6), 3
    D = int(np.prod(input_shape))
    x = np.linspace(-0.1, 0.5, num=N * D).reshape(N, *input_shape)
    w = np.linspace(-0.2, 0.3, num=D * M_out).reshape(D, M_out)
    b = np.linspace(-0.3, 0.1, num=M_out)
    expected = np.einsum("nijk,ijkm->nm", x, w.reshape(*input_shape, M_out)) + b
    out, _ = affine_forward(x, w, b)
    np.testing.assert_allclose(out, expected, rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_affine_matches_torch_linear(rng, dtype):
    inputs = affine_inputs(rng, dtype)
    dout = rng.standard_normal((X_SHAPE[0], M)).astype(dtype)
    check_against_oracle(
        affine_forward,
        affine_backward,
        lambda x, w, b: F.linear(x.reshape(x.shape[0], -1), w.T, b),
        inputs,
        dout,
        names=["x", "w", "b"],
    )


def test_affine_backward_numerical(rng):
    inputs = affine_inputs(rng)
    dout = rng.standard_normal((X_SHAPE[0], M))
    check_backward(affine_forward, affine_backward, inputs, dout, names=["x", "w", "b"])


def test_affine_accepts_2d_input(rng):
    x = rng.standard_normal((4, 3))
    w = rng.standard_normal((3, 2))
    b = rng.standard_normal(2)
    out, _ = affine_forward(x, w, b)
    np.testing.assert_allclose(out, x @ w + b, rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_affine_dtype_and_purity(rng, dtype):
    check_layer_contract(affine_forward, affine_backward, affine_inputs(rng, dtype), rng)


def test_affine_rejects_bad_dout(rng):
    check_rejects_bad_dout(affine_forward, affine_backward, affine_inputs(rng))


def test_affine_rejects_bad_inputs(rng):
    x, w, b = affine_inputs(rng)
    with pytest.raises(TypeError, match=r"\bx\b"):
        affine_forward(x.tolist(), w, b)
    with pytest.raises(TypeError, match=r"\bx\b"):
        affine_forward(x.astype(np.int64), w, b)
    for unsupported in (np.float16, np.longdouble):
        with pytest.raises(TypeError, match=r"x must be a float32 or float64 array"):
            affine_forward(x.astype(unsupported), w.astype(unsupported), b.astype(unsupported))
    with pytest.raises(ValueError, match=r"\bx\b"):
        affine_forward(np.array(1.0), w, b)  # no batch axis
    for unsupported in (bool, np.float16, np.complex128, object):  # integer weights are converted instead
        with pytest.raises(TypeError, match=r"\bw\b"):
            affine_forward(x, w.astype(unsupported), b)
    with pytest.raises(ValueError, match=r"\bw\b"):
        affine_forward(x, w[:-1], b)  # D does not match x
    with pytest.raises(ValueError, match=r"\bw\b"):
        affine_forward(x, w.reshape(-1), b)
    with pytest.raises(ValueError, match=r"\bb\b"):
        affine_forward(x, w, np.zeros(M + 1))
    with pytest.raises(ValueError, match=r"\bb\b"):
        affine_forward(x, w, np.zeros((1, M)))


def test_affine_rejects_mixed_dtypes(rng):
    x, w, b = affine_inputs(rng, np.float32)
    with pytest.raises(TypeError, match=r"\bw\b"):
        affine_forward(x, w.astype(np.float64), b)
    with pytest.raises(TypeError, match=r"\bb\b"):
        affine_forward(x, w, b.astype(np.float64))
    _, cache = affine_forward(x, w, b)
    with pytest.raises(TypeError, match="dout"):
        affine_backward(np.ones((X_SHAPE[0], M)), cache)


# ---------------------------------------------------------------------------------------------- relu


def test_relu_forward_matches_notebook_example():
    x = np.linspace(-0.5, 0.5, num=12).reshape(3, 4)
    out, _ = relu_forward(x)
    expected = np.where(x > 0, x, 0.0)
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_matches_torch(rng, dtype):
    x = relu_input(rng, dtype)
    dout = rng.standard_normal(x.shape).astype(dtype)
    check_against_oracle(relu_forward, relu_backward, F.relu, [x], dout, names=["x"])


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 2, 2)])
def test_relu_backward_numerical(rng, shape):
    x = relu_input(rng, shape=shape)
    check_backward(relu_forward, relu_backward, [x], rng.standard_normal(shape), names=["x"])


def test_relu_gradient_is_zero_at_zero():
    # The subgradient at the kink is 0, as in torch.
    x = np.array([-1.0, 0.0, 1.0])
    _, cache = relu_forward(x)
    np.testing.assert_array_equal(relu_backward(np.ones(3), cache), [0.0, 0.0, 1.0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_dtype_and_purity(rng, dtype):
    check_layer_contract(relu_forward, relu_backward, [relu_input(rng, dtype)], rng)


def test_relu_rejects_bad_inputs(rng):
    x = relu_input(rng)
    with pytest.raises(TypeError, match=r"\bx\b"):
        relu_forward(x.tolist())
    with pytest.raises(TypeError, match=r"\bx\b"):
        relu_forward(np.arange(6))
    check_rejects_bad_dout(relu_forward, relu_backward, [x])


def test_relu_backward_in_place_writes_relu_backward_s_result_into_its_gradient(rng):
    from tinyconv.layers.affine import _relu_backward_in_place

    x = rng.standard_normal((4, 5))
    _, cache = relu_forward(x)
    grad = rng.standard_normal((4, 5))
    expected = relu_backward(grad, cache)
    result = _relu_backward_in_place(grad, cache)
    assert result is grad
    np.testing.assert_array_equal(grad, expected)
