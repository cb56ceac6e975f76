"""Solver: the cs231n contract, seeded runs, checkpoints, exact resume, divergence, progress."""

import functools
import io
import os
import re
import sys

import numpy as np
import pytest

from tinyconv import optim
from tinyconv.data import get_digits_data
from tinyconv.data.augment import RandomCropFlip
from tinyconv.models import ConvNet, FullyConnectedNet, ThreeLayerConvNet
from tinyconv.serialization import load_checkpoint
from tinyconv.solver import Solver, TrainingDivergedError


def _data(N=60, N_val=20, shape=(3, 4, 4), num_classes=4, seed=0):
    """Learnable toy data: each class is a fixed random image plus noise."""
    rng = np.random.default_rng(seed)
    templates = rng.standard_normal((num_classes, *shape))
    y = rng.integers(num_classes, size=N + N_val)
    X = templates[y] + 0.5 * rng.standard_normal((N + N_val, *shape))
    return {"X_train": X[:N], "y_train": y[:N], "X_val": X[N:], "y_val": y[N:]}


def _small_fc(**overrides):
    np.random.seed(0)
    kwargs = dict(input_dim=48, num_classes=4, weight_scale=0.1)
    return FullyConnectedNet([10], **{**kwargs, **overrides})


def test_histories_best_params_and_counts_follow_the_cs231n_contract():
    model = _small_fc()
    solver = Solver(model, _data(), num_epochs=3, batch_size=20, verbose=False, seed=0,
                    update_rule="sgd_momentum", optim_config={"learning_rate": 0.05})
    solver.train()
    assert len(solver.loss_history) == 3 * (60 // 20)
    assert len(solver.train_acc_history) == len(solver.val_acc_history) == 3 + 1
    assert solver.epoch == 3
    assert solver.best_val_acc == max(solver.val_acc_history)
    assert solver.best_val_acc > 0.5  # the toy classes are easy to tell apart
    assert model.params.keys() == solver.best_params.keys()
    for name, value in solver.best_params.items():
        np.testing.assert_array_equal(model.params[name], value)
    assert all(config["momentum"] == 0.9 for config in solver.optim_configs.values())


def test_learning_rate_decays_once_per_epoch():
    solver = Solver(_small_fc(), _data(), num_epochs=2, batch_size=30, lr_decay=0.5,
                    optim_config={"learning_rate": 0.1}, verbose=False, seed=0)
    solver.train()
    assert all(config["learning_rate"] == 0.1 * 0.5**2 for config in solver.optim_configs.values())
    assert solver.optim_config == {"learning_rate": 0.1}  # the caller's dict is not changed


def test_three_layer_convnet_overfits_one_hundred_samples():
    # Random images with random labels: only memorization gets them right.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 3, 8, 8)).astype(np.float32)
    y = rng.integers(10, size=100)
    data = {"X_train": X, "y_train": y, "X_val": X[:20], "y_val": y[:20]}
    np.random.seed(0)
    model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=16, filter_size=3,
                              hidden_dim=100, weight_scale=5e-2)
    solver = Solver(model, data, num_epochs=20, batch_size=50, update_rule="adam",
                    optim_config={"learning_rate": 1e-2}, verbose=False, seed=0)
    solver.train()
    assert solver.train_acc_history[0] < 0.3
    assert solver.train_acc_history[-1] >= 0.9


def _run(seed, **kwargs):
    model = _small_fc()
    solver = Solver(model, _data(), num_epochs=2, batch_size=20, verbose=False, seed=seed,
                    update_rule="adam", **kwargs)
    solver.train()
    return solver


def test_seed_makes_a_run_repeatable_without_touching_the_global_rng():
    first = _run(seed=3)
    second = _run(seed=3)
    other = _run(seed=4)
    assert first.loss_history == second.loss_history
    assert first.val_acc_history == second.val_acc_history
    for name in first.model.params:
        np.testing.assert_array_equal(first.model.params[name], second.model.params[name])
    assert first.loss_history != other.loss_history

    model = _small_fc()  # draws its weights from the global RNG, so build it first
    before = np.random.get_state()[1].copy()
    Solver(model, _data(), num_epochs=1, batch_size=20, seed=1, verbose=False).train()
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_without_a_seed_the_global_seed_still_makes_runs_repeatable():
    np.random.seed(9)
    first = _run(seed=None)
    np.random.seed(9)
    second = _run(seed=None)
    assert first.loss_history == second.loss_history


def test_checkpoints_are_written_after_each_epoch(tmp_path):
    name = tmp_path / "run"
    solver = Solver(_small_fc(), _data(), num_epochs=3, batch_size=20, verbose=False, seed=0,
                    update_rule="adam", checkpoint_name=name)
    solver.train()
    assert sorted(os.listdir(tmp_path)) == [f"run_epoch_{k}.npz" for k in (1, 2, 3)]
    model, state = load_checkpoint(tmp_path / "run_epoch_2.npz")
    assert isinstance(model, FullyConnectedNet)
    assert state["epoch"] == 2 and state["iteration"] == 6
    assert len(state["loss_history"]) == 6 and len(state["val_acc_history"]) == 3
    assert state["settings"]["update_rule"] == "adam"
    assert state["settings"]["batch_size"] == 20
    assert state["optim_configs"]["W1"]["t"] == 6
    assert state["optim_configs"]["W1"]["m"].shape == (48, 10)


