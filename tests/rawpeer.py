"""A websocket peer on a bare socket, for clients a library would not let us be: one that stops
reading at the TCP level (a small receive buffer, never ``recv``), one that reads at a set pace,
one that sends a frame header and streams a payload it never holds in memory.

Also the server process's memory, read from /proc: its resident size, and its peak since the
last reset (``clear_refs``), so that a test sees the peak of a burst it could not sample.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
import struct
from dataclasses import dataclass, field
from pathlib import Path

from pycrdt import Doc, YMessageType, YSyncMessageType, create_sync_message
from pycrdt import handle_sync_message as apply_sync_message

MiB = 1024 * 1024
BINARY = 0x2
CLOSE = 0x8


async def connect(
    port: int, path: str, headers: dict[str, str], *, rcvbuf: int | None = None
) -> socket.socket:
    """A non-blocking socket past the websocket handshake (a small ``rcvbuf`` is set before
    connecting, so that the window the server sees is small from the start)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    await loop.sock_sendall(sock, ("\r\n".join(lines) + "\r\n\r\n").encode())
    response = b""
    while b"\r\n\r\n" not in response:  # byte by byte: not one byte of a frame is read
        byte = await asyncio.wait_for(loop.sock_recv(sock, 1), 10)
        assert byte, f"closed during the handshake: {response!r}"
        response += byte
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock


def frame_header(length: int, opcode: int = BINARY) -> bytes:
    """A client frame's header: final, masked (with a zero mask, so the payload goes as is)."""
    if length < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length <= 0xFFFF:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
    return head + b"\x00\x00\x00\x00"


async def send_frame(sock: socket.socket, payload: bytes) -> None:
    await asyncio.get_running_loop().sock_sendall(sock, frame_header(len(payload)) + payload)


async def stream_frame(sock: socket.socket, length: int, chunk: int = MiB) -> int:
    """Send a frame of ``length`` zero bytes, a chunk at a time; return the payload bytes sent
    before the server closed the connection (all of them if it never did)."""
    loop = asyncio.get_running_loop()
    zeros = bytes(chunk)
    sent = 0
    try:
        await loop.sock_sendall(sock, frame_header(length))
        while sent < length:
            part = zeros[: min(chunk, length - sent)]
            await loop.sock_sendall(sock, part)
            sent += len(part)
    except (BrokenPipeError, ConnectionResetError):
        pass
    return sent


@dataclass
class Frames:
    """A server's frames, parsed from the bytes read so far."""

    buffer: bytearray = field(default_factory=bytearray)
    close_code: int | None = None
    closed: bool = False

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """Add bytes read; return the complete frames (opcode, payload) they finish."""
        self.buffer += data
        frames = []
        while True:
            parsed = self._next()
            if parsed is None:
                return frames
            opcode, payload = parsed
            if opcode == CLOSE and len(payload) >= 2:
                self.close_code = struct.unpack("!H", payload[:2])[0]
            frames.append(parsed)

    def _next(self) -> tuple[int, bytes] | None:
        buf = self.buffer
        if len(buf) < 2:
            return None
        opcode, length, start = buf[0] & 0x0F, buf[1] & 0x7F, 2
        if length == 126:
            if len(buf) < 4:
                return None
            length, start = struct.unpack("!H", buf[2:4])[0], 4
        elif length == 127:
            if len(buf) < 10:
                return None
            length, start = struct.unpack("!Q", buf[2:10])[0], 10
        if len(buf) < start + length:
            return None
        payload = bytes(buf[start : start + length])
        del buf[: start + length]
        return opcode, payload


async def read_until_closed(sock: socket.socket, timeout: float) -> Frames:
    """Read everything until the server closes (or resets) the connection."""
    loop = asyncio.get_running_loop()
    frames = Frames()

    async def read() -> None:
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            while data := await loop.sock_recv(sock, 65536):
                frames.feed(data)

    async with asyncio.timeout(timeout):
        await read()
    frames.closed = True
    return frames


class PacedReader:
    """A protocol peer that reads at most ``rate`` bytes a second and keeps a document in sync:
    a slow link, receiving a big first sync while edits keep coming."""

    def __init__(self, sock: socket.socket, rate: float) -> None:
        self.sock = sock
        self.rate = rate
        self.doc: Doc = Doc()
        self.frames = Frames()
        self.bytes_read = 0
        self.synced = False

    async def start(self) -> None:
        """Send our step1 (an empty state vector: the server answers with everything)."""
        await send_frame(self.sock, create_sync_message(self.doc))

    async def run(self) -> None:
        """Read until the server closes; sleeping is this peer's pace, not a wait."""
        loop = asyncio.get_running_loop()
        chunk = max(1024, int(self.rate / 20))
        started = loop.time()
        while True:
            data = await loop.sock_recv(self.sock, chunk)
            if not data:
                self.frames.closed = True
                return
            self.bytes_read += len(data)
            for opcode, payload in self.frames.feed(data):
                if opcode == BINARY:
                    self._handle(payload)
            ahead = self.bytes_read / self.rate - (loop.time() - started)
            if ahead > 0:
                await asyncio.sleep(ahead)

    def _handle(self, payload: bytes) -> None:
        if payload[0] != YMessageType.SYNC:
            return
        if payload[1] == YSyncMessageType.SYNC_STEP2:
            self.synced = True
        if payload[1] != YSyncMessageType.SYNC_STEP1:  # our step2 would change nothing
            apply_sync_message(payload[1:], self.doc)


# -- the server's memory ------------------------------------------------------------------------


def _status_kb(pid: int, field_name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field_name} for process {pid}")


def rss(pid: int) -> int:
    """Resident bytes now."""
    return _status_kb(pid, "VmRSS") * 1024


def reset_peak(pid: int) -> int:
    """Start counting the peak again from now; return the resident bytes now."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return rss(pid)


def peak(pid: int) -> int:
    """The most resident bytes since the last ``reset_peak``."""
    return _status_kb(pid, "VmHWM") * 1024
