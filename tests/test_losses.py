"""softmax_loss and svm_loss: oracles, numerical gradients, sanity values, contracts, errors."""

import numpy as np
import pytest

from tinyconv.layers import softmax_loss, svm_loss

from .oracle import F, torch
from .helpers import DTYPES, FLOAT64_ORACLE, assert_normwise_close, check_loss_gradient

N, C = 6, 5
LOSSES = [softmax_loss, svm_loss]


def scores_and_labels(rng, dtype=np.float64, n=N, c=C):
    return rng.standard_normal((n, c)).astype(dtype), rng.integers(0, c, n)


def torch_loss_and_grad(torch_loss, x, y):
    """Loss and its gradient with autograd, in float64."""
    xt = torch.tensor(x.astype(np.float64), requires_grad=True)
    loss = torch_loss(xt, torch.tensor(y))
    loss.backward()
    return loss.item(), xt.grad.numpy()


def cs231n_svm_in_torch(x, y):
    # multi_margin_loss averages max(0, 1 - x_y + x_j) over the C classes (j != y); cs231n sums them.
    return F.multi_margin_loss(x, y, p=1, margin=1.0) * x.shape[1]


def cross_entropy_in_torch(x, y):
    return F.cross_entropy(x, y)


@pytest.mark.parametrize("loss_fn, torch_loss", [(softmax_loss, cross_entropy_in_torch), (svm_loss, cs231n_svm_in_torch)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_matches_torch(rng, loss_fn, torch_loss, dtype):
    x, y = scores_and_labels(rng, dtype)
    loss, dx = loss_fn(x, y)
    exact_loss, exact_dx = torch_loss_and_grad(torch_loss, x, y)
    assert dx.dtype == dtype
    if dtype == np.float64:
        np.testing.assert_allclose(loss, exact_loss, **FLOAT64_ORACLE)
        np.testing.assert_allclose(dx, exact_dx, **FLOAT64_ORACLE)
    else:
        np.testing.assert_allclose(loss, exact_loss, rtol=1e-5)
        assert_normwise_close(dx, exact_dx, what="dx")


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.5, 1.0])
@pytest.mark.parametrize("dtype", DTYPES)
def test_label_smoothing_matches_torch(rng, smoothing, dtype):
    x, y = scores_and_labels(rng, dtype)
    loss, dx = softmax_loss(x, y, label_smoothing=smoothing)
    exact_loss, exact_dx = torch_loss_and_grad(lambda xt, yt: F.cross_entropy(xt, yt, label_smoothing=smoothing), x, y)
    assert dx.dtype == np.asarray(loss).dtype == dtype
    tolerance = FLOAT64_ORACLE if dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-6}
    np.testing.assert_allclose(loss, exact_loss, **tolerance)
    np.testing.assert_allclose(dx, exact_dx, **tolerance)


@pytest.mark.parametrize("smoothing", [0.05, 0.3])
def test_label_smoothing_gradient_numerical(rng, smoothing):
    x, y = scores_and_labels(rng)
    check_loss_gradient(lambda x, y: softmax_loss(x, y, label_smoothing=smoothing), x, y)


def test_label_smoothing_targets_by_hand():
    # Two classes, smoothing 0.2: the target is (0.9, 0.1); with equal scores p = (0.5, 0.5).
    loss, dx = softmax_loss(np.zeros((1, 2)), np.array([0]), label_smoothing=0.2)
    assert loss == pytest.approx(np.log(2))
    np.testing.assert_allclose(dx, [[0.5 - 0.9, 0.5 - 0.1]])


@pytest.mark.parametrize("smoothing, error", [(-0.1, ValueError), (1.5, ValueError), (float("nan"), ValueError),
                                              (True, TypeError), ("0.1", TypeError)])
def test_label_smoothing_outside_zero_to_one_is_refused(rng, smoothing, error):
    x, y = scores_and_labels(rng)
    with pytest.raises(error, match=r"softmax_loss: label_smoothing must be"):
        softmax_loss(x, y, label_smoothing=smoothing)


