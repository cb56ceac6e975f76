"""The learning rate of each update, the callback that sets it, and the rules between the settings that
shape it.

cs231n's step decay multiplies every rate by ``lr_decay`` after each epoch; a cosine lowers it from the
base rate to 0 along half a cosine over the run's epochs; either may start with a linear warmup. The rules
between these settings are here, once, for the Solver and for a training run's settings alike.
"""

import math
from dataclasses import dataclass

from tinyconv import optim
from tinyconv.callbacks import Callback

KINDS = (None, "cosine")


def follows_formula(kind, warmup_epochs):
    """Whether the rate is a formula of the update's number (a cosine, or any warmup) rather than cs231n's
    decay of each parameter's rate in place."""
    return kind is not None or warmup_epochs > 0


def check_decay(kind, decay):
    """A ValueError where a cosine would be combined with a per-epoch decay, which it makes itself. The
    message says why; the caller adds what to give instead, in its own words."""
    if kind == "cosine" and decay != 1:
        raise ValueError(f"a per-epoch decay of {decay:g} would step the learning rate down each epoch, which the "
                         "cosine schedule does itself")


def check_resume_epochs(source, kind, planned, epochs):
    """A ValueError where a resumed run from ``source`` would change the length of its cosine, ``planned``
    epochs, to ``epochs``: the rate of every update after the resume would differ."""
    if kind == "cosine" and epochs != planned:
        raise ValueError(f"{source} follows a cosine schedule over {planned} epochs, which a resume cannot change")


@dataclass(frozen=True)
class Schedule:
    """The rate of update ``iteration`` (0-based) for a run of ``iterations_per_epoch`` updates an epoch.

    ``base`` is the rate it starts from; ``kind`` None (step decay by ``decay`` after each epoch) or
    'cosine' over ``epochs`` epochs; ``warmup_epochs`` of linear warmup from 0 first (fractions allowed).
    """

    base: float
    iterations_per_epoch: int
    kind: str = None
    decay: float = 1.0
    warmup_epochs: float = 0.0
    epochs: int = 1

    def rate(self, iteration):
        per_epoch = self.iterations_per_epoch
        warmup = self.warmup_epochs * per_epoch
        factor = min(1.0, (iteration + 1) / warmup) if warmup else 1.0
        if self.kind == "cosine":
            total = self.epochs * per_epoch
            done = min(1.0, max(0.0, (iteration - warmup) / max(total - warmup, 1)))
            factor *= 0.5 * (1 + math.cos(math.pi * done))
        else:
            factor *= self.decay ** (iteration // per_epoch)
        return self.base * factor


class LearningRateSchedule(Callback):
    """Sets the learning rate of a Solver's updates.

    With a cosine or a warmup, every parameter's rate is set from :class:`Schedule` before each update. With
    cs231n's step decay alone, each parameter's rate is multiplied by ``decay`` in place at each epoch's end
    (before the epoch's checkpoint records it), so that an update rule's own rate (from its defaults) decays
    too. ``epochs`` is the length of a cosine: fixed when a run starts, kept by a resume.
    """

    def __init__(self, kind=None, decay=1.0, warmup_epochs=0.0, epochs=1):
        self.kind, self.decay, self.warmup_epochs, self.epochs = kind, decay, warmup_epochs, epochs
        self.formula = follows_formula(kind, warmup_epochs)

    def rate(self, solver, iteration):
        """The rate of ``solver``'s update ``iteration`` (0-based); None for an update rule of the user's own
        that was given none."""
        base = solver.optim_config.get("learning_rate", optim.DEFAULTS.get(solver.update_rule_name, {}).get(
            "learning_rate"))
        if base is None:
            return None
        return Schedule(base, solver.iterations_per_epoch, self.kind, self.decay, self.warmup_epochs,
                        self.epochs).rate(iteration)

    def on_iteration_begin(self, solver, iteration):
        if self.formula:
            rate = self.rate(solver, iteration)
            for config in solver.optim_configs.values():
                config["learning_rate"] = rate

    def on_epoch_end(self, solver):
        if not self.formula:
            for config in solver.optim_configs.values():
                if "learning_rate" in config:
                    config["learning_rate"] *= self.decay
        return False
