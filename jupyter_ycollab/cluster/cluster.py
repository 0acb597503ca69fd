"""This server's part in the cluster: its Redis connection, its shared rooms, the publisher
that writes their entries (publisher.py), and the two loops that serve them all
(docs/cluster.md).

- the reader: one blocking ``XREAD`` over every shared room's stream (and the presence stream,
  presence.py, while its room is open here), each entry handed to its room in order (one
  connection, however many rooms);
- the keeper, every third of the lease time: this server's own key renewed (its heartbeat), each
  room's lease renewed or taken, the presence stream trimmed, and the awareness of servers whose
  key expired removed.

When Redis does not answer, both keep trying; rooms go on serving their own peers meanwhile, and
each room is brought level with the cluster when Redis answers again (reconcile.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from .. import metrics
from ..codec.kinds import DocumentKind
from ..document.sharing import Alone, Sharing
from ..errors import ClusterBusy
from ..rooms.room import Room
from .keys import presence_key, server_key
from .lease import Lease
from .names import Names
from .options import ClusterSettings
from .presence import SharedPresence
from .publisher import Publisher, end
from .reconcile import hold, level_with_cluster
from .shared import SharedRoom
from .store import KEEP_MS, RoomStore, read_streams

log = logging.getLogger(__name__)

#: Milliseconds the reader blocks before it looks at the set of rooms again.
READ_BLOCK_MS = 200
RETRY_DELAY = 0.5
#: Seconds between two reads past which the stream may have been trimmed of entries this
#: server did not read (its process was stopped, its loop blocked): its rooms are levelled.
PAUSE_LIMIT = KEEP_MS / 2000


class Cluster:
    errors: tuple[type[BaseException], ...] = (RedisError, OSError)

    def __init__(self, settings: ClusterSettings) -> None:
        self.settings = settings
        self.redis = Redis.from_url(settings.redis_url)
        self.server_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.healthy = asyncio.Event()
        self.healthy.set()
        self.publisher = Publisher(self, self.redis)  # the rooms' one way out
        self._rooms: dict[str, SharedRoom] = {}  # by their stream's key
        key = presence_key(settings.namespace)
        self.presence = SharedPresence(self.publisher, key, self.server_id, settings.folder)
        self._tasks: list[asyncio.Task[None]] = []
        self._rooms_changed = asyncio.Event()
        #: Closes a room at once, to open again from the cluster (the rooms' ``retire``).
        self.retire_room: Callable[[Room], None] = lambda _room: None

    def describe(self) -> str:
        """Where the cluster meets, without the password: for the log."""
        where = self.settings.redis_url.rsplit("@", 1)[-1]
        return f"{where} (namespace {self.settings.namespace!r}) as {self.server_id}"

    async def share(self, kind: DocumentKind, path: str) -> Sharing:
        """The sharing of the document at ``path`` (the ``Share`` the rooms are given): none
        outside ``cluster_folder``."""
        folder = self.settings.folder
        if folder and not path.startswith(folder + "/"):
            return Alone()
        alias_ms = round(self.settings.idle_expiry * 1000)
        names = Names(self.redis, self.settings.namespace, kind, alias_ms)
        try:
            where = await names.room_of(path)
        except self.errors as error:
            self.trouble(error)
            raise ClusterBusy("Redis did not answer: try again") from error
        lease = Lease(self.redis, where.keys, self.server_id, self.settings.lease_ttl)
        return SharedRoom(self, RoomStore(self.redis, where.keys, self.server_id), lease, where)

    def add(self, room: SharedRoom) -> None:
        self._rooms[room.store.keys.updates] = room
        self._started()

    def remove(self, room: SharedRoom) -> None:
        if self._rooms.get(room.store.keys.updates) is room:
            del self._rooms[room.store.keys.updates]

    def share_presence(self, room: Room) -> None:
        """This server's global awareness room opened: who is online here and elsewhere."""
        self.presence.attach(room)
        self._started()

    def _started(self) -> None:
        """A stream to read was added: the loops run (from the first on)."""
        self._rooms_changed.set()
        if not self._tasks:
            self._tasks = [self._spawn(self._read(), "read"), self._spawn(self._keep(), "keep")]

    def _readers(self) -> dict[str, SharedRoom | SharedPresence]:
        """Every stream this server reads now, by key."""
        readers: dict[str, SharedRoom | SharedPresence] = dict(self._rooms)
        if self.presence.awareness.room is not None:
            readers[self.presence.key] = self.presence
        return readers

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        return asyncio.create_task(coroutine, name=f"cluster {name}")

    # -- health --------------------------------------------------------------------------------

    def trouble(self, error: BaseException) -> None:
        """Redis did not answer: say it once per outage (count it every time)."""
        metrics.current.redis_error()
        if self.healthy.is_set():
            self.healthy.clear()
            for room in self._rooms.values():
                hold(room)
            log.warning(
                "Redis at %s did not answer (%s): every room goes on serving this server's "
                "peers, their edits kept in the update log, until it does",
                self.describe(),
                error,
            )

    async def _recovered(self, why: str) -> None:
        """Redis answers again, or this server did not read for longer than the stream keeps
        entries (``PAUSE_LIMIT``): bring every room level with the cluster, both ways."""
        log.warning("%s: reconciling %d shared rooms", why, len(self._rooms))
        for room in self._rooms.values():
            hold(room)  # after a pause too: Redis may have come back empty meanwhile
        self.healthy.set()
        # The pool's idle connections may be from before the outage, their sockets closed by
        # the Redis that died: the first call on each would fail and start a second outage.
        await self.redis.connection_pool.disconnect(inuse_connections=False)
        await self.publisher.reconnect()
        for room in list(self._rooms.values()):
            try:
                await level_with_cluster(room)
            except self.errors:
                raise
            except Exception:  # one room's copy must not keep the others behind, or stop the reader
                log.exception("%s could not be levelled", room.store.keys.prefix)

    def _must_level(self, gap: float) -> str | None:
        """Why every room must be brought level before the reader goes on, ``gap`` seconds after
        its last read, if it must."""
        if not self.healthy.is_set():
            return "Redis answers again"
        if gap > PAUSE_LIMIT:  # a fold may have trimmed entries it did not read
            return f"No read from Redis in {gap:.0f} s (was this server paused?)"
        return None

    # -- the loops -----------------------------------------------------------------------------

    async def _read(self) -> None:
        clock = asyncio.get_running_loop().time
        read_at = clock()  # when the last read returned
        while True:
            readers = self._readers()
            if not readers:
                self._rooms_changed.clear()
                await self._rooms_changed.wait()
                read_at = clock()  # with no room, nothing was missed
                continue
            positions = {key: reader.position for key, reader in readers.items()}
            try:
                entries = await read_streams(self.redis, positions, READ_BLOCK_MS)
                gap, read_at = clock() - read_at, clock()
                why = self._must_level(gap)
                if why is not None:
                    await self._recovered(why)
                    read_at = clock()
                    continue
            except self.errors as error:
                self.trouble(error)
                await asyncio.sleep(RETRY_DELAY)
                continue
            for key, entry in entries:  # to the readers as they are now: one may have closed
                reader = self._rooms.get(key) or (
                    self.presence if key == self.presence.key else None
                )
                try:
                    if reader is not None:
                        reader.receive(entry)
                except Exception:  # one bad entry must not stop the reader
                    log.exception("%s: entry %r from %s failed", key, entry.id, entry.server)

    async def _keep(self) -> None:
        ttl = self.settings.lease_ttl
        while True:
            try:
                await self.redis.set(
                    server_key(self.settings.namespace, self.server_id), b"1", px=int(ttl * 1000)
                )
                rooms = list(self._rooms.values())
                kept = await asyncio.gather(
                    *(self._keep_room(room) for room in rooms), return_exceptions=True
                )  # at once: a thousand rooms must not take a thousand round trips in a row
                for room, error in zip(rooms, kept, strict=True):
                    if isinstance(error, self.errors):
                        raise error
                    if isinstance(error, Exception):  # one room's must not stop the keeper
                        log.error("%s: %s", room.store.keys.prefix, error, exc_info=error)
                if self.presence.awareness.room is not None:
                    await self.presence.trim(self.redis)
                await self._forget_dead_servers()
            except self.errors as error:
                self.trouble(error)
            await asyncio.sleep(ttl / 3)

    async def _keep_room(self, room: SharedRoom) -> None:
        await room.keep_lease()
        await room.where.follow(room.document())  # a rename our file ids saw

    async def _forget_dead_servers(self) -> None:
        rooms = [room.awareness for room in self._rooms.values()] + [self.presence.awareness]
        for server in {server for room in rooms for server in room.servers}:
            if not await self.redis.exists(server_key(self.settings.namespace, server)):
                for room in rooms:
                    room.server_gone(server)

    async def stop(self) -> None:
        """Stop the loops (the rooms closed first) and say this server is gone."""
        await end(*self._tasks)
        await self.presence.close()  # its pages' removals reach the others
        await self.publisher.stop()
        with contextlib.suppress(*self.errors):
            await self.redis.delete(server_key(self.settings.namespace, self.server_id))
        await self.redis.aclose()
