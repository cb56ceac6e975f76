"""What the longer measurements of ``benchmarks/`` add to the race of :mod:`tinyconv.benchmark` (the one
``tinyconv bench`` runs): their effort, the cases of the memory probes, Markdown tables and the labels of
thread settings and of the machine's load. Importing it puts this checkout's tinyconv first on the path.
"""

import os
import sys
from pathlib import Path

# Benchmark the tinyconv of this checkout, not whichever one happens to be installed.
REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from tinyconv import benchmark  # noqa: E402
from tinyconv.benchmark import Effort  # noqa: E402

# OpenBLAS worker threads spin for about 0.1 s after a product before they sleep; on a small machine they
# slow whichever library runs next. Settling before each sample keeps one contender's idle threads out of
# the other's time.
FULL = Effort(warmup=2, repeats=9, min_sample_s=0.05, naive_repeats=2, settle_s=0.25)
MEMORY_CASES = ("conv7x7", "conv64")
BATCH_SWEEP_CASE = "conv7x7"


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
