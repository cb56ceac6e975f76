"""What a checkpoint holds of a Solver's run, the callback that writes one each epoch, and putting it back:
the exact resume.

A checkpoint is a model file (:func:`tinyconv.serialization.save_checkpoint`) whose solver state is
:func:`state_of` a Solver: its settings, counters, histories, best parameters and buffers, optimizer state
and both random states (the Solver's and NumPy's global one, which cs231n models and unseeded dropout draw
from). :func:`resume` checks that a Solver was made for the same run (the model's class and config, the
settings that steer training) and puts the run back, so that training ends bit for bit where the
uninterrupted run would have.
"""

import dataclasses
import os

import numpy as np

from tinyconv.callbacks import Callback
from tinyconv.models._base import set_buffers
from tinyconv.schedule import check_resume_epochs
from tinyconv.serialization import MODEL_CLASSES, read_checkpoint, save_checkpoint

# Settings that change the course of training: a resumed run must use the
# values its checkpoint was written with, or it would not continue that run.
_TRAJECTORY_SETTINGS = (
    "update_rule",
    "optim_config",
    "lr_decay",
    "batch_size",
    "num_train_samples",
    "num_val_samples",
    "lr_schedule",
    "warmup_epochs",
    "augment",
)
# Those that tinyconv 0.1.0's checkpoints lack, with the values they stand for there.
_SETTINGS_ADDED_AFTER_0_1 = {"lr_schedule": None, "warmup_epochs": 0.0, "augment": None}
# The parts of np.random.get_state(), saved so that a model drawing from NumPy's
# global RNG also continues exactly after a resume.
_GLOBAL_RNG_FIELDS = ("name", "keys", "pos", "has_gauss", "cached_gaussian")


class Checkpoints(Callback):
    """Write the run's checkpoint at the end of each epoch k, ``{prefix}_epoch_{k}.npz`` (atomically), and
    make it ``solver.last_checkpoint`` once it is complete: a write that fails never becomes it."""

    def __init__(self, prefix):
        self.prefix = os.fspath(prefix)

    def on_epoch_end(self, solver):
        path = f"{self.prefix}_epoch_{solver.epoch}.npz"
        save_checkpoint(path, solver.model, state_of(solver))
        solver.last_checkpoint = path
        return False


def rule_name(rule):
    """The update rule as a checkpoint records it: its name, or where its function is defined.

    Callables without a ``__qualname__`` (``functools.partial``, objects with
    ``__call__``) are named by their type.
    """
    if isinstance(rule, str):
        return rule
    named = rule if hasattr(rule, "__qualname__") else type(rule)
    return f"{named.__module__}.{named.__qualname__}"


def _describe_callable(function):
    """How a checkpoint records a callable setting: a dataclass instance (such as RandomCropFlip) by its repr,
    which holds its parameters; anything else by where it is defined."""
    return repr(function) if dataclasses.is_dataclass(function) else rule_name(function)


def settings_of(solver):
    """The Solver's keyword arguments, as its checkpoints record them."""
    return {
        "update_rule": solver.update_rule_name,
        "optim_config": solver.optim_config,
        "lr_decay": solver.lr_decay,
        "batch_size": solver.batch_size,
        "num_epochs": solver.num_epochs,
        "num_train_samples": solver.num_train_samples,
        "num_val_samples": solver.num_val_samples,
        "print_every": solver.print_every,
        "seed": solver.seed,
        "checkpoint_name": None if solver.checkpoint_name is None else os.fspath(solver.checkpoint_name),
        "lr_schedule": solver.lr_schedule,
        "warmup_epochs": solver.warmup_epochs,
        "schedule_epochs": solver.schedule.epochs,
        "early_stopping": solver.early_stopping,
        "augment": None if solver.augment is None else _describe_callable(solver.augment),
        "keep": solver.keep,
    }

def state_of(solver):
    """What a checkpoint of ``solver`` holds beside its model: the settings, the counters and histories, the
    best parameters and buffers, the optimizer state, both random states and the metadata."""
    return {
        "settings": settings_of(solver),
        "epoch": solver.epoch,
        "iteration": solver._iteration,
        "loss_history": np.array(solver.loss_history, dtype=np.float64),
        "train_acc_history": np.array(solver.train_acc_history, dtype=np.float64),
        "seconds_history": np.array(solver.seconds_history, dtype=np.float64),
        "val_acc_history": np.array(solver.val_acc_history, dtype=np.float64),
        "val_loss_history": np.array(solver.val_loss_history, dtype=np.float64),
        "best_val_acc": float(solver.best_val_acc),
        "best_params": solver.best_params,
        "best_state": solver.best_state,
        "optim_configs": solver.optim_configs,
        "rng_state": solver._rng.bit_generator.state,
        "global_rng_state": dict(zip(_GLOBAL_RNG_FIELDS, np.random.get_state())),
        "metadata": solver.metadata,
    }


