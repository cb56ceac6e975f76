"""Checks shared by the layer tests: numerical gradients, the PyTorch oracle, dtype and purity contracts."""

import copy
import tracemalloc

import numpy as np
import pytest

from tinyconv.gradcheck import eval_numerical_gradient, eval_numerical_gradient_array
from .oracle import torch

DTYPES = (np.float32, np.float64)

# Tolerances against the PyTorch oracle. float64: elementwise and tight, only summation order differs.
# float32: normwise, ||ours - exact|| / ||exact||, measured against the float64 oracle.
FLOAT64_ORACLE = dict(rtol=1e-10, atol=1e-12)
FLOAT32_NORMWISE = 2e-5


def conv_input_size(out_size, filter_size, stride, pad):
    """The input size for which a conv (or, with pad=0, a pool) window produces out_size outputs exactly."""
    return (out_size - 1) * stride + filter_size - 2 * pad


def distinct_values(rng, shape, dtype=np.float64, spacing=0.01):
    """Values with no ties and every pair at least `spacing` apart, shuffled: safe for max-pool gradients."""
    size = int(np.prod(shape))
    values = (np.arange(size) - size / 2) * spacing
    return rng.permutation(values).reshape(shape).astype(dtype)


def as_tuple(grads):
    """A backward returns a bare gradient for one-input layers; make it a tuple."""
    return grads if isinstance(grads, tuple) else (grads,)


def check_backward(forward, backward, inputs, dout, *, names=None, h=1e-5, rtol=1e-6, atol=1e-8):
    """Compare an analytic backward pass with central differences, in float64.

    Parameters
    ----------
    forward : callable
        ``forward(*inputs) -> (out, cache)``; every non-array argument is closed over.
    backward : callable
        ``backward(dout, cache) -> grad`` or a tuple of gradients, one per entry of `inputs`, in order.
    inputs : sequence of ndarray
        The arrays the gradients are taken with respect to; copied to float64 first.
    dout : ndarray
        Upstream gradient, shape of ``out``.
    names : sequence of str, optional
        Names of the inputs, for failure messages.
    h, rtol, atol : float
        Finite-difference step and the elementwise tolerances of ``assert_allclose``.
    """
    inputs = [np.array(a, dtype=np.float64) for a in inputs]
    dout = np.array(dout, dtype=np.float64)
    names = names or [f"input {i}" for i in range(len(inputs))]
    out, cache = forward(*inputs)
    assert out.shape == dout.shape, f"forward output shape {out.shape} != dout shape {dout.shape}"
    grads = as_tuple(backward(dout, cache))
    assert len(grads) == len(inputs), f"backward returned {len(grads)} gradients for {len(inputs)} inputs"
    for name, x, grad in zip(names, inputs, grads):
        assert grad.shape == x.shape, f"d{name} has shape {grad.shape}, {name} has {x.shape}"
        assert grad.dtype == np.float64, f"d{name} is {grad.dtype}"
        # eval_numerical_gradient_array perturbs x in place; forward reads it through `inputs`.
        numeric = eval_numerical_gradient_array(lambda _: forward(*inputs)[0], x, dout, h=h)
        np.testing.assert_allclose(grad, numeric, rtol=rtol, atol=atol, err_msg=f"gradient of {name}")


def check_loss_gradient(loss_fn, x, y, *, h=1e-5, rtol=1e-6, atol=1e-8):
    """Compare the dx a loss returns with central differences of its loss, in float64."""
    x = np.array(x, dtype=np.float64)
    loss, dx = loss_fn(x, y)
    assert dx.shape == x.shape and dx.dtype == np.float64
    numeric = eval_numerical_gradient(lambda _: loss_fn(x, y)[0], x, verbose=False, h=h)
    np.testing.assert_allclose(dx, numeric, rtol=rtol, atol=atol)


def torch_forward_backward(fn, inputs, dout):
    """Run `fn` on tensors copied from `inputs` and backpropagate `dout` through it with autograd.

    Returns the output and the gradient of every input as NumPy arrays in the inputs' dtype.
    """
    tensors = [torch.tensor(a, requires_grad=True) for a in inputs]
    out = fn(*tensors)
    out.backward(torch.tensor(dout))
    return out.detach().numpy(), [t.grad.numpy() for t in tensors]


