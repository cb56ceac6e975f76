"""What ``tinyconv grade`` checks of each function of a learner's ``layers.py``: the cases it tries, smallest
first, and how it compares the learner's results with tinyconv's reference.

Each :class:`Item` grades one function. Its ``cases`` are drawn from a seeded generator in order of size,
the awkward ones among them (stride 2, no padding, non-square inputs and filters, overlapping pool windows,
ties, N = 1, float32), so the first case that fails is the smallest failing one. A backward is always called
with the cache of the learner's own forward.
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np

from tinyconv import layers as reference
from tinyconv.gradcheck import eval_numerical_gradient_array

# The largest relative error (normwise) a result may have against the reference, by dtype.
TOLERANCE = {np.dtype(np.float64): 1e-7, np.dtype(np.float32): 1e-4}


class NotImplementedYet(Exception):
    """The learner's function is still the starter's stub: it returned None or raised NotImplementedError."""


class ForwardFails(Exception):
    """A backward cannot be checked: the learner's forward, whose cache it takes, gives a wrong output."""


@dataclass(frozen=True)
class Case:
    """One call: the keyword ``params`` that describe it (shapes, stride, ...) and the arrays it takes."""

    params: dict
    arrays: dict


@dataclass(frozen=True)
class Item:
    """A function to grade: ``name``, the learner's functions it needs, its ``cases`` (seed -> list of Case,
    smallest first) and ``check(learner, case)``, which returns None or a :class:`Failure`, and a list of
    warnings."""

    name: str
    needs: tuple
    cases: Callable
    check: Callable


@dataclass(frozen=True)
class Failure:
    """What is wrong in one case: the output that differs, its relative error and the reproducing snippet."""

    output: str
    error: float
    snippet: str


