"""Run the batch chunks of a fast layer on worker threads.

NumPy releases the GIL inside its copies, ufuncs and BLAS calls, so the chunks
of one conv or pool proceed in parallel, while most of the time of a fast layer
goes to copies that BLAS threads do not help with. While workers run, BLAS is
held to its share of the threads (through threadpoolctl, when it is installed),
since workers that each start all of BLAS's threads oversubscribe the cores and
crawl. That limit is process-wide, like BLAS's own setting, and is lifted when
the last fast layer running in the process returns. Without threadpoolctl, or
on CuPy arrays, chunks run one after another on the calling thread.

A call reads its worker count once, when it starts, runs one share of its
chunks on the calling thread and queues the others at once, each to run in a
copy of the caller's context (NumPy's error settings and tinyconv's scoped
settings included). The shared pool only grows, to one thread fewer than the
most shares a call has run, and a pool replaced by a larger one still runs the
work queued on it: changing
the setting, from any thread, never disturbs a running call. A child made by
``os.fork()`` starts with no pool, lock or BLAS limit of its parent's, whose
worker threads do not exist in it.
"""

import contextlib
import contextvars
import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np

from . import _checks

_ENV = "TINYCONV_NUM_THREADS"
# What num_threads() set in this thread or task; None: the process-wide setting.
_SCOPED = contextvars.ContextVar("tinyconv_num_threads", default=None)
# Whether this thread or task runs inside held_blas().
_HELD = contextvars.ContextVar("tinyconv_held_blas", default=False)
_lock = threading.Lock()
# threads: set_num_threads's value (None: default); blas: threadpoolctl's controller, once looked up;
# executor: the worker pool and its size; limit_users/limiter: the fast layers currently holding BLAS down.
_state = {"threads": None, "executor": None, "limit_users": 0, "limiter": None}


def _available_cpus():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _process_setting():
    """set_num_threads()'s value, else $TINYCONV_NUM_THREADS, else the CPU count."""
    if _state["threads"] is not None:
        return _state["threads"]
    value = os.environ.get(_ENV, "")
    if value:
        try:
            threads = int(value)
        except ValueError:
            threads = 0
        if threads < 1:
            raise ValueError(f"get_num_threads: the environment variable {_ENV} must be a positive integer, "
                             f"got {value!r}; set it to a number of threads such as 2, or unset it")
        return threads
    return _available_cpus()


def get_num_threads():
    """Worker threads the fast layers use in this thread: what an enclosing ``num_threads`` block set,
    else ``set_num_threads()``, else $TINYCONV_NUM_THREADS, else the CPU count."""
    scoped = _SCOPED.get()
    return _process_setting() if scoped is None else scoped


def set_num_threads(threads):
    """Set the worker threads of the fast layers for the whole process (1 runs everything on the
    calling thread); a ``num_threads`` block overrides it inside the block. None goes back to the default
    ($TINYCONV_NUM_THREADS, else the CPU count).

    Returns the previous process-wide setting (None where there was none), so ``set_num_threads(previous)``
    restores it.
    """
    previous = _state["threads"]
    _state["threads"] = _checks.integer("set_num_threads", "threads", threads, minimum=1, optional=True)
    return previous


@contextlib.contextmanager
def num_threads(threads):
    """Use ``threads`` worker threads in the fast layers inside a ``with`` block, in this thread only.

    Example: ``with tinyconv.num_threads(1): out, cache = conv_forward_fast(x, w, b, conv_param)``.
    Blocks nest; other threads, and the process-wide ``set_num_threads``, are left as they are.
    """
    token = _SCOPED.set(_checks.integer("num_threads", "threads", threads, minimum=1))
    try:
        yield
    finally:
        _SCOPED.reset(token)


def _blas_controller():
    """threadpoolctl's controller of the loaded BLAS libraries, or None when threadpoolctl is not installed."""
    with _lock:
        if "blas" not in _state:
            try:
                from threadpoolctl import ThreadpoolController
            except ImportError:
                _state["blas"] = None
            else:
                _state["blas"] = ThreadpoolController()
    return _state["blas"]


def _change_blas_threads(change, **kwargs):
    """Call ``change(**kwargs)``, which sets or restores BLAS's threads, with this thread in control of them.

    Recent threadpoolctl releases let only the thread that last changed a process-wide OpenBLAS pool change
    it again while that thread lives, silently ignoring the others, while the fast layer that starts first
    or ends last may run in any thread. The changes here are made one at a time, under the lock: this
    thread takes control for its change and hands it back after, not to keep other code's threads out.
    """
    from threadpoolctl import OpenBLASController  # installed, since there is a limit to change

    release = getattr(OpenBLASController, "clear_controlling_thread", None)  # absent in older releases
    if release is None:
        return change(**kwargs)
    release(force=True)
    try:
        return change(**kwargs)
    finally:
        release(force=True)


