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
"""

import os
import time
import warnings
from typing import NamedTuple

import numpy as np

from tinyconv import _checks, callbacks, checkpoint, metrics, optim, schedule
from tinyconv._backend import array_module, move_model, move_tree
from tinyconv.models._base import buffers, set_buffers
from tinyconv.serialization import save_checkpoint

__all__ = ["Solver", "TrainingDivergedError", "Divergence"]

_DEFAULTS = {
    "update_rule": "sgd",
    "optim_config": None,
    "lr_decay": 1.0,
    "batch_size": 100,
    "num_epochs": 10,
    "num_train_samples": 1000,
    "num_val_samples": None,
    "checkpoint_name": None,
    "print_every": 10,
    "verbose": True,
    "seed": None,
    "resume_from": None,
    "metadata": None,
    "raise_on_divergence": False,
    "lr_schedule": None,
    "warmup_epochs": 0,
    "early_stopping": None,
    "augment": None,
    "epoch_callback": None,
    "keep": "best",
    "callbacks": None,
}
KEEP = ("best", "last")


class Divergence(NamedTuple):
    """Why and where a training run stopped: ``Solver.diverged`` after a NaN or infinite loss."""

    reason: str
    iteration: int  # 1-based iteration whose loss was not finite
    epoch: int  # 1-based epoch that iteration belongs to


class TrainingDivergedError(RuntimeError):
    """The training loss became NaN or infinite (raised with ``raise_on_divergence=True``).

    Raised after the model has been given the best parameters seen so far.

    Attributes
    ----------
    iteration : int
        1-based iteration whose loss was not finite.
    epoch : int
        1-based epoch that iteration belongs to.
    """

    def __init__(self, message, iteration, epoch):
        super().__init__(message)
        self.iteration = iteration
        self.epoch = epoch


def _resolve_update_rule(rule):
    if callable(rule):
        return rule
    if isinstance(rule, str) and rule in optim.__all__:
        return getattr(optim, rule)
    raise ValueError(
        f"Solver: update_rule {rule!r} is not an update rule; pass one of {optim.__all__} or a "
        "function next_w, config = rule(w, dw, config)."
    )


class Solver:
    """Trains a classification model with minibatch gradient descent.

    Parameters
    ----------
    model : object
        Has ``params`` and ``loss(X, y=None)`` (see the module docstring).
    data : dict
        ``X_train``, ``y_train``, ``X_val``, ``y_val``.
    update_rule : str or callable, default 'sgd'
        A name from :mod:`tinyconv.optim` or a function with its interface.
    optim_config : dict, optional
        Hyperparameters given to the update rule; each parameter gets its own copy.
    lr_decay : float, default 1.0
        Every parameter's learning rate is multiplied by this after each epoch.
    batch_size : int, default 100
    num_epochs : int, default 10
    num_train_samples : int or None, default 1000
        Training samples used to measure the training accuracy (None: all).
    num_val_samples : int or None, default None
        Validation samples used to measure the validation accuracy (None: all).
    checkpoint_name : str or os.PathLike, optional
        Prefix of the checkpoint written at the end of each epoch k:
        ``{checkpoint_name}_epoch_{k}.npz``. Any model can be checkpointed: its
        params, its cs231n-style buffers (the running statistics in
        ``model.bn_params``) and the solver state, without pickle.
    print_every : int, default 10
        Report the loss every this many iterations.
    verbose : bool, default True
        Report progress: one tqdm bar for the whole run (time left, images per
        second, the current epoch's own bar beside it) when stdout is a terminal
        at least 60 columns wide and tqdm is installed, otherwise print lines.
    seed : int, optional
        Seed of the generator that draws the minibatches and the accuracy
        subsamples. None seeds it from NumPy's global RNG, so ``np.random.seed``
        still makes a run repeatable.
    metadata : dict, optional
        JSON-serializable facts about the run, saved in every checkpoint as they are (the command
        line records its dataset and splits there); ``serialization.read_checkpoint`` returns them
        under ``solver_state['metadata']``.
    resume_from : str or os.PathLike, optional
        A checkpoint written by a Solver. Its model parameters and buffers,
        optimizer state, histories, counters and random states (the Solver's
        and NumPy's global one, which unseeded dropout uses) are restored, so
        ``train()`` ends exactly where the interrupted run would have ended. The
        model must have the checkpoint's class and config (a model of your own:
        its class and parameter shapes; build it as before), and the settings
        that steer training (update_rule, optim_config, lr_decay, batch_size,
        num_train_samples, num_val_samples, lr_schedule, warmup_epochs,
        augment) the checkpoint's values; num_epochs may differ, except on
        a cosine schedule, whose length a run fixes when it starts.
    lr_schedule : None or 'cosine', default None
        None is cs231n's step decay: every learning rate is multiplied by ``lr_decay`` after each
        epoch. 'cosine' lowers it from ``optim_config['learning_rate']`` to 0 along half a cosine
        over the run's epochs (``lr_decay`` must stay 1). The schedule's length is fixed when the
        run starts: a resumed cosine run must keep its ``num_epochs``.
    warmup_epochs : float, default 0
        Raise the learning rate linearly from 0 over this many epochs first (needs
        ``optim_config['learning_rate']``).
    early_stopping : int, optional
        Stop when the validation accuracy has not improved for this many epochs (the patience);
        ``stopped_early`` then holds the epoch.
    epoch_callback : callable, optional
        ``epoch_callback(solver)``, called at the end of every epoch, once its accuracies are recorded
        and its checkpoint written (``solver.epoch`` and ``solver.val_acc_history[-1]`` are that
        epoch's). A true return value stops training there as early stopping does: the model gets the best
        parameters and ``stopped_early`` holds the epoch. A hyperparameter search prunes runs this way.
    callbacks : list of tinyconv.callbacks.Callback, optional
        Told of each moment of the run (its start, each update, each accuracy check, each epoch's end, its
        end); one that returns True at an epoch's end stops the run there. ``solver.callbacks`` holds the
        run's callbacks in the order they are called: ``HoldBlas``, the progress report (with
        ``verbose``), these, then ``EpochFunction(epoch_callback)`` and ``EarlyStopping(early_stopping)``
        when those are given.
    augment : callable, optional
        ``augment(X_batch, rng) -> X_batch``, applied to every training minibatch with the Solver's
        own generator, so a seeded run augments the same way every time (see
        :class:`tinyconv.data.augment.RandomCropFlip`).
    keep : 'best' or 'last', default 'best'
        The parameters the model holds when training ends: those of the epoch with the best validation
        accuracy (cs231n's Solver), or the last epoch's, which suits a schedule that anneals the learning
        rate to zero, where a small validation set would otherwise pick among near-equal epochs by noise.
        After a divergence the model always gets the best ones; after early stopping, 'last' leaves the
        epoch at which the patience ran out.
    raise_on_divergence : bool, default False
        What a NaN or infinite loss does. False: training stops without an
        exception, so that a loop over learning rates goes on to its next setting
        as it does with the starter's Solver; the model gets the best parameters
        seen, ``diverged`` says why and a RuntimeWarning is issued. True: the same,
        and then :class:`TrainingDivergedError` is raised.

    Attributes
    ----------
    loss_history : list of float
        The minibatch loss of every iteration.
    train_acc_history, val_acc_history : list of float
        Accuracies after the first iteration and at the end of every epoch.
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
        unknown = sorted(set(kwargs) - set(_DEFAULTS))
        if unknown:
            raise ValueError(f"Solver: unrecognized arguments {unknown}; it accepts {sorted(_DEFAULTS)}")
        if not isinstance(getattr(model, "params", None), dict) or not callable(getattr(model, "loss", None)):
            raise TypeError(f"Solver: model must have a params dict and a loss(X, y=None) method, got "
                            f"{_checks.describe(model)}")
        settings = {**_DEFAULTS, **kwargs}
        self.model = model
        self._set_data(data)
        self.update_rule = _resolve_update_rule(settings["update_rule"])
        self._update_rule_name = checkpoint.rule_name(settings["update_rule"])
        optim_config = settings["optim_config"]
        self.optim_config = {} if optim_config is None else _checks.dictionary("Solver", "optim_config", optim_config)
        if isinstance(settings["update_rule"], str):  # a function of the user's own takes what it likes
            known = optim.CONFIG_KEYS[settings["update_rule"]]
            unknown = sorted((key for key in self.optim_config if key not in known), key=str)
            if unknown:
                raise ValueError(f"Solver: optim_config has {unknown}, which update rule "
                                 f"{settings['update_rule']!r} does not take; its keys are {list(known)}")
        self.lr_decay = _checks.nonnegative_float("Solver", "lr_decay", settings["lr_decay"])
        self.batch_size = _checks.positive_int("Solver", "batch_size", settings["batch_size"])
        self.num_epochs = _checks.positive_int("Solver", "num_epochs", settings["num_epochs"])
        self.num_train_samples = self._optional_count(settings, "num_train_samples")
        self.num_val_samples = self._optional_count(settings, "num_val_samples")
        self.checkpoint_name = settings["checkpoint_name"]
        if self.checkpoint_name is not None and not isinstance(self.checkpoint_name, (str, os.PathLike)):
            raise TypeError(f"Solver: checkpoint_name must be None, a str or a path, got "
                            f"{_checks.describe(self.checkpoint_name)}")
        if self.checkpoint_name is not None:
            folder = os.path.dirname(os.fspath(self.checkpoint_name)) or "."
            if not os.path.isdir(folder):
                raise ValueError(f"Solver: checkpoint_name {os.fspath(self.checkpoint_name)!r} is in a folder that does "
                                 f"not exist ({folder}); create it first.")
        self.print_every = _checks.positive_int("Solver", "print_every", settings["print_every"])
        self.verbose = bool(settings["verbose"])
        self.seed = _checks.optional_seed("Solver", "seed", settings["seed"])
        self.resume_from = settings["resume_from"]
        self.metadata = {} if settings["metadata"] is None else _checks.dictionary(
            "Solver", "metadata", settings["metadata"])
        self.raise_on_divergence = _checks.boolean("Solver", "raise_on_divergence", settings["raise_on_divergence"])
        self.keep = _checks.one_of("Solver", "keep", settings["keep"], KEEP)
        self.diverged = None
        self._configure_schedule(settings)
        self.early_stopping = _checks.integer("Solver", "early_stopping", settings["early_stopping"], 1,
                                              optional=True)
        self.augment = settings["augment"]
        if self.augment is not None and not callable(self.augment):
            raise TypeError(f"Solver: augment must be None or a function augment(X, rng) -> X, got "
                            f"{_checks.describe(self.augment)}")
        self.epoch_callback = settings["epoch_callback"]
        if self.epoch_callback is not None and not callable(self.epoch_callback):
            raise TypeError(f"Solver: epoch_callback must be None or a function epoch_callback(solver) -> bool, got "
                            f"{_checks.describe(self.epoch_callback)}")
        self.callbacks = self._callbacks(settings["callbacks"])
        self.stopped_early = None
        self.step_seconds = 0.0
        # The epochs the learning-rate schedule spans: fixed when a run starts, kept by a resume.
        self.schedule_epochs = self.num_epochs

        # The path of the last complete checkpoint of this run: the one written last, or the one resumed from.
        self.last_checkpoint = None
        self._reset()
        if self.resume_from is not None:
            self._resume(self.resume_from)

    def _callbacks(self, given):
        """The run's callbacks: BLAS holding, the progress report (with ``verbose``), those ``given``, then
        ``epoch_callback`` and early stopping, in the order they are called."""
        given = [] if given is None else given
        if not isinstance(given, (list, tuple)) or not all(isinstance(item, callbacks.Callback) for item in given):
            raise TypeError(f"Solver: callbacks must be a list of tinyconv.callbacks.Callback objects, got "
                            f"{_checks.describe(given)}")
        chosen = [callbacks.HoldBlas(), *([callbacks.progress()] if self.verbose else []), *given]
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

    def _configure_schedule(self, settings):
        self.lr_schedule = _checks.one_of("Solver", "lr_schedule", settings["lr_schedule"], schedule.KINDS)
        self.warmup_epochs = _checks.nonnegative_float("Solver", "warmup_epochs", settings["warmup_epochs"])
        try:
            schedule.check_decay(self.lr_schedule, self.lr_decay)
        except ValueError as error:
            raise ValueError(f"Solver: lr_decay={self.lr_decay}: {error}; leave lr_decay at 1") from None
        if self._scheduled() and "learning_rate" not in self.optim_config:
            raise ValueError("Solver: a learning-rate schedule or warmup starts from optim_config['learning_rate']; "
                             "give it")

    def _scheduled(self):
        """Whether the learning rate follows a formula of the iteration (else cs231n's in-place decay)."""
        return self.lr_schedule is not None or self.warmup_epochs > 0

    def learning_rate(self, iteration):
        """The learning rate of update ``iteration`` (0-based) under the schedule and warmup; None for an
        update rule of the user's own that was given none."""
        base = self.optim_config.get("learning_rate", optim.DEFAULTS.get(self._update_rule_name, {}).get(
            "learning_rate"))
        if base is None:
            return None
        return schedule.Schedule(base, self.iterations_per_epoch, self.lr_schedule, self.lr_decay, self.warmup_epochs,
                                 self.schedule_epochs).rate(iteration)

    @property
    def iterations_per_epoch(self):
        """Minibatch updates in one epoch (at least one)."""
        return max(len(self.X_train) // self.batch_size, 1)

    def _set_data(self, data):
        _checks.dictionary("Solver", "data", data)
        missing = [key for key in ("X_train", "y_train", "X_val", "y_val") if key not in data]
        if missing:
            raise ValueError(f"Solver: data is missing {missing}; it needs X_train, y_train, X_val, y_val.")
        for split in ("train", "val"):
            X, y = data[f"X_{split}"], data[f"y_{split}"]
            _checks.array("Solver", f"data['X_{split}']", X)
            if X.ndim < 2:
                raise ValueError(f"Solver: data['X_{split}'] must have shape (N, ...) with a sample per row, got "
                                 f"shape {tuple(X.shape)}")
            _checks.array("Solver", f"data['y_{split}']", y)
            if y.dtype.kind not in "iu" or y.ndim != 1:
                raise TypeError(f"Solver: data['y_{split}'] must be a 1-D array of integer class labels, got shape "
                                f"{tuple(y.shape)} of dtype {y.dtype}")
            if len(X) != len(y) or len(X) == 0:
                raise ValueError(f"Solver: data's X_{split} and y_{split} must hold the same positive number of "
                                 f"samples, got {len(X)} and {len(y)}")
        self.X_train, self.y_train = data["X_train"], data["y_train"]
        self.X_val, self.y_val = data["X_val"], data["y_val"]

    @staticmethod
    def _optional_count(settings, name):
        value = settings[name]
        return None if value is None else _checks.positive_int("Solver", name, value)

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
        self.optim_configs = {name: dict(self.optim_config) for name in self.model.params}
        seed = self.seed
        if seed is None:
            seed = np.random.randint(0, 2**32, size=4, dtype=np.uint64)
        self._rng = np.random.default_rng(seed)

    # --- checkpoints (tinyconv.checkpoint says what they hold) ----------------------------

    def _save_checkpoint(self):
        if self.checkpoint_name is None:
            return
        path = f"{os.fspath(self.checkpoint_name)}_epoch_{self.epoch}.npz"
        save_checkpoint(path, self.model, checkpoint.state_of(self))
        self.last_checkpoint = path

    def _resume(self, path):
        checkpoint.resume(self, path)
        self.last_checkpoint = os.fspath(path)

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
            if self._scheduled():
                learning_rate = self.learning_rate(self._iteration)
                for config in self.optim_configs.values():
                    config["learning_rate"] = learning_rate
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
        where = "Solver.check_accuracy"
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
        return metrics.accuracy(self.model, X, y, batch_size, where, sample)

    def _record_accuracies(self):
        train_acc = self.check_accuracy(self.X_train, self.y_train, self.num_train_samples)
        val_acc = self.check_accuracy(self.X_val, self.y_val, self.num_val_samples)
        self.train_acc_history.append(train_acc)
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
        if self.best_params:
            kept = f"the model now holds the best parameters seen (val acc {self.best_val_acc:f})"
        else:
            kept = "no accuracy check had run yet, so the model keeps the parameters it had"
        self.diverged = Divergence(
            f"Training diverged: the loss is {loss} at iteration {iteration} / {num_iterations} "
            f"(epoch {self.epoch + 1} / {self.num_epochs}); {kept}. Try a smaller learning rate.",
            iteration,
            self.epoch + 1,
        )
        if self.raise_on_divergence:
            raise TrainingDivergedError(*self.diverged)
        warnings.warn(self.diverged.reason, RuntimeWarning, stacklevel=3)

    def train(self):
        """Run the optimization for ``num_epochs`` epochs (continuing a resumed run).

        Leaves the best parameters (by validation accuracy) in the model, or the last epoch's with
        ``keep='last'``. A NaN or infinite loss stops training early: see ``raise_on_divergence`` and
        ``diverged``.

        A model with 4-D parameters (convolutions), and any model when tinyconv runs one worker,
        trains with BLAS held at one thread (``tinyconv._parallel.held_blas``). That limit is
        process-wide: other threads' matrix products run on one BLAS thread too until this run
        ends.

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
                if not self._scheduled():
                    for config in self.optim_configs.values():
                        if "learning_rate" in config:
                            config["learning_rate"] *= self.lr_decay
            if t == 0 or epoch_end:
                train_acc, val_acc = self._record_accuracies()
                for callback in self.callbacks:
                    callback.on_accuracies(self, train_acc, val_acc)
            if epoch_end:
                self._save_checkpoint()
                # Every callback hears of every epoch, the last too; stopping early means before the last.
                stops = [callback.on_epoch_end(self) for callback in self.callbacks]
                if any(stops) and self._iteration < num_iterations:
                    self.stopped_early = self.epoch
                    return
