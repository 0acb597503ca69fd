"""What an admin sees of the open rooms (``GET /api/collaboration/status``, docs/status.md).

Read from the rooms as they are: nothing here changes a room, and nothing waits on a document.
Two figures are not in memory: the update log's size (a ``stat`` of each log, done off the
event loop, all at once) and, in a cluster, who holds each file's lease (one Redis ``GET`` per
room, concurrently, bounded by ``HOLDER_TIMEOUT``: a status page must answer while Redis does
not). The cluster's sharing is recognised by its shape (``_Leased``), since rooms/ may not import
cluster/.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .room import Room

if TYPE_CHECKING:
    from ..document.document import Document

log = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class RoomStatus:
    """One open document room as the status route lists it (the field names are the JSON's)."""

    room_id: str
    path: str
    format: str
    type: str
    writers: int  # peers that may edit
    readonly: int  # peers that only watch
    dirty: bool  # some change has not reached the file yet (a save in progress counts)
    saved_at: str | None  # ISO 8601, UTC: when this server last knew the file to hold it
    log_bytes: int  # the update log's size on disk
    writes_file: bool  # this server is the one that writes the file (always, alone)
    lease_holder: str | None  # cluster: the server id holding the lease (None: free)

    def as_json(self, *, cluster: bool) -> dict[str, Any]:
        fields = asdict(self)
        if not cluster:
            del fields["lease_holder"]
        return fields


async def server_status(rooms: Iterable[Room], server_id: str | None) -> dict[str, Any]:
    """``{"server": {...}, "rooms": [...]}``: this server's figures, and the status of each of
    its open document rooms, sorted by path.

    ``server_id`` is this server's id in its cluster, None when it shares no rooms. ``peers``
    counts the connections to document rooms; ``connections`` every connection, to forks,
    timelines and the awareness room too.
    """
    every = list(rooms)
    listed = await room_statuses([room for room in every if room.document is not None])
    cluster = server_id is not None
    server = {
        "id": server_id,
        "cluster": cluster,
        "rooms": len(listed),
        "forks": sum(room.document is None and room.kind is not None for room in every),
        "peers": sum(status.writers + status.readonly for status in listed),
        "connections": sum(len(room.peers) for room in every),
    }
    return {"server": server, "rooms": [status.as_json(cluster=cluster) for status in listed]}


async def room_statuses(rooms: list[Room]) -> list[RoomStatus]:
    """The status of each document room (``room.document`` is set), sorted by path."""
    sizes = await asyncio.to_thread(_sizes, [_document(room).history.path for room in rooms])
    holders = await asyncio.gather(*(_lease_holder(room) for room in rooms))
    found = zip(rooms, sizes, holders, strict=True)
    statuses = [_status(room, size, holder) for room, size, holder in found]
    return sorted(statuses, key=lambda status: (status.path, status.room_id))


def _document(room: Room) -> Document:
    assert room.document is not None, "a document room"
    return room.document


def _status(room: Room, log_bytes: int, lease_holder: str | None) -> RoomStatus:
    document = _document(room)
    readonly = sum(peer.readonly for peer in room.peers)
    saved = document.history.base_time
    return RoomStatus(
        room_id=room.room_id,
        path=document.path,
        format=document.kind.file_format,
        type=document.kind.file_type,
        writers=len(room.peers) - readonly,
        readonly=readonly,
        dirty=document.dirty,
        saved_at=datetime.fromtimestamp(saved, timezone.utc).isoformat() if saved else None,
        log_bytes=log_bytes,
        writes_file=document.sharing.writes_file(),
        lease_holder=lease_holder,
    )


async def _lease_holder(room: Room) -> str | None:
    """The server holding the room's lease (None: free, or no cluster); ``UNKNOWN`` when Redis
    does not answer within ``HOLDER_TIMEOUT``."""
    sharing = _document(room).sharing
    if not isinstance(sharing, _Leased):
        return None
    try:
        return await asyncio.wait_for(sharing.lease.holder(), HOLDER_TIMEOUT)
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
