"""The suite runs without PyTorch: its oracle tests skip with a reason and every other test runs."""

import os
import subprocess
import sys
from pathlib import Path

from .oracle import REQUIRE_ENV

TESTS = Path(__file__).resolve().parent


def _pytest_without_torch(tmp_path, *args, require_oracle=False, missing=("torch",)):
    # A package that cannot be imported stands in for a machine without it.
    for package in missing:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text(f"raise ImportError('{package} is not installed here')\n")
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


def test_without_the_sweep_extra_its_tests_skip_naming_it_and_the_rest_of_the_file_runs(tmp_path):
    result = _pytest_without_torch(tmp_path, "tests/test_sweep.py", "-k", "bad_space or default_space or fails_says",
                                   missing=("optuna", "ray"))
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    assert " passed" in summary and " skipped" in summary and "failed" not in summary, summary
    assert "is not installed: pip install -e '.[sweep]'" in result.stdout
