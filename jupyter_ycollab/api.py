"""What server-side code (another extension, an agent) uses to work with live rooms.

``app.rooms`` is the registry of open rooms (a read-only mapping by room id) plus two ways to
change a document without a websocket; either way the change reaches every peer and is saved
like any edit:

    await app.rooms.apply_update(room_id, update)          # a Yjs update from elsewhere
    async with app.rooms.transaction(room_id) as notebook:  # a jupyter_ydoc document
        notebook.ycells[0]["source"].insert(0, "# reviewed\n")

A room that is not open is opened for the call and closed ``cleanup_delay`` later (saved first).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from jupyter_ydoc.ybasedoc import YBaseDoc
from pycrdt import Doc

from .errors import BadRequest
from .manager import RoomManager
from .room import Room


class Rooms(Mapping[str, Room]):
    def __init__(self, manager: RoomManager) -> None:
        self._manager = manager

    def __getitem__(self, room_id: str) -> Room:
        return self._manager.rooms[room_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._manager.rooms)

    def __len__(self) -> int:
        return len(self._manager.rooms)

    async def open(self, room_id: str) -> Room:
        """The room, loading its document if it is not open yet."""
        return await self._manager.open(room_id)

    async def apply_update(self, room_id: str, update: bytes) -> None:
        """Apply a Yjs update to the room's document, as server-side code (no peer is its author,
        so every peer receives it)."""
        room = await self._document_room(room_id)
        room.apply_update(update)

    @asynccontextmanager
    async def transaction(self, room_id: str) -> AsyncIterator[YBaseDoc]:
        """Change the document through jupyter_ydoc; the changes land as one update on exit.

        The block works on a private copy, so it may await: peers keep editing meanwhile and
        both sides' changes merge as concurrent edits. Nothing lands if the block raises.
        """
        room = await self._document_room(room_id)
        assert room.document is not None
        copy: Doc[Any] = Doc()
        copy.apply_update(room.doc.get_update())
        before = copy.get_state()
        yield room.document.kind.wrap(copy)
        room.apply_update(copy.get_update(before))

    async def _document_room(self, room_id: str) -> Room:
        room = await self._manager.open(room_id)
        if room.document is None:
            raise BadRequest(f"{room_id!r} holds no document")
        return room
