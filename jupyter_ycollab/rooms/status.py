"""What is open on this server: counted for the metrics when ``/metrics`` is scraped (rooms by
kind, peers by role, rooms with unsaved changes, bytes queued for peers), and listed for an admin
(``GET /api/collaboration/status``, docs/status.md).

Read from the rooms as they are: nothing here changes a room, nothing waits on a document, and
joining, leaving and opening cost nothing for it. Two figures are not in memory: the update log's
size (a ``stat`` of each log, done off the event loop, all at once) and, in a cluster, who holds
each file's lease (one Redis ``GET`` per room, concurrently, bounded by ``HOLDER_TIMEOUT``: a
status page must answer while Redis does not). The cluster's sharing is recognised by its shape
(``_Leased``), since rooms/ may not import cluster/.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..metrics import Census
from .manager import RoomManager
from .room import Room

if TYPE_CHECKING:
    from ..document.document import Document

log = logging.getLogger(__name__)

WRITER = "writer"
READ_ONLY = "read-only"
#: Seconds to wait for Redis to say who holds a lease before showing it as unknown.
HOLDER_TIMEOUT = 2.0
#: What ``lease_holder`` says when Redis did not answer in time.
UNKNOWN = "?"


class _Lease(Protocol):
    async def holder(self) -> str | None: ...


@runtime_checkable
class _Leased(Protocol):
    """A document's sharing through the cluster (cluster/shared.py's ``SharedRoom``)."""

    lease: _Lease


def census(manager: RoomManager) -> Census:
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


async def server_status(rooms: Iterable[Room], server_id: str | None) -> dict[str, Any]:
    """``{"server": {...}, "rooms": [...]}``: this server's figures, and the status of each of
    its open document rooms, sorted by path (the fields are docs/status.md's).

    ``server_id`` is this server's id in its cluster, None when it shares no rooms. ``peers``
    counts the connections to document rooms; ``connections`` every connection, to forks,
    timelines and the awareness room too.
    """
    every = list(rooms)
    documents = [(room, room.document) for room in every if room.document is not None]
    sizes = await asyncio.to_thread(_sizes, [document.history.path for _, document in documents])
    holders = await asyncio.gather(*(_lease_holder(*pair) for pair in documents))
    found = zip(documents, sizes, holders, strict=True)
    listed = [_status(room, document, size, holder) for (room, document), size, holder in found]
    listed.sort(key=lambda status: (status["path"], status["room_id"]))
    cluster = server_id is not None
    server = {
        "id": server_id,
        "cluster": cluster,
        "rooms": len(listed),
        "forks": sum(room.document is None and room.kind is not None for room in every),
        "peers": sum(status["writers"] + status["readonly"] for status in listed),
        "connections": sum(len(room.peers) for room in every),
    }
    if not cluster:
        for status in listed:
            del status["lease_holder"]
    return {"server": server, "rooms": listed}


def _status(room: Room, document: Document, log_bytes: int, holder: str | None) -> dict[str, Any]:
    readonly = sum(peer.readonly for peer in room.peers)
    saved = document.history.base_time
    return {
        "room_id": room.room_id,
        "path": document.path,
        "format": document.kind.file_format,
        "type": document.kind.file_type,
        "writers": len(room.peers) - readonly,
        "readonly": readonly,
        "dirty": document.dirty,
        "saved_at": datetime.fromtimestamp(saved, UTC).isoformat() if saved else None,
        "log_bytes": log_bytes,
        "writes_file": document.sharing.writes_file(),
        "lease_holder": holder,
    }


async def _lease_holder(room: Room, document: Document) -> str | None:
    """The server holding the room's lease (None: free, or no cluster); ``UNKNOWN`` when Redis
    does not answer within ``HOLDER_TIMEOUT``."""
    if not isinstance(document.sharing, _Leased):
        return None
    try:
        return await asyncio.wait_for(document.sharing.lease.holder(), HOLDER_TIMEOUT)
    except Exception as error:  # Redis down or slow: the rest of the status still stands
        log.debug("Status: who holds the lease of %s is unknown: %r", room.room_id, error)
        return UNKNOWN


def _sizes(paths: list[Path]) -> list[int]:
    """The size of each file, 0 for one that is not there (a log not written yet)."""
    sizes = []
    for path in paths:
        try:
            sizes.append(path.stat().st_size)
        except FileNotFoundError:
            sizes.append(0)
    return sizes