RESUMABLE_MODELS = {
    "fc_batchnorm_dropout": lambda: FullyConnectedNet(
        [12, 8], input_dim=48, num_classes=4, normalization="batchnorm",
        dropout_keep_ratio=0.8, seed=2, weight_scale=0.1,
    ),
    "conv_batchnorm": lambda: ConvNet.from_spec(
        "c4p-f8", input_dim=(3, 4, 4), num_classes=4, normalization="batchnorm", seed=1
    ),
}


@pytest.mark.parametrize("name", sorted(RESUMABLE_MODELS))
def test_resume_ends_bit_for_bit_where_the_uninterrupted_run_ends(tmp_path, name):
    settings = dict(num_epochs=4, batch_size=15, update_rule="adam", lr_decay=0.9,
                    optim_config={"learning_rate": 5e-3}, num_train_samples=30,
                    num_val_samples=10, verbose=False)
    data = _data()
    full = Solver(RESUMABLE_MODELS[name](), data, seed=7, checkpoint_name=tmp_path / "full",
                  **settings)
    full.train()

    np.random.seed(123)  # a different starting point: everything must come from the file
    resumed = Solver(RESUMABLE_MODELS[name](), data, seed=99,
                     resume_from=tmp_path / "full_epoch_2.npz", **settings)
    assert resumed.epoch == 2 and len(resumed.val_acc_history) == 3
    resumed.train()

    assert resumed.loss_history == full.loss_history
    assert resumed.train_acc_history == full.train_acc_history
    assert resumed.val_acc_history == full.val_acc_history
    assert resumed.best_val_acc == full.best_val_acc
    for key in full.model.params:
        np.testing.assert_array_equal(resumed.model.params[key], full.model.params[key])
    for key, value in full.model.state().items():
        np.testing.assert_array_equal(resumed.model.state()[key], value)
    for key, config in full.optim_configs.items():
        np.testing.assert_array_equal(resumed.optim_configs[key]["m"], config["m"])
        assert resumed.optim_configs[key]["t"] == config["t"]
        assert resumed.optim_configs[key]["learning_rate"] == config["learning_rate"]


def test_resume_refuses_a_checkpoint_that_does_not_fit(tmp_path):
    settings = dict(num_epochs=1, batch_size=20, verbose=False, seed=0)
    Solver(_small_fc(), _data(), checkpoint_name=tmp_path / "run", **settings).train()
    path = tmp_path / "run_epoch_1.npz"
    with pytest.raises(ValueError, match="batch_size=20, but this Solver has batch_size=10"):
        Solver(_small_fc(), _data(), resume_from=path, **{**settings, "batch_size": 10})
    with pytest.raises(ValueError, match="update_rule='sgd', but this Solver has update_rule='adam'"):
        Solver(_small_fc(), _data(), resume_from=path, update_rule="adam", **settings)
    with pytest.raises(ValueError, match=r"hidden_dims=\[10\].*hidden_dims=\[11\]"):
        model = FullyConnectedNet([11], input_dim=48, num_classes=4)
        Solver(model, _data(), resume_from=path, **settings)
    with pytest.raises(ValueError, match="holds a FullyConnectedNet"):
        model = ConvNet.from_spec("c2", input_dim=(3, 4, 4), num_classes=4)
        Solver(model, _data(), resume_from=path, **settings)
    with pytest.raises(ValueError, match="an epoch has 1 iterations"):
        Solver(_small_fc(), _data(N=30), resume_from=path, **settings)
    # num_epochs may grow: training goes on from epoch 1.
    longer = Solver(_small_fc(), _data(), resume_from=path, **{**settings, "num_epochs": 2})
    longer.train()
    assert longer.epoch == 2 and len(longer.val_acc_history) == 3


class _FailingModel:
    """Wraps a model; its training loss becomes ``bad_value`` from call ``fail_at`` on."""

    def __init__(self, model, fail_at, bad_value):
        self.inner, self.fail_at, self.bad_value, self.calls = model, fail_at, bad_value, 0

    @property
    def params(self):
        return self.inner.params

    @params.setter
    def params(self, value):
        self.inner.params = value

    def loss(self, X, y=None):
        if y is None:
            return self.inner.loss(X)
        self.calls += 1
        loss, grads = self.inner.loss(X, y)
        return (self.bad_value if self.calls >= self.fail_at else loss), grads


@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
def test_divergence_stops_at_once_warns_and_leaves_the_best_params(bad_value):
    model = _FailingModel(_small_fc(), fail_at=5, bad_value=bad_value)
    solver = Solver(model, _data(), num_epochs=4, batch_size=20, verbose=False, seed=0,
                    optim_config={"learning_rate": 0.05})
    assert solver.diverged is None
    with pytest.warns(RuntimeWarning, match=r"Training diverged.*iteration 5 / 12 \(epoch 2 / 4\)"):
        solver.train()
    assert (solver.diverged.iteration, solver.diverged.epoch) == (5, 2)
    assert "Try a smaller learning rate" in solver.diverged.reason
    assert model.calls == 5 and len(solver.loss_history) == 5
    assert solver.best_params
    for name, value in solver.best_params.items():
        np.testing.assert_array_equal(model.params[name], value)


