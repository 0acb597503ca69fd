"""One websocket connection as the room sees it: a bounded outbox and a read-only flag.

Frames go straight to the socket's write buffer (no task per peer); the peer counts the bytes
not yet flushed and disconnects a reader that falls too far behind, so memory stays bounded.
Once a big frame (a big document's first sync) is flushed, its copies are garbage that the C
allocator would keep: the peer hands that memory back (memory.py), ~12 MB for 10,000 cells, at
most every few seconds.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Protocol

from .memory import Throttled

#: Close code for a peer that does not read fast enough: "try again later" makes the front end
#: reconnect (and resync) instead of giving up.
SLOW_READER = 1013
#: Frames from this size on give their memory back once flushed (trimming takes ~0.1 ms).
BIG_FRAME = 1 << 20
_give_back_memory = Throttled(5.0)

_ids = itertools.count(1)


class Connection(Protocol):
    """What a peer needs from its transport (the websocket handler implements it)."""

    def send_frame(self, frame: bytes) -> asyncio.Future[None] | None:
        """Queue a binary frame; the future completes when it is flushed."""

    def close(self, code: int, reason: str) -> None:
        """Close the transport; no frame is handled or sent afterwards."""


class Peer:
    """A connected client of a room."""

    def __init__(
        self,
        connection: Connection,
        *,
        readonly: bool = False,
        username: str = "",
        max_buffer: int = 64 * 1024 * 1024,
    ) -> None:
        self.id = next(_ids)
        self.connection = connection
        self.readonly = readonly
        self.username = username
        self.max_buffer = max_buffer
        self.closed = False
        self.close_code: int | None = None  # the code this side closed with, if it did
        self.peak_backlog = 0  # the most bytes ever queued and not yet flushed
        self.refused_edit_logged = False
        self._pending_bytes = 0
        self._pending_frames = 0

    def send(self, frame: bytes) -> None:
        """Queue a frame, or disconnect the peer when its unread backlog is over the limit."""
        if self.closed:
            return
        if self._pending_frames and self._pending_bytes + len(frame) > self.max_buffer:
            self.close(SLOW_READER, "peer does not read fast enough")
            return
        flushed = self.connection.send_frame(frame)
        if len(frame) >= BIG_FRAME:
            _give_back_memory_after(flushed)
        if flushed is None or flushed.done():
            return  # written at once (the usual case): nothing pending, no callback to run
        size = len(frame)
        self._pending_bytes += size
        self._pending_frames += 1
        self.peak_backlog = max(self.peak_backlog, self._pending_bytes)
        flushed.add_done_callback(lambda done: self._on_flushed(done, size))

    def _on_flushed(self, done: asyncio.Future[None], size: int) -> None:
        self._pending_bytes -= size
        self._pending_frames -= 1
        if not done.cancelled():
            done.exception()  # a closed stream: on_close handles it; just mark it retrieved

    def close(self, code: int, reason: str = "") -> None:
        if not self.closed:
            self.closed = True
            self.close_code = code
            self.connection.close(code, reason)

    def __repr__(self) -> str:
        return f"<Peer {self.id} {self.username!r}{' read-only' if self.readonly else ''}>"


def _give_back_memory_after(flushed: asyncio.Future[None] | None) -> None:
    """Trim once the frame is flushed and its sender is done with it (a later callback)."""
    loop = asyncio.get_running_loop()
    if flushed is None or flushed.done():
        loop.call_soon(lambda: _give_back_memory(loop.time()))
    else:
        flushed.add_done_callback(lambda _: _give_back_memory(loop.time()))
