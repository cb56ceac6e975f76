"""Smoke tests of benchmarks/bench.py (every section runs on a reduced set and prints its rows) and of
benchmarks/algorithms.py.

Only the output's structure is checked; timings and memory figures depend on the machine.
"""

import subprocess
import sys
import time
from pathlib import Path

from .oracle import require

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def run_bench(*args, script="bench.py"):
    return subprocess.run([sys.executable, str(BENCHMARKS / script), *args], capture_output=True, text=True,
                          timeout=120)


def test_quick_run_prints_every_requested_table():
    require("torch")  # bench.py races PyTorch
    result = run_bench(
        "--quick", "--markdown", "--dtype", "float32", "--threads", "1",
        "--only", "conv", "--only", "pool", "--only", "memory", "--only", "e2e",
        "--cases", "conv3x3s2,pool3", "--batch-sizes", "2",
    )
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    layer_rows = [row for row in rows if row.startswith(("| conv 3->25 3x3/2 pad 1 on 100x3x31x31 | float32", "| pool 2x2/2 on 100x3x32x32 | float32"))]
    assert len(layer_rows) == 2
    assert any(row.startswith("| geometric mean over 2 | float32") for row in rows)
    memory_rows = [row for row in rows if row.startswith("| conv 3->32 7x7/1 pad 3 on 2x3x32x32 | float32")]
    assert len(memory_rows) == 1  # warm RSS, tracemalloc, torch's RSS, and both libraries' from a cold start
    assert all(float(cell) > 0 for cell in memory_rows[0].strip("| ").split(" | ")[-2:]), memory_rows[0]
    assert any(row.startswith("| ThreeLayerConvNet (32 7x7 filters, hidden 100), batch 50 | float32 | 1 thread |")
               for row in rows)
    assert any(row.startswith("| ConvNet c32-c32p-c64-c64p-f256, batchnorm, batch 64 | float32 | 1 thread |")
               for row in rows)
    assert any(row.startswith("| geometric mean over 2 | float32 | 1 thread |") for row in rows)
    step_rows = [row for row in rows if row.startswith(("| ThreeLayerConvNet", "| ConvNet"))]
    for row in step_rows:  # peak MiB, one warm step and three from a cold start, of each library
        assert all(float(cell) > 0 for cell in row.strip("| ").split(" | ")[-4:]), row
    assert "| blas: " in result.stdout


def test_unknown_case_is_refused_with_the_known_ones():
    result = run_bench("--cases", "conv9x9")
    assert result.returncode == 2
    assert "unknown conv9x9" in result.stderr and "conv7x7" in result.stderr


def test_the_algorithm_race_prints_both_winograds_and_the_pick():
    result = run_bench("--quick", "--dtype", "float32", "--shapes", "4,32,8,32", "2,8,4,8", script="algorithms.py")
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert "winograd2/im2col 1 thread" in header and "winograd4/im2col default" in header
    assert [row.split()[:4] for row in rows] == [["4", "32->32", "8x8", "float32"], ["2", "8->8", "4x4", "float32"]]
    assert rows[0].split()[-1] == "winograd4" and rows[1].split()[-1] == "im2col"
    assert all(float(ratio) > 0 for row in rows for ratio in row.split()[4:8])
    refused = run_bench("--shapes", "4,32,8", script="algorithms.py")
    assert refused.returncode == 2 and "a shape is N,C,H,F" in refused.stderr


def test_a_race_sample_leaves_out_the_first_call_after_each_pause():
    from tinyconv.benchmark import Contender, Effort, race

    calls = []

    def slow_after_a_pause():
        calls.append(None)
        if len(calls) in (2, 4):  # the first call of each round, right after its pause
            time.sleep(0.2)

    effort = Effort(warmup=1, repeats=2, min_sample_s=0.0, naive_repeats=1, settle_s=0.01)
    samples = race([Contender(("slow after a pause",), slow_after_a_pause)], effort)
    assert len(calls) == 5, "one warm-up call, then an untimed and a timed call in each of two rounds"
    assert max(samples["slow after a pause",]) < 0.1
    calls.clear()
    unpaused = race([Contender(("no pause",), slow_after_a_pause)], Effort(1, 2, 0.0, 1, 0.0))
    assert len(calls) == 3 and sorted(unpaused["no pause",])[-1] >= 0.2, "without a pause every call is timed"


def test_the_thread_measurements_print_each_part():
    result = run_bench("--quick", script="threads.py")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.strip().startswith("on two threads:") and line.rstrip().endswith(" us") for line in lines)
    assert sum("MiB arrays" in line and "speedup" in line for line in lines) == 2
    layer_rows = [line.split() for line in lines if line.strip().endswith(tuple("0123456789")) and " MiB  float" in line]
    assert len(layer_rows) == 4  # two input sizes in each dtype
    assert all(float(value) > 0 for row in layer_rows for value in row[-3:])
