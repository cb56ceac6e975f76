"""The scratch-memory budget of the fast conv algorithms, which process the batch in chunks that fit it."""

import contextlib

from . import _checks

# Small enough to stay near the caches: measured no slower than larger chunks (benchmarks/bench.py).
_LIMIT = [16 * 2**20]


def workspace_limit():
    """Bytes of scratch memory one fast conv call may use; the batch is processed in chunks that fit."""
    return _LIMIT[0]


@contextlib.contextmanager
def limit_workspace(nbytes):
    """Set the fast conv workspace limit to ``nbytes`` inside a ``with`` block.

    Example: ``with limit_workspace(16 * 2**20): out, cache = conv_forward_fast(x, w, b, conv_param)``.
    One sample's workspace is the floor: a chunk never holds fewer than one sample.
    """
    nbytes = _checks.integer("limit_workspace", "nbytes", nbytes, 1)
    previous = _LIMIT[0]
    _LIMIT[0] = nbytes
    try:
        yield
    finally:
        _LIMIT[0] = previous


def batch_chunks(num_samples, bytes_per_sample):
    """Slices of range(num_samples) of near-equal sizes whose workspace fits the limit (>= 1 sample each)."""
    most = max(1, workspace_limit() // max(1, bytes_per_sample))
    count = -(-num_samples // most)
    step = max(1, -(-num_samples // max(1, count)))
    return [slice(start, min(start + step, num_samples)) for start in range(0, num_samples, step)]
