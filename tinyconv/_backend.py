"""What the fast layers need to run the same code on NumPy and CuPy arrays: the array module of the inputs,
an array test, a copy to host memory, and a transposing copy that is fast on both."""

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


def to_numpy(a):
    """``a`` as a NumPy array: itself if it is one, a copy in host memory if it is a CuPy array."""
    return a.get() if array_module(a) is not np else a


def is_array(a):
    """True for a NumPy or CuPy ndarray."""
    return isinstance(a, np.ndarray) or type(a).__module__.split(".")[0] == "cupy" and hasattr(a, "shape")


def transposed_copy(src, dst, block=128):
    """``dst[...] = src.T`` for 2-D arrays, in square blocks that stay in cache.

    NumPy's own transposing copy walks one of the two arrays with a large stride
    and is several times slower on big matrices; CuPy's is fast as it is.
    """
    if array_module(src) is not np:
        dst[...] = src.T
        return dst
    rows, cols = src.shape
    for i in range(0, rows, block):
        for j in range(0, cols, block):
            dst[j:j + block, i:i + block] = src[i:i + block, j:j + block].T
    return dst
