"""Worker threads of the fast layers: the setting, and identical results with and without workers."""

import threading
import time

import numpy as np
import pytest

import tinyconv
from tinyconv import _parallel
from tinyconv.layers._workspace import batch_chunks, workspace_limit
from tinyconv.layers import (
    affine_backward,
    affine_forward,
    conv_backward_fast,
    conv_forward_fast,
    limit_workspace,
    max_pool_backward_fast,
    max_pool_forward_fast,
    relu_forward,
)


@pytest.fixture
def threads(monkeypatch):
    """Restores the process-wide worker setting, unset in most sessions, after the test."""
    monkeypatch.setitem(_parallel._state, "threads", _parallel._state["threads"])


@pytest.fixture
def threads_per_call(monkeypatch):
    """Records, for every call that hands chunks to worker threads, how many threads run its chunks: the
    pool threads it asks for and the calling thread, which runs a share itself."""
    sizes = []
    real = _parallel._submit

    def spy(size, fn, items):
        sizes.append(size + 1)
        return real(size, fn, items)

    monkeypatch.setattr(_parallel, "_submit", spy)
    return sizes


def test_set_num_threads_returns_the_previous_setting(threads, monkeypatch):
    monkeypatch.setenv("TINYCONV_NUM_THREADS", "many")  # read only where no setting is made
    monkeypatch.setitem(_parallel._state, "threads", None)
    assert tinyconv.set_num_threads(3) is None
    assert tinyconv.set_num_threads(1) == 3
    assert tinyconv.get_num_threads() == 1
    assert tinyconv.set_num_threads(None) == 1  # back to the default
    monkeypatch.setenv("TINYCONV_NUM_THREADS", "2")
    assert tinyconv.get_num_threads() == 2


@pytest.mark.parametrize("bad", [1.5, True, "2"])
def test_set_num_threads_refuses_other_types_than_int(threads, bad):
    with pytest.raises(TypeError, match=r"set_num_threads: threads must be None or a positive integer, got "):
        tinyconv.set_num_threads(bad)


@pytest.mark.parametrize("bad", [0, -1])
def test_set_num_threads_refuses_fewer_than_one_thread(threads, bad):
    with pytest.raises(ValueError, match=f"set_num_threads: threads must be None or a positive integer, got {bad}"):
        tinyconv.set_num_threads(bad)


def test_set_num_threads_takes_numpy_integers(threads):
    tinyconv.set_num_threads(np.int64(3))
    assert tinyconv.get_num_threads() == 3 and type(tinyconv.get_num_threads()) is int


def test_the_environment_variable_sets_the_default(monkeypatch):
    monkeypatch.setitem(_parallel._state, "threads", None)
    monkeypatch.setenv("TINYCONV_NUM_THREADS", "3")
    assert tinyconv.get_num_threads() == 3


@pytest.mark.parametrize("bad", ["many", "0", "-2", "1.5"])
def test_a_bad_environment_variable_is_a_value_error_naming_it(monkeypatch, bad):
    monkeypatch.setitem(_parallel._state, "threads", None)
    monkeypatch.setenv("TINYCONV_NUM_THREADS", bad)
    with pytest.raises(ValueError, match=f"TINYCONV_NUM_THREADS must be a positive integer, got '{bad}'"):
        tinyconv.get_num_threads()


def test_num_threads_holds_inside_its_block_and_restores_afterwards(threads):
    tinyconv.set_num_threads(2)
    with tinyconv.num_threads(5):
        assert tinyconv.get_num_threads() == 5
    assert tinyconv.get_num_threads() == 2


def test_num_threads_blocks_nest(threads):
    tinyconv.set_num_threads(2)
    with tinyconv.num_threads(3):
        with tinyconv.num_threads(1):
            assert tinyconv.get_num_threads() == 1
        assert tinyconv.get_num_threads() == 3
    assert tinyconv.get_num_threads() == 2


def test_num_threads_holds_in_its_own_thread_only(threads):
    tinyconv.set_num_threads(2)
    seen = []
    with tinyconv.num_threads(4):
        other = threading.Thread(target=lambda: seen.append(tinyconv.get_num_threads()))
        other.start()
        other.join()
        assert tinyconv.get_num_threads() == 4
    assert seen == [2]


