"""Smoke test of benchmarks/bench.py: every section runs on a reduced set and prints its rows.

Only the output's structure is checked; timings and memory figures depend on the machine.
"""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"


def run_bench(*args):
    return subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=120)


def test_quick_run_prints_every_requested_table():
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
    assert any(row.startswith("| conv 3->32 7x7/1 pad 3 on 2x3x32x32 | float32") for row in rows)
    assert any(row.startswith("| ThreeLayerConvNet (32 7x7 filters, hidden 100), batch 50 | float32 | 1 thread |")
               for row in rows)
    assert any(row.startswith("| ConvNet c32-c32p-c64-c64p-f256, batchnorm, batch 64 | float32 | 1 thread |")
               for row in rows)
    assert any(row.startswith("| geometric mean over 2 | float32 | 1 thread |") for row in rows)
    assert "| blas: " in result.stdout


def test_unknown_case_is_refused_with_the_known_ones():
    result = run_bench("--cases", "conv9x9")
    assert result.returncode == 2
    assert "unknown conv9x9" in result.stderr and "conv7x7" in result.stderr
