"""Numerical gradients by centered differences, for checking hand-written backward passes.

As in cs231n, the functions perturb the caller's array ``x`` in place, one
element at a time, and restore it afterwards: callers may pass closures that
ignore their argument and read ``x`` directly. Use float64 inputs; in float32
the differences are dominated by rounding.
"""

import numpy as np

from . import _checks


def _perturbed(f, x, index, h):
    """``f`` evaluated at x[index] + h and x[index] - h, with x[index] restored afterwards."""
    old = x[index]
    try:
        x[index] = old + h
        plus = f(x)
        x[index] = old - h
        minus = f(x)
    finally:
        x[index] = old
    return plus, minus


def _step(where, h):
    """``h``, a finite step > 0 (the differences divide by 2h)."""
    return _checks.real(where, "h", h, 0, min_open=True)


def _centered_differences(where, f, x, h, reduce, verbose=False, name="x"):
    """``reduce(f(x + h e_i) - f(x - h e_i)) / 2h`` for every element i of x (called ``name`` in errors)."""
    _checks.float_array(where, name, x)  # x + h would round back to an integer x
    _step(where, h)
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        plus, minus = _perturbed(f, x, index, h)
        grad[index] = reduce(plus - minus) / (2 * h)
        if verbose:
            print(index, grad[index])
    return grad


def eval_numerical_gradient(f, x, verbose=True, h=1e-5):
    """Numerical gradient of a scalar function.

    Parameters
    ----------
    f : callable taking x and returning a scalar
    x : array of any shape, float64 recommended; perturbed in place and restored
    verbose : print each index and its gradient
    h : step of the centered difference

    Returns
    -------
    grad : array shaped like x
    """
    return _centered_differences("eval_numerical_gradient", f, x, h, lambda d: d, verbose)


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Numerical gradient of ``sum(f(x) * df)``: the vector-Jacobian product a backward pass computes.

    Parameters
    ----------
    f : callable taking x and returning an array shaped like df
    x : array of any shape; perturbed in place and restored
    df : array, the upstream gradient
    h : step of the centered difference

    Returns
    -------
    grad : array shaped like x
    """
    # Copies, since f may return a view of a buffer that the next call overwrites.
    return _centered_differences("eval_numerical_gradient_array", lambda z: np.array(f(z), copy=True), x, h,
                                 lambda d: np.sum(d * df))


def eval_numerical_gradient_blobs(f, inputs, output, h=1e-5):
    """Numerical gradients for a function that works on blobs: objects with ``vals`` and ``diffs`` arrays.

    ``f(*inputs, output)`` reads the inputs' ``vals`` and writes its result into
    ``output.vals``; ``output.diffs`` is the upstream gradient. Each input's
    ``vals`` is perturbed in place and restored.

    Parameters
    ----------
    f : callable
    inputs : tuple of blobs, each ``vals`` a float array
    output : blob whose ``diffs`` is shaped like the ``vals`` f writes
    h : step of the centered difference

    Returns
    -------
    list of arrays, the gradient of ``sum(output.vals * output.diffs)`` for each
    input, shaped like its ``vals``
    """
    inputs = tuple(inputs)

    def run(_):
        f(*inputs, output)
        return np.array(output.vals, copy=True)

    return [_centered_differences("eval_numerical_gradient_blobs", run, blob.vals, h,
                                  lambda d: np.sum(d * output.diffs), name=f"inputs[{index}].vals")
            for index, blob in enumerate(inputs)]


def eval_numerical_gradient_net(net, inputs, output, h=1e-5):
    """:func:`eval_numerical_gradient_blobs` for a net whose ``forward()`` reads ``inputs`` and writes ``output``."""
    return eval_numerical_gradient_blobs(lambda *blobs: net.forward(), inputs, output, h=h)


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, seed=None):
    """Compare ``analytic_grad`` with numerical gradients at ``num_checks`` random elements of x.

    Prints one line per element (numerical, analytic, relative error) and returns
    the list of relative errors. ``seed`` makes the sampled elements reproducible.
    """
    where = "grad_check_sparse"
    _checks.float_array(where, "x", x)
    _step(where, h)
    num_checks = _checks.positive_int(where, "num_checks", num_checks)
    if x.size == 0:
        raise ValueError(f"{where}: x has no elements to check (shape {x.shape})")
    if np.shape(analytic_grad) != x.shape:
        raise ValueError(f"{where}: analytic_grad must have x's shape {x.shape}, got {np.shape(analytic_grad)}")
    rng = np.random.default_rng(seed)
    errors = []
    for _ in range(num_checks):
        index = tuple(int(rng.integers(dim)) for dim in x.shape)
        plus, minus = _perturbed(f, x, index, h)
        numerical = (plus - minus) / (2 * h)
        analytic = analytic_grad[index]
        error = abs(numerical - analytic) / max(1e-12, abs(numerical) + abs(analytic))
        errors.append(float(error))
        print(f"numerical: {numerical:f} analytic: {analytic:f}, relative error: {error:e}")
    return errors


def rel_error(x, y):
    """Maximum relative error ``max(|x - y| / max(1e-8, |x| + |y|))``, over x and y broadcast together; 0 for
    empty arrays, which differ nowhere."""
    x, y = np.asarray(x), np.asarray(y)
    try:
        np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        raise ValueError(f"rel_error: x and y must have shapes that broadcast together, got {x.shape} and "
                         f"{y.shape}") from None
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)), initial=0.0))
