"""One document room closed: its observers, its hooks, its document; the next opening of its id
held back until that is done; and what server code still writes to its ``Doc`` afterwards,
carried into the room opened again (``LateWrites``).

Apart from the manager, which decides when a room closes (evicted, or retired because another
copy of its file took its place) and forgets it at once: this is what one closing does. Its id
may be asked for again meanwhile, but the new room must not start on the update log before the
old one closed it: both rooms' logs are the same file (history/logfile.py ``log_path``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from pycrdt import Doc

from ..codec.listeners import Hears, UpdateListeners
from ..codec.origins import Origin, TransactionOrigin
from ..errors import CollabError
from ..events import Events
from ..memory import CollectAfterCloses
from .opening import RoomHooks
from .room import Room

log = logging.getLogger(__name__)

Opener = Callable[[str], Awaitable[Room]]
#: A closed room is freed (and its memory given back) this long after its closing ended: by then
#: the closing's own frames let go of it, and a burst of closes is collected once.
COLLECT_AFTER_SECONDS = 1.0


class Closings:
    def __init__(self, hooks: RoomHooks, events: Events, open_room: Opener) -> None:
        self._hooks = hooks
        self._events = events
        self._open_room = open_room
        self._closing: dict[str, asyncio.Event] = {}  # by room id, until its document closed
        self._collect_garbage = CollectAfterCloses(COLLECT_AFTER_SECONDS)

    async def close(self, room: Room, *, carry_late_writes: bool = False) -> None:
        """Close the document room ``room``, which the manager forgot. ``carry_late_writes``:
        for a room that closed because nobody used it, not one whose history gave way."""
        assert room.document is not None, "a document room"
        room.close()
        self._hooks.release(room)
        if carry_late_writes:
            LateWrites(room.room_id, room.doc, self._open_room)
        self._closing[room.room_id] = closed = asyncio.Event()
        try:
            await room.document.close()
        finally:
            closed.set()
            if self._closing.get(room.room_id) is closed:
                del self._closing[room.room_id]
        self._collect_garbage()
        self._events.session("INFO", room.room_id, room.document.path, "clean")

    async def finished(self, room_id: str) -> None:
        """Return once the room that had ``room_id`` closed its document (at once if none)."""
        closing = self._closing.get(room_id)
        if closing is not None:
            await closing.wait()


class LateWrites:
    """What server code writes to a closed room's ``Doc``, carried into the room opened again.

    Server code may keep a room's document past the room's closing: jupyter-server-nbmodel
    writes a running cell's outputs and execution count there until the cell ends, maybe long
    after the last peer left. A closed ``Doc`` is neither logged nor saved: those writes were
    lost. Its log kept the CRDT history, so the room opened again takes them, in order, as
    ``rooms.transaction`` does for a block that outlasted its room; one it holds already changes
    nothing. Only server code's writes: the closing's own (the ``state`` it saves) belong to
    the room they were made for. Held by the ``Doc``'s listeners alone, it lives as long as
    whoever still holds the ``Doc``.
    """

    def __init__(self, room_id: str, doc: Doc[Any], open_room: Opener) -> None:
        self._room_id = room_id
        self._open_room = open_room
        self._loop = asyncio.get_running_loop()
        self._waiting: deque[bytes] = deque()
        self._carrying: asyncio.Task[None] | None = None
        UpdateListeners.of(doc).listen(Hears.LATE, self._heard)

    def _heard(self, update: bytes, origin: TransactionOrigin) -> None:
        if origin is Origin.SERVER_API:
            self._waiting.append(update)
            self._loop.call_soon_threadsafe(self._start)  # the writer may be on another thread

    def _start(self) -> None:
        if self._carrying is None:
            self._carrying = self._loop.create_task(self._carry())

    async def _carry(self) -> None:
        try:
            while self._waiting:
                update = self._waiting.popleft()
                try:
                    (await self._open_room(self._room_id)).apply_update(update)
                except CollabError as error:  # the server stops, the file is gone
                    log.warning(
                        "%s: an edit made after its room closed is lost: %s", self._room_id, error
                    )
        finally:  # the next write starts again, whatever stopped this one
            self._carrying = None
