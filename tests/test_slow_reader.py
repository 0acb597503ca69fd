"""A peer that stops reading is disconnected with 1013 and its backlog stays bounded, while the
others keep editing; a big frame's memory goes back to the system once it is sent."""

from __future__ import annotations

import asyncio
import base64
import os

import pytest

from jupyter_ycollab import memory
from jupyter_ycollab.rooms import peer

from .client import wait_until
from .harness import Collab, append

MiB = 1024 * 1024


async def silent_peer(collab: Collab, url: str) -> asyncio.StreamWriter:
    """A websocket peer that completes the handshake, then never reads another byte (asyncio
    stops reading the socket once its 64 KiB buffer is full, so the kernel's fill up too)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", collab.port)
    path = url.split(str(collab.port), 1)[1]
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{collab.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: token {collab.token}\r\n\r\n"
        ).encode()
    )
    response = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert response.startswith(b"HTTP/1.1 101"), response
    return writer


@pytest.mark.fast_path_only(
    reason="a 16 s stress test of a peer's backlog, which does not depend on the file path"
)
@pytest.mark.ycollab(max_peer_buffer=4 * MiB, save_delay=5, max_save_delay=30)
@pytest.mark.alone
async def test_a_peer_that_stops_reading_is_closed_with_1013_and_memory_stays_bounded(
    collab: Collab,
) -> None:
    collab.write_bytes("big.txt", b"start\n")
    writer = await collab.open_text("big.txt")
    session = await collab.put_session("big.txt", "text", "file")
    room = collab.rooms[collab.room_id(session)]
    url = collab.room_url(collab.room_id(session), f"sessionId={session['sessionId']}")
    silent = await silent_peer(collab, url)
    await wait_until(lambda: len(room.peers) == 2, 5, "the silent peer to join")
    slow = next(peer for peer in room.peers if peer is not next(iter(room.peers)))
    reader = await collab.open_text("big.txt")

    chunk = "x" * MiB
    for index in range(50):  # 50 MB of updates, one MiB each
        append(writer.document._ysource, chunk)
        if index % 5 == 4:  # let the server keep up with the writer
            await reader.wait_for(
                lambda n=index: len(str(reader.document._ysource)) >= 6 + (n + 1) * MiB, 30
            )

    await wait_until(lambda: slow.closed, 10, "the slow peer to be disconnected")
    assert slow.close_code == 1013
    assert slow.peak_backlog <= 4 * MiB + MiB + 64, slow.peak_backlog
    assert slow not in room.peers
    await reader.wait_for(
        lambda: str(reader.document._ysource) == str(writer.document._ysource), 30, "convergence"
    )
    assert writer.connected and reader.connected
    silent.close()


@pytest.mark.alone
async def test_a_big_frame_gives_its_memory_back_once_it_is_sent(
    collab: Collab, monkeypatch: pytest.MonkeyPatch
) -> None:
    trims: list[int] = []
    monkeypatch.setattr(memory, "give_back_freed_memory", lambda: trims.append(1))
    asked: list[float] = []
    throttled = memory.Throttled(60.0)
    monkeypatch.setattr(peer, "_give_back_memory", lambda now: (asked.append(now), throttled(now)))
    collab.write_notebook("small.ipynb", ["x" * 1000])
    await collab.open_notebook("small.ipynb")
    assert trims == []  # no frame is big

    monkeypatch.setattr(peer, "BIG_FRAME", 1000)  # the next first syncs are
    await collab.open_notebook("small.ipynb")
    await wait_until(lambda: bool(trims), 10, "memory given back after the first sync")
    await collab.open_notebook("small.ipynb")
    await collab.open_notebook("small.ipynb")
    await wait_until(lambda: len(asked) >= 3, 10, "the two other syncs to be flushed")
    assert trims == [1]  # a burst of big frames trims once
