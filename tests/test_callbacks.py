"""tinyconv.callbacks: the Solver is its loop, and what a run does beside its updates are callbacks that hear
each moment of it, in order, and may stop it."""

import csv

import numpy as np
import pytest

from tinyconv import callbacks
from tinyconv.callbacks import Callback, CSVLogger, EarlyStopping, EpochFunction, HoldBlas, ProgressLines
from tinyconv.checkpoint import Checkpoints
from tinyconv.schedule import LearningRateSchedule
from tinyconv.models import FullyConnectedNet
from tinyconv.solver import Solver


def _data(N=60, N_val=20, num_classes=4, seed=0):
    rng = np.random.default_rng(seed)
    templates = rng.standard_normal((num_classes, 12))
    y = rng.integers(num_classes, size=N + N_val)
    X = templates[y] + 0.5 * rng.standard_normal((N + N_val, 12))
    return {"X_train": X[:N], "y_train": y[:N], "X_val": X[N:], "y_val": y[N:]}


def _model():
    np.random.seed(0)
    return FullyConnectedNet([8], input_dim=12, num_classes=4, weight_scale=0.1)


class Recorder(Callback):
    """Writes down every moment it hears of; stops the run after ``stop_after`` epochs if given."""

    def __init__(self, stop_after=None):
        self.moments, self.stop_after = [], stop_after

    def on_train_begin(self, solver):
        self.moments.append(("begin", solver.iteration))

    def on_iteration_begin(self, solver, iteration):
        self.moments.append(("update", iteration))

    def on_iteration_end(self, solver, iteration, loss):
        self.moments.append(("iteration", iteration))

    def on_accuracies(self, solver, train_acc, val_acc):
        assert (train_acc, val_acc) == (solver.train_acc_history[-1], solver.val_acc_history[-1])
        self.moments.append(("accuracies", solver.epoch))

    def on_epoch_end(self, solver):
        self.moments.append(("epoch", solver.epoch))
        return self.stop_after is not None and solver.epoch >= self.stop_after

    def on_train_end(self, solver):
        self.moments.append(("end", solver.epoch))


def test_a_callback_hears_every_moment_in_order():
    recorder = Recorder()
    Solver(_model(), _data(), num_epochs=2, batch_size=30, verbose=False, seed=0, callbacks=[recorder]).train()
    assert recorder.moments == [
        ("begin", 0), ("update", 0), ("iteration", 0), ("accuracies", 0), ("update", 1), ("iteration", 1),
        ("accuracies", 1), ("epoch", 1), ("update", 2), ("iteration", 2), ("update", 3), ("iteration", 3),
        ("accuracies", 2), ("epoch", 2), ("end", 2)]


class RateSpy(Callback):
    """The learning rate each update is about to use, read after the callbacks before it have set it."""

    def __init__(self):
        self.rates = []

    def on_iteration_begin(self, solver, iteration):
        self.rates.append(solver.optim_configs["W1"]["learning_rate"])


@pytest.mark.parametrize("settings", [
    {"lr_decay": 0.5},
    {"lr_schedule": "cosine", "warmup_epochs": 0.5},
])
def test_the_schedule_callback_sets_each_updates_rate_before_it(settings):
    spy = RateSpy()
    solver = Solver(_model(), _data(), num_epochs=3, batch_size=30, verbose=False, seed=0, update_rule="sgd",
                    optim_config={"learning_rate": 0.1}, callbacks=[spy], **settings)
    solver.train()
    assert solver.iterations_per_epoch == 2
    assert spy.rates == pytest.approx([solver.learning_rate(t) for t in range(6)])
    if "lr_decay" in settings:  # cs231n's decay in place, once an epoch has ended
        assert spy.rates == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
    else:  # half an epoch of warmup, then half a cosine down to 0 over the rest
        assert spy.rates[:2] == pytest.approx([0.1, 0.1]) and spy.rates[-1] < spy.rates[2] < 0.1


def test_a_callback_stops_the_run_after_every_callback_heard_the_epoch():
    stopper, listener = Recorder(stop_after=1), Recorder()
    solver = Solver(_model(), _data(), num_epochs=3, batch_size=30, verbose=False, seed=0,
                    callbacks=[stopper, listener])
    solver.train()
    assert solver.epoch == 1 and solver.stopped_early == 1
    assert listener.moments[-2:] == [("epoch", 1), ("end", 1)]


def test_the_run_ends_for_every_callback_that_began_whatever_stops_it():
    class Interrupts(Callback):
        def on_iteration_end(self, solver, iteration, loss):
            if iteration == 2:
                raise KeyboardInterrupt

    recorder = Recorder()
    with pytest.raises(KeyboardInterrupt):
        Solver(_model(), _data(), num_epochs=3, batch_size=30, verbose=False, seed=0,
               callbacks=[recorder, Interrupts()]).train()
    assert recorder.moments[-1] == ("end", 1)