def test_raise_on_divergence_raises_after_keeping_the_best_params():
    model = _FailingModel(_small_fc(), fail_at=5, bad_value=np.nan)
    solver = Solver(model, _data(), num_epochs=4, batch_size=20, verbose=False, seed=0,
                    optim_config={"learning_rate": 0.05}, raise_on_divergence=True)
    with pytest.raises(TrainingDivergedError, match=r"iteration 5 / 12 \(epoch 2 / 4\)") as info:
        solver.train()
    assert isinstance(info.value, RuntimeError)
    assert (info.value.iteration, info.value.epoch) == (5, 2)
    assert str(info.value) == solver.diverged.reason
    for name, value in solver.best_params.items():
        np.testing.assert_array_equal(model.params[name], value)


def test_raise_on_divergence_must_be_a_bool():
    with pytest.raises(TypeError, match="raise_on_divergence must be True or False, got 'yes'"):
        Solver(_small_fc(), _data(), raise_on_divergence="yes")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow that makes the NaN, and the divergence
def test_a_learning_rate_loop_goes_on_after_a_diverging_setting():
    # The notebooks' tuning loops: one setting diverges, the next ones still train.
    results = {}
    for learning_rate in [1e6, 0.05]:
        model = _small_fc()
        solver = Solver(model, _data(), num_epochs=3, batch_size=20, verbose=False, seed=0,
                        optim_config={"learning_rate": learning_rate})
        solver.train()
        results[learning_rate] = solver
    assert results[1e6].diverged is not None and results[1e6].epoch < 3
    assert all(np.isfinite(value).all() for value in results[1e6].model.params.values())
    assert results[0.05].diverged is None and results[0.05].epoch == 3
    assert results[0.05].best_val_acc > 0.5


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow that makes the NaN, and the divergence
def test_a_huge_learning_rate_diverges_with_checkpoints_only_for_finished_epochs(tmp_path):
    model = _small_fc()
    solver = Solver(model, _data(), num_epochs=4, batch_size=20, verbose=False, seed=0,
                    optim_config={"learning_rate": 1e6}, checkpoint_name=tmp_path / "run")
    solver.train()
    assert "Try a smaller learning rate" in solver.diverged.reason
    assert solver.diverged.epoch >= 2  # at least one epoch finished and was saved
    finished = range(1, solver.diverged.epoch)
    assert sorted(os.listdir(tmp_path)) == [f"run_epoch_{k}.npz" for k in finished]
    for name, value in solver.best_params.items():
        np.testing.assert_array_equal(model.params[name], value)
        assert np.isfinite(value).all()


class _LearnersNet:
    """A model written as a cs231n student writes one: affine - batchnorm - relu - affine, with bn_params."""

    def __init__(self, input_dim=48, hidden=10, num_classes=4):
        self.params = {"W1": 0.1 * np.random.randn(input_dim, hidden), "b1": np.zeros(hidden),
                       "gamma1": np.ones(hidden), "beta1": np.zeros(hidden),
                       "W2": 0.1 * np.random.randn(hidden, num_classes), "b2": np.zeros(num_classes)}
        self.bn_params = [{"mode": "train"}]

    def loss(self, X, y=None):
        from tinyconv.layers import (affine_backward, affine_forward, batchnorm_backward_alt, batchnorm_forward,
                                     relu_backward, relu_forward, softmax_loss)
        p = self.params
        self.bn_params[0]["mode"] = "test" if y is None else "train"
        a, affine_cache = affine_forward(X, p["W1"], p["b1"])
        n, bn_cache = batchnorm_forward(a, p["gamma1"], p["beta1"], self.bn_params[0])
        h, relu_cache = relu_forward(n)
        scores, scores_cache = affine_forward(h, p["W2"], p["b2"])
        if y is None:
            return scores
        loss, dscores = softmax_loss(scores, y)
        grads = {}
        dh, grads["W2"], grads["b2"] = affine_backward(dscores, scores_cache)
        dn, grads["gamma1"], grads["beta1"] = batchnorm_backward_alt(relu_backward(dh, relu_cache), bn_cache)
        _, grads["W1"], grads["b1"] = affine_backward(dn, affine_cache)
        return loss, grads


def _learners_net():
    np.random.seed(0)
    return _LearnersNet()


def test_a_learners_own_model_is_checkpointed_with_its_buffers_and_resumes_exactly(tmp_path):
    settings = dict(num_epochs=3, batch_size=20, verbose=False, seed=0, update_rule="adam",
                    optim_config={"learning_rate": 0.01})
    whole = _learners_net()
    Solver(whole, _data(), checkpoint_name=tmp_path / "run", **settings).train()
    assert sorted(os.listdir(tmp_path)) == [f"run_epoch_{k}.npz" for k in (1, 2, 3)]

    resumed = _learners_net()  # the learner builds the model again, as for any resume
    solver = Solver(resumed, _data(), resume_from=tmp_path / "run_epoch_1.npz", **settings)
    assert solver.epoch == 1
    solver.train()
    for name, value in whole.params.items():
        np.testing.assert_array_equal(resumed.params[name], value)
    for key in ("running_mean", "running_var"):
        np.testing.assert_array_equal(resumed.bn_params[0][key], whole.bn_params[0][key])


