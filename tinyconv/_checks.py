"""Argument checks for the whole library: layers, models, the Solver, the data loaders and the command line.

One policy everywhere: a wrong type is a TypeError, a wrong value a ValueError. Every check takes
``where`` (the public function or class the caller called) and ``name`` (the argument as the caller
wrote it) and raises where the mistake is made, with a message that starts with ``where: `` and then
names the argument, shows what was given and, where it helps, says what to do. Checks that accept return the value in canonical form (a plain
int, float or tuple, a promoted array), so that configs stay JSON-serializable.
"""

import functools
import math
import numbers
import os
from typing import NamedTuple

import numpy as np

from ._backend import is_array

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
# np.random.seed takes seeds below 2**32; the same bound everywhere keeps every seed usable with it.
MAX_SEED = 2**32 - 1


def describe(value):
    """``value`` as a message shows it: its repr and its type, e.g. ``'2' (str)``."""
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{text} ({type(value).__name__})"


def reason(error):
    """The message of a check's error without its leading ``where: `` (for callers that name the place
    themselves, such as the command line's option errors)."""
    return str(error).split(": ", 1)[-1]


# --- scalars ---------------------------------------------------------------------------------------


def boolean(where, name, value):
    """``value`` if it is True or False (a bool, not merely truthy), else TypeError."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{where}: {name} must be True or False, got {describe(value)}")
    return bool(value)


def integer(where, name, value, minimum=None, maximum=None, *, optional=False):
    """An int (not a bool, not a float with an integral value) in ``[minimum, maximum]``; returned as int.

    With ``optional`` None is accepted too (and returned).
    """
    if minimum == 1 and maximum is None:
        wanted = "a positive integer"
    elif minimum == 0 and maximum is None:
        wanted = "a non-negative integer"
    elif minimum is None and maximum is None:
        wanted = "an integer"
    else:
        wanted = f"an integer {f'>= {minimum}' if maximum is None else f'in [{minimum}, {maximum}]'}"
    if optional:
        if value is None:
            return None
        wanted = f"None or {wanted}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{where}: {name} must be {wanted}, got {describe(value)}")
    value = int(value)
    if minimum is not None and value < minimum or maximum is not None and value > maximum:
        raise ValueError(f"{where}: {name} must be {wanted}, got {value}")
    return value


def positive_int(where, name, value):
    return integer(where, name, value, minimum=1)


def positive_ints(where, name, values, allow_empty):
    """A list or tuple of positive ints, returned as a tuple (a bare int is refused with a hint)."""
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)):
        raise TypeError(f"{where}: {name} must be a list or tuple of positive integers, got {describe(values)}; "
                        f"for one layer pass [{values!r}]")
    if not values and not allow_empty:
        raise ValueError(f"{where}: {name} must contain at least one positive integer, got {values!r}")
    return tuple(positive_int(where, f"{name}[{index}]", value) for index, value in enumerate(values))


def optional_seed(where, name, value):
    """None, or a seed in [0, 2**32 - 1]."""
    return integer(where, name, value, minimum=0, maximum=MAX_SEED, optional=True)


def real(where, name, value, minimum=None, maximum=None, *, min_open=False, max_open=False):
    """A finite real number (not a bool) within the bounds, returned as float.

    ``min_open``/``max_open`` exclude the bound itself.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: {name} must be a number, got {describe(value)}")
    value = float(value)
    below = minimum is not None and (value <= minimum if min_open else value < minimum)
    above = maximum is not None and (value >= maximum if max_open else value > maximum)
    if not math.isfinite(value) or below or above:
        low = "" if minimum is None else f"{'(' if min_open else '['}{minimum:g}, "
        high = "" if maximum is None else f"{maximum:g}{')' if max_open else ']'}"
        if minimum is None and maximum is None:
            wanted = "a finite number"
        elif maximum is None:
            wanted = f"a finite number {'>' if min_open else '>='} {minimum:g}"
        elif minimum is None:
            wanted = f"a finite number {'<' if max_open else '<='} {maximum:g}"
        else:
            wanted = f"a number in {low}{high}"
        raise ValueError(f"{where}: {name} must be {wanted}, got {value!r}")
    return value


def nonnegative_float(where, name, value):
    return real(where, name, value, minimum=0)


