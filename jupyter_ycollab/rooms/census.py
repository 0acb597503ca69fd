"""What is open on this server, counted for the metrics when ``/metrics`` is scraped: rooms by
kind, peers by role, rooms with unsaved changes, bytes queued for peers. Read from the room
manager at the scrape, so that joining, leaving and opening cost nothing for it."""

from __future__ import annotations

from collections import Counter

from ..metrics import Census
from .manager import RoomManager
from .room import Room

WRITER = "writer"
READ_ONLY = "read-only"


def census(manager: RoomManager) -> Census:
    """Count ``manager``'s rooms and peers now."""
    rooms: Counter[str] = Counter()
    peers = {WRITER: 0, READ_ONLY: 0}
    unsaved = 0
    for room_id, room in list(manager.rooms.items()):
        rooms[_kind(manager, room_id, room)] += 1
        for peer in room.peers:
            peers[READ_ONLY if peer.readonly else WRITER] += 1
        if room.document is not None and room.document.dirty:
            unsaved += 1
    return Census(dict(rooms), peers, unsaved, manager.backlogs.total)


def _kind(manager: RoomManager, room_id: str, room: Room) -> str:
    """A document room's file type (``notebook``, ``file``...), ``fork``, ``timeline``, or
    ``awareness`` (the room that only relays awareness)."""
    fork = manager.forks.get(room_id)
    if fork is not None:
        return "fork" if fork.timeline is None else "timeline"
    if room.kind is None:
        return "awareness"
    return room.kind.file_type
