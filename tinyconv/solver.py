"""Solver: minibatch training of a tinyconv model, with checkpoints and exact resume.

Example
-------
>>> solver = Solver(model, data, update_rule="adam", optim_config={"learning_rate": 1e-3},
...                 lr_decay=0.95, num_epochs=5, batch_size=200, print_every=100, seed=0)
>>> solver.train()

``data`` holds ``X_train (N_train, ...)``, ``y_train (N_train,)``, ``X_val
(N_val, ...)`` and ``y_val (N_val,)``; the model needs ``params`` (dict name ->
array) and ``loss(X, y=None)`` returning scores ``(N, C)`` without labels and
``(loss, grads)`` with them.

The Solver is the step and the epoch loop. Its keywords are declared in :mod:`tinyconv.solver_options`;
what a run does beside its updates (the learning-rate schedule, checkpoints, progress, early stopping,
holding BLAS) are the callbacks it lists in ``solver.callbacks``.
"""

import textwrap
import time
import warnings

import numpy as np

from tinyconv import _checks, callbacks, checkpoint, metrics, optim, solver_options
from tinyconv._backend import array_module, move_model, move_tree
from tinyconv.divergence import Divergence, TrainingDivergedError, describe_divergence
from tinyconv.models._base import buffers, set_buffers
from tinyconv.schedule import LearningRateSchedule

__all__ = ["Solver", "TrainingDivergedError", "Divergence"]  # the last two from tinyconv.divergence


