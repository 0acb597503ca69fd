"""A protocol test client: a real websocket peer speaking the y-websocket protocol.

It is built on pycrdt's own y-protocol helpers and on a few lines of lib0 encoding written here,
never on the server's protocol module, so that an encoding bug cannot hide by being symmetric.
It behaves like the JupyterLab front end: it sends its SyncStep1 on connect, answers the server's
step1 with a step2, counts as synced only once it receives a step2, sends local changes as updates
and applies incoming step2/updates.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from jupyter_ydoc import YNotebook, YUnicode
from jupyter_ydoc.ybasedoc import YBaseDoc
from pycrdt import (
    Decoder,
    Doc,
    TransactionEvent,
    YMessageType,
    YSyncMessageType,
    create_awareness_message,
    create_sync_message,
    create_update_message,
    handle_sync_message,
    write_var_uint,
)
from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, WebSocketClosedError, websocket_connect

RAW = 2
QUERY_AWARENESS = 3
DocT = TypeVar("DocT", bound=YBaseDoc)


# --- lib0 encoding (written here, independent of the server) -------------------------------


def var_string(text: str) -> bytes:
    """lib0 varString: varUint UTF-8 *byte* length, then the bytes."""
    data = text.encode("utf-8")
    return write_var_uint(len(data)) + data


def encode_awareness_update(entries: list[tuple[int, int, dict[str, Any] | None]]) -> bytes:
    """varUint(n), then n x varUint(id) varUint(clock) varString(JSON, raw UTF-8 like a browser)."""
    out = write_var_uint(len(entries))
    for client_id, clock, state in entries:
        text = json.dumps(state, ensure_ascii=False)
        out += write_var_uint(client_id) + write_var_uint(clock) + var_string(text)
    return out


@dataclass(frozen=True)
class AwarenessEntry:
    """One entry of a received awareness update (state None means "removed")."""

    client_id: int
    clock: int
    state: dict[str, Any] | None


def decode_awareness_update(update: bytes) -> list[AwarenessEntry]:
    decoder = Decoder(update)
    entries = []
    for _ in range(decoder.read_var_uint()):
        client_id = decoder.read_var_uint()
        clock = decoder.read_var_uint()
        state = json.loads(decoder.read_var_string())
        entries.append(AwarenessEntry(client_id, clock, state))
    return entries


# --- waiting ------------------------------------------------------------------------------


async def wait_until(
    predicate: Callable[[], bool | Awaitable[bool]],
    timeout: float = 5.0,
    message: str = "condition",
    interval: float = 0.01,
) -> None:
    """Poll ``predicate`` until it is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        await asyncio.sleep(interval)


# --- the client ---------------------------------------------------------------------------


@dataclass
class Received:
    """Everything a client received, in order, for assertions."""

    frames: list[bytes] = field(default_factory=list)
    frame_times: list[float] = field(default_factory=list)
    step1: int = 0
    step2: int = 0
    updates: int = 0
    awareness: list[AwarenessEntry] = field(default_factory=list)
    raw: list[dict[str, Any]] = field(default_factory=list)
    undecodable_raw: list[bytes] = field(default_factory=list)
    query_awareness: int = 0