def positive_float(where, name, value):
    return real(where, name, value, minimum=0, min_open=True)


def probability(where, name, p):
    """A keep probability in (0, 1]."""
    return real(where, name, p, minimum=0, maximum=1, min_open=True)


def one_of(where, name, value, options):
    """The option of ``options`` that ``value`` is: equal to it and of its type or a subclass (a NumPy string
    from ``np.random.choice`` is a str), the option itself being returned (a plain str, fit for JSON)."""
    for option in options:
        # Compare by type too: True == 1 and 1.0 == 1 would otherwise pass for options 1 or 'x'.
        if value is option or (isinstance(value, type(option)) and type(value) is not bool and value == option):
            return option
    raise ValueError(f"{where}: {name} must be one of {list(options)!r}, got {describe(value)}")


def dictionary(where, name, value):
    """A dict (cs231n's parameter dicts and configs)."""
    if not isinstance(value, dict):
        raise TypeError(f"{where}: {name} must be a dict, got {describe(value)}")
    return value


def float_dtype(where, name, dtype):
    """The NumPy scalar type (np.float32 or np.float64) that ``dtype`` names (a type, dtype or string)."""
    wanted = "one of float32 or float64 (np.float32, 'float32', ...)"
    try:
        resolved = None if dtype is None else np.dtype(dtype)  # np.dtype(None) would be float64
    except TypeError:
        resolved = None
    if resolved is None and not isinstance(dtype, str):  # a name that is not a dtype is a wrong value
        raise TypeError(f"{where}: {name} must be {wanted}, got {describe(dtype)}")
    if resolved is None or resolved not in FLOAT_DTYPES:
        raise ValueError(f"{where}: {name} must be {wanted}, got {describe(dtype)}")
    return resolved.type


