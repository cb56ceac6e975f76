"""Child processes run the fast layers after their parent used the worker pool, whatever the start method."""

import multiprocessing
import os
import signal
import threading
import traceback

import numpy as np
import pytest

import tinyconv
from tinyconv import _parallel
from tinyconv.layers import conv_backward_fast, conv_forward_fast, max_pool_backward_fast, max_pool_forward_fast

from .test_parallel import _blas_threads

# A hung child is the failure to catch; no timing is asserted.
TIMEOUT_S = 60
# Forking a process that runs threads is what these tests are about.
pytestmark = pytest.mark.filterwarnings("ignore:.*use of fork\\(\\) may lead to deadlocks:DeprecationWarning")


@pytest.fixture
def two_workers():
    """Two workers, and a pool in the parent: set_num_threads(2) and one call of each layer."""
    previous = tinyconv.set_num_threads(2)
    results = _layers()
    assert _parallel._state["executor"] is not None, "the layers did not use the worker pool"
    yield results
    tinyconv.set_num_threads(previous)


def _layers():
    """Fast conv forward + backward and fast max pool forward + backward on fixed inputs, each over 4 MiB
    of work so that their chunks go to the workers: ([out, dx, dw, db], [out, dx])."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 16, 24, 24))
    w = rng.standard_normal((8, 16, 3, 3))
    b = rng.standard_normal(8)
    out, cache = conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
    conv = [out, *conv_backward_fast(rng.standard_normal(out.shape), cache)]
    pooled, cache = max_pool_forward_fast(rng.standard_normal((64, 16, 32, 32)), {})
    return conv, [pooled, max_pool_backward_fast(rng.standard_normal(pooled.shape), cache)]


def _child(conn):
    """In the child: send the layers' results, whether a worker pool ran them, and BLAS's threads."""
    try:
        tinyconv.set_num_threads(2)  # a spawned child starts with the default
        results = _layers()
        conn.send(("ok", results, _parallel._state["executor"] is not None, _blas_threads()))
    except BaseException:
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


def _receive(conn, kill):
    """What the child sent, or a failure (after ``kill()``) when it sends nothing within TIMEOUT_S."""
    if not conn.poll(TIMEOUT_S):
        kill()
        pytest.fail(f"the child sent nothing within {TIMEOUT_S} s: it hangs")
    message = conn.recv()
    assert message[0] == "ok", message[1]
    return message[1:]


def _assert_same(expected, results):
    """The child's conv results equal the parent's up to rounding, its pooling results exactly."""
    for want, got in zip(expected[0], results[0]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    for want, got in zip(expected[1], results[1]):
        np.testing.assert_array_equal(got, want)


def _in_forked_child():
    """Run ``_child`` in a child made by os.fork() and return what it sent."""
    reader, writer = multiprocessing.Pipe(duplex=False)
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        try:
            _child(writer)
        finally:
            os._exit(0)
    writer.close()
    try:
        return _receive(reader, lambda: os.kill(pid, signal.SIGKILL))
    finally:
        os.waitpid(pid, 0)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork on this platform")
def test_a_child_made_by_os_fork_runs_the_layers(two_workers):
    results, used_workers, _ = _in_forked_child()
    _assert_same(two_workers, results)
    assert used_workers


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_a_multiprocessing_child_runs_the_layers(two_workers, method):
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} start method on this platform")
    reader, writer = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context(method).Process(target=_child, args=(writer,))
    child.start()
    writer.close()
    try:
        results, used_workers, _ = _receive(reader, child.kill)
    finally:
        child.join(TIMEOUT_S)
    assert child.exitcode == 0
    _assert_same(two_workers, results)
    assert used_workers


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork on this platform")
@pytest.mark.parametrize("held", ["lock", "blas-limit"])
def test_a_fork_while_another_thread_holds_the_lock_or_the_blas_limit(two_workers, held):
    blas_threads = _blas_threads()
    if held == "blas-limit" and all(threads == 1 for threads in blas_threads):
        pytest.skip("BLAS runs one thread here: there is no limit to see")
    holding, release = threading.Event(), threading.Event()

    def hold():
        with _parallel._lock if held == "lock" else _parallel._blas_threads_per_worker(1):
            holding.set()
            release.wait()

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(timeout=60), "the other thread never took what it holds"
    try:
        if held == "blas-limit":
            assert _blas_threads() == [1] * len(blas_threads), "the other thread did not hold BLAS down"
        results, used_workers, child_blas_threads = _in_forked_child()
    finally:
        release.set()
        holder.join()
    _assert_same(two_workers, results)
    assert used_workers
    assert child_blas_threads == blas_threads, "the child kept the BLAS limit of a thread it does not have"