def test_num_threads_outlasts_set_num_threads_inside_its_block(threads):
    tinyconv.set_num_threads(2)
    with tinyconv.num_threads(4):
        assert tinyconv.set_num_threads(3) == 2  # the process-wide setting, which the block overrides
        assert tinyconv.get_num_threads() == 4
    assert tinyconv.get_num_threads() == 3


def test_num_threads_runs_the_layers_on_its_workers(threads, threads_per_call):
    tinyconv.set_num_threads(1)
    layer = _conv("im2col", np.float64)
    with tinyconv.num_threads(2):
        layer()
    assert threads_per_call and set(threads_per_call) == {2}
    threads_per_call.clear()
    layer()
    assert threads_per_call == []


@pytest.mark.parametrize("bad, error", [(0, ValueError), (1.5, TypeError), ("2", TypeError)])
def test_num_threads_checks_its_argument(bad, error):
    with pytest.raises(error, match="num_threads: threads must be"):
        with tinyconv.num_threads(bad):
            pass


def _run(layer, threads_setting):
    tinyconv.set_num_threads(threads_setting)
    return layer()


def _conv(algorithm, dtype, workspace=16 * 2**20):
    rng = np.random.default_rng(0)
    # Large enough (several MiB of work) that the chunks go to the workers.
    x = rng.standard_normal((16, 16, 20, 20)).astype(dtype)
    w = rng.standard_normal((8, 16, 3, 3)).astype(dtype)
    b = rng.standard_normal(8).astype(dtype)
    dout = rng.standard_normal((16, 8, 20, 20)).astype(dtype)

    def layer():
        with limit_workspace(workspace):
            out, cache = conv_forward_fast(x, w, b, {"stride": 1, "pad": 1, "algorithm": algorithm})
            return [out, *conv_backward_fast(dout, cache)]

    return layer


def _pool(pool_param, dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 16, 33, 33)).astype(dtype)  # over 4 MiB in float32

    def layer():
        out, cache = max_pool_forward_fast(x, pool_param)
        return [out, max_pool_backward_fast(np.ones_like(out), cache)]

    return layer


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "make_layer",
    [
        lambda dtype: _conv("im2col", dtype),  # the forward keeps its columns for the backward
        lambda dtype: _conv("im2col", dtype, workspace=2**20),  # the backward rebuilds them
        lambda dtype: _conv("winograd2", dtype),
        lambda dtype: _conv("winograd4", dtype),
        lambda dtype: _pool({"pool_height": 3, "pool_width": 3, "stride": 2}, dtype),
        lambda dtype: _pool({"pool_height": 3, "pool_width": 3, "stride": 3}, dtype),
    ],
    ids=["im2col-kept-columns", "im2col-rebuilt-columns", "winograd2", "winograd4", "pool-overlapping",
         "pool-tiling"],
)
def test_workers_give_the_results_of_one_thread(threads, threads_per_call, make_layer, dtype):
    layer = make_layer(dtype)
    alone = _run(layer, 1)
    assert threads_per_call == []
    together = _run(layer, 2)
    assert threads_per_call and set(threads_per_call) == {2}, "the chunks did not go to the workers"
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(alone, together):
        assert a.dtype == b.dtype == dtype
        # Per-chunk partial sums of dw may add up in another order; everything else is the same arithmetic.
        np.testing.assert_allclose(b, a, rtol=tolerance, atol=tolerance * np.abs(a).max())


def test_without_threadpoolctl_the_chunks_run_on_the_calling_thread(threads, threads_per_call, monkeypatch):
    monkeypatch.setitem(_parallel._state, "blas", None)  # as if threadpoolctl were not installed
    tinyconv.set_num_threads(2)
    layer = _conv("im2col", np.float64)
    layer()
    assert threads_per_call == []


def _blas_threads():
    """Threads of each BLAS library the fast layers hold down (those loaded when they first looked)."""
    return [lib["num_threads"] for lib in _parallel._blas_controller().info() if lib["user_api"] == "blas"]


