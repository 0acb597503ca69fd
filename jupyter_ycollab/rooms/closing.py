"""One document room closed: its observers, its hooks, its document; and the next opening of its
id held back until that is done.

Apart from the manager, which decides when a room closes (evicted, or retired because another
copy of its file took its place) and forgets it at once: this is what one closing does. Its id
may be asked for again meanwhile, but the new room must not start on the update log before the
old one closed it: both rooms' logs are the same file (history/logfile.py ``log_path``).
"""

from __future__ import annotations

import asyncio

from ..events import Events
from ..memory import give_back_freed_memory
from .opening import RoomHooks
from .room import Room


class Closings:
    def __init__(self, hooks: RoomHooks, events: Events) -> None:
        self._hooks = hooks
        self._events = events
        self._closing: dict[str, asyncio.Event] = {}  # by room id, until its document closed

    async def close(self, room: Room) -> None:
        """Close the document room ``room``, which the manager forgot."""
        assert room.document is not None, "a document room"
        room.close()
        self._hooks.release(room)
        self._closing[room.room_id] = closed = asyncio.Event()
        try:
            await room.document.close()
        finally:
            closed.set()
            if self._closing.get(room.room_id) is closed:
                del self._closing[room.room_id]
        give_back_freed_memory()
        self._events.session("INFO", room.room_id, room.document.path, "clean")

    async def finished(self, room_id: str) -> None:
        """Return once the room that had ``room_id`` closed its document (at once if none)."""
        closing = self._closing.get(room_id)
        if closing is not None:
            await closing.wait()
