"""Hand memory the C allocator keeps after big, short-lived allocations back to the system.

Loading a document parses its file and builds it in a worker thread, then copies it into the
room: the parse and the throwaway copy are freed, but glibc keeps freed memory in its arenas (one
per thread) and the process stays at its peak. ``malloc_trim`` returns what is free: for a
10,000-cell notebook about 15 MB per load. Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable


def _find_malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return None
    return trim


_malloc_trim = _find_malloc_trim()


def give_back_freed_memory() -> None:
    """Return the allocator's free memory to the system (a few microseconds when there is none)."""
    if _malloc_trim is not None:
        _malloc_trim(0)
