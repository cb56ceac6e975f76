"""The settings of a training run, each declared once with its constraint, and the rules between them.

:class:`RunSettings` is the vocabulary: the model, the optimizer and schedule, the batch size, the epochs,
the augmentation and which epoch the model file keeps. Each field's constraint, help text, whether a
resumed run may change it, and the value that stands for what runs did before the setting existed are
declared in the field's metadata (:data:`SETTINGS` lists them). Everything that reads settings (a dataset's
recipe, the command line's options, a sweep's space, a checkpoint's record) checks values through it, and
the rules between settings live in :func:`resolve`.
"""

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Callable, NamedTuple, Optional

from tinyconv import _checks, schedule

UPDATE_RULES = ("sgd", "sgd_momentum", "rmsprop", "adam", "adamw")
NORMALIZATIONS = ("none", "batchnorm", "layernorm", "groupnorm")
INITS = ("he", "gaussian", "pytorch")
# The models that are not ConvNet specs: the cs231n networks, which draw their weights as cs231n does.
CS231N_MODELS = ("three-layer", "fc")
# Adam's update rules, which take a decoupled weight decay.
_ADAM_RULES = ("adam", "adamw")


class SettingError(ValueError):
    """A setting's value that cannot be used; ``setting`` names it (a RunSettings field, or another option of
    a run such as ``num_train`` or ``device``), None where settings do not go together as a whole.

    The reason names settings between backquotes (```lr_decay```), which ``str()`` drops and
    :meth:`describe` spells as its reader knows them (the command line: ``--lr-decay``).
    """

    def __init__(self, setting, reason):
        super().__init__(reason)
        self.setting = setting
        self.reason = reason

    def __str__(self):
        return self.describe(str)

    def describe(self, spell):
        """The reason with each backquoted setting name written as ``spell(name)``."""
        return spell_settings(self.reason, spell)

    def names_its_setting(self):
        """Whether the reason itself names the setting (else a reader should be told which it is)."""
        return f"`{self.setting}`" in self.reason


def spell_settings(text, spell):
    """``text`` with each setting name it marks between backquotes (```lr_decay```) written as
    ``spell(name)``: plainly for the library's messages, as an option (``--lr-decay``) for the command line's."""
    return re.sub(r"`(\w+)`", lambda match: spell(match.group(1)), text)


class Setting(NamedTuple):
    """How one setting is checked and described.

    ``kind`` is 'number', 'integer' or 'text'; ``check(value)`` returns the value (converted from text for
    numbers) or raises ValueError or TypeError with the reason; ``choices`` are a text setting's values when
    they are a fixed list; ``resumable`` whether a resumed run may change it (it does not change the course
    of training); ``before_it_existed`` the value that stands for what a run recorded by an older tinyconv,
    which lacks the setting, did (absent: every record has it).
    """

    name: str
    kind: str
    check: Callable
    help: str
    choices: Optional[tuple] = None
    resumable: bool = False
    before_it_existed: object = dataclasses.MISSING

    def validate(self, value):
        """``value`` as the setting takes it, or SettingError with the reason."""
        try:
            return self.check(value)
        except (TypeError, ValueError) as error:
            raise SettingError(self.name, _checks.reason(error)) from None


def _converted(value, convert, wanted):
    """``convert(value)`` for a number or its text; TypeError naming what was ``wanted`` otherwise."""
    try:
        if isinstance(value, bool):
            raise TypeError
        return convert(value)
    except (TypeError, ValueError):
        raise TypeError(f"{value!r} is not {wanted}") from None


def _number(minimum=None, maximum=None, min_open=False):
    def check(value):
        number = _converted(value, float, "a number")
        return _checks.real("setting", "the value", number, minimum, maximum, min_open=min_open)
    return check


def _integer(minimum=None, maximum=None):
    def check(value):
        if isinstance(value, float) and not value.is_integer():
            raise TypeError(f"{value!r} is not an integer")
        return _checks.integer("setting", "the value", _converted(value, int, "an integer"), minimum, maximum)
    return check


def _one_of(choices, optional=False):
    def check(value):
        if optional and value is None:
            return None
        if value not in choices:
            raise ValueError(f"{value!r} is not one of {', '.join(choices)}")
        return str(value)
    return check


def _model(value):
    from tinyconv.models.convnet import parse_spec

    if not isinstance(value, str):
        raise TypeError(f"expected three-layer, fc or a ConvNet spec, got {_checks.describe(value)}")
    if value not in CS231N_MODELS:
        try:
            parse_spec(value)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{error} (or use three-layer or fc)") from None
    return value


