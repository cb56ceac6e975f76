"""What a second worker thread gains, and what handing it work costs, on this machine.

    python3 benchmarks/threads.py            # about half a minute
    python3 benchmarks/threads.py --quick    # a smoke run

Three measurements, each interleaved in one process (``tinyconv.benchmark.race``, without bench.py's pauses):

- a parallel call with nothing to do, in microseconds: ``run_chunks`` over two empty chunks (the calling
  thread runs one, a pool thread the other) against the same chunks on the calling thread, inside
  ``held_blas`` as in a training run, so that BLAS's limit is not changed by each call;
- memory-bound additions, two threads each adding its own array against one thread adding both (a ratio),
  for arrays from L2-sized to far larger than the caches, each thread's share long enough (64 MiB of additions
  in full runs) for the start of a thread not to count;
- pooling, ReLU and batch norm, forward + backward, on two workers against one (a ratio), over inputs of 1 to
  16 MiB with tinyconv's smallest amount of work for workers lifted: below the limit
  (``tinyconv.layers._workspace._PARALLEL_MIN_BYTES``) a call stays on the calling thread because there a
  second worker lost.
"""

import argparse
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from harness import in_threads  # the checkout's tinyconv first on the path
import tinyconv  # noqa: E402
from tinyconv import _parallel  # noqa: E402
from tinyconv.benchmark import QUICK, Contender, Effort, medians, race  # noqa: E402
from tinyconv.layers import (  # noqa: E402
    _workspace,
    max_pool_backward_fast,
    max_pool_forward_fast,
    relu_backward,
    relu_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
)

MIB = 2**20
# bench.py's race without its settling pauses: no BLAS threads spin here, BLAS being held to one thread.
FULL = Effort(warmup=2, repeats=7, min_sample_s=0.05, naive_repeats=1, settle_s=0.0)


def held(fn):
    """``fn`` inside ``held_blas``, as a training run calls the layers."""
    def call():
        with _parallel.held_blas():
            return fn()
    return call


def empty_call(effort):
    chunks = [slice(0, 0), slice(0, 0)]
    with tinyconv.num_threads(2), _parallel.held_blas():
        workers = _parallel.workers_for(np)  # 1 without threadpoolctl
        calls = {"calling thread": 1, "two threads": workers}
        times = medians(race([Contender(name, lambda n=n: _parallel.run_chunks(lambda chunk: None, chunks, n))
                              for name, n in calls.items()], effort))
    print("A parallel call with nothing to do (run_chunks, two empty chunks, BLAS held as in a training run)")
    print(f"  on the calling thread: {1e6 * times['calling thread']:8.1f} us")
    print(f"  on two threads:        {1e6 * times['two threads']:8.1f} us")


def memory_bound_additions(sizes_mib, share_mib, effort):
    print(f"\nMemory-bound additions, {share_mib} MiB of them per thread: two threads / one thread doing both"
          " (speedup > 1: the second thread helps)")
    pool = ThreadPoolExecutor(1)
    for size in sizes_mib:
        arrays = [np.ones(int(size * MIB) // 4, dtype=np.float32) for _ in range(2)]
        passes = max(1, round(share_mib / size))

        def add(array):
            for _ in range(passes):
                np.add(array, 1, out=array)

        def two_threads():
            other = pool.submit(add, arrays[1])
            add(arrays[0])
            other.result()

        one_thread = Contender("one", lambda: (add(arrays[0]), add(arrays[1])))
        times = medians(race([one_thread, Contender("two", two_threads)], effort))
        print(f"  {size:6.2f} MiB arrays, {passes:4d} passes each: speedup {times['one'] / times['two']:.2f}")
    pool.shutdown()


def layer_passes(sizes_mib, effort):
    print("\nForward + backward on two workers / on one, the least work for workers lifted"
          " (below 1: the second worker helps)")
    rng = np.random.default_rng(0)
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    print(f"  {'input':>9}  {'dtype':<8}{'max pool':>9}{'ReLU':>7}{'batch norm':>12}")
    for dtype in (np.float32, np.float64):
        for size in sizes_mib:
            samples = max(1, int(size * MIB) // (16 * 32 * 32 * np.dtype(dtype).itemsize))
            x = rng.standard_normal((samples, 16, 32, 32)).astype(dtype)
            gamma, beta, bn_param = np.ones(16, dtype), np.zeros(16, dtype), {"mode": "train"}
            dx = rng.standard_normal(x.shape).astype(dtype)
            dpooled = rng.standard_normal((samples, 16, 16, 16)).astype(dtype)
            layers = {
                "max pool": lambda: max_pool_backward_fast(dpooled, max_pool_forward_fast(x, pool_param)[1]),
                "ReLU": lambda: relu_backward(dx, relu_forward(x)[1]),
                "batch norm": lambda: spatial_batchnorm_backward(
                    dx, spatial_batchnorm_forward(x, gamma, beta, bn_param)[1]),
            }
            ratios = []
            for layer in layers.values():
                times = medians(race([Contender(threads, held(layer), in_threads(threads)) for threads in (1, 2)],
                                     effort))
                ratios.append(times[2] / times[1])
            print(f"  {x.nbytes / MIB:6.1f} MiB  {np.dtype(dtype).name:<8}"
                  f"{ratios[0]:9.2f}{ratios[1]:7.2f}{ratios[2]:12.2f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few repeats and sizes: a smoke run")
    args = parser.parse_args(argv)
    effort = QUICK if args.quick else FULL
    tinyconv.keep_freed_memory()
    print(f"worker threads: {tinyconv.get_num_threads()} (this measures 2); "
          f"least work for workers: {_workspace._PARALLEL_MIN_BYTES / MIB:.0f} MiB")
    empty_call(effort)
    memory_bound_additions([0.25, 2] if args.quick else [0.25, 0.5, 2, 8, 32], 4 if args.quick else 64, effort)
    least = _workspace._PARALLEL_MIN_BYTES
    _workspace._PARALLEL_MIN_BYTES = 0
    try:
        layer_passes([1, 4] if args.quick else [1, 2, 4, 8, 16], effort)
    finally:
        _workspace._PARALLEL_MIN_BYTES = least


if __name__ == "__main__":
    main()
