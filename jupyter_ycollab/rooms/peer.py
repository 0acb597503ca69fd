"""One websocket connection as the room sees it: a bounded outbox and a read-only flag.

Frames go straight to the socket's write buffer (no task per peer); the peer counts the bytes
not yet flushed, and a peer that holds memory it does not read is dropped: past its own limit
here, and, server-wide, when it stops making progress or has one of the largest backlogs when
all of them pass the server's budget (backlog.py). Once a big frame (a big document's first
sync) is flushed, its copies are garbage that the C allocator would keep: the peer hands that
memory back (memory.py), ~12 MB for 10,000 cells, at most every few seconds.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import TYPE_CHECKING, Protocol

from .. import metrics
from ..errors import Backlogged, CollabError, outcome_of
from ..memory import Throttled

if TYPE_CHECKING:
    from .backlog import Backlogs

log = logging.getLogger(__name__)

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

    def abandon(self) -> None:
        """Drop the transport now, with whatever is still queued on it."""

    def bytes_flushed(self) -> int:
        """How many bytes the transport handed to the system so far (0 if it cannot tell)."""


class Peer:
    def __init__(
        self,
        connection: Connection,
        *,
        backlogs: Backlogs,
        readonly: bool = False,
        username: str = "",
        max_buffer: int = 64 * 1024 * 1024,
        room_id: str = "",
    ) -> None:
        self.id = next(_ids)
        self.room_id = room_id  # for the log
        self.backlogs = backlogs
        self.connection = connection
        self.readonly = readonly
        self.username = username
        self.max_buffer = max_buffer
        self.closed = False
        self.close_code: int | None = None  # the code this side closed with, if it did
        self.peak_backlog = 0  # the most bytes ever queued and not yet flushed
        self.refused_edit_logged = False
        self.pending_bytes = 0  # queued for this peer and not flushed yet
        self._pending_frames = 0
        self._flushed_bytes = 0

    def progress(self) -> int:
        """A count that grows whenever some of the backlog leaves: the transport's flushed
        bytes (a big frame leaves a little at a time) plus the bytes of frames flushed whole."""
        return self._flushed_bytes + self.connection.bytes_flushed()

    def send(self, frame: bytes) -> None:
        """Queue a frame, or disconnect the peer when its unread backlog is over the limit."""
        if self.closed:
            return
        if self._pending_frames and self.pending_bytes + len(frame) > self.max_buffer:
            unread = self.pending_bytes
            self.drop(Backlogged(f"{unread} bytes unread, one more frame passes max_peer_buffer"))
            return
        flushed = self.connection.send_frame(frame)
        if len(frame) >= BIG_FRAME:
            _give_back_memory_after(flushed)
        if flushed is None or flushed.done():
            return  # written at once (the usual case): nothing pending, no callback to run
        size = len(frame)
        self.pending_bytes += size
        self._pending_frames += 1
        self.peak_backlog = max(self.peak_backlog, self.pending_bytes)
        flushed.add_done_callback(lambda done: self._on_flushed(done, size))
        self.backlogs.grew(self, size)  # last: it may drop this very peer

    def _on_flushed(self, done: asyncio.Future[None], size: int) -> None:
        self.pending_bytes -= size
        self._pending_frames -= 1
        if not done.cancelled() and done.exception() is None:
            self._flushed_bytes += size
        # else a closed stream: on_close handles it; the exception is marked retrieved
        self.backlogs.shrank(self, size)

    def close(self, code: int, reason: str = "") -> None:
        if not self.closed:
            self.left()
            self.close_code = code
            self.connection.close(code, reason)

    def left(self) -> None:
        """The connection is over (closed by either side): nothing is sent to it any more."""
        self.closed = True
        self.backlogs.forget(self)

    def drop(self, error: CollabError) -> None:
        """Disconnect a peer that holds memory it does not read, and free that memory now.

        The close frame would wait behind the backlog the peer is not reading, so the
        connection is dropped at once rather than after tornado's 5 s closing handshake: a
        stuck peer would never see the frame, and its backlog is what must go.
        """
        if self.closed:
            return
        metrics.current.peer_dropped()
        code = outcome_of(error).close_code
        log.warning("Closing %r of room %s with %d: %s", self, self.room_id, code, error)
        self.connection.abandon()
        self.close(code, error.close_reason())

    def __repr__(self) -> str:
        return f"<Peer {self.id} {self.username!r}{' read-only' if self.readonly else ''}>"


def _give_back_memory_after(flushed: asyncio.Future[None] | None) -> None:
    """Trim once the frame is flushed and its sender is done with it (a later callback)."""
    loop = asyncio.get_running_loop()
    if flushed is None or flushed.done():
        loop.call_soon(lambda: _give_back_memory(loop.time()))
    else:
        flushed.add_done_callback(lambda _: _give_back_memory(loop.time()))
