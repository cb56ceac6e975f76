"""Pick the array module (NumPy or CuPy) that holds the inputs, so one code path serves CPU and GPU."""

import numpy as np


def array_module(*arrays):
    """Return ``cupy`` if any of ``arrays`` is a CuPy array, else ``numpy``.

    CuPy is imported only when a CuPy array is actually seen, so NumPy stays the
    only dependency of the CPU path.
    """
    for a in arrays:
        if type(a).__module__.split(".")[0] == "cupy":
            import cupy

            return cupy
    return np


def is_array(a):
    """True for a NumPy or CuPy ndarray."""
    return isinstance(a, np.ndarray) or type(a).__module__.split(".")[0] == "cupy" and hasattr(a, "shape")
