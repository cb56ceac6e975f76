"""PyTorch, the oracle of the layer tests, imported the first time a test uses it.

Without PyTorch the tests that need it are skipped with a reason, and every other test still runs. With
``TINYCONV_REQUIRE_ORACLE=1`` in the environment (``.ci/run`` sets it) a missing PyTorch fails those tests
instead, so that no oracle test can pass unnoticed as a skip.
"""

import functools
import importlib
import os

import pytest

REQUIRE_ENV = "TINYCONV_REQUIRE_ORACLE"


@functools.cache
def _load_torch():
    try:
        torch = importlib.import_module("torch")
    except ImportError as error:
        return error
    # The oracle tensors are tiny; extra threads only add contention.
    torch.set_num_threads(1)
    return torch


def _module(name):
    loaded = _load_torch()
    if isinstance(loaded, ImportError):
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(f"PyTorch is required here (${REQUIRE_ENV} is set) but cannot be imported: {loaded}")
        pytest.skip("PyTorch, this test's oracle, is not installed (pip install -e '.[test]' brings it)")
    return importlib.import_module(name)


class _Lazy:
    """Stands for a PyTorch module; the first attribute looked up imports it (or skips the test)."""

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attribute):
        if attribute.startswith("__"):  # pytest's collection probes objects for dunder attributes
            raise AttributeError(attribute)
        return getattr(_module(self._name), attribute)


torch = _Lazy("torch")
F = _Lazy("torch.nn.functional")