def image_shape(where, name, value):
    """An image shape (C, H, W) of positive ints, as a tuple."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise TypeError(f"{where}: {name} must be a (C, H, W) tuple of positive integers, got {describe(value)}")
    if len(value) != 3:
        raise ValueError(f"{where}: {name} must have 3 entries (C, H, W), got {value!r}")
    return tuple(positive_int(where, f"{name}[{index}]", size) for index, size in enumerate(value))


def split_sizes(where, available, what, **sizes):
    """Check that the requested split sizes (each an int >= 0) fit in ``available`` rows of ``what``."""
    sizes = {name: integer(where, name, size, minimum=0) for name, size in sizes.items()}
    requested = sum(sizes.values())
    if requested > available:
        asked = " + ".join(f"{name}={size}" for name, size in sizes.items())
        raise ValueError(f"{where}: {asked} = {requested} exceeds the {available} images of {what}; "
                         "ask for fewer")
    return sizes


# --- arrays ----------------------------------------------------------------------------------------


def array(where, name, a):
    """A NumPy or CuPy array."""
    if not is_array(a):
        raise TypeError(f"{where}: {name} must be a NumPy or CuPy array, got {type(a).__name__}")
    return a


def float_array(where, name, a, ndim=None, layout=None):
    """A float32 or float64 array, optionally of ``ndim`` dimensions (``layout`` names them, e.g. '(N, D)')."""
    array(where, name, a)
    if a.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{where}: {name} must be a float32 or float64 array, got dtype {a.dtype}; "
                        f"convert it first, e.g. {name}.astype(np.float32)")
    dimensions(where, name, a, ndim, layout)
    return a


def dimensions(where, name, a, ndim, layout=None):
    if ndim is not None and a.ndim != ndim:
        shape = f" {layout}" if layout else ""
        raise ValueError(f"{where}: {name} must be {ndim}-D{shape}, got shape {tuple(a.shape)}")


def parameter_array(where, name, a, like, ndim=None, layout=None):
    """A layer parameter (weights, bias, gamma, beta) for input ``like``, returned in ``like``'s dtype.

    Integer arrays, as cs231n's notebooks write them (``b = np.array([0, 128])``), are converted to the
    input's dtype; a float array must already have it (converting float32 and float64 silently would hide
    a precision change). Other dtypes (bool, float16, complex, object) are refused.
    """
    array(where, name, a)
    if a.dtype.kind in "iu":
        a = a.astype(like.dtype)
    elif a.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{where}: {name} must be a float32, float64 or integer array, got dtype {a.dtype}; "
                        f"convert it first, e.g. {name}.astype({like.dtype.name})")
    elif a.dtype != like.dtype:
        raise TypeError(f"{where}: {name} has dtype {a.dtype} but x has {like.dtype}; "
                        f"use one dtype, e.g. {name}.astype(x.dtype)")
    dimensions(where, name, a, ndim, layout)
    return a


def same_dtype(where, ref_name, ref, **others):
    """Every array in ``others`` has the dtype of ``ref`` (mixing them would silently upcast)."""
    for name, a in others.items():
        if a.dtype != ref.dtype:
            raise TypeError(f"{where}: {name} has dtype {a.dtype} but {ref_name} has {ref.dtype}; "
                            f"use one dtype, e.g. {name}.astype({ref_name}.dtype)")


def shape_is(where, name, a, expected, layout):
    """``a.shape == expected``; ``layout`` names the axes, e.g. '(F,)'."""
    if tuple(a.shape) != tuple(expected):
        raise ValueError(f"{where}: {name} must have shape {layout} = {tuple(expected)}, got {tuple(a.shape)}")


def gradient(where, dout, like_shape, like_dtype, name="dout", like="the forward output"):
    """An array that must match another one (``like``) in shape and dtype, such as an upstream gradient
    and the forward output it belongs to."""
    float_array(where, name, dout)
    if tuple(dout.shape) != tuple(like_shape):
        raise ValueError(f"{where}: {name} must have the shape of {like} {tuple(like_shape)}, got {tuple(dout.shape)}")
    if dout.dtype != like_dtype:
        raise TypeError(f"{where}: {name} has dtype {dout.dtype} but {like} has {like_dtype}; "
                        f"use one dtype, e.g. {name}.astype({np.dtype(like_dtype).name})")


def cache(where, value, cache_type):
    """The cache a backward was given must be of the type its forward returns.

    ``cache_type`` is a tuple subclass whose ``forward`` attribute names the forward functions that make it.
    """
    if not isinstance(value, cache_type):
        got = f"a {type(value).__name__}"
        forward = getattr(type(value), "forward", None)
        if forward:
            got += f" from {forward}"
        raise TypeError(f"{where}: cache must be the cache returned by {cache_type.forward}, got {got}; "
                        "pass the cache of the matching forward call")
    return value


def labels(where, y, num_samples, num_classes):
    """Integer class labels ``y`` of shape (N,) with values in [0, num_classes)."""
    if not is_array(y):
        raise TypeError(f"{where}: y must be a NumPy or CuPy array of integer labels, got {type(y).__name__}")
    if y.dtype.kind not in "iu":
        raise TypeError(f"{where}: y must hold integer class labels, got dtype {y.dtype}")
    if tuple(y.shape) != (num_samples,):
        raise ValueError(f"{where}: y must have shape (N,) = ({num_samples},), got {tuple(y.shape)}")
    if num_samples and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(f"{where}: labels in y must lie in [0, {num_classes}) for {num_classes} classes, "
                         f"got values from {int(y.min())} to {int(y.max())}")


# --- cs231n parameter dicts and layer geometry ------------------------------------------------------


def param_dict(where, name, params, allowed, required=()):
    """A cs231n parameter dict: a dict whose keys are all known and the required ones present."""
    dictionary(where, name, params)
    unknown = sorted(set(params) - set(allowed), key=str)
    if unknown:
        raise ValueError(f"{where}: {name} has unknown key(s) {unknown}; allowed keys are {sorted(allowed)}")
    missing = [k for k in required if k not in params]
    if missing:
        raise ValueError(f"{where}: {name} is missing the required key(s) {missing}")


def mode(where, name, params):
    """``params['mode']``, which must be 'train' or 'test'."""
    if "mode" not in params:
        raise ValueError(f"{where}: {name}['mode'] is required; set it to 'train' or 'test'")
    return one_of(where, f"{name}['mode']", params["mode"], ("train", "test"))


@functools.cache
def _physical_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 2**40


def memory_bytes():
    """This machine's physical memory in bytes (2**40 where the system does not say), read once."""
    return _physical_memory()