class CollabClient(Generic[DocT]):
    """One peer: a websocket connection plus a jupyter_ydoc document it keeps in sync."""

    def __init__(self, document: DocT, url: str, headers: dict[str, str] | None = None) -> None:
        self.document = document
        self.url = url
        self.headers = dict(headers or {})
        self.received = Received()
        self.awareness_states: dict[int, dict[str, Any]] = {}
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self._ws: WebSocketClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._applying_remote = False
        self._awareness_clock = -1
        self._local_awareness: dict[str, Any] | None = None
        self._send_errors: list[BaseException] = []
        self.protocol_errors: list[str] = []
        self._subscription = document.ydoc.observe(self._on_local_transaction)

    # -- connection --------------------------------------------------------------------------

    @property
    def ydoc(self) -> Doc[Any]:
        return self.document.ydoc

    @property
    def client_id(self) -> int:
        return self.ydoc.client_id

    @property
    def connected(self) -> bool:
        return self._ws is not None and self._reader is not None and not self._reader.done()

    @property
    def synced(self) -> bool:
        """True once a SyncStep2 arrived on the current connection (the front end's "loaded")."""
        return self.received.step2 > 0

    async def connect(self, *, send_step1: bool = True) -> None:
        """Open the websocket (raises tornado's HTTPClientError if the upgrade is refused)."""
        self.received = Received()
        self.close_code = None
        self.close_reason = None
        request = HTTPRequest(self.url, headers=self.headers, connect_timeout=10)
        self._ws = await websocket_connect(request, max_message_size=1 << 30)
        self._reader = asyncio.ensure_future(self._read_loop(self._ws))
        if send_step1:
            self.send(create_sync_message(self.ydoc))

    async def sync(self, timeout: float = 10.0) -> None:
        """Connect (if needed) and wait for the first SyncStep2."""
        if self._ws is None:
            await self.connect()
        await self.wait_for(
            lambda: self.synced or not self.connected, timeout, "SyncStep2 from the server"
        )
        if not self.synced:
            raise AssertionError(
                f"closed before SyncStep2: code {self.close_code}, reason {self.close_reason!r}"
            )

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """A clean goodbye: a close frame, then wait for the server's closing handshake."""
        if self._ws is not None:
            self._ws.close(code, reason)
        await self._join_reader()

    async def drop(self) -> None:
        """Tear the TCP connection down without a close frame, like a killed browser tab."""
        ws = self._ws
        if ws is not None and ws.protocol is not None and ws.protocol.stream is not None:
            ws.protocol.stream.close()
        await self._join_reader()

    async def reconnect(self) -> None:
        """Drop nothing, forget nothing: open a new socket for the same document and sync."""
        await self._join_reader()
        self._ws = None
        await self.sync()

    async def wait_closed(self, timeout: float = 5.0) -> None:
        """Wait until the server closed this connection."""
        await self.wait_for(lambda: not self.connected, timeout, "the server to close the socket")

    async def _join_reader(self) -> None:
        if self._reader is not None:
            await asyncio.wait_for(asyncio.shield(self._reader), 10)

    async def _read_loop(self, ws: WebSocketClientConnection) -> None:
        while True:
            message = await ws.read_message()
            if message is None:
                self.close_code = ws.close_code
                self.close_reason = ws.close_reason
                return
            if isinstance(message, str):
                self.protocol_errors.append(f"the server sent a text frame: {message!r}")
                continue
            try:
                self._handle(message)
            except Exception as error:  # recorded: wait_for() fails with it, the reader goes on
                self.protocol_errors.append(f"cannot handle {message[:64]!r}: {error!r}")

    def dispose(self) -> None:
        """Stop observing the document (the client can no longer send)."""
        self.ydoc.unobserve(self._subscription)

    # -- sending -----------------------------------------------------------------------------

    def send(self, frame: bytes | str) -> None:
        """Send one frame as is (a str goes out as a text frame)."""
        if self._ws is None:
            raise RuntimeError("not connected")
        future = self._ws.write_message(frame, binary=isinstance(frame, bytes))
        future.add_done_callback(self._check_sent)

    def _check_sent(self, future: asyncio.Future[None]) -> None:
        if not future.cancelled() and future.exception() is not None:
            self._send_errors.append(future.exception())  # type: ignore[arg-type]

    def _on_local_transaction(self, event: TransactionEvent) -> None:
        if self._applying_remote or self._ws is None or not self.connected:
            return
        update: bytes = event.update
        if update != b"\x00\x00":
            # The server may have gone before our reader noticed: the edit stays in the
            # document, and the next connection's sync carries it (as in the front end).
            with contextlib.suppress(WebSocketClosedError):
                self.send(create_update_message(update))

    def set_awareness(self, state: dict[str, Any] | None) -> None:
        """Send this peer's awareness state (None announces its removal)."""
        self._awareness_clock += 1
        self._local_awareness = state
        entry = (self.client_id, self._awareness_clock, state)
        self.send(create_awareness_message(encode_awareness_update([entry])))

    def request_save(self, save_id: int) -> None:
        """A RAW save request, exactly as the front end's Ctrl-S sends it."""
        self.send(bytes([RAW]) + var_string("save") + write_var_uint(save_id))

    async def save(self, save_id: int, timeout: float = 10.0) -> dict[str, Any]:
        """Request a save and return the server's reply to it."""
        self.request_save(save_id)
        await self.wait_for(
            lambda: self.save_reply(save_id) is not None, timeout, f"reply to save {save_id}"
        )
        reply = self.save_reply(save_id)
        assert reply is not None
        return reply

    def save_reply(self, save_id: int) -> dict[str, Any] | None:
        for message in self.received.raw:
            if message.get("type") == "save" and message.get("responseTo") == save_id:
                return message
        return None

    # -- receiving ---------------------------------------------------------------------------

    def _handle(self, frame: bytes) -> None:
        self.received.frames.append(frame)
        self.received.frame_times.append(time.monotonic())
        kind = frame[0]
        if kind == YMessageType.SYNC:
            self._handle_sync(frame[1:])
        elif kind == YMessageType.AWARENESS:
            self._handle_awareness(Decoder(frame[1:]).read_message() or b"")
        elif kind == RAW:
            self._handle_raw(frame[1:])
        elif kind == QUERY_AWARENESS:
            self.received.query_awareness += 1
            if self._local_awareness is not None:
                entry = (self.client_id, self._awareness_clock, self._local_awareness)
                self.send(create_awareness_message(encode_awareness_update([entry])))
        else:
            raise AssertionError(f"unknown message type {kind} in {frame!r}")

    def _handle_sync(self, message: bytes) -> None:
        sub = message[0]
        self._applying_remote = True
        try:
            reply = handle_sync_message(message, self.ydoc)
        finally:
            self._applying_remote = False
        if sub == YSyncMessageType.SYNC_STEP1:
            self.received.step1 += 1
            assert reply is not None
            self.send(reply)
        elif sub == YSyncMessageType.SYNC_STEP2:
            self.received.step2 += 1
        elif sub == YSyncMessageType.SYNC_UPDATE:
            self.received.updates += 1
        else:
            raise AssertionError(f"unknown sync message type {sub}")

    def _handle_awareness(self, update: bytes) -> None:
        for entry in decode_awareness_update(update):
            self.received.awareness.append(entry)
            if entry.state is None:
                self.awareness_states.pop(entry.client_id, None)
            else:
                self.awareness_states[entry.client_id] = entry.state

    def _handle_raw(self, payload: bytes) -> None:
        text = Decoder(payload).read_var_string()
        try:
            message = json.loads(text)
        except ValueError:
            self.received.undecodable_raw.append(payload)
            return
        self.received.raw.append(message)

    # -- waiting -----------------------------------------------------------------------------

    async def wait_for(
        self, predicate: Callable[[], bool], timeout: float = 5.0, message: str = "condition"
    ) -> None:
        """Poll ``predicate`` with a deadline; a send error or a malformed message from the
        server fails it at once."""

        def check() -> bool:
            if self._send_errors:
                raise AssertionError(f"sending failed: {self._send_errors[0]!r}")
            if self.protocol_errors:
                raise AssertionError(f"bad message from the server: {self.protocol_errors[0]}")
            return predicate()

        await wait_until(check, timeout, message)


def notebook_client(url: str, headers: dict[str, str] | None = None) -> CollabClient[YNotebook]:
    return CollabClient(YNotebook(Doc()), url, headers)


def text_client(url: str, headers: dict[str, str] | None = None) -> CollabClient[YUnicode]:
    return CollabClient(YUnicode(Doc()), url, headers)
