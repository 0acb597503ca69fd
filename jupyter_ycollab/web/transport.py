"""How a peer of a room reaches its socket: the websocket handler's side of ``peer.Connection``.

Apart from websocket.py, whose job is the request (auth, ids, the room): this is the socket's.
Frames go out without a copy per peer, the stream's flushed bytes tell progress, a connection
that holds memory it does not read is cut at once, and a frame tornado refuses for its size is
reported to the handler (tornado closes the connection itself and tells nobody).
"""

from __future__ import annotations

import asyncio
import struct

from tornado.iostream import StreamClosedError
from tornado.websocket import (
    WebSocketClosedError,
    WebSocketHandler,
    WebSocketProtocol,
    WebSocketProtocol13,
)

from .. import metrics
from ..errors import FrameTooLarge, outcome_of

_BINARY = 0x2  # the websocket opcode of a binary frame
#: Payloads from this size on are written apart from their header, by reference (shared by
#: every peer that has them queued); smaller ones with it, in one write: each stream write of
#: an idle stream is a ``send`` system call, and two per frame and peer cost fan-out to 100
#: peers ~25 % more CPU (benchmark, quick, 0.16 -> 0.21 s), for copies of a few bytes to 64 KiB.
_SHARED_PAYLOAD = 64 * 1024
#: The close code tornado sends for a frame over ``max_message_size``, as the table has it.
_MESSAGE_TOO_BIG = outcome_of(FrameTooLarge()).close_code


class SocketTransport(WebSocketHandler):
    """A websocket handler as a peer's transport (the room handler is one)."""

    def frame_too_large(self) -> None:
        """Called when tornado refuses a frame from its header and closes with 1009."""

    def get_websocket_protocol(self) -> WebSocketProtocol | None:
        protocol = super().get_websocket_protocol()
        if type(protocol) is WebSocketProtocol13:
            return _SizeCheckedProtocol(self, False, protocol.params)
        return protocol

    def send_frame(self, frame: bytes) -> asyncio.Future[None] | None:
        """Queue one binary frame; the future is the socket write's (often done at once).

        A big frame's header and payload go to the stream apart: tornado's stream keeps a
        payload of over 2 KiB by reference, so a frame the room broadcasts is one bytes object
        however many peers still have it queued; a small one goes in one write
        (``_SHARED_PAYLOAD``). Tornado's frame writer copies the payload into each peer's
        frame: 50 peers behind on 20 MB of updates held 50 copies of them (1 GB), now one. Not
        through ``write_message`` either: it wraps every write in a coroutine and a task, a
        task per peer and update. No compression is negotiated (``get_compression_options`` is
        None), so the payload goes as it is.
        """
        connection = self.ws_connection
        if connection is None or connection.is_closing():
            return None
        stream = getattr(connection, "stream", None)
        try:
            if stream is None:
                return self.write_message(frame, binary=True)
            header = _frame_header(len(frame))
            if len(frame) < _SHARED_PAYLOAD:
                return stream.write(header + frame)  # type: ignore[no-any-return]
            stream.write(header)
            written: asyncio.Future[None] = stream.write(frame)
            return written
        except (WebSocketClosedError, StreamClosedError):
            return None

    def abandon(self) -> None:
        """Drop the TCP connection now, and what is queued on it."""
        stream = getattr(self.ws_connection, "stream", None)
        if stream is not None:
            stream.close()

    def bytes_flushed(self) -> int:
        """The stream's count of bytes written to the socket: tornado's, private (0 when it is
        not there: progress is then counted by whole frames)."""
        stream = getattr(self.ws_connection, "stream", None)
        return int(getattr(stream, "_total_write_done_index", 0))


def _frame_header(length: int) -> bytes:
    """The header of a final, unmasked binary frame of ``length`` bytes (RFC 6455, 5.2)."""
    first = 0x80 | _BINARY
    if length < 126:
        return struct.pack("!BB", first, length)
    if length <= 0xFFFF:
        return struct.pack("!BBH", first, 126, length)
    return struct.pack("!BBQ", first, 127, length)


class _SizeCheckedProtocol(WebSocketProtocol13):
    """Tornado's protocol, which refuses a frame over the handler's ``max_message_size`` from
    the frame's header (closing with 1009) but tells the handler nothing: this one does. Every
    close the server starts passes here, tornado's own too: the metrics count them here."""

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        # Every close this side starts comes here once (not the echo of a client's close).
        if code is not None and not (self.server_terminated or self.client_terminated):
            metrics.current.closed(code)
        if code == _MESSAGE_TOO_BIG and not self.server_terminated:
            handler = self.handler
            if isinstance(handler, SocketTransport):
                handler.frame_too_large()
        super().close(code, reason)
