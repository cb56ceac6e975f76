"""Optional packages the tests need, imported the first time a test uses them: PyTorch (the oracle of the
layer tests and the benchmarks' rival), onnx and onnxruntime (the ONNX export's tests), Optuna and Ray
(the sweeps').

Without one of them the tests that need it are skipped with a reason that names the extra to install, and
every other test still runs. With ``TINYCONV_REQUIRE_ORACLE=1`` in the environment (``.ci/run`` sets it) a
missing package fails those tests instead, so that no such test can pass unnoticed as a skip.
"""

import functools
import importlib
import os

import pytest

REQUIRE_ENV = "TINYCONV_REQUIRE_ORACLE"
# Each package's name in messages, what it is to the tests, and the extra of tinyconv that installs it.
_PACKAGES = {"torch": ("PyTorch", "this test's oracle", "bench"),
             "onnx": ("onnx", "which this test needs", "onnx"),
             "onnxruntime": ("onnxruntime", "which this test needs", "onnx"),
             "optuna": ("Optuna", "which the sweep tests need", "sweep"),
             "ray": ("Ray", "which the sweep tests need", "sweep"),
             "tensorboardX": ("tensorboardX", "which writes the TensorBoard logs", "tensorboard"),
             "tensorboard": ("TensorBoard", "whose reader checks the logs", "test")}


@functools.cache
def _load(package):
    try:
        module = importlib.import_module(package)
    except ImportError as error:
        return error
    if package == "torch":
        # The oracle tensors are tiny; extra threads only add contention.
        module.set_num_threads(1)
    return module


def _module(name, needs):
    for package in needs:
        loaded = _load(package)
        if isinstance(loaded, ImportError):
            display, role, extra = _PACKAGES[package]
            if os.environ.get(REQUIRE_ENV):
                pytest.fail(f"{display} is required here (${REQUIRE_ENV} is set) but cannot be imported: {loaded}",
                            pytrace=False)
            pytest.skip(f"{display}, {role}, is not installed: pip install -e '.[{extra}]' (or '.[test]', every "
                        "extra)")
    return importlib.import_module(name)


def require(*packages):
    """In a test or a fixture that needs ``packages``: skip it (or, with $TINYCONV_REQUIRE_ORACLE, fail it)
    when one is missing; the first package's module otherwise."""
    return _module(packages[0], packages)


class _Lazy:
    """Stands for a module; the first attribute looked up imports it, after the packages it ``needs`` (by
    default its own top-level package), or skips the test."""

    def __init__(self, name, needs=None):
        self._name = name
        self._needs = needs or (name.split(".")[0],)

    def __getattr__(self, attribute):
        if attribute.startswith("__"):  # pytest's collection probes objects for dunder attributes
            raise AttributeError(attribute)
        return getattr(_module(self._name, self._needs), attribute)


torch = _Lazy("torch")
F = _Lazy("torch.nn.functional")
nn = _Lazy("torch.nn")
onnx = _Lazy("onnx")
optuna = _Lazy("optuna")
onnxruntime = _Lazy("onnxruntime")