def test_overlapping_calls_from_two_threads_leave_blas_threads_as_they_were(threads):
    tinyconv.set_num_threads(2)
    before = _blas_threads()
    layer = _conv("im2col", np.float64)
    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            barrier.wait()
            for _ in range(5):
                layer()
        except Exception as error:  # surfaced below: an assertion in a thread would be lost
            errors.append(error)

    callers = [threading.Thread(target=run) for _ in range(2)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert errors == []
    assert _blas_threads() == before


def _hold_blas_down(entered, leave, after=None):
    """A thread that holds BLAS down as a fast layer running workers does, until ``leave`` is set; it
    sets ``entered`` once inside, then, if given, waits for ``after`` before it ends."""

    def hold():
        with _parallel._blas_threads_per_worker(1):
            entered.set()
            leave.wait()
        if after is not None:
            after.wait()

    thread = threading.Thread(target=hold)
    thread.start()
    return thread


@pytest.fixture
def blas_threads():
    """BLAS's threads before the test, which must be more than one for a limit to show."""
    before = _blas_threads()
    if all(threads == 1 for threads in before):
        pytest.skip("BLAS runs one thread here: there is no limit to see")
    return before


def test_a_thread_holds_blas_down_after_another_thread_did(blas_threads):
    with _parallel._blas_threads_per_worker(1):  # this thread changes BLAS's threads first
        pass
    entered, leave = threading.Event(), threading.Event()
    holder = _hold_blas_down(entered, leave)
    assert entered.wait(timeout=60), "the holding thread never entered its fast layer"
    held = _blas_threads()
    leave.set()
    holder.join()
    assert held == [1] * len(blas_threads)
    assert _blas_threads() == blas_threads


def test_blas_threads_come_back_when_the_call_that_did_not_limit_them_ends_last(blas_threads):
    entered_first, leave_first, first_may_end = threading.Event(), threading.Event(), threading.Event()
    entered_last, leave_last = threading.Event(), threading.Event()
    first = _hold_blas_down(entered_first, leave_first, after=first_may_end)  # sets the limit, lives on
    assert entered_first.wait(timeout=60), "the first thread never entered its fast layer"
    last = _hold_blas_down(entered_last, leave_last)
    assert entered_last.wait(timeout=60), "the last thread never entered its fast layer"
    held = _blas_threads()
    leave_first.set()
    deadline = time.monotonic() + 60
    while _parallel._state["limit_users"] != 1:  # the first has left; the last lifts the limit
        assert time.monotonic() < deadline, "the first thread never left its fast layer"
        time.sleep(0.001)
    leave_last.set()
    last.join()
    after = _blas_threads()
    first_may_end.set()
    first.join()
    assert held == [1] * len(blas_threads)
    assert after == blas_threads


@pytest.mark.parametrize("num_samples, workers, limit, per_sample", [
    (10, 4, 2**40, 1), (10, 8, 2**40, 1), (9, 8, 2**40, 1), (100, 2, 8 * 2**20, 188 * 1024),
    (64, 2, 16 * 2**20, 1_500_000), (3, 1, 100, 100), (1, 2, 10, 10), (0, 2, 10, 10),
])
def test_batch_chunks_are_near_equal_cover_the_batch_and_fit_the_limit(num_samples, workers, limit, per_sample):
    chunks = batch_chunks(num_samples, per_sample, workers, limit)
    sizes = [chunk.stop - chunk.start for chunk in chunks]
    assert [i for chunk in chunks for i in range(chunk.start, chunk.stop)] == list(range(num_samples))
    assert not sizes or max(sizes) - min(sizes) <= 1
    assert all(size == 1 or size * per_sample <= limit for size in sizes)
    if num_samples >= workers:
        assert len(chunks) % workers == 0


def test_limit_workspace_holds_in_its_own_thread_only():
    seen = []
    with tinyconv.layers.limit_workspace(12345):
        other = threading.Thread(target=lambda: seen.append(workspace_limit()))
        other.start()
        other.join()
        assert workspace_limit() == 12345
    assert seen == [16 * 2**20]


@pytest.mark.parametrize("x_shape, w_shape, stride, expected", [
    ((8, 32, 16, 16), (32, 32, 3, 3), 1, "winograd4"),
    ((8, 8, 16, 16), (32, 8, 3, 3), 1, "im2col"),  # too few channels for Winograd
    ((8, 32, 5, 5), (32, 32, 3, 3), 1, "im2col"),  # too few output pixels
    ((8, 256, 8, 8), (256, 256, 3, 3), 1, "im2col"),  # too many filters
    ((8, 32, 17, 17), (32, 32, 3, 3), 2, "im2col"),  # a stride Winograd cannot do
])
def test_auto_picks_the_same_algorithm_whatever_the_threads(threads, monkeypatch, x_shape, w_shape, stride,
                                                            expected):
    x, w, b = np.ones(x_shape), np.ones(w_shape), np.ones(w_shape[0])

    def algorithm():
        return conv_forward_fast(x, w, b, {"stride": stride, "pad": 1})[1][4]

    tinyconv.set_num_threads(1)
    assert algorithm() == expected
    tinyconv.set_num_threads(3)
    assert algorithm() == expected
    with tinyconv.num_threads(2):
        assert algorithm() == expected
    monkeypatch.setitem(_parallel._state, "blas", None)  # as if threadpoolctl were not installed
    assert algorithm() == expected


def test_chunks_run_on_no_more_workers_than_asked_whatever_the_pool(threads):
    # As when another thread asks for 4 workers while this one asks for 2 (a num_threads block).
    tinyconv.set_num_threads(4)
    _parallel._blas_controller()  # run_chunks holds BLAS down through it, as after workers_for
    _parallel.run_chunks(lambda chunk: chunk, list(range(8)), 4)  # the pool has 3 threads or more now
    lock, running, most = threading.Lock(), [0], [0]

    def work(chunk):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.01)  # long enough for the chunks to overlap if they can
        with lock:
            running[0] -= 1
        return chunk * 10

    assert _parallel.run_chunks(work, list(range(8)), 2) == [chunk * 10 for chunk in range(8)]
    assert most[0] <= 2


