"""One room made for its id: its document loaded, the room built around it, and the deployment's
initialiser run before anyone has it (or everything closed again if the initialiser fails).

Apart from the manager, which decides when a room is made and keeps it (one load per room id,
the room limit, eviction, shutdown): this is what a single opening does, and the hooks it calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from pycrdt import Doc

from ..document.document import Document
from ..document.files import Files
from ..document.sharing import Share
from ..events import Events
from ..memory import give_back_freed_memory
from ..settings import Settings
from .ids import parse_room_id
from .room import Room


class RoomHooks(Protocol):
    """What the manager tells the deployment's hooks (web/hookcalls.py) about a room's life."""

    async def initialise(self, room: Room) -> None:
        """A room was loaded; nobody has it until this returns (raise to fail the opening)."""

    def release(self, room: Room) -> None:
        """A room that was initialised is closed."""


async def load_room(
    room_id: str, settings: Settings, files: Files, events: Events, hooks: RoomHooks, share: Share
) -> Room:
    """The room for ``room_id``, its document loaded and initialised; not registered anywhere."""
    parsed = parse_room_id(room_id)
    if parsed is None:  # the global awareness room: a relay, no document
        relay = Room(room_id, settings=settings)
        await hooks.initialise(relay)  # nothing to undo on failure: it holds nothing yet
        return relay
    doc: Doc[Any] = Doc()
    document = Document(
        room_id,
        parsed.file_id,
        parsed.kind,
        doc,
        files=files,
        events=events,
        settings=settings,
        share=share,
    )
    await document.load()
    give_back_freed_memory()  # the parse and the copy the load made are garbage now
    room = Room(room_id, doc, document, session_id=document.history.lineage, settings=settings)
    try:
        await hooks.initialise(room)
    except BaseException:
        room.close()
        await document.close()
        raise
    return room


def warn_if_open_twice(room: Room, rooms: Iterable[Room], events: Events) -> None:
    """Say so when ``room``'s file is open under another room id too (saves may clash)."""
    assert room.document is not None
    for other in rooms:
        doc = other.document
        if other is not room and doc is not None and doc.file_id == room.document.file_id:
            msg = f"{doc.path} is also open as {other.room_id}: saves may overwrite each other"
            events.session("WARNING", room.room_id, doc.path, msg=msg)