def test_a_checkpoint_resumes_only_the_class_it_was_written_for(tmp_path):
    Solver(_learners_net(), _data(), num_epochs=1, batch_size=20, verbose=False, seed=0,
           checkpoint_name=tmp_path / "run").train()
    with pytest.raises(ValueError, match=r"holds a .*_LearnersNet, but the model is a FullyConnectedNet"):
        Solver(_small_fc(), _data(), batch_size=20, verbose=False, resume_from=tmp_path / "run_epoch_1.npz")
    with pytest.raises(ValueError, match="build that model yourself"):
        load_checkpoint(tmp_path / "run_epoch_1.npz")


def test_the_best_parameters_come_back_with_their_batchnorm_statistics(tmp_path):
    data = get_digits_data(num_validation=200, num_test=0)
    model = ConvNet.from_spec("c16-c16p-f64", input_dim=(1, 8, 8), normalization="batchnorm", seed=0)
    # A learning rate that grows by half each epoch: accuracy peaks mid-run and collapses after, whatever the
    # rounding of the layers (a run that peaks late by chance stops peaking early when that changes).
    solver = Solver(model, data, num_epochs=8, batch_size=50, update_rule="adam", num_train_samples=None,
                    optim_config={"learning_rate": 0.1}, lr_decay=1.5, verbose=False, seed=0,
                    checkpoint_name=tmp_path / "run")
    solver.train()
    best_epoch = solver.val_acc_history.index(solver.best_val_acc)
    assert 1 <= best_epoch < solver.epoch, "this run must peak before its last epoch to test anything"
    best_model, _ = load_checkpoint(tmp_path / f"run_epoch_{best_epoch}.npz")
    for key, value in best_model.state().items():
        np.testing.assert_array_equal(model.state()[key], value, err_msg=key)
    # The model that comes back scores what its epoch scored.
    assert solver.check_accuracy(data["X_val"], data["y_val"]) == solver.best_val_acc


def test_keep_last_leaves_the_last_epochs_parameters_and_statistics(tmp_path):
    data = get_digits_data(num_validation=200, num_test=0)
    settings = dict(num_epochs=8, batch_size=50, update_rule="adam", num_train_samples=None,
                    optim_config={"learning_rate": 0.1}, lr_decay=1.5, verbose=False, seed=0)  # peaks mid-run
    best = Solver(ConvNet.from_spec("c16-c16p-f64", input_dim=(1, 8, 8), normalization="batchnorm", seed=0), data,
                  **settings)
    best.train()
    model = ConvNet.from_spec("c16-c16p-f64", input_dim=(1, 8, 8), normalization="batchnorm", seed=0)
    last = Solver(model, data, keep="last", checkpoint_name=tmp_path / "run", **settings)
    last.train()
    # The same run (the same best epoch, recorded alike); only what the model holds at the end differs.
    assert last.val_acc_history == best.val_acc_history and last.best_epoch == best.best_epoch < last.epoch
    assert best.model_epoch == best.best_epoch and last.model_epoch == last.epoch == 8
    final, _ = load_checkpoint(tmp_path / "run_epoch_8.npz")
    for key, value in {**final.params, **final.state()}.items():
        np.testing.assert_array_equal({**model.params, **model.state()}[key], value, err_msg=key)
    assert last.check_accuracy(data["X_val"], data["y_val"]) == last.val_acc_history[-1]
    with pytest.raises(ValueError, match=r"Solver: keep must be one of \['best', 'last'\], got 'final'"):
        Solver(model, data, keep="final")


def test_keep_last_still_gives_a_diverged_run_its_best_parameters(monkeypatch):
    model = _small_fc()
    solver = Solver(model, _data(), num_epochs=4, batch_size=20, verbose=False, seed=0, keep="last",
                    optim_config={"learning_rate": 0.05})
    real_step = Solver._step
    # Two healthy epochs (three updates each), then a NaN loss in the third.
    monkeypatch.setattr(Solver, "_step", lambda self: real_step(self) if self._iteration < 7 else float("nan"))
    with pytest.warns(RuntimeWarning, match="Training diverged"):
        solver.train()
    assert solver.diverged.epoch == 3 and solver.epoch == 2
    assert solver.model_epoch == solver.best_epoch
    # Where the best epoch is not the last, model_epoch tells them apart.
    solver.val_acc_history, solver.best_val_acc = [0.25, 0.9, 0.7], 0.9
    assert solver.model_epoch == 1
    solver.diverged = None
    assert solver.model_epoch == 2
    for name, value in solver.best_params.items():
        np.testing.assert_array_equal(model.params[name], value, err_msg=name)