def test_the_calling_thread_runs_a_share_of_the_chunks(threads):
    _parallel._blas_controller()
    ran_on = {}

    def work(chunk):
        ran_on[chunk] = threading.get_ident()
        return chunk

    assert _parallel.run_chunks(work, list(range(4)), 2) == list(range(4))
    assert ran_on[0] == ran_on[2] == threading.get_ident(), "the calling thread did not run the first share"
    assert ran_on[1] == ran_on[3] != threading.get_ident()


def test_the_shares_run_in_the_callers_context(threads):
    # NumPy's error settings are a context variable: every share follows the caller's, not only its own.
    _parallel._blas_controller()
    with np.errstate(divide="raise"):
        settings = _parallel.run_chunks(lambda chunk: np.geterr()["divide"], list(range(4)), 2)
    assert settings == ["raise"] * 4


@pytest.mark.parametrize("failing", [{1}, {0, 1}], ids=["a pool share", "both shares"])
def test_a_failing_pool_share_is_raised_after_the_callers_share_ends(threads, failing):
    _parallel._blas_controller()
    finished = []

    def work(chunk):
        if chunk == 0:
            time.sleep(0.05)
        if chunk in failing:
            raise ValueError(f"chunk {chunk} failed")
        finished.append(chunk)

    with pytest.raises(ValueError, match=f"chunk {min(failing)} failed"):
        _parallel.run_chunks(work, list(range(2)), 2)
    assert finished == ([0] if 0 not in failing else [])
    assert _parallel._state["limit_users"] == 0


def test_a_failing_share_of_the_caller_waits_for_the_others(threads):
    _parallel._blas_controller()
    finished = []

    def work(chunk):
        if chunk == 0:
            raise ValueError("chunk 0 failed")
        time.sleep(0.05)
        finished.append(chunk)

    with pytest.raises(ValueError, match="chunk 0 failed"):
        _parallel.run_chunks(work, list(range(2)), 2)
    assert finished == [1], "run_chunks returned before the pool thread's share ended"
    assert _parallel._state["limit_users"] == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_calls_with_less_than_4_mib_of_work_stay_on_the_calling_thread(threads, threads_per_call, dtype):
    tinyconv.set_num_threads(2)
    rng = np.random.default_rng(3)
    samples = 4 * 2**20 // (16 * 30 * 30 * np.dtype(dtype).itemsize)  # inputs just under and just over 4 MiB
    small, large = (rng.standard_normal((n, 16, 30, 30)).astype(dtype) for n in (samples, samples + 1))
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    # Pooling counts its input, not its workspace (twice the input): the small one stays too.
    for layer in (lambda x: relu_forward(x), lambda x: max_pool_forward_fast(x, pool_param)):
        layer(small)
        assert threads_per_call == []
        layer(large)
        assert threads_per_call == [2]
        threads_per_call.clear()


