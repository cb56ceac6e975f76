"""The learning rate of each update, and the rules between the settings that shape it.

cs231n's step decay multiplies every rate by ``lr_decay`` after each epoch; a cosine lowers it from the
base rate to 0 along half a cosine over the run's epochs; either may start with a linear warmup. The rules
between these settings are here, once, for the Solver and for a training run's settings alike.
"""

import math
from dataclasses import dataclass

KINDS = (None, "cosine")


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
