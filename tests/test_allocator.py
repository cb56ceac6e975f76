"""keep_freed_memory: glibc keeps freed blocks for reuse, so arrays allocated again fault no pages in."""

import os
import platform
import subprocess
import sys
import textwrap

import pytest

import tinyconv
from tinyconv import _allocator

GLIBC = platform.libc_ver()[0] == "glibc"

# Allocates and fills arrays of 2 to 7 MiB, 23 MiB live at once as in a layer's forward and backward, then
# frees them; prints the page faults of ten such cycles after a warm-up cycle.
FAULTS_OF_A_LOOP = textwrap.dedent("""
    import resource, sys
    import numpy as np
    import tinyconv
    kept = tinyconv.keep_freed_memory() if sys.argv[1] == "kept" else None
    def cycle():
        arrays = [np.empty(mib * 2**18, dtype=np.float32) for mib in (6, 3, 5, 2, 7)]
        for a in arrays:
            a.fill(1.0)
    cycle()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(10):
        cycle()
    print(kept, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
""")


def faults_of_a_loop(setting):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("MALLOC_") and key != "GLIBC_TUNABLES"}
    result = subprocess.run([sys.executable, "-c", FAULTS_OF_A_LOOP, setting], capture_output=True, text=True,
                            timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    kept, faults = result.stdout.split()
    return kept, int(faults)


@pytest.mark.skipif(not GLIBC, reason="the setting is glibc's; elsewhere keep_freed_memory does nothing")
def test_freed_blocks_are_reused_instead_of_faulted_in_again():
    # Ten cycles fill 230 MiB, 59,000 pages of 4 KiB. With malloc's defaults the arrays above its (dynamic)
    # mmap threshold are unmapped on free and the heap's top is trimmed: 28,000 faults on the 2-core machine.
    default_kept, default_faults = faults_of_a_loop("default")
    kept, kept_faults = faults_of_a_loop("kept")
    assert default_kept == "None" and kept == "True"
    assert default_faults > 10_000
    assert kept_faults < 1_000


def test_a_users_malloc_settings_are_left_alone(monkeypatch):
    for name, value in (("MALLOC_TRIM_THRESHOLD_", "0"), ("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=4096")):
        with monkeypatch.context() as patch:
            patch.setenv(name, value)
            assert tinyconv.keep_freed_memory() is False
    assert not _allocator._set_by_user({"GLIBC_TUNABLES": "glibc.rtld.optional_static_tls=512:glibc.malloc.arena_max=2"})
    monkeypatch.setattr(_allocator.platform, "libc_ver", lambda: ("musl", ""))
    assert tinyconv.keep_freed_memory() is False


def test_the_command_keeps_freed_memory_for_its_process(monkeypatch):
    from tinyconv.cli import _app

    from .helpers import invoke

    calls = []
    monkeypatch.setattr(_app, "keep_freed_memory", lambda: calls.append(True))
    result = invoke("train", "--help")
    assert result.exit_code == 0 and calls == [True]
