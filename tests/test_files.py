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


def test_atomic_write_leaves_the_process_umask_alone(tmp_path, monkeypatch):
    def no_umask(mask):
        raise AssertionError("the process-wide umask was changed, which other threads would see")

    monkeypatch.setattr(os, "umask", no_umask)
    with atomic_write(tmp_path / "file.bin") as file:
        file.write(b"data")
    assert (tmp_path / "file.bin").read_bytes() == b"data"


def test_stale_temporaries_are_recognised_by_their_names(tmp_path):
    from tinyconv._files import remove_stale_temporaries

    left = tmp_path / ".model.npz.0a1b2c3d.tmp"  # as a write killed midway leaves it
    left.write_bytes(b"half")
    keep = tmp_path / ".notes.tmp"
    keep.write_bytes(b"not ours")
    assert remove_stale_temporaries(tmp_path) == [left.name]
    assert keep.exists() and not left.exists()
