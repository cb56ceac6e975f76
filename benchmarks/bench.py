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
- ``memory``: peak extra memory of one forward + backward, each measured in a fresh process (Linux only).
- ``e2e``: images per second of a ThreeLayerConvNet training step against the same network in torch.

Times are medians over repeats in which the contenders take turns, so that a change in machine load
reaches them all alike. torch is imported only where it is used, so that tinyconv's memory is measured
in a process that never loaded it.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import dataclasses
import gc
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

# Benchmark the tinyconv of this checkout, not whichever one happens to be installed.
REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import tinyconv  # noqa: E402
from tinyconv import layers  # noqa: E402

MIB = 2**20
SECTIONS = ("gemm", "conv", "pool", "naive", "memory", "e2e")
LIBRARIES = ("tinyconv", "torch")


# ----------------------------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class LayerCase:
    """One layer to race: a convolution (``w_shape`` given) or a max pool (``w_shape`` None).

    x_shape is (N, C, H, W); w_shape is (F, C, HH, WW); a pool is ``pool x pool`` with the given stride.
    ``algorithm``, for a conv, is passed to tinyconv as ``conv_param['algorithm']`` (None: its default).
    """

    key: str
    x_shape: tuple[int, int, int, int]
    w_shape: tuple[int, int, int, int] | None
    stride: int
    pad: int = 0
    pool: int = 2
    algorithm: str | None = None

    @property
    def kind(self) -> str:
        return "pool" if self.w_shape is None else "conv"

    @property
    def label(self) -> str:
        n, c, h, w = self.x_shape
        if self.kind == "pool":
            return f"pool {self.pool}x{self.pool}/{self.stride} on {n}x{c}x{h}x{w}"
        f, _, hh, ww = self.w_shape
        algorithm = f" [{self.algorithm}]" if self.algorithm else ""
        return f"conv {c}->{f} {hh}x{ww}/{self.stride} pad {self.pad} on {n}x{c}x{h}x{w}{algorithm}"

    @property
    def out_shape(self) -> tuple[int, int, int, int]:
        n, c, h, w = self.x_shape
        if self.kind == "pool":
            return (n, c, 1 + (h - self.pool) // self.stride, 1 + (w - self.pool) // self.stride)
        f, _, hh, ww = self.w_shape
        return (n, f, 1 + (h + 2 * self.pad - hh) // self.stride, 1 + (w + 2 * self.pad - ww) // self.stride)

    def with_batch(self, n: int) -> "LayerCase":
        return dataclasses.replace(self, x_shape=(n, *self.x_shape[1:]))


CASES = (
    LayerCase("conv3x3s2", (100, 3, 31, 31), (25, 3, 3, 3), stride=2, pad=1),
    LayerCase("conv7x7", (50, 3, 32, 32), (32, 3, 7, 7), stride=1, pad=3),
    LayerCase("conv64", (64, 64, 16, 16), (64, 64, 3, 3), stride=1, pad=1),
    LayerCase("conv128", (32, 128, 8, 8), (128, 128, 3, 3), stride=1, pad=1),
    LayerCase("pool3", (100, 3, 32, 32), None, stride=2),
    LayerCase("pool32", (50, 32, 32, 32), None, stride=2),
)
CASES_BY_KEY = {case.key: case for case in CASES}
# The cs231n notebook's speed test: its conv and its pool.
NAIVE_CASES = ("conv3x3s2", "pool3")
MEMORY_CASES = ("conv7x7", "conv64")
BATCH_SWEEP_CASE = "conv7x7"


@dataclass(frozen=True)
class Effort:
    """How hard to time: warm-up calls, interleaved repeats, and the least seconds one sample lasts."""

    warmup: int
    repeats: int
    min_sample_s: float
    naive_repeats: int
    settle_s: float


# OpenBLAS worker threads spin for about 0.1 s after a product before they sleep; on a small machine they
# slow whichever library runs next. Settling before each sample keeps one contender's idle threads out of
# the other's time.
FULL = Effort(warmup=2, repeats=9, min_sample_s=0.05, naive_repeats=2, settle_s=0.25)
QUICK = Effort(warmup=1, repeats=3, min_sample_s=0.0, naive_repeats=1, settle_s=0.0)


# ----------------------------------------------------------------------------------------------- timing


@contextlib.contextmanager
def thread_setting(threads: int | None):
    """Run the body with BLAS, OpenMP, torch and tinyconv's workers limited to ``threads`` (None: defaults)."""
    if threads is None:
        yield
        return
    import torch

    torch_default = torch.get_num_threads()
    with threadpool_limits(limits=threads):
        torch.set_num_threads(threads)
        tinyconv_default = tinyconv.set_num_threads(threads)
        try:
            yield
        finally:
            torch.set_num_threads(torch_default)
            tinyconv.set_num_threads(tinyconv_default)


@dataclass(frozen=True)
class Contender:
    """A callable to time, under a thread setting (None: default threads)."""

    name: tuple
    fn: Callable[[], object]
    threads: int | None = None


def _seconds(fn: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def race(contenders: list[Contender], effort: Effort) -> dict[tuple, list[float]]:
    """Seconds per call of each contender, one sample per round, keyed by contender name.

    After ``effort.warmup`` calls each, the contenders take turns for ``effort.repeats`` rounds; in each
    round a contender waits ``effort.settle_s``, then makes as many calls as fill ``effort.min_sample_s``
    (at least one), so that fast calls are not lost in timer noise.
    """
    calls = dict.fromkeys((contender.name for contender in contenders), 1)
    for contender in contenders:
        with thread_setting(contender.threads):
            for _ in range(effort.warmup):
                contender.fn()
            if effort.min_sample_s > 0:
                one_call = max(_seconds(contender.fn, 1), 1e-9)
                calls[contender.name] = max(1, math.ceil(effort.min_sample_s / one_call))
    samples = {contender.name: [] for contender in contenders}
    gc.collect()
    for _ in range(effort.repeats):
        for contender in contenders:
            time.sleep(effort.settle_s)
            with thread_setting(contender.threads):
                samples[contender.name].append(_seconds(contender.fn, calls[contender.name]))
    return samples


def medians(samples: dict[tuple, list[float]]) -> dict[tuple, float]:
    return {name: statistics.median(times) for name, times in samples.items()}


# ----------------------------------------------------------------------------------------------- layers


def make_inputs(case: LayerCase, dtype: np.dtype, seed: int = 0) -> dict[str, np.ndarray]:
    """Random x, dout and, for a conv, w and b, all of ``dtype``."""
    rng = np.random.default_rng(seed)
    arrays = {"x": rng.standard_normal(case.x_shape), "dout": rng.standard_normal(case.out_shape)}
    if case.kind == "conv":
        arrays["w"] = rng.standard_normal(case.w_shape)
        arrays["b"] = rng.standard_normal(case.w_shape[0])
    return {name: array.astype(dtype) for name, array in arrays.items()}


def tinyconv_layer(case: LayerCase, arrays: dict[str, np.ndarray], impl: str = "fast"):
    """(forward, backward) of tinyconv's ``impl`` layer on fixed inputs.

    forward() returns (out, cache); backward(cache) returns the gradients (dx, dw, db for a conv, dx for a pool).
    """
    x, dout = arrays["x"], arrays["dout"]
    if case.kind == "conv":
        forward_fn, backward_fn = getattr(layers, f"conv_forward_{impl}"), getattr(layers, f"conv_backward_{impl}")
        conv_param = {"stride": case.stride, "pad": case.pad}
        if case.algorithm:
            conv_param["algorithm"] = case.algorithm
        w, b = arrays["w"], arrays["b"]

        def forward():
            return forward_fn(x, w, b, conv_param)
    else:
        forward_fn, backward_fn = getattr(layers, f"max_pool_forward_{impl}"), getattr(layers, f"max_pool_backward_{impl}")
        pool_param = {"pool_height": case.pool, "pool_width": case.pool, "stride": case.stride}

        def forward():
            return forward_fn(x, pool_param)

    def backward(cache):
        return backward_fn(dout, cache)

    return forward, backward


def tinyconv_step(case: LayerCase, arrays: dict[str, np.ndarray]) -> Callable[[], tuple]:
    """One fast forward + backward; returns the gradients as a tuple."""
    forward, backward = tinyconv_layer(case, arrays)

    def step():
        out, cache = forward()  # out stays alive through the backward, as torch's does and as in a network
        grads = backward(cache)
        return grads if isinstance(grads, tuple) else (grads,)

    return step


def torch_step(case: LayerCase, arrays: dict[str, np.ndarray]) -> Callable[[], tuple]:
    """One torch forward + backward with the same dout, giving the same gradients as tinyconv's step."""
    import torch
    import torch.nn.functional as F

    tensors = {name: torch.from_numpy(array) for name, array in arrays.items()}
    dout = tensors.pop("dout")
    inputs = tuple(tensors[name].requires_grad_() for name in ("x", "w", "b") if name in tensors)
    if case.kind == "conv":

        def forward():
            return F.conv2d(*inputs, stride=case.stride, padding=case.pad)
    else:

        def forward():
            return F.max_pool2d(inputs[0], case.pool, stride=case.stride)

    def step():
        return torch.autograd.grad(forward(), inputs, dout)

    return step


def check_agreement(case: LayerCase, dtype: np.dtype, ours: tuple, theirs: tuple) -> None:
    """Refuse to time layers that disagree: a fast wrong answer is no result."""
    tolerance = 1e-4 if dtype == np.float32 else 1e-10
    for name, mine, reference in zip(("dx", "dw", "db"), ours, theirs):
        reference = reference.numpy()
        scale = max(float(np.abs(reference).max()), 1.0)
        error = float(np.abs(mine - reference).max()) / scale
        if mine.dtype != dtype or mine.shape != reference.shape or error > tolerance:
            raise RuntimeError(
                f"{case.label} {dtype}: tinyconv {name} {mine.dtype}{mine.shape} differs from torch "
                f"{reference.dtype}{tuple(reference.shape)} (scaled max error {error:.2e})"
            )


# ----------------------------------------------------------------------------------------------- output


def print_table(title: str, headers: list[str], rows: list[list[str]], markdown: bool, numeric: bool = True) -> None:
    """Print rows under headers; columns after the first are right-aligned when ``numeric``."""
    if markdown:
        print(f"\n#### {title}\n")
        print("| " + " | ".join(headers) + " |")
        print("|" + "|".join("---:" if i and numeric else "---" for i in range(len(headers))) + "|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows)]
    print(f"\n{title}")
    for row in [headers, ["-" * width for width in widths], *rows]:
        cells = [cell.rjust(width) if i and numeric else cell.ljust(width) for i, (cell, width) in enumerate(zip(row, widths))]
        print("  ".join(cells).rstrip())


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1e3:.2f}"


def ratio(value: float) -> str:
    return f"{value:.2f}"


def geometric_mean(values: list[float]) -> float:
    return math.exp(statistics.fmean(math.log(v) for v in values))


def thread_label(threads: int | None) -> str:
    return "1 thread" if threads == 1 else "default threads"


def load_average() -> str:
    return "{:.2f}, {:.2f}, {:.2f} (1, 5, 15 min)".format(*os.getloadavg())


def print_environment(markdown: bool) -> None:
    import torch

    rows = [
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
                samples = race([Contender(threads, product, threads) for threads in (1, None)], effort)
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
    times = {}
    for case in cases:
        for dtype in dtypes:
            arrays = make_inputs(case, dtype)
            steps = {"tinyconv": tinyconv_step(case, arrays), "torch": torch_step(case, arrays)}
            check_agreement(case, dtype, steps["tinyconv"](), steps["torch"]())
            contenders = [Contender((lib, threads), steps[lib], threads) for threads in thread_settings for lib in LIBRARIES]
            times[case, dtype] = medians(race(contenders, effort))

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
    naive_effort = dataclasses.replace(effort, warmup=0, repeats=effort.naive_repeats, min_sample_s=0.0, settle_s=0.0)
    rows = []
    for key in NAIVE_CASES:
        case = CASES_BY_KEY[key]
        arrays = make_inputs(case, np.float64)
        times = {}
        for impl, impl_effort in (("naive", naive_effort), ("fast", effort)):
            forward, backward = tinyconv_layer(case, arrays, impl)
            cache = forward()[1]
            contenders = [Contender((impl, "forward"), forward), Contender((impl, "backward"), lambda: backward(cache))]
            times |= medians(race(contenders, impl_effort))
        for direction in ("forward", "backward"):
            naive, fast = times["naive", direction], times["fast", direction]
            rows.append([f"{case.kind} {direction}: {case.label}", milliseconds(naive), milliseconds(fast), f"{naive / fast:.1f}x"])
    print_table("Naive vs fast, float64, default threads (ms)", ["layer", "naive ms", "fast ms", "speedup"], rows, markdown)


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

    The inputs are allocated and one full step is run first (libraries, thread pools, BLAS buffers and
    torch's kernel caches warmed up), then freed memory is released and the peak mark reset. ``method``
    'rss' reads the peak resident set (VmHWM) over the baseline VmRSS; 'tracemalloc' traces the peak of
    Python and NumPy allocations (torch does not report to it).
    """
    case = LayerCase(**{name: tuple(v) if isinstance(v, list) else v for name, v in case_fields.items()})
    build = tinyconv_step if library == "tinyconv" else torch_step
    step = build(case, make_inputs(case, np.dtype(dtype_name)))
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


def measure_in_subprocess(library: str, case: LayerCase, dtype, method: str) -> float:
    """MiB measured by memory_probe in a fresh interpreter."""
    probe = json.dumps([library, dataclasses.asdict(case), np.dtype(dtype).name, method])
    result = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--memory-probe", probe], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"memory probe {probe} failed:\n{result.stderr[-2000:]}")
    return int(result.stdout.split()[-1]) / MIB


def memory_row(case: LayerCase, dtype) -> list[str]:
    tinyconv_rss = measure_in_subprocess("tinyconv", case, dtype, "rss")
    tinyconv_traced = measure_in_subprocess("tinyconv", case, dtype, "tracemalloc")
    torch_rss = measure_in_subprocess("torch", case, dtype, "rss")
    x_mib = math.prod(case.x_shape) * np.dtype(dtype).itemsize / MIB
    return [
        case.label,
        np.dtype(dtype).name,
        f"{x_mib:.2f}",
        f"{tinyconv_rss:.1f}",
        f"{tinyconv_traced:.1f}",
        f"{torch_rss:.1f}",
        ratio(tinyconv_rss / torch_rss) if torch_rss > 0 else "-",
    ]


MEMORY_HEADERS = ["layer", "dtype", "x MiB", "tinyconv MiB (RSS)", "tinyconv MiB (tracemalloc)", "torch MiB (RSS)", "tinyconv/torch"]


def memory_section(cases, sweep_case, dtypes, batch_sizes, markdown: bool) -> None:
    """Peak extra memory of one forward + backward, per layer and, on ``sweep_case``, per batch size."""
    if not sys.platform.startswith("linux"):
        print("\nmemory: skipped, it reads /proc and glibc (Linux only)")
        return
    note = "peak extra memory of one forward + backward, default threads, each in a fresh process"
    if cases:
        rows = [memory_row(case, dtype) for case in cases for dtype in dtypes]
        print_table(f"Memory: {note}", MEMORY_HEADERS, rows, markdown)
    rows = [memory_row(sweep_case.with_batch(batch), dtype) for dtype in dtypes for batch in batch_sizes]
    print_table(f"Memory vs batch size: {note}", MEMORY_HEADERS, rows, markdown)


# ----------------------------------------------------------------------------------------------- end to end


def tinyconv_training_step(images: np.ndarray, labels: np.ndarray, learning_rate: float):
    """A ThreeLayerConvNet SGD step (loss, grads, update) and the model, whose initial params it shares."""
    from tinyconv.models import ThreeLayerConvNet
    from tinyconv.optim import sgd

    model = ThreeLayerConvNet(input_dim=images.shape[1:], dtype=images.dtype)
    config = {"learning_rate": learning_rate}

    def step():
        loss, grads = model.loss(images, labels)
        for name, grad in grads.items():
            model.params[name], _ = sgd(model.params[name], grad, config)
        return loss

    return step, model


def torch_training_step(images: np.ndarray, labels: np.ndarray, learning_rate: float, params: dict[str, np.ndarray]):
    """The same network and SGD step in torch, starting from tinyconv's initial params."""
    import torch
    from torch import nn

    num_filters, channels, size, _ = params["W1"].shape
    model = nn.Sequential(
        nn.Conv2d(channels, num_filters, size, padding=(size - 1) // 2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(*params["W2"].shape),
        nn.ReLU(),
        nn.Linear(*params["W3"].shape),
    ).to(torch.from_numpy(params["W1"]).dtype)
    with torch.no_grad():
        for layer, (w, b) in zip((model[0], model[4], model[6]), (("W1", "b1"), ("W2", "b2"), ("W3", "b3"))):
            # tinyconv's affine weights are (D, M); torch's Linear keeps (M, D).
            layer.weight.copy_(torch.from_numpy(params[w] if layer is model[0] else params[w].T))
            layer.bias.copy_(torch.from_numpy(params[b]))
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
    x, y = torch.from_numpy(images), torch.from_numpy(labels)

    def step():
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def e2e_section(dtypes, thread_settings, effort: Effort, markdown: bool, batch: int = 50) -> None:
    """Training images per second of ThreeLayerConvNet against the same network in torch."""
    try:
        import tinyconv.models  # noqa: F401
        import tinyconv.optim  # noqa: F401
    except ImportError as error:
        print(f"\ne2e: skipped, {error}")
        return
    rng = np.random.default_rng(0)
    rows = []
    for dtype in dtypes:
        images = rng.standard_normal((batch, 3, 32, 32)).astype(dtype)
        labels = rng.integers(0, 10, batch)
        ours, model = tinyconv_training_step(images, labels, 1e-3)
        theirs = torch_training_step(images, labels, 1e-3, {name: p.copy() for name, p in model.params.items()})
        first_losses = (float(ours()), theirs())
        if not math.isclose(*first_losses, rel_tol=1e-4):
            raise RuntimeError(f"e2e {dtype}: first losses differ, tinyconv {first_losses[0]} vs torch {first_losses[1]}")
        contenders = [Contender((lib, threads), fn, threads) for threads in thread_settings for lib, fn in zip(LIBRARIES, (ours, theirs))]
        times = medians(race(contenders, effort))
        for threads in thread_settings:
            per_second = {lib: batch / times[lib, threads] for lib in LIBRARIES}
            rows.append(
                [
                    np.dtype(dtype).name,
                    thread_label(threads),
                    f"{per_second['tinyconv']:.0f}",
                    f"{per_second['torch']:.0f}",
                    ratio(per_second["tinyconv"] / per_second["torch"]),
                ]
            )
    print_table(
        f"End to end: ThreeLayerConvNet SGD training step, batch {batch} of 3x32x32 (images/s)",
        ["dtype", "threads", "tinyconv img/s", "torch img/s", "tinyconv/torch"],
        rows,
        markdown,
    )


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
    parser.add_argument("--memory-probe", help=argparse.SUPPRESS)
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
    effort = QUICK if args.quick else FULL
    dtypes = [np.float32, np.float64] if args.dtype == "both" else [np.dtype(args.dtype).type]
    thread_settings = {"1": [1], "default": [None], "both": [1, None]}[args.threads]
    sections = args.only or SECTIONS
    cases = {key: CASES_BY_KEY[key] for key in args.cases.split(",")}
    if args.algorithm:
        cases = {key: case if case.kind == "pool" else dataclasses.replace(case, algorithm=args.algorithm) for key, case in cases.items()}
    batch_sizes = [int(n) for n in args.batch_sizes.split(",")]

    print_environment(args.markdown)
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
