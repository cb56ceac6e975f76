"""Racing tinyconv: its fast layers against its naive ones and against PyTorch, and whole training steps.

What ``tinyconv bench``'s one-minute race needs: the layer cases, a race in which the contenders take turns
(so that a change in the machine's load reaches them all alike), the forward + backward steps of each
library, and a training step of each benchmark network in both libraries. The longer measurements of a
source checkout (``benchmarks/``: their effort, thread limits, memory probes, Markdown tables) build on
these in ``benchmarks/harness.py``. PyTorch is imported only where it is raced.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import math
import statistics
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from tinyconv import layers

LIBRARIES = ("tinyconv", "torch")


@dataclass(frozen=True)
class LayerCase:
    """One layer to race: a convolution (``w_shape`` given) or a max pool (``w_shape`` None).

    x_shape is (N, C, H, W); w_shape is (F, C / groups, HH, WW); a pool is ``pool x pool`` with the given
    stride. ``algorithm``, for a conv, is passed to tinyconv as ``conv_param['algorithm']`` (None: its default).
    """

    key: str
    x_shape: tuple[int, int, int, int]
    w_shape: tuple[int, int, int, int] | None
    stride: int
    pad: int = 0
    pool: int = 2
    algorithm: str | None = None
    groups: int = 1

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
        kind = "depthwise conv" if self.groups == c > 1 else "conv" if self.groups == 1 else f"conv {self.groups} groups"
        return f"{kind} {c}->{f} {hh}x{ww}/{self.stride} pad {self.pad} on {n}x{c}x{h}x{w}{algorithm}"

    @property
    def out_shape(self) -> tuple[int, int, int, int]:
        n, c, h, w = self.x_shape
        if self.kind == "pool":
            return (n, c, 1 + (h - self.pool) // self.stride, 1 + (w - self.pool) // self.stride)
        f, _, hh, ww = self.w_shape
        return (n, f, 1 + (h + 2 * self.pad - hh) // self.stride, 1 + (w + 2 * self.pad - ww) // self.stride)



CASES = (
    LayerCase("conv3x3s2", (100, 3, 31, 31), (25, 3, 3, 3), stride=2, pad=1),
    LayerCase("conv7x7", (50, 3, 32, 32), (32, 3, 7, 7), stride=1, pad=3),
    LayerCase("conv64", (64, 64, 16, 16), (64, 64, 3, 3), stride=1, pad=1),
    LayerCase("conv128", (32, 128, 8, 8), (128, 128, 3, 3), stride=1, pad=1),
    LayerCase("depthwise64", (64, 64, 32, 32), (64, 1, 3, 3), stride=1, pad=1, groups=64),
    LayerCase("pool3", (100, 3, 32, 32), None, stride=2),
    LayerCase("pool32", (50, 32, 32, 32), None, stride=2),
)
CASES_BY_KEY = {case.key: case for case in CASES}
# The cs231n notebook's speed test: its conv and its pool.
NAIVE_CASES = ("conv3x3s2", "pool3")


@dataclass(frozen=True)
class Effort:
    """How hard to time: warm-up calls, interleaved repeats, and the least seconds one sample lasts."""

    warmup: int
    repeats: int
    min_sample_s: float
    naive_repeats: int
    settle_s: float


QUICK = Effort(warmup=1, repeats=3, min_sample_s=0.0, naive_repeats=1, settle_s=0.0)


# ----------------------------------------------------------------------------------------------- timing


@dataclass(frozen=True)
class Contender:
    """A callable to time, inside the context manager that ``setting()`` returns where one is given (such as a
    limit on threads: ``benchmarks/harness.py`` has one)."""

    name: tuple
    fn: Callable[[], object]
    setting: Callable[[], contextlib.AbstractContextManager] | None = None

    def context(self):
        return contextlib.nullcontext() if self.setting is None else self.setting()


def _seconds(fn: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def race(contenders: list[Contender], effort: Effort) -> dict[tuple, list[float]]:
    """Seconds per call of each contender, one sample per round, keyed by contender name.

    After ``effort.warmup`` calls each, the contenders take turns for ``effort.repeats`` rounds; in each
    round a contender waits ``effort.settle_s`` and, when that is a pause, makes one call untimed; then it makes
    as many calls as fill ``effort.min_sample_s`` (at least one), so that fast calls are not lost in timer
    noise. The untimed call keeps the pause out of the sample: the first calls after an idle pause ran slower for reasons of the
    pause, not of the contender (tinyconv's first training step on two workers took 1.3 to 1.5 times as
    long as the next ones on a 2-core machine, its threads preempted on waking; a network trains step after
    step without such pauses).
    """
    calls = dict.fromkeys((contender.name for contender in contenders), 1)
    for contender in contenders:
        with contender.context():
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
            with contender.context():
                if effort.settle_s > 0:
                    contender.fn()
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
        conv_param = {"stride": case.stride, "pad": case.pad, "groups": case.groups}
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
            return F.conv2d(*inputs, stride=case.stride, padding=case.pad, groups=case.groups)
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


def layer_times(cases, dtypes, effort, settings=None):
    """Median seconds of a forward + backward of each case in each dtype, ``{(case, dtype): {(library,
    label): seconds}}``, tinyconv and torch raced under each of ``settings`` (label -> a Contender's setting;
    by default ``{None: None}``, the process as it is)."""
    times = {}
    for case in cases:
        for dtype in dtypes:
            arrays = make_inputs(case, dtype)
            steps = {"tinyconv": tinyconv_step(case, arrays), "torch": torch_step(case, arrays)}
            check_agreement(case, dtype, steps["tinyconv"](), steps["torch"]())
            contenders = [Contender((lib, label), steps[lib], setting) for label, setting in (settings or {None: None}).items()
                          for lib in LIBRARIES]
            times[case, dtype] = medians(race(contenders, effort))
    return times


def naive_vs_fast_rows(effort):
    """Rows ``[layer, naive ms, fast ms, speedup]`` of the naive and fast forms on the cs231n speed-test
    shapes, float64; the naive loops run ``effort.naive_repeats`` times only."""
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
            rows.append([f"{case.kind} {direction}: {case.label}", milliseconds(naive), milliseconds(fast),
                         f"{naive / fast:.0f}x"])
    return rows


def print_table(title: str, headers: list[str], rows: list[list[str]], numeric: bool = True) -> None:
    """Print rows under headers; columns after the first are right-aligned when ``numeric``."""
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


# ----------------------------------------------------------------------------------------------- training steps

# The networks of a training step, each with its batch of 3x32x32 images: cs231n's ThreeLayerConvNet (32 7x7
# filters, hidden layer of 100) and a ConvNet of four 3x3 conv blocks with batch norm.
NETWORKS = {
    "three-layer": ("ThreeLayerConvNet (32 7x7 filters, hidden 100)", 50),
    "convnet": ("ConvNet c32-c32p-c64-c64p-f256, batchnorm", 64),
}


def build_network(name, dtype):
    """A fresh model of network ``name`` in ``dtype``, its weights drawn from seed 0."""
    from tinyconv.models import ConvNet, ThreeLayerConvNet

    if name == "three-layer":  # cs231n's network draws from NumPy's global generator: left as it was
        state = np.random.get_state()
        np.random.seed(0)
        try:
            return ThreeLayerConvNet(dtype=dtype)
        finally:
            np.random.set_state(state)
    return ConvNet.from_spec("c32-c32p-c64-c64p-f256", input_dim=(3, 32, 32), normalization="batchnorm", seed=0,
                             dtype=dtype)


def training_batch(name, dtype, seed=0):
    """Random images (N, 3, 32, 32) of ``dtype`` and labels (N,) for network ``name``."""
    rng = np.random.default_rng(seed)
    batch = NETWORKS[name][1]
    return rng.standard_normal((batch, 3, 32, 32)).astype(dtype), rng.integers(0, 10, batch)


def tinyconv_training_step(model, images, labels, learning_rate=1e-3):
    """One SGD step of ``model`` (loss, gradients, update) with BLAS held as the Solver holds it for a
    convolutional network (``tinyconv._parallel.held_blas``); returns the loss."""
    from tinyconv._parallel import held_blas
    from tinyconv.optim import sgd

    config = {"learning_rate": learning_rate}

    def step():
        with held_blas():
            loss, grads = model.loss(images, labels)
            for name, grad in grads.items():
                model.params[name], _ = sgd(model.params[name], grad, config)
        return float(loss)

    return step


def torch_training_step(model, images, labels, learning_rate=1e-3):
    """The same SGD step on ``tinyconv.interop.to_torch(model)``: the same network, weights and batch."""
    import torch

    from tinyconv.interop import to_torch

    network = to_torch(model).train()
    optimizer = torch.optim.SGD(network.parameters(), lr=learning_rate)
    x, y = torch.from_numpy(images), torch.from_numpy(labels)

    def step():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(network(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def training_times(dtypes, effort, settings=None):
    """Median seconds of a training step of each network in each dtype, ``{(network, dtype): {(library,
    label): seconds}}``, tinyconv and torch raced under each of ``settings``, as in :func:`layer_times`."""
    times = {}
    for network in NETWORKS:
        for dtype in dtypes:
            steps = dict(zip(LIBRARIES, training_steps(network, dtype)))
            contenders = [Contender((lib, label), steps[lib], setting) for label, setting in (settings or {None: None}).items()
                          for lib in LIBRARIES]
            times[network, dtype] = medians(race(contenders, effort))
    return times


def training_steps(name, dtype):
    """(tinyconv step, torch step) of network ``name`` from the same weights; refuses to time them when their
    first losses differ, since a fast wrong step is no result."""
    model = build_network(name, dtype)
    images, labels = training_batch(name, dtype)
    theirs = torch_training_step(model, images, labels)
    ours = tinyconv_training_step(model, images, labels)
    first = (ours(), theirs())
    if not math.isclose(*first, rel_tol=1e-4):
        raise RuntimeError(f"{name} {np.dtype(dtype).name}: first losses differ, tinyconv {first[0]} vs torch {first[1]}")
    return ours, theirs
