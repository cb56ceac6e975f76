"""The Solver's keyword arguments, each declared once: its default, its check and its documentation.

In the manner of scikit-learn's parameter constraints, :data:`OPTIONS` is data: ``Solver.__init__`` checks
every keyword through its declaration (:func:`checked`), with the rule between two keywords in
:func:`checked` too, and the Solver's docstring lists the keywords from here. A check is
``check(where, name, value) -> value`` and raises TypeError or ValueError naming ``where`` and ``name``.
"""

import os
import textwrap
from typing import Callable, NamedTuple

from tinyconv import _checks, optim, schedule

# The parameters the model holds when training ends.
KEEP = ("best", "last")


class Option(NamedTuple):
    """One keyword of the Solver: its ``default``, its ``check`` and its numpydoc entry (``kind`` is the
    type line's start, ``doc`` the description)."""

    name: str
    default: object
    check: Callable
    kind: str
    doc: str


# --- checks that _checks does not have ------------------------------------------------------------------


def optional_count(where, name, value):
    """None, or a positive int."""
    return _checks.integer(where, name, value, 1, optional=True)


def choice(options):
    def check_choice(where, name, value):
        return _checks.one_of(where, name, value, options)
    return check_choice


def function(signature):
    """None, or a callable described by ``signature`` in the message."""
    def check_function(where, name, value):
        if value is not None and not callable(value):
            raise TypeError(f"{where}: {name} must be None or a function {signature}, got {_checks.describe(value)}")
        return value
    return check_function


def update_rule(where, name, value):
    if callable(value) or (isinstance(value, str) and value in optim.__all__):
        return value
    raise ValueError(f"{where}: {name} {value!r} is not an update rule; pass one of {optim.__all__} or a "
                     "function next_w, config = rule(w, dw, config).")


def checkpoint_prefix(where, name, value):
    """None, or a path prefix in a folder that exists."""
    if value is None:
        return None
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{where}: {name} must be None, a str or a path, got {_checks.describe(value)}")
    folder = os.path.dirname(os.fspath(value)) or "."
    if not os.path.isdir(folder):
        raise ValueError(f"{where}: {name} {os.fspath(value)!r} is in a folder that does not exist ({folder}); "
                         "create it first.")
    return value


def as_given(where, name, value):
    """No check here: the value is checked where it is used (a checkpoint's path, when it is read)."""
    return value


def truth(where, name, value):
    """Any value, as its truth (``verbose=0`` is quiet)."""
    return bool(value)


def dictionary_or_empty(where, name, value):
    return {} if value is None else _checks.dictionary(where, name, value)


def callback_list(where, name, value):
    from tinyconv.callbacks import Callback

    value = [] if value is None else value
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, Callback) for item in value):
        raise TypeError(f"{where}: {name} must be a list of tinyconv.callbacks.Callback objects, got "
                        f"{_checks.describe(value)}")
    return list(value)


