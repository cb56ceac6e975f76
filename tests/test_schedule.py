"""tinyconv.schedule: the learning rate of each update, and the rules between its settings, held once for the
Solver and a run's settings."""

import math

import pytest

from tinyconv.schedule import Schedule, check_decay, check_resume_epochs


def test_the_step_decay_multiplies_the_rate_after_each_epoch_after_the_warmup():
    step = Schedule(0.1, iterations_per_epoch=4, decay=0.5, warmup_epochs=0.5)
    assert [step.rate(t) for t in range(9)] == pytest.approx(
        [0.05, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025])


def test_the_cosine_falls_from_the_base_to_zero_over_its_epochs():
    cosine = Schedule(0.2, iterations_per_epoch=10, kind="cosine", epochs=3)
    assert cosine.rate(0) == pytest.approx(0.2)
    assert cosine.rate(15) == pytest.approx(0.1 * (1 + math.cos(math.pi * 0.5)))
    assert cosine.rate(30) == pytest.approx(0.0, abs=1e-12)


def test_a_cosine_takes_no_per_epoch_decay_and_keeps_its_length_on_a_resume():
    check_decay(None, 0.5)
    check_decay("cosine", 1)
    with pytest.raises(ValueError, match="a per-epoch decay of 0.9 would step the learning rate down each epoch"):
        check_decay("cosine", 0.9)
    check_resume_epochs("run/c.npz", None, 3, 5)
    check_resume_epochs("run/c.npz", "cosine", 3, 3)
    with pytest.raises(ValueError, match="run/c.npz follows a cosine schedule over 3 epochs, which a resume cannot"):
        check_resume_epochs("run/c.npz", "cosine", 3, 5)
