"""What the longer measurements of ``benchmarks/`` add to the race of :mod:`tinyconv.benchmark` (the one
``tinyconv bench`` runs): their effort, limits on threads for a contender, the cases of the memory probes,
Markdown tables and the labels of thread settings and of the machine's load. Importing it puts this
checkout's tinyconv first on the path. threadpoolctl (the ``fast`` extra) is imported only where threads are
set.
"""

import contextlib
import functools
import os
import sys
from pathlib import Path

# Benchmark the tinyconv of this checkout, not whichever one happens to be installed.
REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import tinyconv  # noqa: E402
from tinyconv import benchmark  # noqa: E402
from tinyconv.benchmark import Effort  # noqa: E402

# OpenBLAS worker threads spin for about 0.1 s after a product before they sleep; on a small machine they
# slow whichever library runs next. Settling before each sample keeps one contender's idle threads out of
# the other's time.
FULL = Effort(warmup=2, repeats=9, min_sample_s=0.05, naive_repeats=2, settle_s=0.25)
MEMORY_CASES = ("conv7x7", "conv64")
BATCH_SWEEP_CASE = "conv7x7"


@contextlib.contextmanager
def thread_setting(threads):
    """Run the body with BLAS, OpenMP, torch and tinyconv's workers limited to ``threads``."""
    from threadpoolctl import threadpool_limits

    # Torch is limited only where something imported it to race it: timing NumPy alone needs no torch.
    torch = sys.modules.get("torch")
    torch_default = None if torch is None else torch.get_num_threads()  # torch has no scoped setting
    with threadpool_limits(limits=threads), tinyconv.num_threads(threads):
        if torch is not None:
            torch.set_num_threads(threads)
        try:
            yield
        finally:
            if torch is not None:
                torch.set_num_threads(torch_default)


def in_threads(threads):
    """A Contender's ``setting`` that limits it to ``threads`` (None: the defaults, no setting)."""
    return None if threads is None else functools.partial(thread_setting, threads)


def thread_settings(threads):
    """``tinyconv.benchmark.layer_times``' settings for thread counts ``threads`` (None: the defaults)."""
    return {count: in_threads(count) for count in threads}


def print_table(title, headers, rows, markdown, numeric=True):
    """Print rows under headers, as Markdown or as :func:`tinyconv.benchmark.print_table`'s plain table."""
    if not markdown:
        benchmark.print_table(title, headers, rows, numeric)
        return
    print(f"\n#### {title}\n")
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join("---:" if i and numeric else "---" for i in range(len(headers))) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def thread_label(threads):
    return "1 thread" if threads == 1 else "default threads"


def load_average():
    return "{:.2f}, {:.2f}, {:.2f} (1, 5, 15 min)".format(*os.getloadavg())