OPTIONS = (
    Option("update_rule", "sgd", update_rule, "str or callable, default 'sgd'",
           "A name from :mod:`tinyconv.optim` or a function with its interface."),
    Option("optim_config", None, dictionary_or_empty, "dict, optional",
           "Hyperparameters given to the update rule; each parameter gets its own copy."),
    Option("lr_decay", 1.0, _checks.nonnegative_float, "float, default 1.0",
           "Every parameter's learning rate is multiplied by this after each epoch."),
    Option("batch_size", 100, _checks.positive_int, "int, default 100", "Samples in each minibatch."),
    Option("num_epochs", 10, _checks.positive_int, "int, default 10", "Epochs the run trains for."),
    Option("num_train_samples", 1000, optional_count, "int or None, default 1000",
           "Training samples used to measure the training accuracy (None: all)."),
    Option("num_val_samples", None, optional_count, "int or None, default None",
           "Validation samples used to measure the validation accuracy (None: all)."),
    Option("checkpoint_name", None, checkpoint_prefix, "str or os.PathLike, optional",
           "Prefix of the checkpoint written at the end of each epoch k: ``{checkpoint_name}_epoch_{k}.npz`` "
           "(the :class:`tinyconv.checkpoint.Checkpoints` callback). Any model can be checkpointed: its params, "
           "its cs231n-style buffers (the running statistics in ``model.bn_params``) and the solver state, "
           "without pickle."),
    Option("print_every", 10, _checks.positive_int, "int, default 10", "Report the loss every this many iterations."),
    Option("verbose", True, truth, "bool, default True",
           "Report progress: one tqdm bar for the whole run (time left, images per second, the current epoch's "
           "own bar beside it) when stdout is a terminal at least 60 columns wide and tqdm is installed, "
           "otherwise print lines."),
    Option("seed", None, _checks.optional_seed, "int, optional",
           "Seed of the generator that draws the minibatches and the accuracy subsamples. None seeds it from "
           "NumPy's global RNG, so ``np.random.seed`` still makes a run repeatable."),
    Option("resume_from", None, as_given, "str or os.PathLike, optional",
           "A checkpoint written by a Solver. Its model parameters and buffers, optimizer state, histories, "
           "counters and random states (the Solver's and NumPy's global one, which unseeded dropout uses) are "
           "restored, so ``train()`` ends exactly where the interrupted run would have ended. The model must "
           "have the checkpoint's class and config (a model of your own: its class and parameter shapes; build "
           "it as before), and the settings that steer training (update_rule, optim_config, lr_decay, "
           "batch_size, num_train_samples, num_val_samples, lr_schedule, warmup_epochs, augment) the "
           "checkpoint's values; num_epochs may differ, except on a cosine schedule, whose length a run fixes "
           "when it starts."),
    Option("metadata", None, dictionary_or_empty, "dict, optional",
           "JSON-serializable facts about the run, saved in every checkpoint as they are (the command line "
           "records its dataset and splits there); ``serialization.read_checkpoint`` returns them under "
           "``solver_state['metadata']``."),
    Option("raise_on_divergence", False, _checks.boolean, "bool, default False",
           "What a NaN or infinite loss does. False: training stops without an exception, so that a loop over "
           "learning rates goes on to its next setting as it does with the starter's Solver; the model gets "
           "the best parameters seen, ``diverged`` says why and a RuntimeWarning is issued. True: the same, and "
           "then :class:`TrainingDivergedError` is raised."),
    Option("lr_schedule", None, choice(schedule.KINDS), "None or 'cosine', default None",
           "None is cs231n's step decay: every learning rate is multiplied by ``lr_decay`` after each epoch. "
           "'cosine' lowers it from ``optim_config['learning_rate']`` to 0 along half a cosine over the run's "
           "epochs (``lr_decay`` must stay 1). The schedule's length is fixed when the run starts: a resumed "
           "cosine run must keep its ``num_epochs``. Either is carried out by the run's "
           ":class:`tinyconv.schedule.LearningRateSchedule` callback."),
    Option("warmup_epochs", 0, _checks.nonnegative_float, "float, default 0",
           "Raise the learning rate linearly from 0 over this many epochs first (needs "
           "``optim_config['learning_rate']``)."),
    Option("early_stopping", None, optional_count, "int, optional",
           "Stop when the validation accuracy has not improved for this many epochs (the patience; an "
           ":class:`tinyconv.callbacks.EarlyStopping` callback); ``stopped_early`` then holds the epoch."),
    Option("augment", None, function("augment(X, rng) -> X"), "callable, optional",
           "``augment(X_batch, rng) -> X_batch``, applied to every training minibatch with the Solver's own "
           "generator, so a seeded run augments the same way every time (see "
           ":class:`tinyconv.data.augment.RandomCropFlip`)."),
    Option("epoch_callback", None, function("epoch_callback(solver) -> bool"), "callable, optional",
           "``epoch_callback(solver)``, called at the end of every epoch, once its accuracies are recorded and "
           "its checkpoint written (``solver.epoch`` and ``solver.val_acc_history[-1]`` are that epoch's). A "
           "true return value stops training there as early stopping does: the model gets the best parameters "
           "and ``stopped_early`` holds the epoch. A hyperparameter search prunes runs this way."),
    Option("keep", "best", choice(KEEP), "'best' or 'last', default 'best'",
           "The parameters the model holds when training ends: those of the epoch with the best validation "
           "accuracy (cs231n's Solver), or the last epoch's, which suits a schedule that anneals the learning "
           "rate to zero, where a small validation set would otherwise pick among near-equal epochs by noise. "
           "After a divergence the model always gets the best ones; after early stopping, 'last' leaves the "
           "epoch at which the patience ran out."),
    Option("callbacks", None, callback_list, "list of tinyconv.callbacks.Callback, optional",
           "Told of each moment of the run (its start, each update, each accuracy check, each epoch's end, its "
           "end); one that returns True at an epoch's end stops the run there. ``solver.callbacks`` holds the "
           "run's callbacks in the order they are called: ``HoldBlas``, the ``LearningRateSchedule``, "
           "``Checkpoints`` (with ``checkpoint_name``), the progress report (with ``verbose``), these, then "
           "``EpochFunction(epoch_callback)`` and ``EarlyStopping(early_stopping)`` when those are given."),
)
DEFAULTS = {option.name: option.default for option in OPTIONS}


