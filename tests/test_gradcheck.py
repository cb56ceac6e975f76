"""tinyconv.gradcheck: numerical gradients, in-place perturbation and restore, sparse checks, rel_error."""

import re

import numpy as np
import pytest

from tinyconv.gradcheck import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    eval_numerical_gradient_blobs,
    eval_numerical_gradient_net,
    grad_check_sparse,
    rel_error,
)


def test_eval_numerical_gradient_of_a_known_function(rng):
    x = rng.standard_normal((3, 4))
    grad = eval_numerical_gradient(lambda a: np.sum(a**3), x, verbose=False)
    assert grad.shape == x.shape
    np.testing.assert_allclose(grad, 3 * x**2, rtol=1e-8, atol=1e-10)


def test_eval_numerical_gradient_with_a_lambda_ignoring_its_argument(rng):
    # Notebooks write f = lambda _: loss(x) and rely on x being perturbed in place.
    x = rng.standard_normal((2, 3))
    x_before = x.copy()
    grad = eval_numerical_gradient(lambda _: np.sum(np.sin(x)), x, verbose=False)
    np.testing.assert_allclose(grad, np.cos(x_before), rtol=1e-8, atol=1e-10)
    np.testing.assert_array_equal(x, x_before)  # restored bit for bit


def test_eval_numerical_gradient_uses_central_differences_with_step_h():
    # For f(x) = x^3 the central difference is 3x^2 + h^2 exactly: the step is visible.
    x = np.array([1.0])
    grad = eval_numerical_gradient(lambda a: float(a[0] ** 3), x, verbose=False, h=1e-2)
    np.testing.assert_allclose(grad, [3.0 + 1e-4], rtol=1e-9)


def test_eval_numerical_gradient_verbose_prints_and_quiet_does_not(rng, capsys):
    x = rng.standard_normal(3)
    eval_numerical_gradient(lambda a: np.sum(a), x, verbose=False)
    assert capsys.readouterr().out == ""
    eval_numerical_gradient(lambda a: np.sum(a), x)  # verbose by default, as in the starter
    assert capsys.readouterr().out != ""


def test_eval_numerical_gradient_array_of_a_known_function(rng):
    x = rng.standard_normal((3, 2))
    dout = rng.standard_normal((3, 2))
    grad = eval_numerical_gradient_array(lambda a: a**2, x, dout)
    np.testing.assert_allclose(grad, 2 * x * dout, rtol=1e-8, atol=1e-10)


def test_eval_numerical_gradient_array_with_a_lambda_ignoring_its_argument(rng):
    x = rng.standard_normal((2, 2, 3))
    w = rng.standard_normal((6, 5))
    dout = rng.standard_normal((2, 5))
    x_before, w_before, dout_before = x.copy(), w.copy(), dout.copy()
    dw = eval_numerical_gradient_array(lambda _: x.reshape(2, -1) @ w, w, dout)
    np.testing.assert_allclose(dw, x.reshape(2, -1).T @ dout, rtol=1e-8, atol=1e-10)
    np.testing.assert_array_equal(w, w_before)
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(dout, dout_before)


def test_eval_numerical_gradient_array_copes_with_outputs_that_alias_the_input(rng):
    # f returns a view of x: the difference must be taken from copies of the perturbed outputs.
    x = rng.standard_normal(4)
    dout = rng.standard_normal(4)
    grad = eval_numerical_gradient_array(lambda a: a, x, dout)
    np.testing.assert_allclose(grad, dout, rtol=1e-8)


def test_numerical_gradients_are_restored_even_when_f_raises(rng):
    x = rng.standard_normal(3)
    x_before = x.copy()

    def f(_):
        if x[1] != x_before[1]:
            raise RuntimeError("boom")
        return np.sum(x)

    with pytest.raises(RuntimeError):
        eval_numerical_gradient(f, x, verbose=False)
    np.testing.assert_array_equal(x, x_before)


def relative_errors(printed):
    return [float(m) for m in re.findall(r"relative error:?\s*([0-9.eE+-]+)", printed)]


def test_grad_check_sparse_reports_small_errors_for_a_correct_gradient(rng, capsys):
    x = rng.standard_normal((4, 5))
    x_before = x.copy()
    grad_check_sparse(lambda _: np.sum(x**2), x, 2 * x, num_checks=7)
    errors = relative_errors(capsys.readouterr().out)
    assert len(errors) == 7
    assert max(errors) < 1e-7
    np.testing.assert_array_equal(x, x_before)


def test_grad_check_sparse_reports_large_errors_for_a_wrong_gradient(rng, capsys):
    x = rng.standard_normal((4, 5))
    grad_check_sparse(lambda a: np.sum(a**2), x, 3 * x, num_checks=5)
    errors = relative_errors(capsys.readouterr().out)
    assert len(errors) == 5
    assert min(errors) > 0.1  # |2x - 3x| / (|2x| + |3x|) = 0.2