def _augment(value):
    from tinyconv.data.augment import RandomCropFlip

    if not isinstance(value, str):
        raise TypeError(f"expected an augmentation such as crop2-flip, got {_checks.describe(value)}")
    RandomCropFlip.from_text(value)
    return value


def _patience(value):
    return None if value is None else _integer(1)(value)


def _setting(kind, check, help, default=dataclasses.MISSING, **declared):
    """A dataclass field whose metadata is the setting's declaration (the name is filled in from the field)."""
    return field(default=default, metadata={"setting": (kind, check, help, declared)})


@dataclass(frozen=True)
class RunSettings:
    """The training settings of a run (a dataset's recipe is one: see ``tinyconv train --help``).

    Every value is checked when the object is made; a wrong one raises SettingError naming the field.
    """

    model: str = _setting(
        "text", _model, "three-layer (conv-relu-pool-affine-relu-affine), fc (two hidden layers of 100), or a "
        "ConvNet spec: '-'-separated cN (N filters), cNp / cNa (then 2x2 max / average pool), cNdD (dilated by "
        "D), rN / rNp (a residual block, at stride 2), sN / sNp (a depthwise-separable block, at stride 2), uN (a "
        "transposed conv doubling the size), g (global average pooling), fN (N hidden units), dP (dropout keeping "
        "P), e.g. c16p-c32p-f128, c32-r32-r64p-g or c16-s32-s64p-g.")
    normalization: str = _setting(
        "text", _one_of(NORMALIZATIONS), "fc: batchnorm or layernorm; ConvNet specs: batchnorm or groupnorm "
        "(residual blocks need batchnorm).", default="none", choices=NORMALIZATIONS)
    init: Optional[str] = _setting(
        "text", _one_of(INITS, optional=True), "How a ConvNet spec draws its initial weights: he N(0, 2/fan_in), "
        "gaussian N(0, 0.01^2) or pytorch U(+-1/sqrt(fan_in)) (the cs231n networks draw theirs as cs231n does).",
        default="he", choices=INITS)
    epochs: int = _setting("integer", _integer(1), "Epochs in all (with a resume, including those the "
                           "checkpoint has done).", default=10, resumable=True)
    batch_size: int = _setting("integer", _integer(1), "", default=50)
    update_rule: str = _setting("text", _one_of(UPDATE_RULES), "", default="adam", choices=UPDATE_RULES)
    lr: float = _setting("number", _number(0, min_open=True), "Learning rate.", default=3e-3)
    lr_decay: float = _setting("number", _number(0, 1), "Learning-rate factor after each epoch (step schedule).",
                              default=0.9)
    lr_schedule: str = _setting(
        "text", _one_of(("step", "cosine")), "step: multiply by `lr_decay` after each epoch; cosine: down to 0 "
        "along half a cosine over the run.", default="step", choices=("step", "cosine"))
    warmup_epochs: float = _setting("number", _number(0), "Raise the learning rate linearly from 0 over this many "
                                    "epochs first.", default=0.0)
    weight_decay: float = _setting("number", _number(0), "Decoupled weight decay (AdamW).", default=0.0)
    reg: float = _setting("number", _number(0), "L2 strength in the loss.", default=0.0)
    label_smoothing: float = _setting(
        "number", _number(0, 1), "Train a ConvNet spec towards 1 - e on the label and e spread over all classes.",
        default=0.0, before_it_existed=0.0)
    augment: str = _setting("text", _augment, "Per-minibatch augmentation: none, cropN (shift by up to N pixels), "
                            "flip, cropN-flip.", default="none")
    early_stopping: Optional[int] = _setting(
        "integer", _patience, "Stop when the validation accuracy has not improved for this many epochs.",
        default=None, resumable=True)
    keep: str = _setting(
        "text", _one_of(("best", "last")), "Which epoch's parameters the model file holds: the best on "
        "validation, or the last (for a schedule that anneals to zero, where a small validation set picks among "
        "near-equal epochs by noise).", default="best", choices=("best", "last"), resumable=True,
        before_it_existed="best")

    def __post_init__(self):
        for setting in SETTINGS.values():
            object.__setattr__(self, setting.name, check(setting.name, getattr(self, setting.name)))

    def replace(self, **changes):
        """A copy with ``changes``, checked."""
        return dataclasses.replace(self, **changes)

    def as_dict(self):
        return dataclasses.asdict(self)


def _declarations():
    settings = {}
    for item in dataclasses.fields(RunSettings):
        kind, check_value, help, declared = item.metadata["setting"]
        settings[item.name] = Setting(item.name, kind, check_value, help, **declared)
    return settings


