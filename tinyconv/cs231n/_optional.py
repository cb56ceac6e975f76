"""Modules the starter imported at its top that tinyconv does not need, imported when first used."""

import importlib


class OptionalModule:
    """Stands for the module ``name``: the first attribute looked up imports it.

    The starter's modules bound, for instance, ``torch`` (2019 ``fast_layers``), so their star imports
    handed it on; the mirror hands on this stand-in instead, which costs nothing until used and then
    behaves as the module, or raises an ImportError that says what to install.
    """

    def __init__(self, name, hint):
        self._name = name
        self._hint = hint

    def _module(self):
        try:
            return importlib.import_module(self._name)
        except ImportError as error:
            raise ImportError(f"{self._name} is not installed: {self._hint}") from error

    def __getattr__(self, attribute):
        # Only attributes that the instance does not have land here; keep private ones out so that
        # copying or inspecting the stand-in never imports the module.
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        return getattr(self._module(), attribute)

    def __dir__(self):
        return dir(self._module())

    def __repr__(self):
        return f"<module {self._name!r}, imported on first use>"


torch = OptionalModule("torch", "pip install torch (tinyconv's own layers do not use it)")
nn = OptionalModule("torch.nn", "pip install torch (tinyconv's own layers do not use it)")
standard_library = OptionalModule(
    "future.standard_library",
    "it is the Python 2 compatibility package 'future', which Python 3 code does not need")