@pytest.mark.parametrize(
    "x, y, expected",
    [
        (1.0, 1.0, 0.0),
        (1.0, 3.0, 0.5),
        (-1.0, 1.0, 1.0),
        (0.0, 0.0, 0.0),
        (0.0, 1e-9, 0.1),  # the denominator is floored at 1e-8
        (np.array([1.0, 2.0, 0.0]), np.array([1.0, 2.2, 0.0]), 0.2 / 4.2),
    ],
)
def test_rel_error_definition(x, y, expected):
    assert rel_error(x, y) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert rel_error(y, x) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_rel_error_is_the_maximum_over_elements():
    x = np.array([[1.0, 10.0], [5.0, 0.0]])
    y = np.array([[1.1, 10.0], [5.0, 1.0]])
    assert rel_error(x, y) == pytest.approx(1.0)


@pytest.mark.parametrize("check", [
    lambda x: eval_numerical_gradient(lambda a: float(np.sum(a**2)), x, verbose=False),
    lambda x: eval_numerical_gradient_array(lambda a: a * 2.0, x, np.ones(3)),
    lambda x: grad_check_sparse(lambda a: float(np.sum(a**2)), x, 2.0 * x, num_checks=2),
], ids=["eval_numerical_gradient", "eval_numerical_gradient_array", "grad_check_sparse"])
def test_integer_arrays_are_rejected_not_silently_truncated(check):
    # x[i] + 1e-5 stored into an integer array is x[i] again: the "gradient" would be nonsense.
    x = np.arange(3)
    with pytest.raises(TypeError, match=r"\bx\b"):
        check(x)
    np.testing.assert_array_equal(x, np.arange(3))


class _Blob:
    """The starter's blob: values and the gradient flowing into them."""

    def __init__(self, vals, diffs=None):
        self.vals = vals
        self.diffs = np.zeros_like(vals) if diffs is None else diffs


def _matmul_into(x, w, out):
    out.vals = x.vals @ w.vals


def test_eval_numerical_gradient_blobs_gives_each_input_its_vector_jacobian_product(rng):
    x, w = _Blob(rng.standard_normal((4, 3))), _Blob(rng.standard_normal((3, 5)))
    out = _Blob(np.zeros((4, 5)), rng.standard_normal((4, 5)))
    x_before, w_before = x.vals.copy(), w.vals.copy()
    dx, dw = eval_numerical_gradient_blobs(_matmul_into, (x, w), out)
    np.testing.assert_allclose(dx, out.diffs @ w_before.T, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(dw, x_before.T @ out.diffs, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(x.vals, x_before)
    np.testing.assert_array_equal(w.vals, w_before)


def test_eval_numerical_gradient_net_runs_the_nets_forward(rng):
    class Net:
        def __init__(self):
            self.x = _Blob(rng.standard_normal(6))
            self.out = _Blob(np.zeros(6), rng.standard_normal(6))

        def forward(self):
            self.out.vals = np.tanh(self.x.vals)

    net = Net()
    (dx,) = eval_numerical_gradient_net(net, [net.x], net.out)
    np.testing.assert_allclose(dx, net.out.diffs * (1 - np.tanh(net.x.vals) ** 2), rtol=1e-7, atol=1e-9)


def test_eval_numerical_gradient_blobs_refuses_integer_vals():
    with pytest.raises(TypeError, match=r"eval_numerical_gradient_blobs: inputs\[0\]\.vals must be a float32 or float64"):
        eval_numerical_gradient_blobs(_matmul_into, (_Blob(np.ones((2, 2), int)), _Blob(np.ones((2, 2)))),
                                      _Blob(np.zeros((2, 2))))


@pytest.mark.parametrize("h", [0, -1e-5, float("nan"), float("inf")])
@pytest.mark.parametrize("check", ["eval_numerical_gradient", "eval_numerical_gradient_array", "grad_check_sparse"])
def test_a_step_that_is_not_a_positive_number_is_refused(check, h):
    x = np.ones(3)
    call = {"eval_numerical_gradient": lambda: eval_numerical_gradient(np.sum, x, verbose=False, h=h),
            "eval_numerical_gradient_array": lambda: eval_numerical_gradient_array(lambda z: z, x, np.ones(3), h=h),
            "grad_check_sparse": lambda: grad_check_sparse(np.sum, x, np.ones(3), h=h)}[check]
    with pytest.raises(ValueError, match=rf"{check}: h must be a finite number > 0"):
        call()


def test_grad_check_sparse_refuses_a_gradient_of_another_shape_and_an_empty_x():
    with pytest.raises(ValueError, match=r"grad_check_sparse: analytic_grad must have x's shape \(3, 2\), got \(2, 3\)"):
        grad_check_sparse(np.sum, np.ones((3, 2)), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"grad_check_sparse: x has no elements to check \(shape \(0,\)\)"):
        grad_check_sparse(np.sum, np.ones(0), np.ones(0))


def test_rel_error_of_empty_arrays_is_zero_and_of_shapes_that_do_not_broadcast_is_refused():
    assert rel_error(np.ones(0), np.ones(0)) == 0.0
    assert rel_error(np.ones((2, 3)), 1.0) == 0.0  # a scalar broadcasts, as in the notebooks
    with pytest.raises(ValueError, match=r"rel_error: x and y must have shapes that broadcast together, got \(2,\) and "
                                         r"\(3,\)"):
        rel_error(np.ones(2), np.ones(3))
