"""A small collaboration client speaking the real protocol over a real websocket.

It does what JupyterLab's provider does, minus awareness: PUT the session, open the room, answer
the server's SYNC step1 with its own step1 and a step2, and count as loaded when a step2 arrives.
Documents are pycrdt `Doc`s read and edited through jupyter_ydoc's `YNotebook`.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from jupyter_ydoc import YNotebook
from pycrdt import (
    Doc,
    YMessageType,
    YSyncMessageType,
    create_sync_message,
    create_update_message,
    handle_sync_message,
)
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from . import frames

MAX_FRAME = 1 << 30
AsyncHTTPClient.configure(None, max_clients=64)


class Endpoint(Protocol):
    """Where a client finds the websocket of the room holding `path`."""

    async def room_url(self, path: str) -> str: ...


@dataclass(frozen=True)
class JupyterEndpoint:
    """A Jupyter server with a collaboration extension (ours or the reference); its rooms hold
    notebooks unless `file_format`/`file_type` say otherwise ("text"/"file": a text file)."""

    port: int
    token: str
    file_format: str = "json"
    file_type: str = "notebook"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def room_url(self, path: str) -> str:
        session = await self.put_session(path)
        room = f"{self.file_format}:{self.file_type}:{session['fileId']}"
        query = urllib.parse.urlencode({"sessionId": session["sessionId"], "token": self.token})
        return f"ws://127.0.0.1:{self.port}/api/collaboration/room/{room}?{query}"

    async def put_session(self, path: str) -> dict[str, Any]:
        request = HTTPRequest(
            f"{self.http}/api/collaboration/session/{urllib.parse.quote(path)}",
            method="PUT",
            headers={"Authorization": f"token {self.token}"},
            body=json.dumps({"format": self.file_format, "type": self.file_type}),
            request_timeout=120,
        )
        response = await AsyncHTTPClient().fetch(request)
        body: dict[str, Any] = json.loads(response.body)
        return body


@dataclass(frozen=True)
class RelayEndpoint:
    """The bare relay of benchmarks/relay.py: one room per path, no session."""

    port: int

    async def room_url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}/room/{urllib.parse.quote(path, safe='')}"


@dataclass
class OpenTimes:
    """perf_counter() instants of one client's opening."""

    started: float = 0.0
    step2_received: float = 0.0
    loaded: float = 0.0

    @property
    def latency(self) -> float:
        """Session PUT to the whole document received (step2 frame in hand)."""
        return self.step2_received - self.started