def assert_naive_and_fast_agree(naive, fast, inputs, dout, what=""):
    """The forward output and every gradient of the ``naive`` and ``fast`` forms of a layer agree.

    Each form is ``(forward, backward)``: ``forward(*arrays) -> (out, cache)`` (every other argument closed
    over), ``backward(dout, cache) -> gradients``. float64 results agree elementwise within 1e-10. A float32
    result is judged normwise against the size of the terms it sums: the naive form run on the inputs'
    magnitudes in float64, since a result that cancels (a single dx summing two terms of opposite sign) rounds
    relative to its terms (Winograd's transforms do), not to itself.
    """
    dtype = inputs[0].dtype
    magnitudes = ([np.abs(a, dtype=np.float64) for a in inputs], np.abs(dout, dtype=np.float64))
    results = []
    for (forward, backward), (arrays, upstream) in ((naive, (inputs, dout)), (fast, (inputs, dout)),
                                                    (naive, magnitudes)):
        out, cache = forward(*arrays)
        results.append([out, *as_tuple(backward(upstream, cache))])
    for name, slow, quick, magnitude in zip(["out", "dx", "dw", "db"], *results):
        label = f"{what} {name}".strip()
        assert slow.dtype == quick.dtype == dtype and slow.shape == quick.shape, label
        if dtype == np.float64:
            np.testing.assert_allclose(quick, slow, rtol=1e-10, atol=1e-12, err_msg=label)
        else:
            assert_normwise_close(quick, slow, what=label, scale=np.linalg.norm(magnitude))


def assert_normwise_close(actual, expected, tol=FLOAT32_NORMWISE, what="value", scale=None):
    """||actual - expected|| <= tol * max(||expected||, scale).

    `scale` is a floor for gradients that vanish in exact arithmetic (a bias followed by batchnorm):
    there float32 rounding can only be judged against the size of the upstream gradient.
    """
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    error = np.linalg.norm(np.asarray(actual, np.float64) - np.asarray(expected, np.float64))
    scale = max(np.linalg.norm(np.asarray(expected, np.float64)), scale or 0.0) or 1.0
    assert error <= tol * scale, f"{what}: normwise error {error / scale:.3g} > {tol:.3g}"


def assert_close_across_machines(actual, expected, ulps=64):
    """``actual`` equals ``expected``, stored on another machine, to within ``ulps`` units in the last place
    of the dtype at ``expected``'s largest magnitude.

    BLAS picks its kernels by CPU, and another kernel sums in another order: numbers computed elsewhere
    agree to rounding, not to the bit.
    """
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    scale = float(np.max(np.abs(expected), initial=0.0)) or 1.0
    tolerance = ulps * np.finfo(expected.dtype).eps * scale
    error = float(np.max(np.abs(np.asarray(actual, np.float64) - expected), initial=0.0))
    assert error <= tolerance, f"largest difference {error:.3g} > {tolerance:.3g} ({ulps} ulps at {scale:.3g})"


def assert_refused_before_allocating(call, error, match, limit=2**20):
    """``call()`` raises ``error`` matching ``match`` having allocated less than ``limit`` bytes on the way: a
    file or argument that claims a huge size is refused from the claim, not after trying to honour it."""
    tracemalloc.start()
    try:
        with pytest.raises(error, match=match):
            call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < limit, f"refusing allocated {peak} bytes"


