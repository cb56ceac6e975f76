"""What chunking under the workspace limit costs: fast conv forward + backward, default limit vs unlimited.

    python3 benchmarks/workspace.py

Prints, per layer and dtype, the median time with the default workspace limit and
with the limit lifted, measured interleaved in one process, and their ratio.
"""

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tinyconv.layers import conv_backward_fast, conv_forward_fast, limit_workspace, workspace_limit  # noqa: E402

LAYERS = [((50, 3, 32, 32), (32, 3, 7, 7), 3), ((64, 64, 16, 16), (64, 64, 3, 3), 1)]
SETTINGS = {"default limit": None, "no limit": 2**40}


def median_ms(step, repeats=15):
    times = []
    for _ in range(repeats):
        time.sleep(0.05)  # let idle BLAS threads settle between samples
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def main():
    rng = np.random.default_rng(0)
    print(f"default workspace limit: {workspace_limit() / 2**20:.0f} MiB")
    print(f"{'layer':<40}{'dtype':<9}{'default ms':>12}{'no limit ms':>13}{'ratio':>8}")
    for dtype in (np.float32, np.float64):
        for x_shape, w_shape, pad in LAYERS:
            x = rng.standard_normal(x_shape).astype(dtype)
            w = rng.standard_normal(w_shape).astype(dtype)
            b = np.zeros(w_shape[0], dtype)
            conv_param = {"stride": 1, "pad": pad}
            dout = rng.standard_normal((x_shape[0], w_shape[0], *x_shape[2:])).astype(dtype)

            def step():
                _, cache = conv_forward_fast(x, w, b, conv_param)
                conv_backward_fast(dout, cache)

            times = {name: [] for name in SETTINGS}
            for _ in range(2):  # interleave the settings
                for name, limit in SETTINGS.items():
                    if limit is None:
                        step()
                        times[name].append(median_ms(step))
                    else:
                        with limit_workspace(limit):
                            step()
                            times[name].append(median_ms(step))
            default, unlimited = (min(times[name]) for name in SETTINGS)
            label = f"x{x_shape} w{w_shape}"
            print(f"{label:<40}{np.dtype(dtype).name:<9}{default:>12.1f}{unlimited:>13.1f}{default / unlimited:>8.2f}")


if __name__ == "__main__":
    main()
