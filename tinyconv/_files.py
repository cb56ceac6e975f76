"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

import contextlib
import os
import tempfile
from pathlib import Path


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
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise
