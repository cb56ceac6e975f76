"""tinyconv.metrics: the one place where a model's predictions and accuracy are computed, in batches."""

import numpy as np
import pytest

from tinyconv.layers import softmax_loss
from tinyconv.metrics import accuracy, accuracy_and_loss, scores


class _Lookup:
    """Scores one-hot in the class that each sample's first feature names; counts its calls."""

    def __init__(self, num_classes=3):
        self.num_classes, self.calls = num_classes, []

    def loss(self, X, y=None):
        self.calls.append(len(X))
        return np.eye(self.num_classes)[X[:, 0].astype(int)]


def test_scores_and_the_accuracy_go_batch_by_batch():
    X = np.array([[0], [2], [1], [2], [0], [1], [1]], dtype=float)
    model = _Lookup()
    assert accuracy(model, X, np.array([0, 2, 1, 2, 0, 1, 1]), batch_size=3) == 1.0 and model.calls == [3, 3, 1]
    np.testing.assert_array_equal(scores(model, X, batch_size=2).argmax(axis=1), [0, 2, 1, 2, 0, 1, 1])


def test_the_loss_is_the_softmax_loss_of_the_scores_of_the_same_rows(rng):
    class Random:
        def __init__(self):
            self.table = rng.standard_normal((20, 4)) * 3

        def loss(self, X, y=None):
            return self.table[X[:, 0].astype(int)]

    model, X, y = Random(), np.arange(20, dtype=float)[:, None], rng.integers(0, 4, 20)
    acc, loss = accuracy_and_loss(model, X, y, batch_size=6)
    assert loss == pytest.approx(softmax_loss(model.table, y)[0], rel=1e-12)
    assert acc == np.mean(model.table.argmax(axis=1) == y)
    sample = np.array([3, 3, 7])
    assert accuracy_and_loss(model, X, y, sample=sample)[1] == pytest.approx(softmax_loss(model.table[sample],
                                                                                           y[sample])[0])
    assert accuracy_and_loss(model, X[:0], y[:0]) == (None, None)


def test_accuracy_counts_the_right_predictions_of_all_or_of_a_sample():
    X = np.array([[0], [2], [1], [2]], dtype=float)
    y = np.array([0, 1, 1, 2])
    assert accuracy(_Lookup(), X, y, batch_size=3) == 0.75
    assert accuracy(_Lookup(), X, y, sample=np.array([1, 1, 2])) == pytest.approx(1 / 3)
    assert accuracy(_Lookup(), X[:0], y[:0]) is None


def test_accuracy_checks_the_whole_y_against_the_models_classes():
    X = np.array([[0], [1], [2]], dtype=float)
    with pytest.raises(ValueError, match=r"accuracy: y must have shape \(N,\) = \(3,\), got \(3, 1\)"):
        accuracy(_Lookup(), X, np.array([[0], [1], [2]]))
    with pytest.raises(ValueError, match=r"labels in y must lie in \[0, 3\) for 3 classes, got values from 0 to 5"):
        accuracy(_Lookup(), X, np.array([0, 5, 2]), sample=np.array([0]))  # the bad label is outside the sample
    with pytest.raises(ValueError, match="X and y must hold the same number of samples, got 3 and 2"):
        accuracy(_Lookup(), X, np.array([0, 1]))
