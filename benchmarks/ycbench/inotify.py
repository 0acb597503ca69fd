"""Counting completed writes of one file, or of every file in a directory, with Linux inotify
(through ctypes, no dependency).

A save through Jupyter's contents manager truncates the file, serialises, writes and closes it
(or writes a temporary file and renames it over): mtime moves several times per save, but the file
is closed after writing (IN_CLOSE_WRITE) or renamed into place (IN_MOVED_TO) exactly once.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import struct
from pathlib import Path

IN_NONBLOCK = 0o4000
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_TO = 0x00000080
_EVENT = struct.Struct("iIII")
_libc = ctypes.CDLL(None, use_errno=True)


class FileWrites:
    """Counts completed writes of `path` while open (an async context manager)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.directory = path.parent
        self.count = 0
        self._fd = -1
        self._changed = asyncio.Event()

    async def __aenter__(self) -> FileWrites:
        self._fd = _libc.inotify_init1(IN_NONBLOCK)
        if self._fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        mask = IN_CLOSE_WRITE | IN_MOVED_TO
        if _libc.inotify_add_watch(self._fd, str(self.directory).encode(), mask) < 0:
            raise OSError(ctypes.get_errno(), f"inotify_add_watch failed for {self.directory}")
        asyncio.get_running_loop().add_reader(self._fd, self._read)
        return self

    async def __aexit__(self, *exc: object) -> None:
        asyncio.get_running_loop().remove_reader(self._fd)
        os.close(self._fd)

    async def next_write(self, after: int, timeout: float) -> None:
        """Wait until more than `after` writes have completed."""
        await asyncio.wait_for(self._beyond(after), timeout)

    async def _beyond(self, after: int) -> None:
        while self.count <= after:
            self._changed.clear()
            await self._changed.wait()

    def _read(self) -> None:
        data = os.read(self._fd, 65536)
        offset = 0
        while offset < len(data):
            _, _, _, length = _EVENT.unpack_from(data, offset)
            start = offset + _EVENT.size
            name = data[start : start + length].rstrip(b"\0").decode(errors="replace")
            offset = start + length
            if self.counts(name):
                self.count += 1
                self._changed.set()

    def counts(self, name: str) -> bool:
        return name == self.path.name


class DirectoryWrites(FileWrites):
    """Counts completed writes of the files in `directory` whose names end with `suffix`,
    hidden ones aside (Jupyter's atomic writing keeps its backup copy in `.~name`)."""

    def __init__(self, directory: Path, suffix: str) -> None:
        super().__init__(directory / "*")
        self.directory = directory
        self.suffix = suffix

    def counts(self, name: str) -> bool:
        return name.endswith(self.suffix) and not name.startswith(".")
