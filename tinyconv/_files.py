"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

import contextlib
import os
import re
import tempfile
from pathlib import Path

# What atomic_write's temporary files are called: '.' + the destination's name + mkstemp's 8 characters.
_TEMPORARY = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")


def _new_file_mode():
    """The mode ``open()`` would give a new file: 0o666 less the process umask."""
    umask = os.umask(0o022)  # reading the umask means setting it; put it straight back
    os.umask(umask)
    return 0o666 & ~umask


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
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        # mkstemp makes the file private (0o600); the result should be as readable as any new file.
        os.chmod(temporary, _new_file_mode())
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