SETTINGS = _declarations()
# Settings that a resumed run may change: they do not change the course of training.
RESUMABLE = tuple(name for name, setting in SETTINGS.items() if setting.resumable)
# Settings added after runs were first recorded, with what those runs did.
BEFORE_THEY_EXISTED = {name: setting.before_it_existed for name, setting in SETTINGS.items()
                       if setting.before_it_existed is not dataclasses.MISSING}


def check(name, value):
    """``value`` as setting ``name`` takes it (numbers may be given as text), or SettingError with the reason."""
    if name not in SETTINGS:
        raise SettingError(name, f"{name!r} is not a run setting; the settings are {', '.join(SETTINGS)}")
    return SETTINGS[name].validate(value)


def from_record(record):
    """The settings that a run's record (metrics.json's or a checkpoint's) holds, with the values that stand
    for what an older tinyconv did where a setting is missing; SettingError for anything else."""
    _checks.dictionary("from_record", "record", record)
    values = {**BEFORE_THEY_EXISTED, **record}
    missing = sorted(set(SETTINGS) - set(values))
    unknown = sorted(set(values) - set(SETTINGS))
    if missing or unknown:
        raise SettingError((missing or unknown)[0], f"a run's settings must have exactly {', '.join(SETTINGS)}; "
                           f"missing {missing}, unknown {unknown}")
    return RunSettings(**values)


def resolve(recipe, given):
    """The settings of a run: each value of ``given`` (a dict; None means not given) replaces ``recipe``'s.

    The recipe is a whole: with another model its normalization is not kept (the model may not take it), with
    an update rule other than Adam its weight decay is dropped, and with a cosine schedule its per-epoch decay
    is 1. What ``given`` asks for explicitly is never dropped: a conflict is a SettingError.
    """
    given = {name: check(name, value) for name, value in given.items() if value is not None}
    settings = {**recipe.as_dict(), **given}
    if "model" in given and "normalization" not in given:
        settings["normalization"] = "none"
    if settings["update_rule"] not in _ADAM_RULES and "weight_decay" not in given:
        settings["weight_decay"] = 0.0
    if settings["lr_schedule"] == "cosine" and "lr_decay" not in given:
        settings["lr_decay"] = 1.0
    if settings["weight_decay"] and settings["update_rule"] not in _ADAM_RULES:
        raise SettingError("weight_decay", f"decoupled weight decay goes with Adam (adamw); `update_rule` "
                           f"{settings['update_rule']} takes `reg` for an L2 penalty instead")
    try:
        schedule.check_decay(settings["lr_schedule"], settings["lr_decay"])
    except ValueError as error:
        raise SettingError("lr_decay", f"{error}; drop `lr_decay` or give 1") from None
    if settings["model"] in CS231N_MODELS:
        if given.get("init") is not None:
            raise SettingError("init", f"`model` {settings['model']} draws its weights as cs231n does; `init` is "
                               "for ConvNet specs")
        settings["init"] = None  # so that the run's settings, given again, are accepted
        if given.get("label_smoothing"):
            raise SettingError("label_smoothing", f"`model` {settings['model']} computes cs231n's softmax loss; "
                               "`label_smoothing` is for ConvNet specs")
        settings["label_smoothing"] = 0.0
    return RunSettings(**settings)


def check_resume_epochs(settings, epochs, done, checkpoint):
    """Check ``epochs``, the epochs in all asked of a run resumed from ``checkpoint`` after ``done`` epochs
    with ``settings``; SettingError if the resume cannot give them."""
    if epochs < done:
        raise SettingError("epochs", f"the checkpoint has already trained {done} epochs; `epochs` counts all "
                           f"of them, so give at least {done}.")
    try:
        schedule.check_resume_epochs(checkpoint, settings.lr_schedule, settings.epochs, epochs)
    except ValueError as error:
        raise SettingError("epochs", f"{error}; give `epochs` {settings.epochs} or leave it out.") from None


def solver_keywords(settings, seed):
    """The Solver keywords that carry out ``settings`` with ``seed``."""
    from tinyconv.data.augment import RandomCropFlip

    rule, config = settings.update_rule, {"learning_rate": settings.lr}
    # Adam with a weight decay is AdamW; AdamW always gets the run's decay, 0 included (its own default is 1e-2).
    if settings.weight_decay or rule == "adamw":
        rule, config["weight_decay"] = "adamw", settings.weight_decay
    return dict(update_rule=rule, optim_config=config, lr_decay=settings.lr_decay, batch_size=settings.batch_size,
                seed=seed, lr_schedule=None if settings.lr_schedule == "step" else settings.lr_schedule,
                warmup_epochs=settings.warmup_epochs, early_stopping=settings.early_stopping,
                augment=RandomCropFlip.from_text(settings.augment), keep=settings.keep)
