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


def transposed_copy(src, dst):
    """``dst[...] = src.T`` for 2-D arrays, in square blocks that stay in cache.

    NumPy's own transposing copy walks one of the two arrays with a large stride
    and is several times slower on big matrices; CuPy's is fast as it is.
    Reading a block of ``src`` down its columns touches one cache line per row;
    when the row stride is a multiple of 512 bytes, as for feature maps of 16x16
    or 32x32 pixels, those lines fall into a few cache sets and evict one another.
    Such blocks first go, row by row, into a buffer whose row stride is not,
    which made those transposes 1.2 to 5 times faster (and slowed the others).
    """
    if array_module(src) is not np:
        dst[...] = src.T
        return dst
    rows, cols = src.shape
    staged = src.strides[0] % 512 == 0
    block = 256 if staged else 128
    buffer = np.empty((block, block + 16), dtype=src.dtype) if staged else None
    for i in range(0, rows, block):
        for j in range(0, cols, block):
            tile = src[i:i + block, j:j + block]
            if staged:
                buffer[:tile.shape[0], :tile.shape[1]] = tile
                tile = buffer[:tile.shape[0], :tile.shape[1]]
            dst[j:j + block, i:i + block] = tile.T
    return dst


def move_tree(tree, xp):
    """``tree`` (nested dicts and lists of arrays and plain values) with every array moved to module ``xp``
    (NumPy or CuPy)."""
    if isinstance(tree, dict):
        return {key: move_tree(value, xp) for key, value in tree.items()}
    if isinstance(tree, list):
        return [move_tree(value, xp) for value in tree]
    if hasattr(tree, "shape") and hasattr(tree, "dtype"):
        return tree.get() if xp is np and hasattr(tree, "get") else xp.asarray(tree)
    return tree


def move_model(model, xp):
    """Move a model's parameters and batch-norm buffers (cs231n's ``bn_params``) to module ``xp``."""
    model.params = move_tree(model.params, xp)
    if getattr(model, "bn_params", None):
        model.bn_params[:] = move_tree(list(model.bn_params), xp)
