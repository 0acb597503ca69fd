"""A room relays each update of its Doc to its peers by where it came from (rooms/room.py,
codec/origins.py): a peer's update reaches every other peer and never comes back to its sender;
server code's reaches every peer."""

from __future__ import annotations

import asyncio
from typing import Any

from pycrdt import Doc, Text

from jupyter_ycollab.codec.kinds import DocumentKind
from jupyter_ycollab.rooms import protocol
from jupyter_ycollab.rooms.backlog import Backlogs
from jupyter_ycollab.rooms.peer import Peer
from jupyter_ycollab.rooms.room import Room

TEXT = DocumentKind.parse("text", "file")


class Recorder:
    """A connection that keeps the frames sent to it."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []

    def send_frame(self, frame: bytes) -> asyncio.Future[None] | None:
        self.frames.append(frame)
        return None

    def close(self, code: int, reason: str) -> None:
        pass

    def abandon(self) -> None:
        pass

    def bytes_flushed(self) -> int:
        return 0


def _update(text: str) -> bytes:
    doc: Doc[Any] = Doc()
    doc.get("source", type=Text).insert(0, text)
    return doc.get_update()


def _room_with_peers(*names: str) -> tuple[Room, dict[str, Peer], dict[str, Recorder]]:
    room = Room("text:file:abc", kind=TEXT)
    peers: dict[str, Peer] = {}
    connections: dict[str, Recorder] = {}
    for name in names:
        connections[name] = Recorder()
        peers[name] = Peer(connections[name], username=name, backlogs=Backlogs(1 << 30, 60))
        room.join(peers[name])
        connections[name].frames.clear()  # the handshake
    return room, peers, connections


def test_a_peers_update_reaches_the_others_and_not_its_sender() -> None:
    room, peers, connections = _room_with_peers("alice", "bob", "carol")
    update = _update("hello")
    room.receive(peers["alice"], protocol.Sync(protocol.SyncStep.UPDATE, update))
    relayed = protocol.encode_sync(protocol.SyncStep.UPDATE, update)
    assert connections["alice"].frames == []
    assert connections["bob"].frames == connections["carol"].frames == [relayed]
    room.close()


def test_server_codes_update_reaches_every_peer() -> None:
    room, _peers, connections = _room_with_peers("alice", "bob")
    update = _update("from the server")
    room.apply_update(update)
    relayed = protocol.encode_sync(protocol.SyncStep.UPDATE, update)
    assert connections["alice"].frames == connections["bob"].frames == [relayed]
    room.close()