def fits_in_memory(where, count, dtype, what, *details):
    """A ValueError naming ``what`` (formatted with ``details`` only then) when ``count`` values of ``dtype``
    would not fit in this machine's memory: refused with the numbers up front, rather than by NumPy's
    MemoryError deep inside a call. Every conv and pool call asks, so the fitting case formats nothing."""
    needed = int(count) * np.dtype(dtype).itemsize
    available = memory_bytes()
    if needed > available:
        raise ValueError(f"{where}: {what.format(*details)} would take {int(count):,} values of "
                         f"{np.dtype(dtype).name}, {needed / 2**30:,.1f} GiB, more than this machine's "
                         f"{available / 2**30:,.1f} GiB of memory")


_PADDED = "the padded input (N, C, H + 2*pad, W + 2*pad) = ({}, {}, {}, {})"
_PADDED_BY_SIDE = "the padded input (N, C, H + top + bottom, W + left + right) = ({}, {}, {}, {})"


def padded_input_fits(where, x, pad):
    """:func:`fits_in_memory` for ``x`` (N, C, H, W) padded by ``pad`` on every side, or by ``(top, bottom,
    left, right)``."""
    N, C, H, W = x.shape
    top, bottom, left, right = (pad,) * 4 if isinstance(pad, int) else pad
    what = _PADDED if top == bottom == left == right else _PADDED_BY_SIDE
    fits_in_memory(where, N * C * (H + top + bottom) * (W + left + right), x.dtype, what, N, C, H + top + bottom,
                   W + left + right)


def output_size(where, axis, size, window, pad, stride, dilation=1):
    """``1 + (size + 2*pad - window) / stride``, which must be a positive whole number; ``pad`` may be a pair
    (before, after), and with ``dilation`` the window spans ``dilation * (window - 1) + 1``.

    ``axis`` is 'height' or 'width'; the message spells out the formula with the numbers.
    """
    before, after = (pad, pad) if isinstance(pad, int) else pad
    reach = dilation * (window - 1) + 1
    padded = size + before + after
    span = padded - reach
    if span >= 0 and span % stride == 0:  # the messages below are formatted only when they are raised
        return 1 + span // stride
    pads = f"2*{before}" if before == after else f"{before} + {after}"
    if span < 0:
        spans = f"{window}" if dilation == 1 else f"{reach} (the window {window} dilated by {dilation})"
        raise ValueError(f"{where}: the window {axis} {spans} is larger than the padded input {axis} "
                         f"{size} + {pads} = {padded}")
    raise ValueError(f"{where}: output {axis} 1 + ({size} + {pads} - {reach}) / {stride} = "
                     f"{1 + span / stride:g} is not a whole number; change the stride, padding or window so "
                     f"that the stride divides {span}")


class ConvGeometry(NamedTuple):
    """Where a convolution's windows lie: ``stride`` (sh, sw), ``pad`` (top, bottom, left, right),
    ``dilation`` (dh, dw) (a window's taps that far apart), ``groups`` (of input channels and filters, each
    filter seeing its group's channels), and the output size."""

    stride: tuple
    pad: tuple
    dilation: tuple
    groups: int
    H_out: int
    W_out: int

    @classmethod
    def square(cls, stride, pad, H_out, W_out):
        """cs231n's geometry: one stride and one pad for both axes, no dilation, one group."""
        return cls((stride, stride), (pad,) * 4, (1, 1), 1, H_out, W_out)

    @property
    def is_square(self):
        """Whether this is cs231n's geometry (one stride and one pad, no dilation, one group)."""
        return (len(set(self.stride)) == 1 and len(set(self.pad)) == 1 and self.dilation == (1, 1)
                and self.groups == 1)


def _pair(where, name, value, minimum):
    """An int, or a (height, width) pair of ints, each at least ``minimum``, as a pair."""
    if type(value) is int and value >= minimum:  # cs231n's plain int, on every call: no ABC checks
        return (value, value)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return tuple(integer(where, f"{name}[{i}]", item, minimum) for i, item in enumerate(value))
    if isinstance(value, (tuple, list)):
        raise ValueError(f"{where}: {name} must be an int or a (height, width) pair, got {len(value)} values "
                         f"{tuple(value)}")
    wanted = "a positive integer" if minimum == 1 else "a non-negative integer"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{where}: {name} must be {wanted} or a (height, width) pair of them, got "
                        f"{describe(value)}")
    return (integer(where, name, value, minimum),) * 2


