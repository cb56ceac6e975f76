"""The suite runs without PyTorch: its oracle tests skip with a reason and every other test runs."""

import os
import subprocess
import sys
from pathlib import Path

from .oracle import REQUIRE_ENV

TESTS = Path(__file__).resolve().parent


def _pytest_without_torch(tmp_path, *args, require_oracle=False):
    # A package named torch that cannot be imported stands in for a machine without PyTorch.
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text("raise ImportError('PyTorch is not installed here')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(TESTS.parent)])}
    env.pop(REQUIRE_ENV, None)
    if require_oracle:
        env[REQUIRE_ENV] = "1"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *args],
                          cwd=TESTS.parent, env=env, capture_output=True, text=True, timeout=300)


def test_oracle_tests_skip_with_a_reason_and_the_rest_pass(tmp_path):
    result = _pytest_without_torch(tmp_path, "tests/test_affine.py", "tests/test_losses.py")
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    assert " passed" in summary and " skipped" in summary and "error" not in summary, summary
    assert "PyTorch, this test's oracle, is not installed" in result.stdout


def test_requiring_the_oracle_turns_the_skips_into_failures(tmp_path):
    result = _pytest_without_torch(tmp_path, "tests/test_losses.py", require_oracle=True)
    assert result.returncode == 1
    assert "PyTorch is required here" in result.stdout