@contextlib.contextmanager
def _blas_threads_per_worker(threads_each):
    """Hold BLAS to ``threads_each`` threads while any fast layer runs workers; the first to start sets
    the limit, the last to finish lifts it, so overlapping calls from several threads restore it once."""
    with _lock:
        if _state["limit_users"] == 0:
            _state["limiter"] = _change_blas_threads(_state["blas"].limit, limits=threads_each, user_api="blas")
        _state["limit_users"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["limit_users"] -= 1
            if _state["limit_users"] == 0:
                _change_blas_threads(_state["limiter"].restore_original_limits)
                _state["limiter"] = None


def _submit(size, fn, items):
    """Futures of ``fn(item)`` for each item on the worker pool, grown to ``size`` threads if smaller."""
    # Under the lock, a call gets the pool and queues all its work at once, so a pool replaced by a larger
    # one has no call left to submit to it; shutting it down lets the work queued on it finish.
    with _lock:
        executor = _state["executor"]
        if executor is None or executor[0] < size:
            if executor is not None:
                executor[1].shutdown(wait=False)
            executor = _state["executor"] = (size, ThreadPoolExecutor(size, thread_name_prefix="tinyconv"))
        return [executor[1].submit(fn, item) for item in items]


def workers_for(xp):
    """How many workers chunks of arrays from module ``xp`` may use: 1 unless NumPy with threadpoolctl."""
    threads = get_num_threads()
    if threads == 1 or xp is not np or _blas_controller() is None:
        return 1
    return threads


@contextlib.contextmanager
def held_blas():
    """A context in which BLAS stays at one thread throughout (when threadpoolctl is installed), and, when
    tinyconv runs more than one worker, the affine layers called in it run their products in row chunks on
    the workers instead of on BLAS's threads.

    Each fast layer holds BLAS down only while its own workers run. Between them, a product that BLAS
    runs on all its threads leaves those threads spinning for a while after it returns, competing with
    the next layer's workers for the cores. The Solver holds BLAS down for a whole training run: a
    ConvNet step on two cores ran 1.2 to 1.4 times faster so. Outside such a context the affine layers
    leave their products to BLAS, whose own threads serve a lone product best.
    """
    if _blas_controller() is None:
        yield
        return
    if workers_for(np) == 1:
        # One worker means one thread everywhere: BLAS's own threads, spinning after each small product of a
        # training step, cost more than they bring (a digits run took 3 to 12 times as long with them).
        with _blas_threads_per_worker(1):
            yield
        return
    token = _HELD.set(True)
    try:
        with _blas_threads_per_worker(1):
            yield
    finally:
        _HELD.reset(token)


def blas_held():
    """Whether the calling thread runs inside :func:`held_blas` with more than one worker."""
    return _HELD.get()


def run_chunks(work, chunks, workers):
    """``[work(chunk) for chunk in chunks]``, on up to ``workers`` threads (``workers_for`` gives the most),
    the calling thread one of them.

    The chunks are dealt out to at most ``workers`` shares, so that no more than that many run at once
    whatever the size of the shared pool; the results come back in the order of ``chunks``.
    """
    running = min(workers, len(chunks))
    if running <= 1:
        return [work(chunk) for chunk in chunks]

    def run_share(share):
        return [work(chunk) for chunk in share]

    shares = [chunks[i::running] for i in range(running)]
    # Each pool share in its own copy of the caller's context, as the caller's own share runs in it.
    in_context = [(contextvars.copy_context(), share) for share in shares[1:]]
    with _blas_threads_per_worker(max(1, workers // running)):
        # The calling thread runs the first share itself: it would only wait otherwise, for as long as handing
        # a share to a pool thread takes (tens of microseconds on a 2-core machine; benchmarks/threads.py).
        futures = _submit(running - 1, lambda item: item[0].run(run_share, item[1]), in_context)
        try:
            results = [run_share(shares[0])]
        finally:
            wait(futures)  # all of them, even when one fails, before BLAS's limit may be lifted
        results += [future.result() for future in futures]
    return [results[i % running][i // running] for i in range(len(chunks))]


def _after_fork_in_child():
    """Start afresh in a child made by ``os.fork()``: the parent's worker threads do not exist here, and
    the lock or a BLAS limit held by another of the parent's threads would never be released."""
    global _lock
    _lock = threading.Lock()
    limiter = _state["limiter"]
    _state.update(executor=None, limit_users=0, limiter=None)
    if limiter is not None:
        _change_blas_threads(limiter.restore_original_limits)


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_after_fork_in_child)