def test_a_checkpoint_folder_that_does_not_exist_is_refused_before_training(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        Solver(_small_fc(), _data(), checkpoint_name=tmp_path / "missing" / "run", verbose=False)


def test_divergence_on_the_first_iteration_keeps_the_initial_params():
    model = _FailingModel(_small_fc(), fail_at=1, bad_value=np.nan)
    initial = {name: value.copy() for name, value in model.params.items()}
    solver = Solver(model, _data(), num_epochs=1, verbose=False, seed=0)
    with pytest.warns(RuntimeWarning, match="keeps the parameters it had"):
        solver.train()
    assert solver.diverged.iteration == 1
    for name, value in initial.items():
        np.testing.assert_array_equal(model.params[name], value)


def test_custom_update_rule_function_is_used():
    calls = []

    def halving(w, dw, config=None):
        calls.append(w.shape)
        return w * 0.5, config or {}

    model = _small_fc()
    W1 = model.params["W1"].copy()
    solver = Solver(model, _data(), num_epochs=1, batch_size=60, verbose=False, seed=0,
                    update_rule=halving)
    solver.train()
    assert len(calls) == len(model.params)
    assert solver.update_rule is halving
    # One update after which the first check picked these params as the best.
    np.testing.assert_array_equal(model.params["W1"], W1 * 0.5)


class _HalfStepSgd:
    """An update rule that is an object, not a function."""

    def __call__(self, w, dw, config=None):
        return optim.sgd(w, dw * 0.5, config)


@pytest.mark.parametrize(
    "rule, recorded",
    [
        (functools.partial(optim.sgd_momentum), "functools.partial"),
        (_HalfStepSgd(), f"{__name__}._HalfStepSgd"),
    ],
)
def test_callables_without_a_qualname_train_and_checkpoint(tmp_path, rule, recorded):
    solver = Solver(_small_fc(), _data(), num_epochs=1, batch_size=20, verbose=False, seed=0,
                    update_rule=rule, checkpoint_name=tmp_path / "run")
    solver.train()
    _, state = load_checkpoint(tmp_path / "run_epoch_1.npz")
    assert state["settings"]["update_rule"] == recorded


def test_update_rule_names_resolve_to_the_optim_functions():
    for name in ("sgd", "sgd_momentum", "rmsprop", "adam"):
        assert Solver(_small_fc(), _data(), update_rule=name).update_rule is getattr(optim, name)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"learning_rate": 1e-3}, ValueError, r"Solver: unrecognized arguments \['learning_rate'\]"),
        ({"update_rule": "adagrad"}, ValueError, "update_rule 'adagrad' is not an update rule"),
        ({"update_rule": "__all__"}, ValueError, "Solver: update_rule '__all__' is not"),
        ({"batch_size": 0}, ValueError, "batch_size must be a positive integer"),
        ({"num_epochs": 2.5}, TypeError, "num_epochs must be a positive integer"),
        ({"lr_decay": -1.0}, ValueError, "lr_decay must be a finite number"),
        ({"optim_config": [("learning_rate", 1)]}, TypeError, "optim_config must be a dict"),
        ({"seed": "abc"}, TypeError, "seed must be None or"),
        ({"num_val_samples": 0}, ValueError, "num_val_samples must be None or a positive integer"),
        ({"checkpoint_name": 42}, TypeError, "checkpoint_name must be None, a str or a path"),
    ],
)
def test_bad_solver_arguments_are_rejected(kwargs, error, match):
    with pytest.raises(error, match=match):
        Solver(_small_fc(), _data(), **kwargs)


def test_every_keyword_is_declared_once_and_documented():
    from tinyconv import solver_options

    names = [option.name for option in solver_options.OPTIONS]
    assert len(set(names)) == len(names)
    for option in solver_options.OPTIONS:
        assert f"\n    {option.name} : {option.kind}\n" in Solver.__doc__
        # the default passes its own check, and the Solver takes it as its attribute of the same name
        option.check("Solver", option.name, option.default)
    solver = Solver(_small_fc(), _data(), verbose=False)
    assert (solver.batch_size, solver.num_epochs, solver.keep, solver.metadata) == (100, 10, "best", {})
    assert "**options" not in Solver.__doc__


def test_bad_data_is_rejected():
    data = _data()
    with pytest.raises(ValueError, match=r"data is missing \['y_val'\]"):
        Solver(_small_fc(), {k: v for k, v in data.items() if k != "y_val"})
    with pytest.raises(ValueError, match="X_train and y_train must hold the same"):
        Solver(_small_fc(), {**data, "y_train": data["y_train"][:-1]})
    with pytest.raises(TypeError, match="model must have"):
        Solver(object(), data)


class _ConstantModel:
    """Predicts class ``X[:, 0]`` for every sample."""

    params = {}

    def loss(self, X, y=None):
        return np.eye(3)[X[:, 0].astype(int)]