def _padding(where, value, stride, dilation, window):
    """``conv_param['pad']`` as (top, bottom, left, right): an int, an (h, w) pair, four ints, or 'same'."""
    name = "conv_param['pad']"
    if type(value) is int and value >= 0:
        return (value,) * 4
    if isinstance(value, str):
        if value != "same":
            raise ValueError(f"{where}: {name} must be an int, a pair, four ints or 'same', got {value!r}")
        if stride != (1, 1):
            raise ValueError(f"{where}: {name}='same' keeps the input size, which needs stride 1, got stride "
                             f"{stride}")
        # As PyTorch pads for 'same': half before, the odd one after.
        totals = [d * (k - 1) for d, k in zip(dilation, window)]
        return (totals[0] // 2, totals[0] - totals[0] // 2, totals[1] // 2, totals[1] - totals[1] // 2)
    if isinstance(value, (tuple, list)) and len(value) == 4:
        return tuple(integer(where, f"{name}[{i}]", item, 0) for i, item in enumerate(value))
    if isinstance(value, (tuple, list)) and len(value) != 2:
        raise ValueError(f"{where}: {name} must be an int, an (h, w) pair or (top, bottom, left, right), got "
                         f"{len(value)} values {tuple(value)}")
    height, width = _pair(where, name, value, 0)
    return (height, height, width, width)


def conv_geometry(where, x, w, b, conv_param):
    """Validate conv inputs; return ``(w, b, geometry)`` with w and b in x's dtype and the
    :class:`ConvGeometry` of ``conv_param`` (``stride``, ``pad``, ``dilation``, ``groups``)."""
    float_array(where, "x", x, 4, "(N, C, H, W)")
    w = parameter_array(where, "w", w, x, 4, "(F, C, HH, WW)")
    b = parameter_array(where, "b", b, x, 1, "(F,)")
    param_dict(where, "conv_param", conv_param, ("stride", "pad", "dilation", "groups", "algorithm"))
    groups = integer(where, "conv_param['groups']", conv_param["groups"], 1) if "groups" in conv_param else 1
    N, C, H, W = x.shape
    F, HH, WW = w.shape[0], *w.shape[2:]
    if groups == 1 and w.shape[1] != C:
        raise ValueError(f"{where}: w has {w.shape[1]} input channels (w.shape[1]) but x has {C} (x.shape[1])")
    if groups > 1:
        if C % groups or F % groups:
            raise ValueError(f"{where}: conv_param['groups'] = {groups} must divide the {C} input channels and the "
                             f"{F} filters (C % groups = {C % groups}, F % groups = {F % groups})")
        if w.shape[1] != C // groups:
            raise ValueError(f"{where}: w has {w.shape[1]} input channels per filter (w.shape[1]), but each of the "
                             f"{groups} groups has C / groups = {C} / {groups} = {C // groups}")
    shape_is(where, "b", b, (F,), "(F,)")
    stride = _pair(where, "conv_param['stride']", conv_param.get("stride", 1), 1)
    dilation = _pair(where, "conv_param['dilation']", conv_param.get("dilation", 1), 1)
    if HH == 0 or WW == 0:
        raise ValueError(f"{where}: w must have filters of at least 1x1, got shape {tuple(w.shape)}")
    pad = _padding(where, conv_param.get("pad", 0), stride, dilation, (HH, WW))
    H_out = output_size(where, "height", H, HH, pad[:2], stride[0], dilation[0])
    W_out = output_size(where, "width", W, WW, pad[2:], stride[1], dilation[1])
    padded_input_fits(where, x, pad)
    fits_in_memory(where, N * F * H_out * W_out, x.dtype, "the output (N, F, H_out, W_out) = ({}, {}, {}, {})", N, F,
                   H_out, W_out)
    return w, b, ConvGeometry(stride, pad, dilation, groups, H_out, W_out)


class TransposeGeometry(NamedTuple):
    """A transposed convolution's validated settings: ``conv``, the ConvGeometry of the convolution whose
    input gradient it computes (its output size is the transposed convolution's input size), and the
    transposed convolution's own output size."""

    conv: ConvGeometry
    H_out: int
    W_out: int


def conv_transpose_geometry(where, x, w, b, conv_param):
    """Validate transposed-conv inputs; return ``(w, b, geometry)`` with w and b in x's dtype and the
    :class:`TransposeGeometry` of ``conv_param`` (``stride``, ``pad``, ``dilation``, ``groups``,
    ``output_padding``)."""
    float_array(where, "x", x, 4, "(N, C, H, W)")
    w = parameter_array(where, "w", w, x, 4, "(C, F / groups, HH, WW)")
    b = parameter_array(where, "b", b, x, 1, "(F,)")
    param_dict(where, "conv_param", conv_param, ("stride", "pad", "dilation", "groups", "output_padding"))
    groups = integer(where, "conv_param['groups']", conv_param.get("groups", 1), 1)
    N, C, H, W = x.shape
    if w.shape[0] != C:
        raise ValueError(f"{where}: w has {w.shape[0]} input channels (w.shape[0]; a transposed convolution's "
                         f"filters are (C, F / groups, HH, WW)) but x has {C} (x.shape[1])")
    if C % groups:
        raise ValueError(f"{where}: conv_param['groups'] = {groups} must divide the {C} input channels "
                         f"(C % groups = {C % groups})")
    F, HH, WW = w.shape[1] * groups, *w.shape[2:]
    shape_is(where, "b", b, (F,), "(F,) with F = w.shape[1] * groups")
    if HH == 0 or WW == 0:
        raise ValueError(f"{where}: w must have filters of at least 1x1, got shape {tuple(w.shape)}")
    stride = _pair(where, "conv_param['stride']", conv_param.get("stride", 1), 1)
    dilation = _pair(where, "conv_param['dilation']", conv_param.get("dilation", 1), 1)
    pad = _pair(where, "conv_param['pad']", conv_param.get("pad", 0), 0)
    extra = _pair(where, "conv_param['output_padding']", conv_param.get("output_padding", 0), 0)
    sizes = []
    for axis, size, window, s, d, p, e in zip(("height", "width"), (H, W), (HH, WW), stride, dilation, pad, extra):
        if e >= max(s, d):
            raise ValueError(f"{where}: conv_param['output_padding'] {e} on the {axis} must be smaller than the "
                             f"stride {s} or the dilation {d}: more would add pixels no input reaches")
        out = (size - 1) * s - 2 * p + d * (window - 1) + e + 1
        if out < 1:
            raise ValueError(f"{where}: output {axis} ({size} - 1) * {s} - 2*{p} + {d} * ({window} - 1) + {e} + 1 = "
                             f"{out} is not positive; use less padding")
        sizes.append(out)
    fits_in_memory(where, N * F * sizes[0] * sizes[1], x.dtype, "the output (N, F, H_out, W_out) = ({}, {}, {}, {})",
                   N, F, *sizes)
    conv = ConvGeometry(stride, (pad[0], pad[0], pad[1], pad[1]), dilation, groups, H, W)
    return w, b, TransposeGeometry(conv, *sizes)


def pool_geometry(where, x, pool_param, allowed=("pool_height", "pool_width", "stride")):
    """Validate pooling inputs; return ``(pool_height, pool_width, stride, pad, H_out, W_out)``.

    ``allowed`` lists the keys the pool takes; ``pad`` is 0 unless 'pad' is among them.
    """
    float_array(where, "x", x, 4, "(N, C, H, W)")
    return pool_window(where, x.shape, pool_param, allowed)


def pool_window(where, shape, pool_param, allowed):
    """:func:`pool_geometry` for an input of ``shape`` (N, C, H, W) that was checked before."""
    param_dict(where, "pool_param", pool_param, allowed)
    ph = integer(where, "pool_param['pool_height']", pool_param.get("pool_height", 2), 1)
    pw = integer(where, "pool_param['pool_width']", pool_param.get("pool_width", 2), 1)
    stride = integer(where, "pool_param['stride']", pool_param.get("stride", 2), 1)
    pad = integer(where, "pool_param['pad']", pool_param.get("pad", 0), 0)
    H, W = shape[2:]
    return (ph, pw, stride, pad, output_size(where, "height", H, ph, pad, stride),
            output_size(where, "width", W, pw, pad, stride))
