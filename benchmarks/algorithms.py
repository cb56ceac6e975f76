"""Where the fast conv's 'auto' should pick Winograd: its time over im2col's, on one thread and on the default.

    python3 benchmarks/algorithms.py                  # the shape grid, float32 and float64
    python3 benchmarks/algorithms.py --quick          # fewer repeats, for a smoke test
    python3 benchmarks/algorithms.py --dtype float32 --shapes 128,64,7,128 128,32,14,64

Races winograd2 and winograd4 against im2col, forward + backward, 3x3 filters at stride 1 and pad 1, at
one thread (BLAS and tinyconv's workers) and at the default threads, all six interleaved in one process
(bench.py's race). Prints the four ratios (below 1: that Winograd is faster) and what 'auto' picks, which
should be Winograd F(4x4) where both of its ratios are below 1. The machine's load changes the ratios:
repeat when it is busy.
"""

import argparse
import dataclasses
import statistics

import numpy as np

from harness import FULL, in_threads  # the checkout's tinyconv first on the path
from tinyconv.benchmark import QUICK, Contender, LayerCase, make_inputs, race, tinyconv_step  # noqa: E402
from tinyconv.layers import conv_forward_fast  # noqa: E402

# (N, C, H=W, F): the channel counts and sizes around the rule's bounds.
SHAPES = [
    (64, 16, 8, 16), (64, 16, 16, 16), (64, 16, 32, 16), (64, 24, 16, 16), (64, 32, 16, 32), (128, 32, 8, 32),
    (64, 64, 8, 64), (64, 64, 16, 64), (64, 64, 32, 64), (32, 96, 8, 96), (32, 112, 8, 112), (64, 64, 16, 128),
    (32, 128, 8, 128), (128, 128, 8, 128), (32, 128, 16, 128), (32, 256, 8, 256),
    # The Fashion-MNIST recipe's convs after its first (batch 128).
    (128, 32, 14, 64), (128, 64, 14, 64), (128, 64, 7, 128),
    # Few channels, small outputs, large filter banks: the rule's bounds.
    (64, 3, 32, 32), (64, 8, 32, 8), (64, 8, 16, 16), (64, 64, 3, 64), (64, 64, 4, 64), (64, 64, 5, 64),
    (64, 64, 6, 64), (32, 256, 8, 128), (32, 192, 8, 192),
]
WINOGRADS = ("winograd2", "winograd4")


def shape(text):
    """N,C,H,F as four positive integers."""
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 4 or min(values) < 1:
        raise argparse.ArgumentTypeError(f"a shape is N,C,H,F: four positive integers, got {text!r}")
    return values


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repeats: a smoke test")
    parser.add_argument("--dtype", choices=("float32", "float64"), action="append",
                        help="race this dtype only (repeatable; default: both)")
    parser.add_argument("--shapes", type=shape, nargs="+", metavar="N,C,H,F", help="these shapes, not the grid")
    arguments = parser.parse_args()
    effort = QUICK if arguments.quick else dataclasses.replace(FULL, repeats=7, settle_s=0.15)
    print(f"{'N C->F HxW':<22}{'dtype':<9}" + "".join(f"{f'{name}/im2col {threads}':>27}" for name in WINOGRADS
                                                       for threads in ("1 thread", "default"))
          + "  auto picks")
    for dtype in map(np.dtype, arguments.dtype or ("float32", "float64")):
        for n, c, h, f in arguments.shapes or SHAPES:
            case = LayerCase("grid", (n, c, h, h), (f, c, 3, 3), stride=1, pad=1)
            arrays = make_inputs(case, dtype)
            contenders = [
                Contender((algorithm, threads), tinyconv_step(dataclasses.replace(case, algorithm=algorithm), arrays),
                          in_threads(threads))
                for algorithm in ("im2col", *WINOGRADS) for threads in (1, None)
            ]
            times = {name: statistics.median(samples) for name, samples in race(contenders, effort).items()}
            ratios = [times[name, threads] / times["im2col", threads] for name in WINOGRADS for threads in (1, None)]
            auto = conv_forward_fast(arrays["x"], arrays["w"], arrays["b"], {"stride": 1, "pad": 1})[1][4]
            print(f"{f'{n} {c}->{f} {h}x{h}':<22}{dtype.name:<9}" + "".join(f"{r:>27.2f}" for r in ratios)
                  + f"  {auto}", flush=True)


if __name__ == "__main__":
    main()