def test_the_solvers_own_settings_are_callbacks_in_the_order_they_are_called(tmp_path):
    def pruned(solver):
        return False

    solver = Solver(_model(), _data(), verbose=True, early_stopping=2, epoch_callback=pruned,
                    callbacks=[CSVLogger("unused.csv")], checkpoint_name=tmp_path / "run")
    kinds = [type(callback) for callback in solver.callbacks]
    # pytest's output is no tty, hence lines
    assert kinds == [HoldBlas, LearningRateSchedule, Checkpoints, ProgressLines, CSVLogger, EpochFunction,
                     EarlyStopping]
    assert solver.callbacks[1] is solver.schedule and solver.callbacks[2].prefix == str(tmp_path / "run")
    assert solver.callbacks[5].function is pruned and solver.callbacks[6].patience == 2
    assert [type(callback) for callback in Solver(_model(), _data(), verbose=False).callbacks] == [
        HoldBlas, LearningRateSchedule]
    with pytest.raises(TypeError, match="callbacks must be a list of tinyconv.callbacks.Callback objects"):
        Solver(_model(), _data(), callbacks=[print])
    with pytest.raises(ValueError, match="EarlyStopping: patience must be a positive integer"):
        EarlyStopping(0)


def test_early_stopping_as_a_callback_stops_as_the_setting_does():
    data = _data()
    by_setting = Solver(_model(), data, num_epochs=8, batch_size=30, verbose=False, seed=0, early_stopping=1,
                        update_rule="sgd", optim_config={"learning_rate": 0.0})
    by_setting.train()
    by_callback = Solver(_model(), data, num_epochs=8, batch_size=30, verbose=False, seed=0,
                         update_rule="sgd", optim_config={"learning_rate": 0.0}, callbacks=[EarlyStopping(1)])
    by_callback.train()
    # A learning rate of 0 never improves: the patience of one epoch runs out after epoch 1.
    assert by_setting.stopped_early == by_callback.stopped_early == 1


def test_the_csv_log_is_the_whole_table_at_every_epoch(tmp_path):
    path = tmp_path / "metrics.csv"
    seen = []
    solver = Solver(_model(), _data(), num_epochs=3, batch_size=30, verbose=False, seed=0,
                    callbacks=[CSVLogger(path)], epoch_callback=lambda s: seen.append(path.read_bytes()) or False)
    solver.train()
    assert seen[-1] == path.read_bytes() == CSVLogger.table(solver)
    assert [len(table.splitlines()) for table in seen] == [3, 4, 5]  # the header, epoch 0, then one per epoch


def test_progress_lines_report_the_loss_accuracies_and_pace(capsys):
    Solver(_model(), _data(), num_epochs=2, batch_size=30, print_every=2, seed=0, verbose=True).train()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("(Iteration 1 / 4) loss: ")
    assert lines[1].startswith("(Epoch 0 / 2) train acc: ")
    assert any(line.strip().endswith("left") and "images/s" in line for line in lines)


def test_move_to_moves_everything_the_run_trains_with():
    seen = []

    class FakeModule:  # records what is moved; stands for CuPy
        @staticmethod
        def asarray(array):
            seen.append(array.shape)
            return array

    solver = Solver(_model(), _data(), num_epochs=1, batch_size=30, verbose=False, seed=0)
    solver.train()
    seen.clear()
    solver.move_to(FakeModule)
    params = [value.shape for value in solver.model.params.values()]
    assert seen.count((60, 12)) == 1 and seen.count((20, 12)) == 1  # the data
    assert sum(shape in params for shape in seen) >= 2 * len(params)  # the model's and the best parameters


def test_the_progress_choice_prints_lines_without_a_terminal():
    assert isinstance(callbacks.progress(), ProgressLines)


def test_the_csv_learning_rate_is_the_rules_default_when_none_is_given_and_blank_for_a_rule_of_ones_own(tmp_path):
    def plain_step(w, dw, config):
        return w - 0.01 * dw, config

    rates = {}
    for name, rule in (("sgd", "sgd"), ("own", plain_step)):
        solver = Solver(_model(), _data(), num_epochs=2, batch_size=30, verbose=False, seed=0, update_rule=rule,
                        lr_decay=0.5, callbacks=[CSVLogger(tmp_path / f"{name}.csv")])
        solver.train()
        with open(tmp_path / f"{name}.csv") as table:
            rates[name] = [row["learning_rate"] for row in csv.DictReader(table)]
    assert rates["sgd"] == ["0.01", "0.01", "0.005"]  # sgd's own 1e-2, halved after each epoch
    assert rates["own"] == ["", "", ""]