def resume(solver, path):
    """Put the run that the checkpoint at ``path`` holds into ``solver``, after checking that the Solver was
    made with the model and the settings that steer training that the run had; ValueError naming ``path``
    otherwise."""
    record, state = read_checkpoint(path)
    path = os.fspath(path)
    _check_same_model(solver, path, record)
    try:
        stored_settings = state["settings"]
        current_settings = settings_of(solver)
        stored_settings = {**_SETTINGS_ADDED_AFTER_0_1, **stored_settings}
        for key in _TRAJECTORY_SETTINGS:
            stored = stored_settings[key]
            if stored != current_settings[key]:
                raise ValueError(
                    f"{path} was written with {key}={stored!r}, but this Solver "
                    f"has {key}={current_settings[key]!r}; pass the checkpoint's value to resume."
                )
        planned = solver.schedule.epochs = stored_settings.get("schedule_epochs", solver.schedule.epochs)
        try:
            check_resume_epochs(path, solver.lr_schedule, planned, solver.num_epochs)
        except ValueError as error:
            raise ValueError(f"{error}; resume with num_epochs={planned}.") from None
        _restore(solver, path, record, state)
    except (KeyError, TypeError) as error:
        raise ValueError(f"{path} has incomplete solver state: {error!r}") from error
    iterations_per_epoch = solver.iterations_per_epoch
    if solver._iteration != solver.epoch * iterations_per_epoch:
        raise ValueError(
            f"{path} ends epoch {solver.epoch} at iteration {solver._iteration}, but with "
            f"{len(solver.X_train)} training samples and batch_size={solver.batch_size} an epoch "
            f"has {iterations_per_epoch} iterations; resume with the same training data."
        )
    solver.last_checkpoint = path


def _check_same_model(solver, path, record):
    """The checkpoint must hold the model's class (and, for tinyconv models, its config)."""
    stored_class = record.get("class") or record.get("type")
    own_class = type(solver.model).__name__
    if MODEL_CLASSES.get(own_class) is not type(solver.model):
        own_class = f"{type(solver.model).__module__}.{type(solver.model).__qualname__}"
    if stored_class != own_class:
        raise ValueError(f"{path} holds a {stored_class}, but the model is a {own_class}.")
    if record.get("class") is None:
        return
    stored_config, config = record.get("config", {}), solver.model.get_config()
    try:
        stored_config = type(solver.model).complete_config(stored_config)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path} holds a model config this tinyconv cannot read (written by another version, "
                         f"or damaged): {error}") from error
    differing = sorted(key for key in config if stored_config.get(key) != config[key])
    if differing:
        raise ValueError(
            f"{path} was written for a model with "
            + ", ".join(f"{key}={stored_config.get(key)!r}" for key in differing)
            + "; this model has "
            + ", ".join(f"{key}={config[key]!r}" for key in differing)
            + ". Build the model from the checkpoint's config to resume it."
        )

def _replace_params(solver, path, params):
    """Copies of ``params`` into the model, which must have exactly these names, shapes and dtypes."""
    own = solver.model.params
    mismatched = sorted(name for name in set(own) | set(params)
                        if name not in own or name not in params
                        or np.shape(own[name]) != np.shape(params[name])
                        or getattr(own[name], "dtype", None) != getattr(params[name], "dtype", None))
    if mismatched:
        raise ValueError(f"{path}: the stored parameters {mismatched} do not match the model's in name, "
                         "shape or dtype; resume with the model the checkpoint was written for.")
    solver.model.params = {name: value.copy() for name, value in params.items()}

def _restore(solver, path, record, state):
    if set(state["optim_configs"]) != set(record["params"]):
        raise ValueError(
            f"{path}: the optimizer state covers {sorted(state['optim_configs'])}, "
            f"but the model has {sorted(record['params'])}."
        )
    _replace_params(solver, path, record["params"])
    try:
        set_buffers(solver.model, record["state"], where=path)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from error
    solver.epoch = int(state["epoch"])
    solver._iteration = int(state["iteration"])
    solver.loss_history = [float(value) for value in state["loss_history"]]
    solver.train_acc_history = [float(value) for value in state["train_acc_history"]]
    # Checkpoints of tinyconv 0.1.0 did not time the run.
    solver.seconds_history = [float(value) for value in state.get("seconds_history", [0.0] * len(
        solver.train_acc_history))]
    solver.val_acc_history = [float(value) for value in state["val_acc_history"]]
    # Checkpoints written before the validation loss was recorded lack it.
    solver.val_loss_history = [float(value) for value in state.get("val_loss_history", [np.nan] * len(
        solver.val_acc_history))]
    solver.best_val_acc = state["best_val_acc"]
    solver.best_params = dict(state["best_params"])
    solver.best_state = dict(state["best_state"])
    solver.optim_configs = state["optim_configs"]
    solver._rng.bit_generator.state = state["rng_state"]
    global_state = state["global_rng_state"]
    np.random.set_state(tuple(global_state[field] for field in _GLOBAL_RNG_FIELDS))
