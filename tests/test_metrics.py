"""tinyconv.metrics: the one place where a model's predictions and accuracy are computed, in batches."""

import numpy as np
import pytest

from tinyconv.metrics import accuracy, predictions, scores


class _Lookup:
    """Scores one-hot in the class that each sample's first feature names; counts its calls."""

    def __init__(self, num_classes=3):
        self.num_classes, self.calls = num_classes, []

    def loss(self, X, y=None):
        self.calls.append(len(X))
        return np.eye(self.num_classes)[X[:, 0].astype(int)]


def test_predictions_and_scores_go_batch_by_batch_and_agree():
    X = np.array([[0], [2], [1], [2], [0], [1], [1]], dtype=float)
    model = _Lookup()
    chosen, num_classes = predictions(model, X, batch_size=3)
    assert chosen.tolist() == [0, 2, 1, 2, 0, 1, 1] and num_classes == 3 and model.calls == [3, 3, 1]
    np.testing.assert_array_equal(scores(model, X, batch_size=2).argmax(axis=1), chosen)


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
