"""tinyconv.layer_gradcheck: the table of gradient checks behind ``tinyconv gradcheck``."""

import numpy as np
import pytest

import tinyconv.layers as L
from tinyconv.layer_gradcheck import CASES, GradCase, check_all_layers, check_case


def test_every_backward_of_the_layer_library_is_checked():
    checked = {case.backward.__name__ for case in CASES if case.backward is not None}
    checked |= {case.forward.__name__ for case in CASES if case.backward is None}
    backwards = {name for name in L.__all__ if name.endswith(("_backward", "_backward_alt"))}
    assert backwards <= checked
    assert {"softmax_loss", "svm_loss"} <= checked


def test_all_layers_pass_on_two_seeds():
    for seed in (0, 1):
        results = check_all_layers(seed)
        assert all(result.passed for result in results), [r for r in results if not r.passed]
        assert all(0 <= result.error < result.tolerance for result in results)


def _scaled_affine_backward(dout, cache):
    dx, dw, db = L.affine_backward(dout, cache)
    return dx, 1.01 * dw, db


def test_a_slightly_wrong_gradient_is_caught_and_named():
    case = GradCase("affine, dw off by 1%", L.affine_forward, _scaled_affine_backward,
                    (("x", (3, 4)), ("w", (4, 2)), ("b", (2,))))
    results = {result.gradient: result for result in check_case(case, np.random.default_rng(0))}
    assert results["dx"].passed and results["db"].passed
    assert not results["dw"].passed
    assert results["dw"].error == pytest.approx(0.01 / 2.01, rel=1e-3)


def test_a_nonzero_gradient_that_must_be_zero_fails():
    case = GradCase("affine bias claimed zero", L.affine_forward, L.affine_backward,
                    (("x", (3, 4)), ("w", (4, 2)), ("b", (2,))), zero_gradients=("db",))
    results = {result.gradient: result for result in check_case(case, np.random.default_rng(0))}
    assert results["db"].measure == "max |grad|" and not results["db"].passed
