"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

import contextlib
import os
import re
import secrets
from pathlib import Path

# What atomic_write's temporary files are called: '.' + the destination's name + 8 random hex digits.
_TEMPORARY = re.compile(r"\..+\.[0-9a-f]{8}\.tmp")


def _create_temporary(path):
    """A new file beside ``path``, opened for writing: (descriptor, its path). The kernel gives it the mode any
    new file gets (0o666 less the umask), without the process touching its umask."""
    # As tempfile.mkstemp opens its files: binary on Windows, never through a link, not inherited by children.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    for optional in ("O_BINARY", "O_NOFOLLOW", "O_CLOEXEC"):
        flags |= getattr(os, optional, 0)
    while True:
        temporary = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:
            continue


def write_bytes(path, content):
    """Write ``content`` (bytes) to ``path`` atomically."""
    with atomic_write(path) as file:
        file.write(content)


@contextlib.contextmanager
def atomic_write(path):
    """Open a temporary binary file next to ``path``; on success move it onto ``path``.

    The temporary file lives in the same folder so that ``os.replace`` is a rename on one
    file system. If the body raises, the temporary file is removed and ``path`` is untouched.

    Parameters
    ----------
    path : str or path-like
        Destination; its folder must exist.

    Yields
    ------
    file
        A binary file object open for writing.
    """
    path = Path(path)
    descriptor, temporary = _create_temporary(path)
    try:
        with os.fdopen(descriptor, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise


def remove_stale_temporaries(folder):
    """Delete the temporary files that writes killed before they finished left in ``folder``.

    Returns the names removed. Call it only where no other process is writing into ``folder``.
    """
    removed = []
    for path in Path(folder).glob(".*.tmp"):
        if _TEMPORARY.fullmatch(path.name) and path.is_file():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path.name)
    return sorted(removed)
