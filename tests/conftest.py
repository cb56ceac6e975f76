"""Shared pytest configuration: hypothesis profiles, a seeded random generator, malloc left as it is."""

import os

import numpy as np
import pytest
from hypothesis import settings

# Property tests run the naive loops on small shapes, so a moderate example count stays fast. No per-example
# deadline: the machine running the suite may be shared and slow. CI replays a fixed sequence of examples;
# HYPOTHESIS_PROFILE=thorough searches longer.
settings.register_profile("dev", deadline=None, max_examples=100)
settings.register_profile("ci", parent=settings.get_profile("dev"), derandomize=True, print_blob=True)
settings.register_profile("thorough", parent=settings.get_profile("dev"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture
def rng():
    """A random generator with a fixed seed, fresh for every test."""
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def malloc_as_it_is(monkeypatch):
    """The command line's keep_freed_memory changes malloc for its whole process: in this one, the suite's,
    it stays as it is, so that no test's outcome depends on which ran a command before it."""
    from tinyconv.cli import _app

    monkeypatch.setattr(_app, "keep_freed_memory", lambda: False)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """A run folder of ``helpers.SMALL_RUN``, one per test module; returns the folder."""
    from .helpers import SMALL_RUN, invoke

    out = tmp_path_factory.mktemp("run")
    result = invoke("train", *SMALL_RUN, "--out", out)
    assert result.exit_code == 0, result.output
    return out

