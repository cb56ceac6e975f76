"""Speed and memory of tinyconv against PyTorch on the CPU.

Run from the repository root:

    python3 benchmarks/bench.py                 # everything, float32 and float64, 1 thread and default threads
    python3 benchmarks/bench.py --quick         # fewer repeats, for a smoke test
    python3 benchmarks/bench.py --only conv --only pool --threads 1 --dtype float32 --markdown
    python3 benchmarks/bench.py --only conv --cases conv64,conv128 --algorithm winograd4

Sections (``--only``, repeatable; all by default):

- ``gemm``: the matrix products an im2col convolution makes, at one BLAS thread and at the default count.
- ``conv``, ``pool``: forward + backward of each layer case, tinyconv against torch, runs interleaved.
- ``naive``: the loop-based layers against the fast ones on the cs231n speed-test shapes.
- ``memory``: peak extra memory of one forward + backward, each measured in a fresh process, after a first
  step and from a cold start (Linux only).
- ``e2e``: a whole training step of ThreeLayerConvNet and of a four-block ConvNet with batch norm, against the
  same networks in torch, with the peak memory of one warm step and of three steps from a cold start.

Times are medians over repeats in which the contenders take turns, so that a change in machine load
reaches them all alike. The process keeps freed memory for reuse (``tinyconv.keep_freed_memory``, as
the ``tinyconv`` command does), which serves both libraries; ``--default-malloc`` leaves malloc as it is.
The memory probes always run with malloc as it is. torch is imported only where it is used, so that
tinyconv's memory is measured in a process that never loaded it.
"""

from __future__ import annotations

import argparse
import ctypes
import dataclasses
import gc
import json
import math
import os
import platform
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info

from harness import (  # the checkout's tinyconv first on the path, then what the longer measurements add
    BATCH_SWEEP_CASE,
    FULL,
    MEMORY_CASES,
    in_threads,
    load_average,
    print_table,
    thread_label,
    thread_settings as settings_of,
)
from tinyconv import keep_freed_memory  # noqa: E402
from tinyconv.benchmark import (  # noqa: E402
    CASES,
    CASES_BY_KEY,
    LIBRARIES,
    NETWORKS,
    QUICK,
    Contender,
    Effort,
    LayerCase,
    build_network,
    geometric_mean,
    make_inputs,
    medians,
    layer_times,
    milliseconds,
    naive_vs_fast_rows,
    race,
    ratio,
    tinyconv_step,
    tinyconv_training_step,
    torch_step,
    torch_training_step,
    training_batch,
    training_times,
)

MIB = 2**20
SECTIONS = ("gemm", "conv", "pool", "naive", "memory", "e2e")


# ----------------------------------------------------------------------------------------------- output


def print_environment(markdown: bool, freed_memory_kept: bool) -> None:
    import torch

    rows = [
        ["freed memory", "kept for reuse (tinyconv.keep_freed_memory)" if freed_memory_kept
         else "malloc as the environment sets it"],
        ["python", platform.python_version()],
        ["numpy", np.__version__],
        ["torch", f"{torch.__version__}, num_threads {torch.get_num_threads()}"],
        ["os.cpu_count()", str(os.cpu_count())],
        # Other work on the machine slows the multi-threaded runs most: keep the load with the results.
        ["load average at the start", load_average()],
        ["cpu", platform.processor() or platform.machine()],
    ]
    for pool in threadpool_info():
        details = [f"{key} {pool[key]}" for key in ("version", "architecture", "threading_layer") if pool.get(key)]
        rows.append(
            [f"{pool['user_api']}: {pool['internal_api']}", f"{', '.join(details)}, num_threads {pool['num_threads']} ({Path(pool['filepath']).name})"]
        )
    print_table("Environment", ["what", "value"], rows, markdown, numeric=False)


# ----------------------------------------------------------------------------------------------- sections