def test_check_accuracy_counts_correct_predictions_in_batches():
    X = np.array([[0], [1], [2], [0], [1], [2], [0]], dtype=float)
    y = np.array([0, 1, 0, 0, 2, 2, 0])
    solver = Solver(_ConstantModel(), {"X_train": X, "y_train": y, "X_val": X, "y_val": y},
                    seed=0)
    assert solver.check_accuracy(X, y, batch_size=2) == pytest.approx(5 / 7)
    subsample = solver.check_accuracy(X, y, num_samples=4, batch_size=3)
    assert subsample in {0.0, 0.25, 0.5, 0.75, 1.0}
    with pytest.raises(ValueError, match="batch_size"):
        solver.check_accuracy(X, y, batch_size=0)
    with pytest.raises(ValueError, match="num_samples must be a positive integer"):
        solver.check_accuracy(X, y, num_samples=0)
    with pytest.raises(TypeError, match="num_samples must be a positive integer"):
        solver.check_accuracy(X, y, num_samples=2.5)
    with pytest.raises(ValueError, match="Solver.check_accuracy: X and y must hold the same positive number"):
        solver.check_accuracy(X[:0], y[:0])
    with pytest.raises(ValueError, match="Solver.check_accuracy: X and y must hold the same positive number"):
        solver.check_accuracy(X, y[:-1])


