"""Opens, finds and evicts rooms; owns every background task; flushes all rooms on shutdown.

A room is opened once (concurrent openers share the load), evicted ``cleanup_delay`` after its
last peer left and only once its document is saved, and every dirty room is saved on stop.
What one opening does is opening.py's, what one closing does closing.py's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from ..document.files import Files
from ..document.sharing import Share
from ..errors import OUTCOMES, NotFound, ServerStopping, TooManyRooms
from ..events import Events
from ..settings import Settings
from .backlog import Backlogs
from .closing import Closings
from .forks import Fork, ForkInfo
from .ids import parse_room_id
from .opening import RoomHooks, load_room, warn_if_open_twice
from .peer import Peer
from .room import Room

log = logging.getLogger(__name__)


class RoomManager:
    def __init__(
        self, settings: Settings, files: Files, events: Events, hooks: RoomHooks, share: Share
    ) -> None:
        """``share`` makes each document's sharing with other servers (cluster/), if any."""
        self.settings = settings
        self.files = files
        self.events = events
        self._hooks = hooks
        self._share = share
        self.rooms: dict[str, Room] = {}
        self.forks: dict[str, Fork] = {}  # their rooms are in ``rooms`` too
        self._opening: dict[str, asyncio.Task[Room]] = {}
        self._evictions: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closings = Closings(hooks, events, self.open)
        self._keepalive: asyncio.TimerHandle | None = None  # set with the first peer
        self.backlogs = Backlogs(settings.max_server_buffer, settings.peer_stall_timeout)
        self.stopping = False

    # -- opening -------------------------------------------------------------------------------

    async def open(self, room_id: str) -> Room:
        """The room for ``room_id``, loading its document the first time it is asked for."""
        if self.stopping:  # opened now, it would never be saved or closed; open, it is closing
            raise ServerStopping(f"the server is stopping: {room_id} is not opened")
        if (room := self.rooms.get(room_id)) is not None:
            return room
        if (task := self._opening.get(room_id)) is not None and task is asyncio.current_task():
            raise RuntimeError(f"{room_id} is being initialised: change the document passed in")
        if task is None:
            self.check_room_limit(room_id)
            task = asyncio.create_task(self._create(room_id), name=f"open {room_id}")
            self._opening[room_id] = task
            task.add_done_callback(lambda _: self._opening.pop(room_id, None))
        return await asyncio.shield(task)

    def check_room_limit(self, room_id: str | None = None) -> None:
        """Raise ``TooManyRooms`` if opening ``room_id`` (or a fork, when None) would pass
        ``max_rooms`` rooms holding a document (open, loading, waiting for eviction, forks);
        an open room or the relay room always passes."""
        if room_id is not None and (
            room_id in self.rooms or room_id in self._opening or parse_room_id(room_id) is None
        ):
            return
        count = len(self._opening) + sum(room.kind is not None for room in self.rooms.values())
        if count >= self.settings.max_rooms:
            raise TooManyRooms(f"{count} document rooms are open (max_rooms)")

    async def _create(self, room_id: str) -> Room:
        await self._closings.finished(room_id)  # the room it replaces closes their log first
        room = await load_room(
            room_id, self.settings, self.files, self.events, self._hooks, self._share
        )
        self.rooms[room_id] = room
        if room.document is not None:
            # Only now: listeners run as tasks, and look the room up by its id.
            self.events.room_initialized(room_id, room.document.path)
            warn_if_open_twice(room, self.rooms.values(), self.events)
            self._schedule_eviction(room)  # until a peer joins
        return room

    # -- peers ---------------------------------------------------------------------------------

    def join(self, room: Room, peer: Peer) -> None:
        if self._keepalive is None:  # the first peer: nobody to renew yet, this starts the timer
            self._keep_peers_alive()
        self._cancel_eviction(room.room_id)
        room.join(peer)

    def leave(self, room: Room, peer: Peer) -> None:
        room.leave(peer)
        if room.peers or self.rooms.get(room.room_id) is not room:
            return
        fork = self.forks.get(room.room_id)
        if fork is not None:
            self._schedule_eviction(room)  # a timeline goes, a fork stays until deleted
            self._schedule_eviction(fork.root)  # which its peers may have kept open
        elif room.document is None:  # nothing to save: a relay room goes with its last peer
            room.close()
            self._hooks.release(self.rooms.pop(room.room_id))
        else:
            self._schedule_eviction(room)

    def _keep_peers_alive(self) -> None:
        """Send every peer something each ``keepalive_interval``, so idle front ends stay
        connected; a room renews in its own callback, so its failure stops no other room."""
        loop = asyncio.get_running_loop()
        for room in list(self.rooms.values()):
            loop.call_soon(room.renew_awareness)
        self._keepalive = loop.call_later(self.settings.keepalive_interval, self._keep_peers_alive)

    # -- forks ---------------------------------------------------------------------------------

    def fork(self, root_id: str, info: ForkInfo) -> Fork:
        """A new fork of the open document room ``root_id``."""
        return self._add_fork(Fork.copy_of(self._root(root_id), info, self.settings))

    async def open_timeline(self, root_id: str, viewer: str) -> Fork:
        """A new timeline of the open document room ``root_id``, for ``viewer`` to watch."""
        return self._add_fork(await Fork.timeline_of(self._root(root_id), self.settings, viewer))

    def _root(self, room_id: str) -> Room:
        """The open document room to fork, if ``max_rooms`` allows one more room."""
        self.check_room_limit()
        room = self.rooms.get(room_id)
        if room is None or room.document is None:
            raise NotFound("Root room not found")
        return room

    def _add_fork(self, fork: Fork) -> Fork:
        """Serve ``fork``'s room, instead of those it ``replaces``; an unwatched timeline goes."""
        for old in self.forks_of(fork.root.room_id):
            if fork.replaces(old):
                self.remove_fork(old.fork_id)
        self.rooms[fork.fork_id] = fork.room
        self.forks[fork.fork_id] = fork
        self._schedule_eviction(fork.room)
        return fork

    def remove_fork(self, fork_id: str) -> Fork | None:
        fork = self.forks.pop(fork_id, None)
        if fork is not None:
            self.rooms.pop(fork_id, None)
            self._cancel_eviction(fork_id)
            fork.close()
        return fork

    def forks_of(self, root_id: str) -> list[Fork]:
        return [fork for fork in self.forks.values() if fork.root.room_id == root_id]

    def _in_use(self, room: Room) -> bool:
        """Whether peers use the room, or one of its forks (which needs its root to merge)."""
        return bool(room.peers) or any(fork.room.peers for fork in self.forks_of(room.room_id))

    # -- eviction ------------------------------------------------------------------------------

    def _schedule_eviction(self, room: Room) -> None:
        fork = self.forks.get(room.room_id)
        evictable = room.document is not None or (fork is not None and fork.timeline is not None)
        if not evictable or self._in_use(room) or self.stopping or room.room_id in self._evictions:
            return
        loop = asyncio.get_running_loop()
        self._evictions[room.room_id] = loop.call_later(
            self.settings.cleanup_delay, lambda: self.spawn(self._evict(room))
        )

    def _cancel_eviction(self, room_id: str) -> None:
        if (timer := self._evictions.pop(room_id, None)) is not None:
            timer.cancel()

    async def _evict(self, room: Room) -> None:
        self._evictions.pop(room.room_id, None)
        if self._in_use(room) or self.rooms.get(room.room_id) is not room:
            return
        document = room.document
        if document is None:  # an unused timeline
            self.remove_fork(room.room_id)
            return
        if document.dirty:
            await document.save()
        if self._in_use(room):
            return
        if document.dirty:  # the save failed: keep the room, and its edits, for another try
            self._schedule_eviction(room)
            return
        for fork in self.forks_of(room.room_id):
            self.remove_fork(fork.fork_id)
        del self.rooms[room.room_id]
        await self._closings.close(room, carry_late_writes=True)

    def retire(self, room: Room) -> None:
        """Forget ``room`` now, then close it: another copy of its file took its place
        (cluster/reconcile.py), which the next opening of its id loads."""
        if self.rooms.get(room.room_id) is room:
            self._cancel_eviction(room.room_id)
            for fork in self.forks_of(room.room_id):
                self.remove_fork(fork.fork_id)
            del self.rooms[room.room_id]
            self.spawn(self._closings.close(room))

    # -- background work -----------------------------------------------------------------------

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Background task failed", exc_info=task.exception())

    # -- shutdown ------------------------------------------------------------------------------

    async def stop(self) -> None:
        """Close every connection, then save every room that has unsaved changes."""
        if self.stopping:
            return
        self.stopping = True
        if self._keepalive is not None:
            self._keepalive.cancel()
        self.backlogs.stop()
        for timer in self._evictions.values():
            timer.cancel()
        self._evictions.clear()
        # A snapshot: a relay room (the global awareness room) goes as its last peer leaves.
        for room in list(self.rooms.values()):
            for peer in tuple(room.peers):
                peer.close(OUTCOMES[ServerStopping].close_code, "server shutting down")
        await asyncio.gather(*self._tasks, *self._opening.values(), return_exceptions=True)
        documents = [room.document for room in self.rooms.values() if room.document is not None]
        await asyncio.gather(*(document.close() for document in documents))
        for fork_id in list(self.forks):
            self.remove_fork(fork_id)
        for room in list(self.rooms.values()):
            room.close()
            self._hooks.release(room)
        await self.files.close()  # the render process, once no document saves any more
        log.info("Saved and closed %d collaborative rooms", len(documents))