def gemm_section(dtypes, effort: Effort, markdown: bool) -> None:
    """The products of an im2col conv: forward w(F,K) @ cols(K,P), dw dout(F,P) @ cols.T, dcols w.T @ dout."""
    rng = np.random.default_rng(0)
    rows = []
    for case in (c for c in CASES if c.kind == "conv"):
        n_filters, k = case.w_shape[0], math.prod(case.w_shape[1:])
        p = case.out_shape[0] * case.out_shape[2] * case.out_shape[3]
        for dtype in dtypes:
            w, cols, dout = (rng.standard_normal(shape).astype(dtype) for shape in ((n_filters, k), (k, p), (n_filters, p)))
            products = {
                f"({n_filters},{k})x({k},{p})": lambda: w @ cols,
                f"({n_filters},{p})x({p},{k}) [cols.T]": lambda: dout @ cols.T,
                f"({k},{n_filters})x({n_filters},{p}) [w.T]": lambda: w.T @ dout,
            }
            for label, product in products.items():
                samples = race([Contender(threads, product, in_threads(threads)) for threads in (1, None)], effort)
                median, best = medians(samples), {threads: min(times) for threads, times in samples.items()}
                rows.append(
                    [label, np.dtype(dtype).name]
                    + [milliseconds(median[threads]) for threads in (1, None)]
                    + [ratio(median[1] / median[None]), ratio(best[1] / best[None])]
                )
    print_table(
        "BLAS matrix products of im2col convolutions: 1 thread vs default threads (median ms; speedup > 1: threads help)",
        ["product", "dtype", "1 thread ms", "default ms", "speedup (medians)", "speedup (best samples)"],
        rows,
        markdown,
    )


def layer_section(cases, dtypes, thread_settings, effort: Effort, markdown: bool) -> None:
    """Race tinyconv against torch on forward + backward of each case, under each thread setting."""
    times = layer_times(cases, dtypes, effort, settings_of(thread_settings))
    both = len(thread_settings) == 2

    def ratios_of(t):
        """tinyconv/torch under each thread setting, then (both settings run) default/1 thread per library."""
        values = [t["tinyconv", threads] / t["torch", threads] for threads in thread_settings]
        return values + ([t[lib, None] / t[lib, 1] for lib in LIBRARIES] if both else [])

    headers = ["layer (forward + backward)", "dtype"]
    for label in map(thread_label, thread_settings):
        headers += [f"tinyconv ms ({label})", f"torch ms ({label})", f"tinyconv/torch ({label})"]
    headers += ["tinyconv default/1 thread", "torch default/1 thread"] if both else []
    rows = []
    for dtype in dtypes:
        case_ratios = []
        for case in cases:
            t = times[case, dtype]
            case_ratios.append(ratios_of(t))
            row = [case.label, np.dtype(dtype).name]
            for threads, value in zip(thread_settings, case_ratios[-1]):
                row += [milliseconds(t["tinyconv", threads]), milliseconds(t["torch", threads]), ratio(value)]
            rows.append(row + [ratio(value) for value in case_ratios[-1][len(thread_settings):]])
        means = [geometric_mean(column) for column in zip(*case_ratios)]
        row = [f"geometric mean over {len(cases)}", np.dtype(dtype).name]
        for mean in means[: len(thread_settings)]:
            row += ["", "", ratio(mean)]
        rows.append(row + [ratio(mean) for mean in means[len(thread_settings):]])
    print_table("Layers: tinyconv vs torch, forward + backward (median ms; ratio < 1 means tinyconv is faster)", headers, rows, markdown)


def naive_section(effort: Effort, markdown: bool) -> None:
    """Naive against fast on the cs231n speed-test shapes; the naive loops are timed once or twice only."""
    print_table("Naive vs fast, float64, default threads (ms)", ["layer", "naive ms", "fast ms", "speedup"],
                naive_vs_fast_rows(effort), markdown)


# ----------------------------------------------------------------------------------------------- memory


