"""Count real writes to files with Linux inotify.

Spying on the contents manager would miss a write made any other way, and mtimes can coincide;
the kernel tells us each time a file opened for writing is closed (IN_CLOSE_WRITE) or a file is
renamed onto a name (IN_MOVED_TO, atomic replacement). Either one is a write of that name.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import os
import struct
from collections import Counter
from pathlib import Path

IN_CLOSE_WRITE = 0x00000008
IN_MOVED_TO = 0x00000080
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000
_EVENT = struct.Struct("iIII")

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


class WriteCounter:
    """Counts writes to the files of one directory (not recursive), by file name."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.writes: Counter[str] = Counter()
        self._fd = _libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self._fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        mask = IN_CLOSE_WRITE | IN_MOVED_TO
        if _libc.inotify_add_watch(self._fd, os.fsencode(directory), mask) < 0:
            raise OSError(ctypes.get_errno(), f"inotify_add_watch({directory}) failed")
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self._fd, self.drain)

    def drain(self) -> None:
        """Read every pending event (also called before each count, so none is missed)."""
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                return
            offset = 0
            while offset < len(data):
                _wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
                offset += _EVENT.size
                name = data[offset : offset + length].rstrip(b"\0").decode()
                offset += length
                if mask & (IN_CLOSE_WRITE | IN_MOVED_TO):
                    self.writes[name] += 1

    def count(self, name: str) -> int:
        """How many times ``name`` was written since the counter started."""
        self.drain()
        return self.writes[name]

    def close(self) -> None:
        self._loop.remove_reader(self._fd)
        os.close(self._fd)
