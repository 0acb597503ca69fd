"""Opens, finds and evicts rooms; owns every background task; flushes all rooms on shutdown.

A room is opened once (concurrent openers share the load), evicted ``cleanup_delay`` after its
last peer left and only once its document is saved, and every dirty room is saved on stop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from pycrdt import Doc

from .document import Document
from .errors import TooManyRooms
from .events import Events
from .files import Files
from .peer import Peer
from .room import Room
from .roomid import parse_room_id
from .settings import Settings

log = logging.getLogger(__name__)

GOING_AWAY = 1001


class RoomManager:
    def __init__(self, settings: Settings, files: Files, events: Events) -> None:
        self.settings = settings
        self.files = files
        self.events = events
        self.rooms: dict[str, Room] = {}
        self._opening: dict[str, asyncio.Task[Room]] = {}
        self._evictions: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._keepalive: asyncio.Task[None] | None = None
        self.stopping = False

    # -- opening -------------------------------------------------------------------------------

    async def open(self, room_id: str) -> Room:
        """The room for ``room_id``, loading its document the first time it is asked for."""
        room = self.rooms.get(room_id)
        if room is not None:
            return room
        task = self._opening.get(room_id)
        if task is None:
            self.check_room_limit(room_id)
            task = asyncio.create_task(self._create(room_id), name=f"open {room_id}")
            self._opening[room_id] = task
            task.add_done_callback(lambda _: self._opening.pop(room_id, None))
        return await asyncio.shield(task)

    def check_room_limit(self, room_id: str) -> None:
        """Raise ``TooManyRooms`` if opening ``room_id`` would pass ``max_rooms`` document rooms
        (open, loading or waiting for eviction); an open room or the relay room always passes."""
        if room_id in self.rooms or room_id in self._opening or parse_room_id(room_id) is None:
            return
        count = len(self._opening) + sum(room.document is not None for room in self.rooms.values())
        if count >= self.settings.max_rooms:
            raise TooManyRooms(f"{count} document rooms are open (max_rooms)")

    async def _create(self, room_id: str) -> Room:
        parsed = parse_room_id(room_id)
        if parsed is None:  # the global awareness room: a relay, no document
            room = self.rooms[room_id] = Room(room_id, settings=self.settings)
            return room
        doc: Doc[Any] = Doc()
        document = Document(
            room_id,
            parsed.file_id,
            parsed.kind,
            doc,
            files=self.files,
            events=self.events,
            settings=self.settings,
        )
        await document.load()
        room = Room(room_id, doc, document, session_id=document.session_id, settings=self.settings)
        self.rooms[room_id] = room
        self._warn_if_open_twice(room)
        self._schedule_eviction(room)  # until a peer joins
        return room

    def _warn_if_open_twice(self, room: Room) -> None:
        assert room.document is not None
        for other in self.rooms.values():
            doc = other.document
            if other is not room and doc is not None and doc.file_id == room.document.file_id:
                msg = f"{doc.path} is also open as {other.room_id}: saves may overwrite each other"
                self.events.session("WARNING", room.room_id, doc.path, msg=msg)

    # -- peers ---------------------------------------------------------------------------------

    def join(self, room: Room, peer: Peer) -> None:
        if self._keepalive is None:  # started with the first peer: it needs the running loop
            self._keepalive = asyncio.create_task(self._keep_peers_alive(), name="keepalive")
        timer = self._evictions.pop(room.room_id, None)
        if timer is not None:
            timer.cancel()
        room.join(peer)

    def leave(self, room: Room, peer: Peer) -> None:
        room.leave(peer)
        if room.peers:
            return
        if room.document is None:  # nothing to save: a relay room goes with its last peer
            self.rooms.pop(room.room_id, None)
            room.close()
        else:
            self._schedule_eviction(room)

    # -- eviction ------------------------------------------------------------------------------

    def _schedule_eviction(self, room: Room) -> None:
        if room.document is None or self.stopping or room.room_id in self._evictions:
            return
        loop = asyncio.get_running_loop()
        self._evictions[room.room_id] = loop.call_later(
            self.settings.cleanup_delay, lambda: self._spawn(self._evict(room))
        )

    async def _evict(self, room: Room) -> None:
        self._evictions.pop(room.room_id, None)
        document = room.document
        if room.peers or document is None or self.rooms.get(room.room_id) is not room:
            return
        if document.dirty:
            await document.save()
        if room.peers:
            return
        if document.dirty:  # the save failed: keep the room, and its edits, for another try
            self._schedule_eviction(room)
            return
        del self.rooms[room.room_id]
        room.close()
        await document.close()
        self.events.session("INFO", room.room_id, document.path, "clean")

    # -- background work -----------------------------------------------------------------------

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Background task failed", exc_info=task.exception())

    async def _keep_peers_alive(self) -> None:
        while True:
            await asyncio.sleep(self.settings.keepalive_interval)
            for room in list(self.rooms.values()):
                room.renew_awareness()

    # -- shutdown ------------------------------------------------------------------------------

    async def stop(self) -> None:
        """Close every connection, then save every room that has unsaved changes."""
        if self.stopping:
            return
        self.stopping = True
        if self._keepalive is not None:
            self._keepalive.cancel()
        for timer in self._evictions.values():
            timer.cancel()
        self._evictions.clear()
        for room in self.rooms.values():
            for peer in tuple(room.peers):
                peer.close(GOING_AWAY, "server shutting down")
        await asyncio.gather(*self._tasks, *self._opening.values(), return_exceptions=True)
        documents = [room.document for room in self.rooms.values() if room.document is not None]
        await asyncio.gather(*(document.close() for document in documents))
        for room in self.rooms.values():
            room.close()
        log.info("Saved and closed %d collaborative rooms", len(documents))