class Solver:
    """Trains a classification model with minibatch gradient descent.

    Parameters
    ----------
    model : object
        Has ``params`` and ``loss(X, y=None)`` (see the module docstring).
    data : dict
        ``X_train``, ``y_train``, ``X_val``, ``y_val``.
    **options
        The keywords of :data:`tinyconv.solver_options.OPTIONS`, each with its default, check and meaning.

    Attributes
    ----------
    loss_history : list of float
        The minibatch loss of every iteration.
    train_acc_history, val_acc_history : list of float
        Accuracies after the first iteration and at the end of every epoch.
    val_loss_history : list of float
        The mean softmax loss of the validation images at those checks (the data loss: without
        regularization or label smoothing).
    seconds_history : list of float
        Seconds of training (updates and accuracy checks, over every resumed part of the run) at each of
        those accuracy checks.
    best_val_acc : float
    best_params : dict
        Copies of the params that reached ``best_val_acc``; put into the model
        when training ends.
    best_state : dict
        The batch-norm running statistics of that same epoch (``running_mean{n}``,
        ``running_var{n}``), put back with ``best_params``.
    epoch : int
        Epochs completed.
    optim_configs : dict
        The update rule's config (and state) of every parameter.
    schedule : tinyconv.schedule.LearningRateSchedule
        The callback that sets the learning rate of every update.
    diverged : Divergence or None
        None while training is healthy; after a NaN or infinite loss, the reason,
        iteration and epoch at which ``train()`` stopped.
    model_epoch : int
        The epoch whose parameters the model holds after ``train()``: ``best_epoch`` or, with
        ``keep='last'``, ``epoch``.
    stopped_early : int or None
        The epoch at which early stopping or ``epoch_callback`` ended training, else None.
    step_seconds : float
        Time spent in minibatch updates (forward, backward, update) by ``train()`` in this
        process; ``batch_size * updates / step_seconds`` is the training speed in images per second.
    last_checkpoint : str or None
        The path of the run's last complete checkpoint: the last one written, or the one resumed from;
        None before either. A checkpoint whose write fails never becomes it.
    """

    def __init__(self, model, data, **kwargs):
        solver_options.check_model("Solver", model)
        options = solver_options.checked("Solver", kwargs)
        self.model = model
        self.X_train, self.y_train, self.X_val, self.y_val = solver_options.check_data("Solver", data)
        # Every option is an attribute of the same name (solver.batch_size, solver.keep, ...).
        vars(self).update(options)
        self.update_rule_name = checkpoint.rule_name(options["update_rule"])
        if isinstance(self.update_rule, str):
            self.update_rule = getattr(optim, self.update_rule)
        self.schedule = LearningRateSchedule(self.lr_schedule, self.lr_decay, self.warmup_epochs, self.num_epochs)
        self.callbacks = self._callbacks(options["callbacks"])
        self.diverged = self.stopped_early = None
        self.step_seconds = 0.0
        self.last_checkpoint = None
        self._reset()
        if self.resume_from is not None:
            checkpoint.resume(self, self.resume_from)

    def _callbacks(self, given):
        """The run's callbacks in the order they are called: BLAS holding, the learning-rate schedule, the
        checkpoints, the progress report (with ``verbose``), those ``given``, then ``epoch_callback`` and early
        stopping. The schedule decays a rate before the checkpoint records it, and the checkpoint is written
        before the callbacks that may stop the run hear of the epoch."""
        chosen = [callbacks.HoldBlas(), self.schedule]
        if self.checkpoint_name is not None:
            chosen.append(checkpoint.Checkpoints(self.checkpoint_name))
        if self.verbose:
            chosen.append(callbacks.progress())
        chosen.extend(given)
        if self.epoch_callback is not None:
            chosen.append(callbacks.EpochFunction(self.epoch_callback))
        if self.early_stopping is not None:
            chosen.append(callbacks.EarlyStopping(self.early_stopping))
        return chosen

    def move_to(self, xp):
        """Move everything the run trains with (the model's parameters and buffers, the optimizer state,
        the best parameters and buffers, the data) to array module ``xp``: NumPy, or CuPy for a GPU."""
        move_model(self.model, xp)
        self.optim_configs = move_tree(self.optim_configs, xp)
        self.best_params = move_tree(self.best_params, xp)
        self.best_state = move_tree(self.best_state, xp)
        for name in ("X_train", "y_train", "X_val", "y_val"):
            setattr(self, name, move_tree(getattr(self, name), xp))

    @property
    def iteration(self):
        """Minibatch updates done in the run so far (over every resumed part of it)."""
        return self._iteration

    def learning_rate(self, iteration):
        """The learning rate of update ``iteration`` (0-based) under the run's schedule; None for an update
        rule of the user's own that was given none."""
        return self.schedule.rate(self, iteration)

    @property
    def iterations_per_epoch(self):
        """Minibatch updates in one epoch (at least one)."""
        return max(len(self.X_train) // self.batch_size, 1)

    def _reset(self):
        """Fresh training state: counters, histories, per-parameter optimizer configs, RNG."""
        self.epoch = 0
        self._iteration = 0
        self.best_val_acc = 0
        self.best_params = {}
        self.best_state = {}
        self.loss_history = []
        self.train_acc_history = []
        self.seconds_history = []
        self.val_acc_history = []
        self.val_loss_history = []
        self.optim_configs = {name: dict(self.optim_config) for name in self.model.params}
        seed = self.seed
        if seed is None:
            seed = np.random.randint(0, 2**32, size=4, dtype=np.uint64)
        self._rng = np.random.default_rng(seed)

    # --- training -------------------------------------------------------------------

    def _step(self):
        """One minibatch update; returns the minibatch loss (the params are left
        untouched when it is not finite)."""
        started = time.perf_counter()
        # Indices in the data's own array module: CuPy arrays are indexed with CuPy indices.
        batch = array_module(self.X_train).asarray(self._rng.integers(len(self.X_train), size=self.batch_size))
        X_batch = self.X_train[batch]
        if self.augment is not None:
            X_batch = self.augment(X_batch, self._rng)
        loss, grads = self.model.loss(X_batch, self.y_train[batch])
        loss = float(loss)
        self.loss_history.append(loss)
        if np.isfinite(loss):
            for name, w in list(self.model.params.items()):
                next_w, self.optim_configs[name] = self.update_rule(w, grads[name], self.optim_configs[name])
                self.model.params[name] = next_w
        self.step_seconds += time.perf_counter() - started
        return loss

    def check_accuracy(self, X, y, num_samples=None, batch_size=100):
        """Fraction of the samples in ``X`` that the model classifies as ``y``.

        Parameters
        ----------
        X : ndarray (N, ...)
        y : ndarray (N,) of int
        num_samples : int, optional
            Measure on this many samples drawn (with replacement) from X when N is larger.
        batch_size : int
            Samples scored at once, to bound memory.

        Returns
        -------
        float in [0, 1]
        """
        return self._evaluate(X, y, num_samples, batch_size, "Solver.check_accuracy")[0]

    def _evaluate(self, X, y, num_samples, batch_size, where):
        """The accuracy and mean softmax loss on ``X`` (or ``num_samples`` of it drawn with replacement)."""
        batch_size = _checks.positive_int(where, "batch_size", batch_size)
        if num_samples is not None:
            num_samples = _checks.positive_int(where, "num_samples", num_samples)
        _checks.array(where, "X", X)
        N = X.shape[0] if X.ndim else 0
        if N == 0 or len(y) != N:
            raise ValueError(f"{where}: X and y must hold the same positive number of samples, got {N} and {len(y)}.")
        sample = None
        if num_samples is not None and N > num_samples:
            sample = array_module(X).asarray(self._rng.integers(N, size=num_samples))
        return metrics.accuracy_and_loss(self.model, X, y, batch_size, where, sample)

    def _record_accuracies(self):
        train_acc = self.check_accuracy(self.X_train, self.y_train, self.num_train_samples)
        val_acc, val_loss = self._evaluate(self.X_val, self.y_val, self.num_val_samples, 100, "Solver.check_accuracy")
        self.train_acc_history.append(train_acc)
        self.val_loss_history.append(val_loss)
        self.seconds_history.append(self._seconds_before + time.perf_counter() - self._started)
        self.val_acc_history.append(val_acc)
        if val_acc > self.best_val_acc or not self.best_params:
            self.best_val_acc = val_acc
            self.best_params = {name: value.copy() for name, value in self.model.params.items()}
            self.best_state = buffers(self.model)
        return train_acc, val_acc

    @property
    def best_epoch(self):
        """The epoch whose parameters reached ``best_val_acc`` (0: after the first update)."""
        return self.val_acc_history.index(self.best_val_acc)

    @property
    def model_epoch(self):
        """The epoch whose parameters the model holds once ``train()`` has returned (see ``keep``)."""
        return self.best_epoch if self.keep == "best" or self.diverged else self.epoch

    def _use_best_params(self):
        """Put the best epoch's parameters and running statistics into the model."""
        if self.best_params:
            self.model.params = {name: value.copy() for name, value in self.best_params.items()}
            set_buffers(self.model, self.best_state)

    def _stop_diverged(self, loss, iteration, num_iterations):
        """Give the model the best params, record ``diverged``, then warn or raise."""
        self._use_best_params()
        self.diverged = describe_divergence(self, loss, iteration, num_iterations)
        if self.raise_on_divergence:
            raise TrainingDivergedError(*self.diverged)
        warnings.warn(self.diverged.reason, RuntimeWarning, stacklevel=3)

    def train(self):
        """Run the optimization for ``num_epochs`` epochs (continuing a resumed run).

        Leaves the best parameters (by validation accuracy) in the model, or the last epoch's with
        ``keep='last'``. A NaN or infinite loss stops training early: see ``raise_on_divergence`` and
        ``diverged``. While it runs, BLAS may be held at one thread for the whole process (the
        ``HoldBlas`` callback says when).

        Raises
        ------
        TrainingDivergedError
            With ``raise_on_divergence=True``, when the loss becomes NaN or infinite;
            the model then holds the best parameters seen so far.
        """
        num_iterations = self.num_epochs * self.iterations_per_epoch
        self.diverged = self.stopped_early = None
        self._started = time.perf_counter()
        self._seconds_before = self.seconds_history[-1] if self.seconds_history else 0.0
        begun = []
        try:
            for callback in self.callbacks:
                callback.on_train_begin(self)
                begun.append(callback)
            self._train_loop(num_iterations)
        finally:
            for callback in begun:
                callback.on_train_end(self)
        if self.keep == "best" and not self.diverged:
            self._use_best_params()

    def _train_loop(self, num_iterations):
        """The updates from where the run stands to ``num_iterations``, the callbacks told of each moment."""
        for t in range(self._iteration, num_iterations):
            for callback in self.callbacks:
                callback.on_iteration_begin(self, t)
            loss = self._step()
            if not np.isfinite(loss):
                self._stop_diverged(loss, t + 1, num_iterations)
                return
            self._iteration = t + 1
            for callback in self.callbacks:
                callback.on_iteration_end(self, t, loss)
            epoch_end = self._iteration % self.iterations_per_epoch == 0
            if epoch_end:
                self.epoch += 1
            if t == 0 or epoch_end:
                train_acc, val_acc = self._record_accuracies()
                for callback in self.callbacks:
                    callback.on_accuracies(self, train_acc, val_acc)
            if epoch_end:
                # Every callback hears of every epoch, the last too; stopping early means before the last.
                stops = [callback.on_epoch_end(self) for callback in self.callbacks]
                if any(stops) and self._iteration < num_iterations:
                    self.stopped_early = self.epoch
                    return


# help(Solver) lists every keyword from its one declaration (python -OO keeps no docstrings).
if Solver.__doc__:
    Solver.__doc__ = Solver.__doc__.replace(
        "    **options\n        The keywords of :data:`tinyconv.solver_options.OPTIONS`, each with its default, check "
        "and meaning.\n", textwrap.indent(solver_options.docstring(), "    ") + "\n")