def relative_error(mine, theirs):
    """``||mine - theirs|| / max(||theirs||, tiny)``, in float64; inf where the shapes differ."""
    mine, theirs = np.asarray(mine, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    if mine.shape != theirs.shape:
        return float("inf")
    return float(np.linalg.norm(mine - theirs) / max(np.linalg.norm(theirs), 1e-12))


def _called(function, *args):
    result = function(*args)
    if result is None or (isinstance(result, tuple) and any(part is None for part in result)):
        raise NotImplementedYet
    return result


def _compare(what, mine, theirs, dtype, snippet, warnings):
    """A Failure when ``mine`` differs from ``theirs`` beyond the dtype's tolerance (or in shape)."""
    if getattr(mine, "dtype", None) is not None and np.dtype(dtype) == np.float32 and mine.dtype == np.float64:
        warnings.add(f"{what}: float32 in, float64 out")
    error = relative_error(mine, theirs)
    if not error <= TOLERANCE[np.dtype(dtype)]:
        shape = f" (shape {np.shape(mine)}, expected {np.shape(theirs)})" if np.shape(mine) != np.shape(theirs) else ""
        return Failure(f"{what}{shape}", error, snippet)
    return None


def _snippet(call, arrays):
    """A few lines that rebuild ``arrays`` with their seeds and make ``call``."""
    lines = ["import numpy as np", "import tinyconv.layers", "from cs231n.layers import *",
             "rng = np.random.default_rng(0)"]
    for name, value in arrays.items():
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            lines.append(f"{name} = rng.standard_normal({value.shape}).astype(np.{value.dtype})")
        elif isinstance(value, np.ndarray):
            lines.append(f"{name} = rng.integers({int(value.max()) + 1}, size={value.shape})")
        else:
            lines.append(f"{name} = {value!r}")
    return "\n".join(lines + [call])


# --- the cases -------------------------------------------------------------------------------------------


def _rng_cases(seed, build, grid):
    rng = np.random.default_rng(seed)
    return [build(rng, **params) for params in grid]


def _conv_grid():
    grid = []
    for N, C, F, (H, W), (HH, WW), stride, pad in [
        (1, 1, 1, (3, 3), (3, 3), 1, 0), (1, 1, 1, (4, 4), (3, 3), 1, 1), (2, 2, 3, (5, 5), (3, 3), 2, 1),
        (1, 2, 2, (5, 7), (3, 3), 2, 0), (2, 3, 2, (4, 6), (2, 3), 1, 0), (2, 2, 3, (7, 5), (3, 1), 2, 2),
        (3, 3, 4, (8, 8), (5, 5), 1, 2),
    ]:
        if (H + 2 * pad - HH) % stride == 0 and (W + 2 * pad - WW) % stride == 0:
            for dtype in (np.float64, np.float32):
                grid.append(dict(N=N, C=C, F=F, H=H, W=W, HH=HH, WW=WW, stride=stride, pad=pad, dtype=dtype))
    return grid


def _conv_case(rng, N, C, F, H, W, HH, WW, stride, pad, dtype):
    arrays = {"x": rng.standard_normal((N, C, H, W)).astype(dtype), "w": rng.standard_normal((F, C, HH, WW)).astype(dtype),
              "b": rng.standard_normal(F).astype(dtype), "conv_param": {"stride": stride, "pad": pad}}
    return Case(dict(x=(N, C, H, W), w=(F, C, HH, WW), stride=stride, pad=pad, dtype=np.dtype(dtype).name), arrays)


def _pool_grid():
    grid = []
    for N, C, (H, W), (ph, pw), stride, ties in [
        (1, 1, (2, 2), (2, 2), 2, False), (2, 2, (4, 4), (2, 2), 2, False), (1, 2, (4, 6), (2, 3), 1, False),
        (2, 1, (5, 5), (3, 3), 2, False), (1, 2, (4, 4), (2, 2), 2, True), (2, 3, (6, 4), (3, 2), 1, True),
    ]:
        for dtype in (np.float64, np.float32):
            grid.append(dict(N=N, C=C, H=H, W=W, ph=ph, pw=pw, stride=stride, ties=ties, dtype=dtype))
    return grid


def _pool_case(rng, N, C, H, W, ph, pw, stride, ties, dtype):
    # Ties: a few distinct values, so windows hold equal maxima; the gradient goes to the first of them.
    x = rng.integers(0, 3, (N, C, H, W)) if ties else rng.permutation(N * C * H * W).reshape(N, C, H, W) / 7.0
    arrays = {"x": x.astype(dtype), "pool_param": {"pool_height": ph, "pool_width": pw, "stride": stride}}
    return Case(dict(x=(N, C, H, W), pool=(ph, pw), stride=stride, ties=ties, dtype=np.dtype(dtype).name), arrays)


def _matrix_grid(shapes):
    return [dict(shape=shape, dtype=dtype) for shape in shapes for dtype in (np.float64, np.float32)]


def _affine_case(rng, shape, dtype):
    N, dims, M = shape
    arrays = {"x": rng.standard_normal((N, *dims)).astype(dtype), "w": rng.standard_normal((int(np.prod(dims)), M)).astype(dtype),
              "b": rng.standard_normal(M).astype(dtype)}
    return Case(dict(x=(N, *dims), w=arrays["w"].shape, dtype=np.dtype(dtype).name), arrays)


def _batchnorm_case(rng, shape, dtype):
    N, D = shape
    arrays = {"x": (3 * rng.standard_normal((N, D)) + 2).astype(dtype), "gamma": rng.standard_normal(D).astype(dtype),
              "beta": rng.standard_normal(D).astype(dtype)}
    return Case(dict(x=(N, D), dtype=np.dtype(dtype).name), arrays)


def _scores_case(rng, shape, dtype):
    N, C = shape
    arrays = {"x": rng.standard_normal((N, C)).astype(dtype), "y": rng.integers(C, size=N)}
    return Case(dict(x=(N, C), dtype=np.dtype(dtype).name), arrays)


# --- the checks ------------------------------------------------------------------------------------------


def _forward_check(name, reference_forward, argnames):
    """Compare a forward's output with the reference's; warn where it changes its input."""

    def check(learner, case):
        warnings = set()
        args = [case.arrays[arg] for arg in argnames]
        kept = [np.copy(arg) if isinstance(arg, np.ndarray) else arg for arg in args]
        out, _ = _called(learner[name], *args)
        if any(isinstance(a, np.ndarray) and not np.array_equal(a, k) for a, k in zip(args, kept)):
            warnings.add(f"{name} modifies its input")
        expected, _ = reference_forward(*kept)
        call = ", ".join(argnames)
        snippet = _snippet(f"out, cache = {name}({call})\n"
                           f"expected, _ = tinyconv.layers.{name}({call})  # the reference\n"
                           "print(np.abs(out - expected).max())", dict(zip(argnames, kept)))
        return _compare("out", out, expected, case.arrays[argnames[0]].dtype, snippet, warnings), warnings

    return check


def _backward_check(forward_name, name, reference_forward, reference_backward, argnames, gradnames, extra=tuple,
                    extra_source=""):
    """Compare a backward's gradients, from the cache of the learner's own forward, with the reference's.
    ``extra()`` gives the forward's arguments after the arrays (a fresh parameter dict each call), which
    ``extra_source`` writes in the snippet."""

    def check(learner, case):
        warnings = set()
        args = [case.arrays[arg] for arg in argnames]
        x = args[0]
        out, cache = _called(learner[forward_name], *[np.copy(a) if isinstance(a, np.ndarray) else a for a in args],
                             *extra())
        expected_out, ref_cache = reference_forward(*args, *extra())
        if not relative_error(out, expected_out) <= TOLERANCE[x.dtype]:
            raise ForwardFails(f"{forward_name} gives a wrong output on this case, and {name} takes its cache"
                               + _consistency(learner, forward_name, name, args, extra))
        dout = np.random.default_rng(1).standard_normal(np.shape(out)).astype(x.dtype)
        grads = _called(learner[name], dout, cache)
        grads = grads if isinstance(grads, tuple) else (grads,)
        expected = reference_backward(np.random.default_rng(1).standard_normal(np.shape(out)).astype(x.dtype),
                                      ref_cache)
        expected = expected if isinstance(expected, tuple) else (expected,)
        call = f"{', '.join(argnames)}{extra_source}"
        snippet = _snippet(f"out, cache = {forward_name}({call})\n"
                           f"dout = np.random.default_rng(1).standard_normal(out.shape)\n"
                           f"{', '.join('d' + g for g in gradnames)} = {name}(dout, cache)\n"
                           f"expected = tinyconv.layers.{name}(dout, tinyconv.layers.{forward_name}({call})[1])  "
                           "# the reference", dict(zip(argnames, args)))
        if len(grads) != len(expected):
            return Failure(f"returned {len(grads)} gradients, expected {len(expected)}", float("inf"), snippet), warnings
        for gradname, mine, theirs in zip(gradnames, grads, expected):
            failure = _compare(f"d{gradname}", mine, theirs, x.dtype, snippet, warnings)
            if failure is not None:
                return failure, warnings
        return None, warnings

    return check


def _consistency(learner, forward_name, name, args, extra):
    """How the learner's backward agrees with a float64 numerical gradient of their own forward, for x: what
    can be said of a backward whose forward is wrong (on inputs small enough to difference)."""
    x = np.array(args[0], dtype=np.float64)
    if x.size > 120:
        return ""
    rest = [np.array(a, dtype=np.float64) if isinstance(a, np.ndarray) else a for a in args[1:]]
    try:
        out, cache = learner[forward_name](x.copy(), *rest, *extra())
        dout = np.random.default_rng(2).standard_normal(np.shape(out))
        grads = learner[name](dout, cache)
        dx = grads[0] if isinstance(grads, tuple) else grads
        numeric = eval_numerical_gradient_array(lambda z: learner[forward_name](z, *rest, *extra())[0], x, dout)
    except Exception:  # the learner's code may fail in float64 too: nothing more to say then
        return ""
    error = relative_error(dx, numeric)
    verdict = "agrees with" if error < 1e-6 else "does not agree with"
    return (f"; its dx {verdict} a numerical gradient of that forward (relative error {error:.2g}), so it "
            f"{'may be right once the forward is' if error < 1e-6 else 'is wrong for that forward as well'}")


def _loss_check(name, reference_loss):
    def check(learner, case):
        warnings = set()
        loss, dx = _called(learner[name], case.arrays["x"].copy(), case.arrays["y"])
        expected_loss, expected_dx = reference_loss(case.arrays["x"], case.arrays["y"])
        snippet = _snippet(f"loss, dx = {name}(x, y)", case.arrays)
        dtype = case.arrays["x"].dtype
        failure = _compare("loss", loss, expected_loss, dtype, snippet, warnings)
        return failure or _compare("dx", dx, expected_dx, dtype, snippet, warnings), warnings

    return check


def _bn(mode):
    return {"mode": mode, "eps": 1e-5, "momentum": 0.9}


def _batchnorm_forward_check(learner, case):
    """Train mode's output and running statistics, then test mode's output from those statistics."""
    warnings = set()
    x, gamma, beta = (case.arrays[key] for key in ("x", "gamma", "beta"))
    mine_param, theirs_param = _bn("train"), _bn("train")
    snippet = _snippet("bn_param = {'mode': 'train', 'eps': 1e-5, 'momentum': 0.9}\n"
                       "out, cache = batchnorm_forward(x, gamma, beta, bn_param)\n"
                       "bn_param['mode'] = 'test'\nout, _ = batchnorm_forward(x, gamma, beta, bn_param)", case.arrays)
    for mode in ("train", "test"):
        mine_param["mode"] = theirs_param["mode"] = mode
        out, _ = _called(learner["batchnorm_forward"], x.copy(), gamma, beta, mine_param)
        expected, _ = reference.batchnorm_forward(x, gamma, beta, theirs_param)
        failure = _compare(f"out in {mode} mode", out, expected, x.dtype, snippet, warnings)
        if failure is None and mode == "train":
            for key in ("running_mean", "running_var"):
                failure = failure or _compare(f"bn_param['{key}'] after training", mine_param.get(key),
                                              theirs_param[key], x.dtype, snippet, warnings)
        if failure is not None:
            return failure, warnings
    return None, warnings


def _dropout_forward_check(learner, case):
    """Dropout's statistics, not its mask: the kept fraction, the mean kept, and test mode's identity. ``x``
    has 40,000 units, so the kept fraction and the mean are within 2% of their expectations by far."""
    warnings = set()
    x = np.abs(case.arrays["x"]) + 10
    snippet = _snippet("out, _ = dropout_forward(x, {'mode': 'train', 'p': 0.7})  # keeps 70%, scaled by 1/0.7",
                       {"x": x})
    out, _ = _called(learner["dropout_forward"], x.copy(), {"mode": "train", "p": 0.7})
    kept = float(np.mean(out != 0))
    if abs(kept - 0.7) > 0.02:
        return Failure(f"out keeps {kept:.2f} of the units, expected 0.7 (p is the probability of keeping one)",
                       abs(kept - 0.7) / 0.7, snippet), warnings
    error = abs(float(out.mean()) - float(x.mean())) / float(x.mean())
    if error > 0.02:
        return Failure("out's mean differs from x's (inverted dropout scales the kept units by 1/p)", error,
                       snippet), warnings
    test_out, _ = _called(learner["dropout_forward"], x.copy(), {"mode": "test", "p": 0.7})
    return _compare("out in test mode", test_out, x, x.dtype, snippet, warnings), warnings


def _dropout_backward_check(learner, case):
    warnings = set()
    x = case.arrays["x"]
    param = {"mode": "train", "p": 0.6, "seed": 3}
    out, cache = _called(learner["dropout_forward"], x.copy(), param)
    dout = np.random.default_rng(1).standard_normal(x.shape).astype(x.dtype)
    dx = _called(learner["dropout_backward"], dout, cache)
    # The mask the learner's own forward drew: dx must be dout where out kept x (scaled alike), 0 elsewhere.
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(x != 0, out / x, 0)
    kept = scale[scale != 0]
    if kept.size and not np.allclose(kept, 1 / 0.6, rtol=1e-3):
        raise ForwardFails("dropout_forward does not scale the units it keeps by 1/p, and dropout_backward takes "
                           "its cache")
    snippet = _snippet("out, cache = dropout_forward(x, {'mode': 'train', 'p': 0.6, 'seed': 3})\n"
                       "dout = np.random.default_rng(1).standard_normal(x.shape)\ndx = dropout_backward(dout, cache)",
                       {"x": x})
    return _compare("dx", dx, dout * scale, x.dtype, snippet, warnings), warnings


_MATRICES = [(1, (3,), 2), (2, (4,), 3), (3, (2, 3), 4), (5, (2, 2, 2), 3)]
_VECTORS = [(1, 3), (4, 3), (7, 5)]


def _conv_cases(seed):
    return _rng_cases(seed, _conv_case, _conv_grid())


def _conv_forward_cases(seed):
    """The conv cases, then one whose output size is not a whole number: (5 - 2) / 2."""
    impossible = _conv_case(np.random.default_rng(seed), 1, 1, 1, 5, 5, 2, 2, 2, 0, np.float64)
    return [*_conv_cases(seed), Case({**impossible.params, "impossible": True}, impossible.arrays)]


def _refusing_impossible_sizes(check):
    """``check``, and for a case marked impossible a warning where the learner's forward returns anything."""

    def checked(learner, case):
        if not case.params.get("impossible"):
            return check(learner, case)
        try:
            learner["conv_forward_naive"](*(case.arrays[arg] for arg in _CONV))
        except Exception:  # refusing it, however, is right
            return None, set()
        return None, {"conv_forward_naive accepts an output size that is not a whole number, 1 + (5 - 2) / 2, "
                      "where it should raise an error"}

    return checked


def _pool_cases(seed):
    return _rng_cases(seed, _pool_case, _pool_grid())


def _affine_cases(seed):
    return _rng_cases(seed, _affine_case, _matrix_grid(_MATRICES))


def _relu_cases(seed):
    return [Case(case.params, {"x": case.arrays["x"]}) for case in _affine_cases(seed)]


def _batchnorm_cases(seed):
    return _rng_cases(seed, _batchnorm_case, _matrix_grid([(2, 3), (5, 4), (16, 7)]))


def _scores_cases(seed):
    return _rng_cases(seed, _scores_case, _matrix_grid(_VECTORS))


def _dropout_cases(seed):
    rng = np.random.default_rng(seed)
    return [Case(dict(x=(200, 200), dtype=np.dtype(dtype).name), {"x": rng.standard_normal((200, 200)).astype(dtype)})
            for dtype in (np.float64, np.float32)]


def _layernorm_case(rng, shape, dtype):
    case = _batchnorm_case(rng, shape, dtype)
    return Case(case.params, {**case.arrays, "ln_param": {}})


def _spatial_case(rng, shape, dtype):
    N, C, H, W, G = shape
    arrays = {"x": (2 * rng.standard_normal((N, C, H, W)) + 1).astype(dtype)}
    params = dict(x=(N, C, H, W), dtype=np.dtype(dtype).name)
    if G:  # group norm: its scale and shift are (1, C, 1, 1)
        arrays.update(gamma=rng.standard_normal((1, C, 1, 1)).astype(dtype),
                      beta=rng.standard_normal((1, C, 1, 1)).astype(dtype), G=G, gn_param={})
        params["G"] = G
    else:
        arrays.update(gamma=rng.standard_normal(C).astype(dtype), beta=rng.standard_normal(C).astype(dtype),
                      bn_param={"mode": "train"})
    return Case(params, arrays)


def _layernorm_cases(seed):
    return _rng_cases(seed, _layernorm_case, _matrix_grid([(2, 3), (5, 4), (3, 8)]))


def _spatial_batchnorm_cases(seed):
    return _rng_cases(seed, _spatial_case, _matrix_grid([(2, 1, 2, 2, 0), (3, 2, 3, 4, 0), (4, 3, 2, 5, 0)]))


def _groupnorm_cases(seed):
    return _rng_cases(seed, _spatial_case, _matrix_grid([(1, 2, 2, 2, 1), (2, 4, 3, 2, 2), (3, 6, 2, 3, 3),
                                                        (2, 6, 4, 3, 2)]))


def _conv_pool_cases(seed):
    """Convolutions that keep the size (3x3, pad 1, or 1x1) on even inputs, each followed by a 2x2 pool."""
    rng = np.random.default_rng(seed)
    cases = []
    for N, C, F, H, W, size, dtype in [(1, 1, 1, 2, 2, 3, np.float64), (2, 3, 2, 4, 6, 3, np.float64),
                                       (2, 2, 3, 6, 4, 1, np.float64), (3, 2, 4, 4, 4, 3, np.float32)]:
        case = _conv_case(rng, N, C, F, H, W, size, size, 1, (size - 1) // 2, dtype)
        pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
        cases.append(Case({**case.params, "pool": (2, 2)}, {**case.arrays, "pool_param": pool_param}))
    return cases


_CONV = ("x", "w", "b", "conv_param")
_BATCHNORM = ("x", "gamma", "beta")

ITEMS = (
    Item("affine_forward", ("affine_forward",), _affine_cases,
         _forward_check("affine_forward", reference.affine_forward, ("x", "w", "b"))),
    Item("affine_backward", ("affine_forward", "affine_backward"), _affine_cases,
         _backward_check("affine_forward", "affine_backward", reference.affine_forward, reference.affine_backward,
                         ("x", "w", "b"), ("x", "w", "b"))),
    Item("relu_forward", ("relu_forward",), _relu_cases, _forward_check("relu_forward", reference.relu_forward, ("x",))),
    Item("relu_backward", ("relu_forward", "relu_backward"), _relu_cases,
         _backward_check("relu_forward", "relu_backward", reference.relu_forward, reference.relu_backward, ("x",),
                         ("x",))),
    Item("softmax_loss", ("softmax_loss",), _scores_cases, _loss_check("softmax_loss", reference.softmax_loss)),
    Item("svm_loss", ("svm_loss",), _scores_cases, _loss_check("svm_loss", reference.svm_loss)),
    Item("conv_forward_naive", ("conv_forward_naive",), _conv_forward_cases,
         _refusing_impossible_sizes(_forward_check("conv_forward_naive", reference.conv_forward_naive, _CONV))),
    Item("conv_backward_naive", ("conv_forward_naive", "conv_backward_naive"), _conv_cases,
         _backward_check("conv_forward_naive", "conv_backward_naive", reference.conv_forward_naive,
                         reference.conv_backward_naive, _CONV, ("x", "w", "b"))),
    Item("max_pool_forward_naive", ("max_pool_forward_naive",), _pool_cases,
         _forward_check("max_pool_forward_naive", reference.max_pool_forward_naive, ("x", "pool_param"))),
    Item("max_pool_backward_naive", ("max_pool_forward_naive", "max_pool_backward_naive"), _pool_cases,
         _backward_check("max_pool_forward_naive", "max_pool_backward_naive", reference.max_pool_forward_naive,
                         reference.max_pool_backward_naive, ("x", "pool_param"), ("x",))),
    Item("batchnorm_forward", ("batchnorm_forward",), _batchnorm_cases, _batchnorm_forward_check),
    *(Item(backward, ("batchnorm_forward", backward), _batchnorm_cases,
           _backward_check("batchnorm_forward", backward, reference.batchnorm_forward, getattr(reference, backward),
                           _BATCHNORM, _BATCHNORM, extra=lambda: (_bn("train"),),
                           extra_source=", {'mode': 'train', 'eps': 1e-5, 'momentum': 0.9}"))
      for backward in ("batchnorm_backward", "batchnorm_backward_alt")),
    Item("layernorm_forward", ("layernorm_forward",), _layernorm_cases,
         _forward_check("layernorm_forward", reference.layernorm_forward, (*_BATCHNORM, "ln_param"))),
    Item("layernorm_backward", ("layernorm_forward", "layernorm_backward"), _layernorm_cases,
         _backward_check("layernorm_forward", "layernorm_backward", reference.layernorm_forward,
                         reference.layernorm_backward, (*_BATCHNORM, "ln_param"), _BATCHNORM)),
    Item("spatial_batchnorm_forward", ("spatial_batchnorm_forward",), _spatial_batchnorm_cases,
         _forward_check("spatial_batchnorm_forward", reference.spatial_batchnorm_forward, (*_BATCHNORM, "bn_param"))),
    Item("spatial_batchnorm_backward", ("spatial_batchnorm_forward", "spatial_batchnorm_backward"),
         _spatial_batchnorm_cases,
         _backward_check("spatial_batchnorm_forward", "spatial_batchnorm_backward", reference.spatial_batchnorm_forward,
                         reference.spatial_batchnorm_backward, (*_BATCHNORM, "bn_param"), _BATCHNORM)),
    Item("spatial_groupnorm_forward", ("spatial_groupnorm_forward",), _groupnorm_cases,
         _forward_check("spatial_groupnorm_forward", reference.spatial_groupnorm_forward,
                        (*_BATCHNORM, "G", "gn_param"))),
    Item("spatial_groupnorm_backward", ("spatial_groupnorm_forward", "spatial_groupnorm_backward"), _groupnorm_cases,
         _backward_check("spatial_groupnorm_forward", "spatial_groupnorm_backward",
                         reference.spatial_groupnorm_forward, reference.spatial_groupnorm_backward,
                         (*_BATCHNORM, "G", "gn_param"), _BATCHNORM)),
    Item("dropout_forward", ("dropout_forward",), _dropout_cases, _dropout_forward_check),
    Item("dropout_backward", ("dropout_forward", "dropout_backward"), _relu_cases, _dropout_backward_check),
)


def _sandwich(name, cases, argnames, gradnames):
    """The forward and backward items of a layer_utils sandwich, ``name`` without its _forward/_backward."""
    forward, backward = f"{name}_forward", f"{name}_backward"
    return (Item(forward, (forward,), cases, _forward_check(forward, getattr(reference, forward), argnames)),
            Item(backward, (forward, backward), cases,
                 _backward_check(forward, backward, getattr(reference, forward), getattr(reference, backward),
                                 argnames, gradnames)))


# The layer_utils.py sandwiches, graded where the learner's folder has that module.
SANDWICHES = (*_sandwich("affine_relu", _affine_cases, ("x", "w", "b"), ("x", "w", "b")),
              *_sandwich("conv_relu", _conv_cases, _CONV, ("x", "w", "b")),
              *_sandwich("conv_relu_pool", _conv_pool_cases, (*_CONV, "pool_param"), ("x", "w", "b")))