@dataclass
class CollabClient:
    """One peer in one room."""

    endpoint: Endpoint
    path: str
    doc: Doc[Any] = field(default_factory=Doc)
    times: OpenTimes = field(default_factory=OpenTimes)
    errors: list[str] = field(default_factory=list)
    on_frame: Callable[[bytes], None] | None = None

    def __post_init__(self) -> None:
        self.notebook = YNotebook(self.doc)
        self.loaded = asyncio.Event()
        self._conn: WebSocketClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._closing = False
        self._saves: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._pongs: asyncio.Queue[float] = asyncio.Queue()

    async def open(self, timeout: float = 120.0) -> None:
        """Connect and wait until the whole document is loaded."""
        self.times.started = time.perf_counter()
        url = await self.endpoint.room_url(self.path)
        self._conn = await websocket_connect(
            url, connect_timeout=timeout, max_message_size=MAX_FRAME
        )
        # Tornado's client has no pong callback argument: the instance hook is its documented
        # override point for subclasses, set here to time ping round trips.
        self._conn.on_pong = self._on_pong  # type: ignore[method-assign]
        # As browsers do (Chromium sets TCP_NODELAY on every socket): without it the client's
        # Nagle algorithm holds its first edit back until the server's delayed ACK, 40 ms.
        protocol = self._conn.protocol
        assert protocol is not None and protocol.stream is not None, "just connected"
        protocol.stream.set_nodelay(True)
        self._reader = asyncio.create_task(self._read_loop())
        await asyncio.wait_for(self.loaded.wait(), timeout)

    async def close(self) -> None:
        """Close the socket and wait for the reader to finish."""
        self._closing = True
        if self._conn is not None:
            self._conn.close()
        if self._reader is not None:
            await self._reader

    @property
    def connected(self) -> bool:
        return self._reader is not None and not self._reader.done()

    async def edit(self, change: Callable[[YNotebook], None]) -> None:
        """Apply `change` to the local notebook and send the resulting update."""
        before = self.doc.get_state()
        change(self.notebook)
        await self.send(create_update_message(self.doc.get_update(before)))

    async def save(self, save_id: int, timeout: float = 120.0) -> dict[str, Any]:
        """Send an explicit save request (Ctrl-S) and wait for the server's reply."""
        reply: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._saves[save_id] = reply
        await self.send(frames.save_request(save_id))
        return await asyncio.wait_for(reply, timeout)

    async def ping(self, timeout: float = 30.0) -> float:
        """Seconds for one websocket ping to come back: how long the server took to answer."""
        assert self._conn is not None
        sent = time.perf_counter()
        self._conn.ping(b"probe")
        received = await asyncio.wait_for(self._pongs.get(), timeout)
        return received - sent

    async def send(self, frame: bytes) -> None:
        assert self._conn is not None
        await self._conn.write_message(frame, binary=True)

    def _on_pong(self, data: bytes) -> None:
        self._pongs.put_nowait(time.perf_counter())

    async def _read_loop(self) -> None:
        assert self._conn is not None
        while True:
            frame = await self._conn.read_message()
            if frame is None:
                break
            if isinstance(frame, bytes) and frame:
                try:
                    await self._handle(frame)
                except Exception as error:  # a broken frame is a measured error, not a crash
                    self.errors.append(f"frame handling failed: {error!r}")
        if not self._closing:
            code, reason = self._conn.close_code, self._conn.close_reason
            self.errors.append(f"socket closed by server (code {code}, reason {reason!r})")

    async def _handle(self, frame: bytes) -> None:
        if self.on_frame is not None:
            self.on_frame(frame)
        kind = frame[0]
        if kind == YMessageType.SYNC:
            await self._handle_sync(frame)
        elif kind == frames.RAW:
            self._handle_raw(frame)

    async def _handle_sync(self, frame: bytes) -> None:
        sub = frame[1]
        if sub == YSyncMessageType.SYNC_STEP1:
            await self.send(create_sync_message(self.doc))
        elif sub == YSyncMessageType.SYNC_STEP2 and not self.times.step2_received:
            self.times.step2_received = time.perf_counter()
        reply = handle_sync_message(frame[1:], self.doc)
        if reply is not None:
            await self.send(reply)
        if sub == YSyncMessageType.SYNC_STEP2 and not self.loaded.is_set():
            self.times.loaded = time.perf_counter()
            self.loaded.set()

    def _handle_raw(self, frame: bytes) -> None:
        message = frames.parse_raw(frame)
        if message is None or message.get("type") != "save":
            return
        waiter = self._saves.pop(message.get("responseTo", -1), None)
        if waiter is not None and not waiter.done():
            waiter.set_result(message)


async def open_clients(
    endpoint: Endpoint, paths: list[str], concurrency: int = 16, timeout: float = 120.0
) -> list[CollabClient]:
    """Open one client per path (paths may repeat), at most `concurrency` handshakes at a time."""
    gate = asyncio.Semaphore(concurrency)
    clients = [CollabClient(endpoint, path) for path in paths]

    async def open_one(client: CollabClient) -> None:
        async with gate:
            await client.open(timeout)

    results = await asyncio.gather(
        *(open_one(client) for client in clients), return_exceptions=True
    )
    failures = [result for result in results if isinstance(result, BaseException)]
    if failures:
        await close_clients([client for client in clients if client.connected])
        raise failures[0]
    return clients


async def close_clients(clients: list[CollabClient]) -> None:
    """Close all clients."""
    await asyncio.gather(*(client.close() for client in clients))
