"""Atomic file writes."""

import os
import stat

import pytest

from tinyconv._files import atomic_write


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path):
    path = tmp_path / "result.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_write(path) as file:
            file.write(b"half of the new")
            raise RuntimeError("interrupted")
    assert path.read_bytes() == b"old"
    assert [child.name for child in tmp_path.iterdir()] == ["result.bin"]
    with atomic_write(path) as file:
        file.write(b"new")
    assert path.read_bytes() == b"new"


def test_atomic_write_gives_the_mode_of_any_new_file(tmp_path):
    old_umask = os.umask(0o027)
    try:
        path = tmp_path / "shared.bin"
        with atomic_write(path) as file:
            file.write(b"data")
        reference = tmp_path / "plain.bin"
        reference.write_bytes(b"data")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(reference.stat().st_mode) == 0o640
