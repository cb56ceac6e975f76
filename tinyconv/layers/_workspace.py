"""The scratch-memory budget of the fast layers, which process the batch in chunks that fit it."""

import contextlib
import contextvars
import math

import numpy as np

from .. import _checks
from .._backend import array_module
from .._parallel import run_chunks, workers_for

# Per worker. On the CPU, small enough to stay near the caches: on one thread 8 to 16 MiB were the fastest
# and on two workers 16 MiB each beat 8 MiB each by 1.3 to 1.5 times (float32 3x3 convs, 2-core machine;
# benchmarks/workspace.py). On a GPU every chunk costs kernel launches and memory is plentiful.
_CPU_DEFAULT, _GPU_DEFAULT = 16 * 2**20, 1024 * 2**20
# What limit_workspace set in this thread or task; None: the defaults above.
_LIMIT = contextvars.ContextVar("tinyconv_workspace_limit", default=None)
# Below this much work per call, handing chunks to threads costs more than it saves: on a 2-core machine,
# max pooling, ReLU and batch norm over 1 MiB inputs took 1.2 to 2.7 times as long on two workers as on one,
# over 2 MiB 0.9 to 2.5 times, over 4 MiB 0.3 to 1.0 times (benchmarks/threads.py, two runs).
_PARALLEL_MIN_BYTES = 4 * 2**20


def workspace_limit(xp=np):
    """Bytes of scratch memory each worker of a fast conv call on arrays of module ``xp`` may use (the batch is
    processed in chunks that fit): what ``limit_workspace`` set, else 16 MiB for NumPy and 1 GiB for CuPy."""
    limit = _LIMIT.get()
    if limit is not None:
        return limit
    return _CPU_DEFAULT if xp is np else _GPU_DEFAULT


@contextlib.contextmanager
def limit_workspace(nbytes):
    """Set the fast conv workspace limit (per worker) to ``nbytes`` inside a ``with`` block (for this thread
    only).

    Example: ``with limit_workspace(16 * 2**20): out, cache = conv_forward_fast(x, w, b, conv_param)``.
    One sample's workspace is the floor: a chunk never holds fewer than one sample.
    """
    token = _LIMIT.set(_checks.integer("limit_workspace", "nbytes", nbytes, 1))
    try:
        yield
    finally:
        _LIMIT.reset(token)


def batch_chunks(num_samples, bytes_per_sample, workers=1, limit=None):
    """Slices of range(num_samples) of near-equal sizes, a multiple of ``workers`` of them when there are
    that many samples, each with a workspace that fits the limit (default ``workspace_limit()``), which each
    of the ``workers`` running at once has to itself."""
    limit = workspace_limit() if limit is None else limit
    most = max(1, limit // max(1, bytes_per_sample))
    count = -(-num_samples // most)  # chunks that the limit asks for
    # A multiple of the workers, so that none of them is left with an extra chunk at the end.
    count = min(num_samples, -(-count // workers) * workers)
    bounds = [i * num_samples // count for i in range(count + 1)] if count else [0]
    return [slice(start, stop) for start, stop in zip(bounds, bounds[1:])]


def map_rows(work, a):
    """``[work(chunk) for chunk in ...]`` over chunks of a's first axis (a pass that reads a chunk of ``a``
    and writes as much), on the available workers."""
    return map_batch_chunks(array_module(a), work, a.shape[0], math.prod(a.shape[1:]) * a.itemsize)


def workers_for_work(xp, work_bytes):
    """Workers for a call on arrays of module ``xp`` with ``work_bytes`` of work: the available ones from
    4 MiB on, else 1 (the calling thread)."""
    return workers_for(xp) if work_bytes >= _PARALLEL_MIN_BYTES else 1


def map_batch_chunks(xp, work, num_samples, bytes_per_sample, work_bytes=None):
    """``[work(chunk) for chunk in batch_chunks(...)]``, chunks sized for and run on the available workers.

    The call's work is its whole workspace, ``num_samples * bytes_per_sample``, unless ``work_bytes`` is
    given: pooling's workspace per sample is an upper bound that sizes its chunks, while its passes cost
    about what reading its input a few times costs, and an affine layer's products cost more than their
    operands' bytes suggest.
    """
    if work_bytes is None:
        work_bytes = num_samples * bytes_per_sample
    workers = workers_for_work(xp, work_bytes)
    return run_chunks(work, batch_chunks(num_samples, bytes_per_sample, workers, workspace_limit(xp)), workers)