def checked(where, keywords):
    """Every option's value: ``keywords`` checked by their declarations, the defaults for the others."""
    unknown = sorted(set(keywords) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"{where}: unrecognized arguments {unknown}; it accepts {sorted(DEFAULTS)}")
    values = {option.name: option.check(where, option.name, keywords.get(option.name, option.default))
              for option in OPTIONS}
    _check_together(where, values)
    return values


def _check_together(where, values):
    """The rules between options."""
    rule = values["update_rule"]
    if isinstance(rule, str):  # a function of the user's own takes what it likes
        known = optim.CONFIG_KEYS[rule]
        unknown = sorted((key for key in values["optim_config"] if key not in known), key=str)
        if unknown:
            raise ValueError(f"{where}: optim_config has {unknown}, which update rule {rule!r} does not take; "
                             f"its keys are {list(known)}")
    try:
        schedule.check_decay(values["lr_schedule"], values["lr_decay"])
    except ValueError as error:
        raise ValueError(f"{where}: lr_decay={values['lr_decay']}: {error}; leave lr_decay at 1") from None
    if schedule.follows_formula(values["lr_schedule"], values["warmup_epochs"]) and (
            "learning_rate" not in values["optim_config"]):
        raise ValueError(f"{where}: a learning-rate schedule or warmup starts from optim_config['learning_rate']; "
                         "give it")


def check_data(where, data):
    """``data``'s X_train, y_train, X_val, y_val, checked: arrays of samples with as many integer labels."""
    _checks.dictionary(where, "data", data)
    missing = [key for key in ("X_train", "y_train", "X_val", "y_val") if key not in data]
    if missing:
        raise ValueError(f"{where}: data is missing {missing}; it needs X_train, y_train, X_val, y_val.")
    for split in ("train", "val"):
        X, y = data[f"X_{split}"], data[f"y_{split}"]
        _checks.array(where, f"data['X_{split}']", X)
        if X.ndim < 2:
            raise ValueError(f"{where}: data['X_{split}'] must have shape (N, ...) with a sample per row, got "
                             f"shape {tuple(X.shape)}")
        _checks.array(where, f"data['y_{split}']", y)
        if y.dtype.kind not in "iu" or y.ndim != 1:
            raise TypeError(f"{where}: data['y_{split}'] must be a 1-D array of integer class labels, got shape "
                            f"{tuple(y.shape)} of dtype {y.dtype}")
        if len(X) != len(y) or len(X) == 0:
            raise ValueError(f"{where}: data's X_{split} and y_{split} must hold the same positive number of "
                             f"samples, got {len(X)} and {len(y)}")
    return data["X_train"], data["y_train"], data["X_val"], data["y_val"]


def check_model(where, model):
    if not isinstance(getattr(model, "params", None), dict) or not callable(getattr(model, "loss", None)):
        raise TypeError(f"{where}: model must have a params dict and a loss(X, y=None) method, got "
                        f"{_checks.describe(model)}")


def docstring():
    """The numpydoc Parameters entries of every option."""
    entries = []
    for option in OPTIONS:
        entries.append(f"{option.name} : {option.kind}")
        entries.extend(textwrap.wrap(option.doc, 100, initial_indent="    ", subsequent_indent="    "))
    return "\n".join(entries)
