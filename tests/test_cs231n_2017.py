"""tinyconv.cs231n_2017: the 2016-2017 starter, whose dropout ``p`` (and FullyConnectedNet's ``dropout``) is the
probability of dropping a unit, checked against what that starter's docstrings and notebook say."""

import numpy as np
import pytest

from tinyconv.cs231n.classifiers import fc_net as fc_net_2019
from tinyconv.cs231n_2017 import layer_utils
from tinyconv.cs231n_2017.classifiers import fc_net
from tinyconv.cs231n_2017.gradient_check import eval_numerical_gradient
from tinyconv.gradcheck import rel_error

from .helpers import check_backward
from tinyconv.cs231n_2017.layers import dropout_backward, dropout_forward


@pytest.mark.parametrize("p", [0.3, 0.6, 0.75])
def test_dropout_drops_each_unit_with_probability_p_and_keeps_the_mean(p):
    # The 2017 notebook's check: the fraction of train-time outputs set to zero is p, the mean is kept, and
    # test time is the identity.
    np.random.seed(231)
    x = np.random.randn(500, 500) + 10
    out, _ = dropout_forward(x, {"mode": "train", "p": p})
    test_out, _ = dropout_forward(x, {"mode": "test", "p": p})
    assert abs(np.mean(out == 0) - p) < 0.01
    assert abs(out.mean() - x.mean()) < 0.05
    np.testing.assert_array_equal(test_out, x)


def test_the_mask_is_the_starters_rand_at_least_p_scaled_by_one_minus_p():
    x = np.random.default_rng(0).standard_normal((20, 30))
    out, _ = dropout_forward(x, {"mode": "train", "p": 0.4, "seed": 5})
    np.random.seed(5)
    np.testing.assert_array_equal(out, x * ((np.random.rand(*x.shape) >= 0.4) / (1 - 0.4)))


@pytest.mark.parametrize("p, shape", [(0.0, (3, 4)), (0.2, (10, 10)), (0.8, (2, 3, 5))])
def test_dropout_backward_matches_the_numerical_gradient(p, shape, rng):
    dropout_param = {"mode": "train", "p": p, "seed": 123}  # seeded: every call drops the same units
    x = rng.standard_normal(shape) + 10
    check_backward(lambda x: dropout_forward(x, dropout_param), dropout_backward, [x], rng.standard_normal(shape),
                   names=["x"])


@pytest.mark.parametrize("p", [1, 1.5, -0.1])
def test_a_probability_of_dropping_everything_or_outside_is_refused(p):
    with pytest.raises(ValueError, match=r"dropout_param\['p'\] \(the probability of dropping a unit\)"):
        dropout_forward(np.ones(3), {"mode": "train", "p": p})


@pytest.mark.parametrize("dropout", [0, 0.25, 0.5])
def test_the_2017_fully_connected_net_checks_its_gradients_with_dropout_as_the_notebook_does(dropout):
    np.random.seed(231)
    N, D, H1, H2, C = 2, 15, 20, 30, 10
    X = np.random.randn(N, D)
    y = np.random.randint(C, size=(N,))
    model = fc_net.FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, weight_scale=5e-2, dtype=np.float64,
                                     dropout=dropout, seed=123)
    assert model.use_dropout == (dropout > 0)
    if dropout:
        assert model.dropout_param["p"] == dropout  # the 2017 meaning, as a notebook would read it
    loss, grads = model.loss(X, y)
    for name in sorted(grads):
        numerical = eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[name], verbose=False, h=1e-5)
        assert rel_error(numerical, grads[name]) < 1e-4, name  # ReLU kinks: the notebook accepts 1e-4


def test_dropout_in_the_2017_net_drops_the_fraction_it_names():
    model = fc_net.FullyConnectedNet([4000], input_dim=5, num_classes=3, dropout=0.75, dtype=np.float64, seed=0)
    hidden = np.ones((2, 4000))
    out, _ = model.ops[1].forward(model.params, hidden, iter(model.bn_params), "train")
    assert abs(np.mean(out == 0) - 0.75) < 0.02  # the 2019 net's dropout=0.75 keeps three quarters instead
    out_2019, _ = fc_net_2019.FullyConnectedNet([4000], input_dim=5, num_classes=3, dropout_keep_ratio=0.75,
                                                dtype=np.float64, seed=0).ops[1].forward({}, hidden, iter([]), "train")
    assert abs(np.mean(out_2019 == 0) - 0.25) < 0.02


def test_use_batchnorm_puts_a_batch_norm_after_each_hidden_layer():
    model = fc_net.FullyConnectedNet([6, 5], input_dim=4, use_batchnorm=np.bool_(True), dtype=np.float64)
    assert model.use_batchnorm is True and model.normalization == "batchnorm"
    assert {"gamma1", "beta1", "gamma2", "beta2"} <= set(model.params) and "gamma3" not in model.params
    model.loss(np.random.default_rng(0).standard_normal((3, 4)), np.array([0, 1, 2]))
    assert [set(bn) >= {"mode", "running_mean", "running_var"} for bn in model.bn_params] == [True, True]
    with pytest.raises(TypeError, match="use_batchnorm must be True or False"):
        fc_net.FullyConnectedNet([6], input_dim=4, use_batchnorm="yes")
    with pytest.raises(ValueError, match=r"dropout \(2017: the probability of dropping a unit; 0 disables dropout\)"):
        fc_net.FullyConnectedNet([6], input_dim=4, dropout=1)


def test_the_2017_tree_carries_the_2017_dropout_through_its_star_imports():
    assert fc_net.dropout_forward is dropout_forward is layer_utils.dropout_forward
    assert fc_net_2019.dropout_forward is not dropout_forward
    assert fc_net.affine_relu_forward is fc_net_2019.affine_relu_forward
    assert fc_net.TwoLayerNet is fc_net_2019.TwoLayerNet
    assert "models" not in vars(fc_net) and "ops" not in vars(fc_net)  # no names a star import would not bring