def _proc_status_bytes(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def _release_freed_memory() -> None:
    """Reset the peak-RSS mark and give freed heap pages back, so a later peak is this step's alone."""
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # 5: reset VmHWM to the current RSS


def memory_probe(library: str, case_fields: dict, dtype_name: str, method: str) -> int:
    """Peak bytes above baseline of one forward + backward, in this (fresh) process.

    The inputs are allocated and, but for ``method`` 'cold', one full step is run first (libraries, thread
    pools, BLAS buffers and torch's kernel caches warmed up); then freed memory is released and the peak mark
    reset. ``method`` 'warm' reads the peak resident set (VmHWM) over the baseline VmRSS, and so does 'cold'
    from before the first step, all that the step adds counted; 'tracemalloc' traces the peak of Python and
    NumPy allocations (torch does not report to it). 'warm' depends on which thread allocated what, as
    ``training_memory_probe`` says.
    """
    case = LayerCase(**{name: tuple(v) if isinstance(v, list) else v for name, v in case_fields.items()})
    build = tinyconv_step if library == "tinyconv" else torch_step
    step = build(case, make_inputs(case, np.dtype(dtype_name)))
    if method != "cold":
        step()
    _release_freed_memory()
    if method == "tracemalloc":
        tracemalloc.start()
        grads = step()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak
    baseline = _proc_status_bytes("VmRSS")
    grads = step()
    peak = _proc_status_bytes("VmHWM") - baseline
    del grads
    return peak


def measure_in_subprocess(probe_args: list[str]) -> float:
    """MiB a probe (``--memory-probe`` or ``--training-memory-probe`` with its JSON) measures in a fresh
    interpreter."""
    result = subprocess.run([sys.executable, str(Path(__file__).resolve()), *probe_args], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"memory probe {probe_args} failed:\n{result.stderr[-2000:]}")
    return int(result.stdout.split()[-1]) / MIB


def layer_memory(library: str, case: LayerCase, dtype, method: str) -> float:
    return measure_in_subprocess(["--memory-probe", json.dumps([library, dataclasses.asdict(case), np.dtype(dtype).name,
                                                                 method])])


def memory_row(case: LayerCase, dtype) -> list[str]:
    tinyconv_rss = layer_memory("tinyconv", case, dtype, "warm")
    tinyconv_traced = layer_memory("tinyconv", case, dtype, "tracemalloc")
    torch_rss = layer_memory("torch", case, dtype, "warm")
    tinyconv_cold, torch_cold = (layer_memory(lib, case, dtype, "cold") for lib in LIBRARIES)
    x_mib = math.prod(case.x_shape) * np.dtype(dtype).itemsize / MIB
    return [
        case.label,
        np.dtype(dtype).name,
        f"{x_mib:.2f}",
        f"{tinyconv_rss:.1f}",
        f"{tinyconv_traced:.1f}",
        f"{torch_rss:.1f}",
        ratio(tinyconv_rss / torch_rss) if torch_rss > 0 else "-",
        f"{tinyconv_cold:.1f}",
        f"{torch_cold:.1f}",
    ]


MEMORY_HEADERS = ["layer", "dtype", "x MiB", "tinyconv MiB (RSS)", "tinyconv MiB (tracemalloc)", "torch MiB (RSS)",
                  "tinyconv/torch", "tinyconv MiB (RSS, cold)", "torch MiB (RSS, cold)"]


def memory_section(cases, sweep_case, dtypes, batch_sizes, markdown: bool) -> None:
    """Peak extra memory of one forward + backward, per layer and, on ``sweep_case``, per batch size."""
    if not sys.platform.startswith("linux"):
        print("\nmemory: skipped, it reads /proc and glibc (Linux only)")
        return
    note = ("peak extra memory of one forward + backward, default threads, each in a fresh process: after one "
            "step, or with 'cold' from before the first")
    if cases:
        rows = [memory_row(case, dtype) for case in cases for dtype in dtypes]
        print_table(f"Memory: {note}", MEMORY_HEADERS, rows, markdown)
    rows = [memory_row(dataclasses.replace(sweep_case, x_shape=(batch, *sweep_case.x_shape[1:])), dtype)
            for dtype in dtypes for batch in batch_sizes]
    print_table(f"Memory vs batch size: {note}", MEMORY_HEADERS, rows, markdown)


# ----------------------------------------------------------------------------------------------- end to end


# The baselines of the training steps' peak memory (training_memory_probe).
MEMORY_BASELINES = ("warm", "cold")


def training_memory_probe(library: str, network: str, dtype_name: str, since: str) -> int:
    """Peak resident bytes of training steps of ``network`` above a baseline, in this (fresh) process.

    ``since`` 'warm': one step's peak above the resident memory after two steps and freed memory given back.
    glibc gives back all that the main thread's heap holds free but keeps the free top of each thread's heap,
    which a next step reuses without counting it, so this measure depends on which thread allocated what.
    'cold': the peak of three steps above the resident memory before the first, with the model and batch
    built: everything training adds, caches and thread pools included.
    """
    model = build_network(network, np.dtype(dtype_name).type)
    images, labels = training_batch(network, np.dtype(dtype_name).type)
    if library == "tinyconv":
        step = tinyconv_training_step(model, images, labels)
    else:
        step = torch_training_step(model, images, labels)
        del model  # torch trains its own copy of the weights
    warm = since == "warm"
    if warm:
        step()
        step()
    _release_freed_memory()
    baseline = _proc_status_bytes("VmRSS")
    for _ in range(1 if warm else 3):
        step()
    return _proc_status_bytes("VmHWM") - baseline


def e2e_section(dtypes, thread_settings, effort: Effort, markdown: bool) -> None:
    """A whole SGD training step of each network (forward, softmax loss, backward, update), tinyconv against
    the same network, weights and batch in torch (through tinyconv.interop.to_torch), and its peak memory."""
    rows, ratios = [], {}
    linux = sys.platform.startswith("linux")  # peak memory is read from /proc
    for (network, dtype), times in training_times(dtypes, effort, settings_of(thread_settings)).items():
        label, batch = NETWORKS[network]
        memory = {(lib, since): measure_in_subprocess(["--training-memory-probe",
                                                       json.dumps([lib, network, np.dtype(dtype).name, since])])
                  for since in MEMORY_BASELINES for lib in LIBRARIES} if linux else {}
        for threads in thread_settings:
            value = times["tinyconv", threads] / times["torch", threads]
            ratios.setdefault((np.dtype(dtype).name, threads), []).append(value)
            rows.append([f"{label}, batch {batch}", np.dtype(dtype).name, thread_label(threads),
                         milliseconds(times["tinyconv", threads]), milliseconds(times["torch", threads]), ratio(value),
                         *(f"{memory[lib, since]:.1f}" for since in MEMORY_BASELINES for lib in LIBRARIES if memory)])
    for (dtype, threads), values in ratios.items():
        rows.append([f"geometric mean over {len(values)}", dtype, thread_label(threads), "", "", ratio(geometric_mean(values)),
                     *([""] * (2 * len(MEMORY_BASELINES) if linux else 0))])
    memory_headers = [f"{lib} peak MiB ({since})" for since in MEMORY_BASELINES for lib in LIBRARIES] if linux else []
    print_table("Training step: forward, softmax loss, backward, SGD update (median ms; ratio < 1 means tinyconv is "
                "faster; peak extra RSS at default threads, each in a fresh process: 'warm' one step after two, "
                "'cold' three steps from the start)",
                ["network", "dtype", "threads", "tinyconv ms", "torch ms", "tinyconv/torch", *memory_headers], rows, markdown)


# ----------------------------------------------------------------------------------------------- main


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few repeats and no calibration: a smoke test")
    parser.add_argument("--dtype", choices=("float32", "float64", "both"), default="both")
    parser.add_argument("--threads", choices=("1", "default", "both"), default="both")
    parser.add_argument("--only", choices=SECTIONS, action="append", help="run only this section (repeatable)")
    parser.add_argument("--cases", default=",".join(CASES_BY_KEY), help=f"comma-separated layer cases for conv/pool/memory, from {', '.join(CASES_BY_KEY)}")
    parser.add_argument(
        "--algorithm", choices=("im2col", "winograd2", "winograd4"), help="tinyconv's conv algorithm (default: its own choice)"
    )
    parser.add_argument("--batch-sizes", default="32,128,512", help="batch sizes of the memory sweep on the 7x7 conv")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument("--default-malloc", action="store_true",
                        help="time with glibc malloc's default thresholds, not tinyconv.keep_freed_memory's")
    parser.add_argument("--memory-probe", help=argparse.SUPPRESS)
    parser.add_argument("--training-memory-probe", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    unknown = set(args.cases.split(",")) - set(CASES_BY_KEY)
    if unknown:
        parser.error(f"--cases: unknown {', '.join(sorted(unknown))}; expected some of {', '.join(CASES_BY_KEY)}")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.memory_probe:
        print(memory_probe(*json.loads(args.memory_probe)))
        return
    if args.training_memory_probe:
        print(training_memory_probe(*json.loads(args.training_memory_probe)))
        return
    effort = QUICK if args.quick else FULL
    dtypes = [np.float32, np.float64] if args.dtype == "both" else [np.dtype(args.dtype).type]
    thread_settings = {"1": [1], "default": [None], "both": [1, None]}[args.threads]
    sections = args.only or SECTIONS
    cases = {key: CASES_BY_KEY[key] for key in args.cases.split(",")}
    if args.algorithm:
        cases = {key: case if case.kind == "pool" else dataclasses.replace(case, algorithm=args.algorithm) for key, case in cases.items()}
    batch_sizes = [int(n) for n in args.batch_sizes.split(",")]

    print_environment(args.markdown, not args.default_malloc and keep_freed_memory())
    if "gemm" in sections:
        gemm_section(dtypes, effort, args.markdown)
    layer_cases = [case for case in cases.values() if case.kind in sections]
    if layer_cases:
        layer_section(layer_cases, dtypes, thread_settings, effort, args.markdown)
    if "naive" in sections:
        naive_section(effort, args.markdown)
    if "memory" in sections:
        memory_cases = [cases[key] for key in MEMORY_CASES if key in cases]
        memory_section(memory_cases, CASES_BY_KEY[BATCH_SWEEP_CASE], dtypes, batch_sizes, args.markdown)
    if "e2e" in sections:
        e2e_section(dtypes, thread_settings, effort, args.markdown)
    print(f"\nload average at the end: {load_average()}")


if __name__ == "__main__":
    main()