def test_affine_products_go_to_the_workers_by_their_multiply_adds(threads, threads_per_call):
    tinyconv.set_num_threads(2)
    rng = np.random.default_rng(4)
    # 2**22 multiply-adds of 4 bytes count as 1 MiB of work, 2**24 as 4 MiB: the first stays on one thread.
    small = rng.standard_normal((64, 1024)), rng.standard_normal((1024, 64)), np.zeros(64)
    large = rng.standard_normal((256, 1024)), rng.standard_normal((1024, 64)), np.zeros(64)
    with _parallel.held_blas():
        affine_forward(*(a.astype(np.float32) for a in small))
        assert threads_per_call == []
        affine_forward(*(a.astype(np.float32) for a in large))
        assert threads_per_call == [2]


def test_changing_the_setting_while_threads_compute_disturbs_none_of_them(threads):
    # Each layer gets over 4 MiB of work, so that its chunks go to the workers whenever the setting is above 1.
    conv, pool = _conv("auto", np.float64), _pool({"pool_height": 3, "pool_width": 3, "stride": 2}, np.float64)
    tinyconv.set_num_threads(1)
    expected = {"conv": conv(), "pool": pool()}
    stop, errors, mismatches = threading.Event(), [], []

    def compute():
        try:
            while not stop.is_set():
                for name, layer in (("conv", conv), ("pool", pool)):
                    for got, want in zip(layer(), expected[name]):
                        # Pooling is exact; conv's dw may add its chunks' partial sums in another grouping.
                        same = np.array_equal(got, want) if name == "pool" else np.allclose(
                            got, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())
                        if not same:
                            mismatches.append(name)
        except Exception as error:  # surfaced below: an assertion in a thread would be lost
            errors.append(error)

    def change_the_setting():
        setting = 0
        while not stop.is_set():
            tinyconv.set_num_threads(setting % 4 + 1)
            setting += 1
            stop.wait(0.001)

    callers = [threading.Thread(target=compute) for _ in range(3)] + [threading.Thread(target=change_the_setting)]
    for caller in callers:
        caller.start()
    stop.wait(3)
    stop.set()
    for caller in callers:
        caller.join()
    assert errors == []
    assert mismatches == []


def _affine(dtype, batch=512):
    rng = np.random.default_rng(2)
    # 4 MiB of work or more per product, so that the rows go to the workers when BLAS is held.
    x = rng.standard_normal((batch, 8, 16, 16)).astype(dtype)
    w = rng.standard_normal((2048, 64)).astype(dtype)
    b = rng.standard_normal(64).astype(dtype)
    dout = rng.standard_normal((batch, 64)).astype(dtype)

    def layer():
        out, cache = affine_forward(x, w, b)
        return [out, *affine_backward(dout, cache)]

    return layer


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch", [512, 0])
def test_affine_rows_go_to_the_workers_only_where_blas_is_held(threads, threads_per_call, dtype, batch):
    layer = _affine(dtype, batch)
    tinyconv.set_num_threads(2)
    alone = layer()
    assert threads_per_call == [], "outside held_blas the products are BLAS's"
    with _parallel.held_blas():
        assert _parallel.blas_held() and _blas_threads() == [1] * len(_blas_threads())
        together = layer()
    assert not _parallel.blas_held()
    if batch:
        assert set(threads_per_call) == {2}, "held, the rows did not go to the workers"
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(alone, together):
        assert a.dtype == b.dtype == dtype and a.shape == b.shape
        np.testing.assert_allclose(b, a, rtol=tolerance, atol=tolerance * max(np.abs(a).max(initial=0), 1))


def test_held_blas_with_one_worker_holds_blas_at_one_thread_and_leaves_it_the_products(threads, threads_per_call,
                                                                                        blas_threads):
    # One worker means one thread everywhere: a training run with TINYCONV_NUM_THREADS=1 must not have
    # BLAS's own threads spinning beside it.
    tinyconv.set_num_threads(1)
    with _parallel.held_blas():
        assert not _parallel.blas_held() and _blas_threads() == [1] * len(blas_threads)
        _affine(np.float64)()
    assert threads_per_call == []
    assert _blas_threads() == blas_threads


def test_held_blas_lifts_its_limit_after_an_error(threads, blas_threads):
    tinyconv.set_num_threads(2)
    with pytest.raises(KeyboardInterrupt), _parallel.held_blas():
        raise KeyboardInterrupt
    assert _blas_threads() == blas_threads and not _parallel.blas_held()