def test_svm_loss_by_hand():
    x = np.array([[3.0, 1.0, 2.5], [0.0, 2.0, -1.0]])
    y = np.array([0, 2])
    # sample 0: margins max(0, 1 - 3 + 1) = 0, max(0, 1 - 3 + 2.5) = 0.5; sample 1: 1 + 0 + 1 = 2, 1 + 2 + 1 = 4.
    loss, dx = svm_loss(x, y)
    assert loss == pytest.approx((0.5 + 2 + 4) / 2)
    np.testing.assert_allclose(dx, np.array([[-1.0, 0.0, 1.0], [1.0, 1.0, -2.0]]) / 2)


def test_softmax_is_stable_for_large_scores():
    x = np.array([[1000.0, 0.0, -1000.0], [0.0, 1e4, 0.0]])
    loss, dx = softmax_loss(x, np.array([0, 1]))
    assert np.isfinite(loss) and np.all(np.isfinite(dx))
    assert loss == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("loss_fn", LOSSES)
def test_gradient_numerical(rng, loss_fn):
    x, y = scores_and_labels(rng)
    check_loss_gradient(loss_fn, x, y)


def test_small_scores_give_the_notebook_sanity_values(rng):
    # With near-zero scores, softmax loss is about log(C) and the SVM loss about C - 1.
    num_classes = 10
    x = 0.001 * rng.standard_normal((50, num_classes))
    y = rng.integers(0, num_classes, 50)
    assert softmax_loss(x, y)[0] == pytest.approx(np.log(num_classes), rel=1e-2)
    assert svm_loss(x, y)[0] == pytest.approx(num_classes - 1, rel=1e-2)


@pytest.mark.parametrize("loss_fn", LOSSES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_and_purity(rng, loss_fn, dtype):
    x, y = scores_and_labels(rng, dtype)
    x_before, y_before = x.copy(), y.copy()
    loss, dx = loss_fn(x, y)
    assert dx.dtype == dtype and dx.shape == x.shape
    assert np.asarray(loss).dtype == dtype and np.ndim(loss) == 0
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(y, y_before)


@pytest.mark.parametrize("label_dtype", [np.int32, np.int64, np.uint8])
def test_accepts_any_integer_label_dtype(rng, label_dtype):
    x, y = scores_and_labels(rng)
    for loss_fn in LOSSES:
        np.testing.assert_allclose(loss_fn(x, y.astype(label_dtype))[0], loss_fn(x, y)[0], rtol=0)


@pytest.mark.parametrize("loss_fn", LOSSES)
def test_rejects_bad_scores(rng, loss_fn):
    x, y = scores_and_labels(rng)
    with pytest.raises(TypeError, match=r"\bx\b"):
        loss_fn(x.tolist(), y)
    with pytest.raises(TypeError, match=r"\bx\b"):
        loss_fn(np.ones((N, C), dtype=np.int64), y)
    with pytest.raises(ValueError, match=r"\bx\b"):
        loss_fn(x.reshape(N, C, 1), y)
    with pytest.raises(ValueError, match=r"\bx\b"):
        loss_fn(x.reshape(-1), y)


@pytest.mark.parametrize("loss_fn", LOSSES)
def test_rejects_bad_labels(rng, loss_fn):
    x, y = scores_and_labels(rng)
    with pytest.raises(ValueError, match=r"\by\b"):
        loss_fn(x, np.where(np.arange(N) == 2, C, y))  # one label == C
    with pytest.raises(ValueError, match=r"\by\b"):
        loss_fn(x, np.where(np.arange(N) == 2, -1, y))
    with pytest.raises(ValueError, match=r"\by\b"):
        loss_fn(x, y[:-1])
    with pytest.raises(ValueError, match=r"\by\b"):
        loss_fn(x, y.reshape(N, 1))
    with pytest.raises(TypeError, match=r"\by\b"):
        loss_fn(x, y.astype(np.float64))
    with pytest.raises(TypeError, match=r"\by\b"):
        loss_fn(x, list(y))
