"""Argument validation shared by the models and the Solver.

Each helper returns the value in canonical form (plain int, float, tuple) so
that a model's config is JSON-serializable, or raises a ValueError/TypeError
that names the argument, says what was expected and shows what was given.
"""

import numbers

import numpy as np

SUPPORTED_DTYPES = ("float32", "float64")


def _shown(value):
    return f"{value!r} ({type(value).__name__})"


def _integer(name, value, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {what}, got {_shown(value)}.")
    return int(value)


def positive_int(name, value):
    value = _integer(name, value, "a positive integer")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value}.")
    return value


def positive_ints(name, values, allow_empty):
    """A sequence of positive ints, as a tuple (a single int is not accepted)."""
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)):
        raise TypeError(
            f"{name} must be a list or tuple of positive integers, got {_shown(values)}; "
            f"for one layer pass [{values!r}]."
        )
    if not values and not allow_empty:
        raise ValueError(f"{name} must contain at least one positive integer, got {values!r}.")
    return tuple(positive_int(f"{name}[{index}]", value) for index, value in enumerate(values))


def nonnegative_float(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {_shown(value)}.")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")
    return float(value)


def one_of(name, value, options):
    if value not in options:
        raise ValueError(f"{name} must be one of {list(options)!r}, got {value!r}.")
    return value


def image_shape(name, value):
    """An image shape (C, H, W) of positive ints, as a tuple."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a (C, H, W) tuple of positive integers, got {_shown(value)}.")
    if len(value) != 3:
        raise ValueError(f"{name} must have 3 entries (C, H, W), got {value!r}.")
    return tuple(positive_int(f"{name}[{index}]", size) for index, size in enumerate(value))


def float_dtype(dtype):
    """The NumPy scalar type (np.float32 or np.float64) named by ``dtype``."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved is None or resolved.name not in SUPPORTED_DTYPES:
        raise ValueError(f"dtype must be one of {SUPPORTED_DTYPES}, got {dtype!r}.")
    return resolved.type


def optional_seed(name, value):
    if value is None:
        return None
    value = _integer(name, value, "None or a non-negative integer")
    if value < 0:
        raise ValueError(f"{name} must be None or a non-negative integer, got {value}.")
    return value


def pooled_size(name, size, block):
    """The size after a 2x2, stride-2 max pool, which needs an even input size."""
    if size % 2:
        raise ValueError(
            f"{block} pools a feature map of {name} {size}, but 2x2 pooling needs an even size; "
            "remove that pool or change input_dim."
        )
    return size // 2