def test_progress_lines_when_stdout_is_not_a_terminal(capsys):
    Solver(_small_fc(), _data(), num_epochs=2, batch_size=20, print_every=2, seed=0).train()
    out = capsys.readouterr().out
    assert "(Iteration 1 / 6) loss: " in out and "(Iteration 3 / 6) loss: " in out
    assert "(Iteration 2 / 6)" not in out
    assert "(Epoch 0 / 2) train acc: " in out and "(Epoch 2 / 2) train acc: " in out
    assert re.search(r"\n  \d+ images/s, about \d+s left\n", out)  # after each epoch
    Solver(_small_fc(), _data(), num_epochs=1, verbose=False, seed=0).train()
    assert capsys.readouterr().out == ""


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_one_progress_bar_for_the_whole_run_on_a_terminal(monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setattr("shutil.get_terminal_size", lambda fallback=None: os.terminal_size((120, 40)))
    Solver(_small_fc(), _data(), num_epochs=2, batch_size=20, seed=0).train()
    out = terminal.getvalue()
    assert "epoch 2/2 [##########]" in out  # the epoch bar inside the run bar
    assert "img/s" in out and "loss " in out and "val " in out
    assert re.search(r"100%\|.*\| \d\d:\d\d<", out)  # the whole run's bar, with the time left
    assert "(Iteration" not in out


def test_print_lines_on_a_terminal_without_width(monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setattr("shutil.get_terminal_size", lambda fallback=None: os.terminal_size((0, 0)))
    Solver(_small_fc(), _data(), num_epochs=1, batch_size=20, seed=0).train()
    assert "(Iteration 1 / 3) loss: " in terminal.getvalue()


def test_print_lines_on_a_terminal_without_tqdm(monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setitem(sys.modules, "tqdm", None)  # makes `import tqdm` fail
    Solver(_small_fc(), _data(), num_epochs=1, batch_size=20, seed=0).train()
    assert "(Iteration 1 / 3) loss: " in terminal.getvalue()


def _learning_rates(solver):
    """The learning rate each update used: read back from the configs during training."""
    seen = []
    real = solver.update_rule

    def recording(w, dw, config):
        seen.append(config["learning_rate"])
        return real(w, dw, config)

    solver.update_rule = recording
    solver.train()
    per_update = len(solver.model.params)
    return seen[::per_update]


def test_cosine_schedule_with_warmup_follows_its_formula():
    solver = Solver(_small_fc(), _data(), num_epochs=4, batch_size=20, verbose=False, seed=0, update_rule="adam",
                    optim_config={"learning_rate": 0.02}, lr_schedule="cosine", warmup_epochs=1)
    rates = _learning_rates(solver)
    total, warmup = 4 * 3, 3
    expected = [0.02 * min(1, (t + 1) / warmup) * 0.5 * (1 + np.cos(np.pi * max(0, t - warmup) / (total - warmup)))
                for t in range(total)]
    np.testing.assert_allclose(rates, expected, rtol=1e-12)
    assert rates[0] < rates[2] == pytest.approx(0.02) and rates[-1] < 0.001


def test_warmup_with_step_decay_keeps_cs231n_s_per_epoch_factor():
    solver = Solver(_small_fc(), _data(), num_epochs=3, batch_size=20, verbose=False, seed=0,
                    optim_config={"learning_rate": 0.1}, lr_decay=0.5, warmup_epochs=0.5)
    rates = _learning_rates(solver)
    np.testing.assert_allclose(rates, [0.1 * min(1, (t + 1) / 1.5) * 0.5 ** (t // 3) for t in range(9)])


def test_a_cosine_run_resumes_exactly_and_refuses_another_length(tmp_path):
    settings = dict(batch_size=20, verbose=False, seed=0, update_rule="adam", optim_config={"learning_rate": 0.01},
                    lr_schedule="cosine", warmup_epochs=1, augment=RandomCropFlip(pad=1, flip=True))
    whole = ConvNet.from_spec("c4-f8", input_dim=(3, 4, 4), num_classes=4, normalization="batchnorm", seed=0)
    Solver(whole, _data(), num_epochs=3, checkpoint_name=tmp_path / "run", **settings).train()
    resumed = ConvNet.from_spec("c4-f8", input_dim=(3, 4, 4), num_classes=4, normalization="batchnorm", seed=0)
    solver = Solver(resumed, _data(), num_epochs=3, resume_from=tmp_path / "run_epoch_1.npz", **settings)
    solver.train()
    for name, value in whole.params.items():
        np.testing.assert_array_equal(resumed.params[name], value)
    with pytest.raises(ValueError, match="cosine schedule over 3 epochs.*num_epochs=3"):
        Solver(resumed, _data(), num_epochs=5, resume_from=tmp_path / "run_epoch_1.npz", **settings)
    with pytest.raises(ValueError, match=r"augment=.*RandomCropFlip\(pad=1, flip=True\)"):
        Solver(resumed, _data(), num_epochs=3, resume_from=tmp_path / "run_epoch_1.npz",
               **{**settings, "augment": RandomCropFlip(pad=2)})


def test_schedule_settings_are_checked():
    with pytest.raises(ValueError, match="leave lr_decay at 1"):
        Solver(_small_fc(), _data(), lr_schedule="cosine", lr_decay=0.9, optim_config={"learning_rate": 0.1})
    with pytest.raises(ValueError, match=r"starts from optim_config\['learning_rate'\]"):
        Solver(_small_fc(), _data(), lr_schedule="cosine")
    with pytest.raises(ValueError, match="lr_schedule must be one of"):
        Solver(_small_fc(), _data(), lr_schedule="linear", optim_config={"learning_rate": 0.1})
    with pytest.raises(ValueError, match="early_stopping must be None or a positive integer"):
        Solver(_small_fc(), _data(), early_stopping=0)
    with pytest.raises(TypeError, match="augment must be None or a function"):
        Solver(_small_fc(), _data(), augment="flip")


def test_early_stopping_stops_after_the_patience_and_keeps_the_best_epoch():
    # A learning rate of zero never improves on the first accuracy.
    solver = Solver(_small_fc(), _data(), num_epochs=10, batch_size=20, verbose=False, seed=0, early_stopping=2,
                    optim_config={"learning_rate": 0.0})
    solver.train()
    assert solver.stopped_early == 2 and solver.epoch == 2 and len(solver.val_acc_history) == 3
    improving = Solver(_small_fc(), _data(), num_epochs=3, batch_size=20, verbose=False, seed=0, early_stopping=5,
                       optim_config={"learning_rate": 0.05})
    improving.train()
    assert improving.stopped_early is None and improving.epoch == 3


def test_the_epoch_callback_sees_each_epoch_and_can_stop_the_run():
    seen = []

    def stop_after_two(solver):
        seen.append((solver.epoch, len(solver.val_acc_history)))
        return solver.epoch == 2

    solver = Solver(_small_fc(), _data(), num_epochs=5, batch_size=20, verbose=False, seed=0,
                    optim_config={"learning_rate": 0.05}, epoch_callback=stop_after_two)
    solver.train()
    assert seen == [(1, 2), (2, 3)]
    assert solver.stopped_early == 2 and solver.epoch == 2 and solver.diverged is None
    best = solver.val_acc_history.index(solver.best_val_acc)
    assert solver.check_accuracy(solver.X_val, solver.y_val) == solver.val_acc_history[best]
    # None (a callback that only watches) lets the run go on.
    watched = Solver(_small_fc(), _data(), num_epochs=3, batch_size=20, verbose=False, seed=0,
                     optim_config={"learning_rate": 0.05}, epoch_callback=lambda solver: None)
    watched.train()
    assert watched.epoch == 3 and watched.stopped_early is None
    with pytest.raises(TypeError, match="Solver: epoch_callback must be None or a function"):
        Solver(_small_fc(), _data(), epoch_callback="prune")


def test_augmentation_reaches_the_model_and_the_time_is_measured():
    seen = []

    def augment(X, rng):
        seen.append(X.shape)
        return X[:, :, ::-1]

    solver = Solver(_small_fc(), _data(), num_epochs=1, batch_size=20, verbose=False, seed=0, augment=augment)
    solver.train()
    assert seen == [(20, 3, 4, 4)] * 3
    assert solver.step_seconds > 0


def test_a_run_that_completes_all_its_epochs_did_not_stop_early():
    heard = []
    solver = Solver(_small_fc(), _data(), num_epochs=2, batch_size=20, verbose=False, seed=0, early_stopping=1,
                    optim_config={"learning_rate": 0.0}, epoch_callback=lambda s: heard.append(s.epoch) or s.epoch == 2)
    solver.train()
    assert heard == [1]  # patience 1 stopped it after epoch 1, before the callback could ask at epoch 2
    complete = Solver(_small_fc(), _data(), num_epochs=2, batch_size=20, verbose=False, seed=0,
                      epoch_callback=lambda s: heard.append(s.epoch) or True)
    complete.train()
    assert heard[1:] == [1] and complete.stopped_early == 1
    heard_last = []
    last = Solver(_small_fc(), _data(), num_epochs=1, batch_size=20, verbose=False, seed=0,
                  epoch_callback=lambda s: heard_last.append(s.epoch) or True)
    last.train()
    assert heard_last == [1]  # the callback hears the last epoch too (a sweep reports it)
    assert last.stopped_early is None and last.epoch == 1


class _RecordsHeldBlas:
    """Wraps a model; records, at each loss, whether BLAS is held at one thread for the workers."""

    def __init__(self, model):
        self.model, self.params, self.held = model, model.params, []

    def loss(self, X, y=None):
        from tinyconv import _parallel

        self.held.append(_parallel.blas_held())
        return self.model.loss(X, y)


@pytest.mark.parametrize("threads, convolutional, held", [(2, True, True), (2, False, False), (1, True, False)])
def test_a_convolutional_network_trains_with_blas_held_for_the_workers(threads, convolutional, held):
    import tinyconv

    model = (ConvNet.from_spec("c2p-f8", input_dim=(3, 4, 4), num_classes=4, seed=0) if convolutional
             else _small_fc())
    recorder = _RecordsHeldBlas(model)
    with tinyconv.num_threads(threads):
        Solver(recorder, _data(), num_epochs=1, batch_size=20, verbose=False, seed=0).train()
    assert recorder.held and set(recorder.held) == {held}


def _blas_threads():
    from tinyconv import _parallel

    return {lib["num_threads"] for lib in _parallel._blas_controller().info() if lib["user_api"] == "blas"}


@pytest.mark.parametrize("convolutional", [True, False])
def test_with_one_worker_every_model_trains_with_blas_at_one_thread(convolutional):
    import tinyconv

    before = _blas_threads()
    if before == {1}:
        pytest.skip("BLAS runs one thread here: there is no limit to see")
    model = (ConvNet.from_spec("c2p-f8", input_dim=(3, 4, 4), num_classes=4, seed=0) if convolutional
             else _small_fc())
    seen = []

    class Recorder:
        params = model.params

        def loss(self, X, y=None):
            seen.append(_blas_threads())
            return model.loss(X, y)

    with tinyconv.num_threads(1):
        Solver(Recorder(), _data(), num_epochs=1, batch_size=20, verbose=False, seed=0).train()
    assert seen and all(threads == {1} for threads in seen)
    assert _blas_threads() == before


def test_check_accuracy_refuses_labels_of_another_shape_or_beyond_the_models_classes():
    data = _data()
    solver = Solver(_small_fc(), data, verbose=False, seed=0)
    with pytest.raises(ValueError, match=r"check_accuracy: y must have shape \(N,\) = \(20,\), got \(20, 1\)"):
        solver.check_accuracy(data["X_val"], data["y_val"][:, None])
    with pytest.raises(ValueError, match=r"labels in y must lie in \[0, 4\) for 4 classes, got values from 1 to 7"):
        solver.check_accuracy(data["X_val"], data["y_val"] * 2 + 1)
    with pytest.raises(TypeError, match="check_accuracy: X must be a NumPy or CuPy array, got list"):
        solver.check_accuracy(data["X_val"].tolist(), data["y_val"])


def test_validation_labels_the_model_cannot_give_stop_the_run_at_the_first_check():
    data = _data()
    data["y_val"] = data["y_val"] + 4  # 4..7 for 4 classes: every prediction would be wrong
    solver = Solver(_small_fc(), data, num_epochs=2, batch_size=20, verbose=False, seed=0)
    with pytest.raises(ValueError, match=r"labels in y must lie in \[0, 4\)"):
        solver.train()
    assert solver.val_acc_history == []


@pytest.mark.parametrize("key, value, error, message", [
    ("X_train", "list", TypeError, r"data\['X_train'\] must be a NumPy or CuPy array, got list"),
    ("X_val", "flat", ValueError, r"data\['X_val'\] must have shape \(N, \.\.\.\)"),
    ("y_val", "column", TypeError, r"data\['y_val'\] must be a 1-D array of integer class labels, got shape \(20, 1\)"),
    ("y_train", "float", TypeError, r"data\['y_train'\] must be a 1-D array of integer class labels.*float64"),
])
def test_both_splits_are_checked_before_training(key, value, error, message):
    data = _data()
    data[key] = {"list": lambda a: a.tolist(), "flat": lambda a: a.reshape(-1)[:20],
                 "column": lambda a: a[:, None], "float": lambda a: a.astype(float)}[value](data[key])
    with pytest.raises(error, match=message):
        Solver(_small_fc(), data, verbose=False)


def test_a_named_update_rule_refuses_keys_it_does_not_take():
    with pytest.raises(ValueError, match=r"optim_config has \['learnin_rate'\], which update rule 'adam' does not "
                                         r"take; its keys are \['learning_rate', 'beta1'"):
        Solver(_small_fc(), _data(), update_rule="adam", optim_config={"learnin_rate": 1e-3})
    for rule, keys in optim.CONFIG_KEYS.items():  # each rule reads every key it declares, and no other
        config = {key: value for key, value in {"learning_rate": 1e-3, "momentum": 0.5, "decay_rate": 0.9,
                                                "epsilon": 1e-8, "beta1": 0.9, "beta2": 0.99,
                                                "weight_decay": 0.1}.items() if key in keys}
        w = np.ones(3)
        _, config = getattr(optim, rule)(w, w, config)
        assert set(config) == set(keys), rule

    def own_rule(w, dw, config):
        return w - config["step"] * dw, config

    solver = Solver(_small_fc(), _data(), update_rule=own_rule, optim_config={"step": 1e-3}, verbose=False)
    assert solver.optim_config == {"step": 1e-3}