def check_against_oracle(ours_forward, ours_backward, torch_fn, inputs, dout, names):
    """Compare our forward and every gradient with PyTorch autograd.

    float64 inputs are compared elementwise with FLOAT64_ORACLE; float32 inputs are run through our layer
    in float32 and compared normwise with the oracle evaluated in float64.
    """
    dtype = inputs[0].dtype
    out, cache = ours_forward(*inputs)
    grads = as_tuple(ours_backward(dout, cache))
    exact_out, exact_grads = torch_forward_backward(
        torch_fn, [a.astype(np.float64) for a in inputs], dout.astype(np.float64)
    )
    assert out.dtype == dtype
    dout_norm = np.linalg.norm(dout.astype(np.float64))
    pairs = [("out", out, exact_out)] + [(f"d{n}", g, e) for n, g, e in zip(names, grads, exact_grads)]
    for what, ours, exact in pairs:
        assert ours.dtype == dtype, f"{what} is {ours.dtype}, inputs are {dtype}"
        if dtype == np.float64:
            np.testing.assert_allclose(ours, exact, **FLOAT64_ORACLE, err_msg=what)
        else:
            assert_normwise_close(ours, exact, what=what, scale=None if what == "out" else dout_norm)


def assert_tree_equal(a, b, path="cache"):
    """Exact equality of nested tuples, lists and dicts of arrays and plain values."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, f"{path}: {a.dtype}{a.shape} != {b.dtype}{b.shape}"
        np.testing.assert_array_equal(a, b, err_msg=path)
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), f"{path}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_tree_equal(x, y, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), f"{path}: keys {sorted(a)} != {sorted(b)}"
        for key in a:
            assert_tree_equal(a[key], b[key], f"{path}[{key!r}]")
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def check_layer_contract(forward, backward, inputs, rng):
    """dtype in is dtype out, for the output and every gradient; nothing the caller owns is modified.

    Runs forward and backward once on `inputs` (all of one float dtype) and checks that the inputs, dout
    and cache are untouched, that the gradients have the inputs' shapes and dtype, and that a second
    backward from the same cache gives the same gradients.
    """
    dtype = inputs[0].dtype
    inputs_before = [a.copy() for a in inputs]
    out, cache = forward(*inputs)
    assert out.dtype == dtype, f"forward returned {out.dtype} for {dtype} inputs"
    dout = rng.standard_normal(out.shape).astype(dtype)
    dout_before = dout.copy()
    cache_before = copy.deepcopy(cache)
    grads = as_tuple(backward(dout, cache))
    assert len(grads) == len(inputs)
    for i, (grad, x) in enumerate(zip(grads, inputs)):
        assert grad.dtype == dtype, f"gradient {i} is {grad.dtype} for {dtype} inputs"
        assert grad.shape == x.shape, f"gradient {i} has shape {grad.shape}, input has {x.shape}"
    for i, (x, before) in enumerate(zip(inputs, inputs_before)):
        np.testing.assert_array_equal(x, before, err_msg=f"input {i} was modified")
    np.testing.assert_array_equal(dout, dout_before, err_msg="dout was modified")
    assert_tree_equal(cache, cache_before)
    grads_again = as_tuple(backward(dout, cache))
    for i, (g1, g2) in enumerate(zip(grads, grads_again)):
        np.testing.assert_array_equal(g1, g2, err_msg=f"second backward differs in gradient {i}")


def check_rejects_bad_dout(forward, backward, inputs):
    """A dout of another shape than the output is a ValueError, of another dtype a TypeError; both name dout."""
    out, cache = forward(*inputs)
    for shape in [out.shape[:-1] + (out.shape[-1] + 1,), out.shape + (1,)]:
        with pytest.raises(ValueError, match="dout"):
            backward(np.ones(shape, dtype=out.dtype), cache)
    other_dtype = np.float32 if out.dtype == np.float64 else np.float64
    with pytest.raises(TypeError, match="dout"):
        backward(np.ones(out.shape, dtype=other_dtype), cache)


# A small digits run: a ConvNet of one pooled conv block, two epochs, 100 validation and 50 test images.
SMALL_DIGITS = ["--num-val", "100", "--num-test", "50"]
SMALL_RUN = ["--model", "c4p-f16", "--epochs", "2", "--batch-size", "100", *SMALL_DIGITS]


def invoke(*args):
    """Run the ``tinyconv`` command line in this process with ``args`` (each turned into a string)."""
    from click.testing import CliRunner

    from tinyconv.cli import main

    return CliRunner().invoke(main, [str(arg) for arg in args])
