"""Keeping freed memory in the process, so that a training step does not fault its arrays in afresh.

A training step allocates and frees many arrays of megabytes. glibc's malloc gives each of those above its
mmap threshold pages of its own, unmapped again on free, and returns freed heap memory beyond its trim
threshold: the next step then faults every page in again (about 13,000 faults and 0.04 s of system time
per step of the Fashion-MNIST recipe's network), and with two workers each unmap also stops the other
core to flush its address translations. Raising the thresholds lets freed blocks be reused instead: the
Fashion-MNIST recipe trains 7 to 19 percent faster on two cores (README, Speed).

This is process-wide and cannot be scoped, so the library never does it by itself: the ``tinyconv``
command does it for its own process, a program can call :func:`keep_freed_memory` once, and the same
setting is ``MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=268435456 MALLOC_TOP_PAD_=67108864``
in the environment.
"""

import ctypes
import os
import platform

# mallopt's parameter numbers (glibc's malloc.h).
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
# Blocks up to this size come from the heap and are reused (glibc's ceiling on 64-bit systems is 32 MiB).
MMAP_THRESHOLD = 32 * 2**20
# Freed memory kept at the top of the heap before any is returned, and the margin each growth adds.
TRIM_THRESHOLD = 256 * 2**20
TOP_PAD = 64 * 2**20
# The settings this changes, as a user gives them in the environment (which this then leaves alone).
_USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")
_USER_TUNABLES = ("glibc.malloc.mmap_threshold", "glibc.malloc.trim_threshold", "glibc.malloc.top_pad",
                  "glibc.malloc.mmap_max")


def keep_freed_memory():
    """Raise glibc malloc's thresholds (above) for this process; returns whether it did.

    Nothing is done, and False returned, where the C library is not glibc or the environment already sets
    one of these thresholds (``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_TOP_PAD_``,
    ``MALLOC_MMAP_MAX_``, or their ``glibc.malloc`` tunables in ``GLIBC_TUNABLES``). False also comes back
    where glibc refused a value, the others then set all the same. The process keeps up to
    ``TRIM_THRESHOLD`` bytes of freed memory for reuse rather than returning them to the system.
    """
    if platform.libc_ver()[0] != "glibc" or _set_by_user(os.environ):
        return False
    mallopt = ctypes.CDLL(None).mallopt
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    settings = ((_M_MMAP_THRESHOLD, MMAP_THRESHOLD), (_M_TRIM_THRESHOLD, TRIM_THRESHOLD), (_M_TOP_PAD, TOP_PAD))
    return all([mallopt(parameter, value) == 1 for parameter, value in settings])


def _set_by_user(environ):
    tunables = environ.get("GLIBC_TUNABLES", "")
    return any(name in environ for name in _USER_SETTINGS) or any(name in tunables for name in _USER_TUNABLES)
