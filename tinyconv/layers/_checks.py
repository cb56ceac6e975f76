"""Input validation shared by every layer, naive and fast alike.

Each check raises where the mistake is made, names the argument and says what
was expected, so a learner never meets a bare broadcasting error from NumPy.
``where`` is the public function's name and starts every message.
"""

import numbers

import numpy as np

from .._backend import is_array

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def float_array(where, name, a, ndim=None, layout=None):
    """Check that ``a`` is a floating-point NumPy/CuPy array, optionally of ``ndim`` dimensions."""
    if not is_array(a):
        raise TypeError(f"{where}: {name} must be a NumPy or CuPy array, got {type(a).__name__}")
    if a.dtype not in _FLOAT_DTYPES:
        raise TypeError(
            f"{where}: {name} must be a float32 or float64 array, got dtype {a.dtype}; "
            f"convert it first, e.g. {name}.astype(np.float32)"
        )
    if ndim is not None and a.ndim != ndim:
        shape = f" {layout}" if layout else ""
        raise ValueError(f"{where}: {name} must be {ndim}-D{shape}, got shape {tuple(a.shape)}")


def same_dtype(where, ref_name, ref, **others):
    """Check that every array in ``others`` has the dtype of ``ref`` (mixing would silently upcast)."""
    for name, a in others.items():
        if a.dtype != ref.dtype:
            raise TypeError(
                f"{where}: {name} has dtype {a.dtype} but {ref_name} has {ref.dtype}; "
                f"use one dtype, e.g. {name}.astype({ref_name}.dtype)"
            )


def shape_is(where, name, a, expected, layout):
    """Check ``a.shape == expected``; ``layout`` names the axes, e.g. '(F,)'."""
    if tuple(a.shape) != tuple(expected):
        raise ValueError(f"{where}: {name} must have shape {layout} = {tuple(expected)}, got {tuple(a.shape)}")


def gradient(where, dout, like_shape, like_dtype, name="dout"):
    """Check an upstream gradient against the forward output it belongs to."""
    float_array(where, name, dout)
    if tuple(dout.shape) != tuple(like_shape):
        raise ValueError(
            f"{where}: {name} must have the shape of the forward output {tuple(like_shape)}, got {tuple(dout.shape)}"
        )
    if dout.dtype != like_dtype:
        raise TypeError(f"{where}: {name} has dtype {dout.dtype} but the forward pass ran in {like_dtype}")


def integer(where, name, value, minimum):
    """Check that ``value`` is an integer (not a bool or a float) and at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{where}: {name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{where}: {name} must be >= {minimum}, got {value}")
    return int(value)


def param_dict(where, name, params, allowed, required=()):
    """Check a cs231n parameter dict: a dict whose keys are all known and the required ones present."""
    if not isinstance(params, dict):
        raise TypeError(f"{where}: {name} must be a dict, got {type(params).__name__}")
    unknown = sorted(set(params) - set(allowed), key=str)
    if unknown:
        raise ValueError(f"{where}: {name} has unknown key(s) {unknown}; allowed keys are {sorted(allowed)}")
    missing = [k for k in required if k not in params]
    if missing:
        raise ValueError(f"{where}: {name} is missing the required key(s) {missing}")


def output_size(where, axis, size, window, pad, stride):
    """Return ``1 + (size + 2*pad - window) / stride``, raising unless it is a positive whole number.

    ``axis`` is 'height' or 'width'; the message spells out the formula with the numbers.
    """
    padded = size + 2 * pad
    if window > padded:
        raise ValueError(
            f"{where}: the window {axis} {window} is larger than the padded input {axis} "
            f"{size} + 2*{pad} = {padded}"
        )
    span = padded - window
    if span % stride:
        raise ValueError(
            f"{where}: output {axis} 1 + ({size} + 2*{pad} - {window}) / {stride} = "
            f"{1 + span / stride:g} is not a whole number; change the stride, padding or window so that "
            f"the stride divides {span}"
        )
    return 1 + span // stride


def conv_geometry(where, x, w, b, conv_param):
    """Validate conv inputs; return ``(stride, pad, H_out, W_out)``."""
    float_array(where, "x", x, 4, "(N, C, H, W)")
    float_array(where, "w", w, 4, "(F, C, HH, WW)")
    float_array(where, "b", b, 1, "(F,)")
    same_dtype(where, "x", x, w=w, b=b)
    if w.shape[1] != x.shape[1]:
        raise ValueError(
            f"{where}: w has {w.shape[1]} input channels (w.shape[1]) but x has {x.shape[1]} (x.shape[1])"
        )
    shape_is(where, "b", b, (w.shape[0],), "(F,)")
    param_dict(where, "conv_param", conv_param, ("stride", "pad", "algorithm"))
    stride = integer(where, "conv_param['stride']", conv_param.get("stride", 1), 1)
    pad = integer(where, "conv_param['pad']", conv_param.get("pad", 0), 0)
    H, W = x.shape[2:]
    HH, WW = w.shape[2:]
    return stride, pad, output_size(where, "height", H, HH, pad, stride), output_size(where, "width", W, WW, pad, stride)


def pool_geometry(where, x, pool_param):
    """Validate max-pool inputs; return ``(pool_height, pool_width, stride, H_out, W_out)``."""
    float_array(where, "x", x, 4, "(N, C, H, W)")
    param_dict(where, "pool_param", pool_param, ("pool_height", "pool_width", "stride"))
    ph = integer(where, "pool_param['pool_height']", pool_param.get("pool_height", 2), 1)
    pw = integer(where, "pool_param['pool_width']", pool_param.get("pool_width", 2), 1)
    stride = integer(where, "pool_param['stride']", pool_param.get("stride", 2), 1)
    H, W = x.shape[2:]
    return ph, pw, stride, output_size(where, "height", H, ph, 0, stride), output_size(where, "width", W, pw, 0, stride)


def labels(where, y, num_samples, num_classes):
    """Check integer class labels ``y`` of shape (N,) with values in [0, num_classes)."""
    if not is_array(y):
        raise TypeError(f"{where}: y must be a NumPy or CuPy array of integer labels, got {type(y).__name__}")
    if y.dtype.kind not in "iu":
        raise TypeError(f"{where}: y must hold integer class labels, got dtype {y.dtype}")
    if tuple(y.shape) != (num_samples,):
        raise ValueError(f"{where}: y must have shape (N,) = ({num_samples},), got {tuple(y.shape)}")
    if num_samples and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(
            f"{where}: labels in y must lie in [0, {num_classes}) for {num_classes} classes, "
            f"got values from {int(y.min())} to {int(y.max())}"
        )


def probability(where, name, p):
    """Check a keep probability in (0, 1]."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 < p <= 1:
        raise ValueError(f"{where}: {name} is the probability of keeping a unit and must lie in (0, 1], got {p!r}")
    return float(p)


def mode(where, name, params):
    """Return ``params['mode']``, which must be 'train' or 'test'."""
    if "mode" not in params:
        raise ValueError(f"{where}: {name}['mode'] is required; set it to 'train' or 'test'")
    value = params["mode"]
    if value not in ("train", "test"):
        raise ValueError(f"{where}: {name}['mode'] must be 'train' or 'test', got {value!r}")
    return value


def positive_float(where, name, value):
    """Check a positive real number such as eps."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"{where}: {name} must be a positive number, got {value!r}")
    return float(value)
