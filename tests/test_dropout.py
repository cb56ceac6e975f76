"""dropout_forward/backward: inverted dropout statistics, determinism, gradients, contracts, errors."""

import numpy as np
import pytest

from tinyconv.layers import dropout_backward, dropout_forward

from .helpers import DTYPES, assert_tree_equal, check_backward, check_layer_contract, check_rejects_bad_dout


def dropout(p, mode="train", seed=0):
    """A forward with its parameters closed over; a fresh dict each call, as a notebook would pass."""
    return lambda x: dropout_forward(x, {"p": p, "mode": mode, "seed": seed})


@pytest.mark.parametrize("p", [0.25, 0.4, 0.7])
def test_train_mode_keeps_a_fraction_p_scaled_by_1_over_p(rng, p):
    # The notebook check: the mean is preserved and about a fraction 1-p of the units are zeroed.
    x = rng.standard_normal((500, 500)) + 10
    out, _ = dropout_forward(x, {"p": p, "mode": "train", "seed": 123})
    kept = out != 0
    assert abs(kept.mean() - p) < 0.01
    np.testing.assert_allclose(out[kept], x[kept] / p, rtol=1e-12)
    assert abs(out.mean() / x.mean() - 1) < 0.02


def test_test_mode_is_the_identity(rng):
    x = rng.standard_normal((10, 7))
    out, cache = dropout_forward(x, {"p": 0.3, "mode": "test"})
    np.testing.assert_array_equal(out, x)
    dout = rng.standard_normal(x.shape)
    np.testing.assert_array_equal(dropout_backward(dout, cache), dout)


def test_keep_probability_one_is_the_identity_in_train_mode(rng):
    x = rng.standard_normal((10, 7))
    out, _ = dropout_forward(x, {"p": 1.0, "mode": "train", "seed": 0})
    np.testing.assert_array_equal(out, x)


def test_seed_makes_the_mask_reproducible(rng):
    x = rng.standard_normal((40, 30)) + 5
    first, _ = dropout(0.5, seed=7)(x)
    again, _ = dropout(0.5, seed=7)(x)
    other, _ = dropout(0.5, seed=8)(x)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first != 0, other != 0)


def test_without_seed_masks_differ_between_calls(rng):
    x = np.ones((40, 30))
    first, _ = dropout_forward(x, {"p": 0.5, "mode": "train"})
    second, _ = dropout_forward(x, {"p": 0.5, "mode": "train"})
    assert not np.array_equal(first, second)


def test_backward_passes_gradient_through_kept_units_only(rng):
    x = rng.standard_normal((20, 10)) + 5
    out, cache = dropout(0.6)(x)
    dout = rng.standard_normal(x.shape)
    dx = dropout_backward(dout, cache)
    kept = out != 0
    np.testing.assert_allclose(dx[kept], dout[kept] / 0.6, rtol=1e-12)
    assert np.all(dx[~kept] == 0)


@pytest.mark.parametrize("mode", ["train", "test"])
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 2, 2)])
def test_backward_numerical(rng, mode, shape):
    x = rng.standard_normal(shape)
    check_backward(dropout(0.6, mode, seed=3), dropout_backward, [x], rng.standard_normal(shape), names=["x"])


@pytest.mark.parametrize("mode", ["train", "test"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_and_purity(rng, mode, dtype):
    x = rng.standard_normal((6, 5)).astype(dtype)
    check_layer_contract(dropout(0.5, mode), dropout_backward, [x], rng)


@pytest.mark.parametrize("mode", ["train", "test"])
def test_rejects_bad_dout(rng, mode):
    check_rejects_bad_dout(dropout(0.5, mode), dropout_backward, [rng.standard_normal((6, 5))])


@pytest.mark.parametrize("p", [0, 0.0, -0.2, 1.5, float("nan")])
def test_rejects_keep_probability_outside_0_1(rng, p):
    x = rng.standard_normal((3, 4))
    with pytest.raises(ValueError, match=r"\bp\b"):
        dropout_forward(x, {"p": p, "mode": "train"})


def test_rejects_invalid_or_missing_mode(rng):
    x = rng.standard_normal((3, 4))
    with pytest.raises(ValueError, match="mode"):
        dropout_forward(x, {"p": 0.5, "mode": "eval"})
    with pytest.raises(ValueError, match="mode"):
        dropout_forward(x, {"p": 0.5})


def test_rejects_bad_x(rng):
    with pytest.raises(TypeError, match=r"\bx\b"):
        dropout_forward([[1.0, 2.0]], {"p": 0.5, "mode": "train"})
    with pytest.raises(TypeError, match=r"\bx\b"):
        dropout_forward(np.ones((2, 3), dtype=np.int32), {"p": 0.5, "mode": "train"})


def reference_dropout(x, dropout_param):
    """The cs231n reference's order of draws: seed the global RNG (in both modes), then one ``rand``."""
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    if dropout_param["mode"] == "test":
        return x.copy()
    return x * ((np.random.rand(*x.shape) < dropout_param["p"]) / dropout_param["p"])


def _global_state():
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return kind, keys.copy(), pos, has_gauss, cached


@pytest.mark.parametrize("mode", ["train", "test"])
@pytest.mark.parametrize("p, seed", [(0.2, 123), (0.75, 0), (0.5, 2**32 - 1)])
def test_seeded_mask_and_global_rng_state_match_the_reference(rng, mode, p, seed):
    x = rng.standard_normal((7, 11)) + 10
    np.random.seed(99)
    ours, _ = dropout_forward(x, {"p": p, "mode": mode, "seed": seed})
    ours_state, ours_next = _global_state(), np.random.randn(3)
    np.random.seed(99)
    expected = reference_dropout(x, {"p": p, "mode": mode, "seed": seed})
    expected_state, expected_next = _global_state(), np.random.randn(3)
    np.testing.assert_array_equal(ours, expected)
    assert_tree_equal(ours_state[1:], expected_state[1:], "np.random state")
    np.testing.assert_array_equal(ours_next, expected_next)


def test_unseeded_mask_is_the_next_rand_draw_of_the_global_rng(rng):
    x = rng.standard_normal((5, 6)) + 10
    np.random.seed(7)
    ours, _ = dropout_forward(x, {"p": 0.4, "mode": "train"})
    np.random.seed(7)
    np.testing.assert_array_equal(ours, reference_dropout(x, {"p": 0.4, "mode": "train"}))


def test_unseeded_test_mode_leaves_the_global_rng_alone(rng):
    np.random.seed(3)
    dropout_forward(rng.standard_normal((4, 4)), {"p": 0.4, "mode": "test"})
    after = np.random.rand()
    np.random.seed(3)
    assert after == np.random.rand()


@pytest.mark.parametrize("seed, error", [(1.5, TypeError), (True, TypeError), ("1", TypeError),
                                         (-1, ValueError), (2**32, ValueError)])
def test_rejects_a_seed_that_np_random_seed_cannot_take(rng, seed, error):
    with pytest.raises(error, match=r"dropout_forward: dropout_param\['seed'\]"):
        dropout_forward(rng.standard_normal((3, 4)), {"p": 0.5, "mode": "train", "seed": seed})
