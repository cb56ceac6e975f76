"""A run folder held by one run at a time.

Two runs writing one folder would overwrite each other's checkpoints and results, so a run holds an
exclusive lock on the folder itself for its whole life. The lock is the operating system's (``flock`` on the
folder): it goes with the process, so a run that is killed leaves no stale lock behind. While it runs, the
folder's ``.tinyconv.running`` names the holder (process id, start, command line) for the message that
refuses a second run; the holder removes it when it ends. Holding the folder, a run removes the temporary
files that interrupted writes left there: a run that is refused never touches the holder's.
"""

import contextlib
import os
import sys
import time

from tinyconv._files import remove_stale_temporaries
from tinyconv.run.settings import SettingError

RUNNING_FILE = ".tinyconv.running"

try:
    import fcntl
except ImportError:  # Windows has no flock; there the folder is not locked
    fcntl = None


@contextlib.contextmanager
def holding(folder, setting="out"):
    """Hold ``folder`` (which must exist) for the block; a SettingError on ``setting`` that names the run
    holding it when another process does."""
    if fcntl is None:
        yield
        return
    descriptor = os.open(folder, os.O_RDONLY)
    record = folder / RUNNING_FILE
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = record.read_text(errors="replace").strip()
            except OSError:
                holder = ""
            raise SettingError(setting, f"{folder} is in use by a run that has not ended "
                               f"({holder or 'another process'}); wait for it to end or choose another folder") from None
        record.write_text(f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}: {' '.join(sys.argv)}\n")
        # Held, the folder has no other writer: what interrupted writes left can go (a run refused above
        # must not remove the temporary files of the run that holds it).
        remove_stale_temporaries(folder)
        try:
            yield
        finally:
            record.unlink(missing_ok=True)
    finally:
        os.close(descriptor)  # closing the descriptor releases the lock
