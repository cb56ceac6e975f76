"""Run the batch chunks of a fast layer on worker threads.

NumPy releases the GIL inside its copies, ufuncs and BLAS calls, so the chunks
of one conv or pool proceed in parallel, while most of the time of a fast layer
goes to copies that BLAS threads do not help with. Meanwhile BLAS is held to
one thread per worker (through threadpoolctl, when it is installed), since
workers that each start BLAS threads oversubscribe the cores and crawl.
Without threadpoolctl, or on CuPy arrays, chunks run one after another.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

_ENV = "TINYCONV_NUM_THREADS"
_state = {"threads": None}
_executors = {}
_lock = threading.Lock()


def _available_cpus():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def get_num_threads():
    """Worker threads the fast layers use: set_num_threads(), else $TINYCONV_NUM_THREADS, else the CPU count."""
    if _state["threads"] is not None:
        return _state["threads"]
    value = os.environ.get(_ENV, "")
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"${_ENV} must be a positive integer, got {value!r}")
        return int(value)
    return _available_cpus()


def set_num_threads(threads):
    """Set the worker threads of the fast layers (1 runs everything on the calling thread).

    Returns the previous setting, so ``set_num_threads(previous)`` restores it.
    """
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"set_num_threads: threads must be a positive integer, got {threads!r}")
    previous = get_num_threads()
    _state["threads"] = threads
    return previous


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


def _executor(workers):
    with _lock:
        if workers not in _executors:
            _executors[workers] = ThreadPoolExecutor(workers, thread_name_prefix="tinyconv")
        return _executors[workers]


def workers_for(xp):
    """How many workers chunks of arrays from module ``xp`` may use: 1 unless NumPy with threadpoolctl."""
    threads = get_num_threads()
    if threads == 1 or xp is not np or _blas_controller() is None:
        return 1
    return threads


def run_chunks(xp, work, chunks):
    """``[work(chunk) for chunk in chunks]``, on worker threads when there are several chunks and workers."""
    workers = min(workers_for(xp), len(chunks))
    if workers <= 1:
        return [work(chunk) for chunk in chunks]
    with _blas_controller().limit(limits=1, user_api="blas"):
        return list(_executor(workers).map(work, chunks))
