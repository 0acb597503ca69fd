"""One document shared through the cluster (docs/cluster.md): the ``Sharing`` of its ``Document``.

Its way out is a listener at ``Hears.CLUSTER`` that puts every update this server accepted (and
its peers' awareness) in its outbox (outbox.py); its way in is ``receive``, which the cluster's
one reader calls with each new entry of the room's stream. It holds the room's lease: only while
it does is this server the one that writes the file.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pycrdt import Doc

from .. import metrics
from ..codec.listeners import Hears, UpdateListeners
from ..codec.origins import Origin, TransactionOrigin
from ..codec.updates import merged_update
from ..document.document import Document
from ..document.sharing import Joined, SavedFile, SaveReply, Sharing
from ..errors import ClusterBusy
from ..history.history import History
from ..rooms import protocol
from ..rooms.room import Room
from .awareness import Announced, RemoteAwareness
from .lease import Lease
from .names import RoomPath
from .outbox import Outbox
from .reconcile import level_with_cluster
from .saves import SETTLE_MARGIN, ForwardedSaves

if TYPE_CHECKING:
    from .cluster import Cluster
    from .entries import Entry
    from .store import RoomStore

#: Seconds a server waits for another that is loading the document to share it.
JOIN_TIMEOUT = 30.0
#: Seconds between two folds of the stream into the snapshot (each after a save).
FOLD_INTERVAL = 10.0
#: Longest time between two pushes of the room's expiry by its writer (at most idle expiry / 4).
EXPIRY_REFRESH = 60.0


class SharedRoom(Sharing):
    def __init__(self, cluster: Cluster, store: RoomStore, lease: Lease, where: RoomPath) -> None:
        self.cluster = cluster
        self.store = store
        self.lease = lease
        self.where = where  # the path of its file, as the room records it (names.py)
        self.position = b"0-0"  # the last stream entry this server applied
        self.writer = False  # this server writes the file
        self.doc: Doc[Any] | None = None
        self._take_over: Callable[[SavedFile | None], None] = lambda _saved: None
        self._stop_listening: Callable[[], None] = lambda: None  # till ``start``
        self.outbox = Outbox(cluster.publisher, store.keys.updates)  # the way out
        self._saves = ForwardedSaves(lambda message: self.outbox.put("c", message))
        self._backlog: list[Entry] = []  # awareness and control met while joining (``attach``)
        self.awareness = RemoteAwareness()  # in this server's room, other servers' peers'
        self.lineage = ""  # the session id of the history the cluster holds
        self.behind = False  # not level with the cluster since an outage (``reconcile``)
        self.levelling = asyncio.Lock()  # held while ``reconcile`` brings it level
        self.retired = False  # the cluster holds another history, which took this one's edits
        self.carry_after: float | None = None  # till then a stale base waits (``reconcile``)
        self._folded_at, self._expiry_set_at = -FOLD_INTERVAL, -EXPIRY_REFRESH

    # -- joining -------------------------------------------------------------------------------

    async def join(self) -> Joined | None:  # None: nobody shares it yet, and we took the lease
        deadline = asyncio.get_running_loop().time() + JOIN_TIMEOUT
        while True:
            try:
                held = self.writer = await self.lease.try_acquire()
                state = await self.store.current()
                if state is not None:  # held: nobody had it open, we write (``Joined``)
                    self.position, self.lineage = state.end, state.lineage
                    self._backlog = [e for e in state.entries if e.kind in ("a", "c")]
                    return Joined(state.updates, state.lineage, await self.store.saved(), held)
            except self.cluster.errors as error:
                self.cluster.trouble(error)
                raise ClusterBusy("Redis did not answer: try again") from error
            if held:
                return None
            if asyncio.get_running_loop().time() > deadline:
                raise ClusterBusy("another server is still loading this document")
            await asyncio.sleep(0.05)  # the loader shares it within its load time

    async def started_here(self, state: list[bytes], history: History) -> None:
        """Share what this server loaded; refuse the opening if someone else shared first."""
        fence, holder, self.lineage = self.lease.fence, self.lease.value, history.lineage
        base = SavedFile(history.base_update, history.base_hash, history.base_digest, fence or 0)
        try:
            full = state[0] if len(state) == 1 else await asyncio.to_thread(merged_update, state)
            await self.cluster.redis.delete(self.store.keys.updates)  # an expired history's
            shared = (full, self.lineage, holder, self.where.path)
            created = bool(fence) and await self.store.create_state(*shared)
            if created:
                await self.store.record_saved(base, holder)
        except self.cluster.errors as error:
            self.cluster.trouble(error)
            created = False
        if not created:
            await self._release()
            raise ClusterBusy("another server shared this document first: try again")

    def start(
        self, doc: Doc[Any], take_over: Callable[[SavedFile | None], None], *, ahead: bool
    ) -> None:
        self.doc, self._take_over = doc, take_over
        self.behind = ahead  # the keeper levels it with the cluster first
        self._stop_listening = UpdateListeners.of(doc).listen(Hears.CLUSTER, self._on_update)
        self.cluster.add(self)

    def attach(self, room: Room) -> None:
        """The room is made: share its peers' awareness, relay the others', those met while
        joining too (not by ``receive``: it moves the reader), and hear the writer's word that
        the file is gone, if we do not write it (no save, so no fold, came after that word)."""
        self.awareness.room = room
        room.awareness_out = lambda *said: self.outbox.put("a", Announced(*said).encode())
        for entry in (e for e in self._backlog if e.server != self.cluster.server_id):
            if entry.kind == "a":
                self.awareness.heard(entry)
            elif not self.writes_file():  # what a writer was asked is no business of ours
                self._saves.heard(json.loads(entry.payload), room.document, writes=False)
        self._backlog = []

    # -- the way out, and the way in -----------------------------------------------------------

    def _on_update(self, update: bytes, origin: TransactionOrigin) -> None:
        if origin is not Origin.CLUSTER:  # another server's: it is in the stream already
            self.outbox.put("u", update)

    async def flush(self) -> bool:
        return await self.outbox.flush()

    def receive(self, entry: Entry) -> None:
        """One entry of the room's stream, in order."""
        self.position = entry.id
        if entry.server == self.cluster.server_id:
            return
        metrics.current.entry_applied(entry.id)
        if entry.kind == "u" and self.doc is not None and not self.outbox.held:
            UpdateListeners.of(self.doc).apply(entry.payload, Origin.CLUSTER)
        elif entry.kind == "a":
            self.awareness.heard(entry)
        elif entry.kind == "m" and (room := self.awareness.room) is not None:  # push.py ``send``
            room.broadcast(protocol.encode_raw(json.loads(entry.payload)))
        elif entry.kind == "c":
            self._saves.heard(json.loads(entry.payload), self.document(), self.writes_file())

    # -- saving --------------------------------------------------------------------------------

    def writes_file(self) -> bool:
        return self.writer and self.lease.held()

    async def confirm_writer(self, digest: str) -> bool:
        for _attempt in range(2):  # again on a new connection: one may be to a Redis that died
            try:
                self.writer = self.writer and bool(await self.lease.confirm())
                if self.writer and not self.behind:  # the save it begins (store.py)
                    await self.store.record_saving(digest, self.lease.value)
                return self.writer
            except self.cluster.errors as error:
                self.cluster.trouble(error)
        return self.lease.held()  # Redis is down: nobody can take it before it expires

    async def saved(self, saved: SavedFile) -> None:
        """Record what the file holds; now and then, fold the stream into the snapshot (an
        encoding of the whole document: not at every save). Not while the room is behind: Redis
        may hold another history (reconcile.py); store.py refuses a writer that lost the lease."""
        fence, holder, now = self.lease.fence, self.lease.value, asyncio.get_running_loop().time()
        if fence is None or self.behind:
            return
        try:
            await self.store.record_saved(replace(saved, fence=fence), holder)
            if self.doc is not None and now - self._folded_at >= FOLD_INTERVAL:
                self._folded_at = now
                await self.store.fold(self.doc.get_update(), self.position, holder)
        except self.cluster.errors as error:
            self.cluster.trouble(error)

    async def hand_over(self) -> bool:
        """This server may not write the file: another that has the room open (whose peers we
        heard) takes the lease (lease.py ``step_aside``). With none, the save fails, as alone."""
        if not self.awareness.servers or not self.lease.step_aside():
            return False
        await self._release()
        return True

    def forward_save(self, reply: SaveReply) -> None:
        self._saves.forward(reply)

    def forward_take_file(self) -> None:
        self._saves.forward_take_file()

    def file_gone(self, gone: bool) -> None:
        self._saves.tell_file_gone(gone, self.writes_file())

    async def settle(self) -> None:
        """Our keeper may take over meanwhile; a retired copy's edits are in Redis already."""
        if self.cluster.healthy.is_set() and not self.writer and not self.retired:
            await self._saves.answered(2 * self.lease.ttl + SETTLE_MARGIN)

    def document(self) -> Document | None:  # this server's, once its room is made (``attach``)
        return None if self.awareness.room is None else self.awareness.room.document

    # -- the lease -----------------------------------------------------------------------------

    async def keep_lease(self) -> None:
        """Renew the lease, or take it if it fell free; take over writing when it is new."""
        if self.behind and self.cluster.healthy.is_set():  # else the reader's recovery levels
            await level_with_cluster(self)
        held = await self.lease.try_acquire()  # renewed when held
        if held and not self.writer:  # a writer only once it read the record (else next time)
            saved, self.writer = await self.store.saved(), True
            self._take_over(saved)
            if (document := self.document()) is not None:
                self._saves.save_here(document)
        self.writer = held
        if not held:
            self._saves.remind()  # a Ctrl-S no writer heard is asked again
        now, expiry = asyncio.get_running_loop().time(), self.cluster.settings.idle_expiry
        if held and now - self._expiry_set_at > min(EXPIRY_REFRESH, expiry / 4):
            self._expiry_set_at = now
            await self.store.expire(expiry)
            await self.where.keep()

    def leave_cluster(self) -> None:
        """Hear no more updates of the room, from its ``Doc`` or its stream."""
        self.cluster.remove(self)
        self._stop_listening()
        self._stop_listening = lambda: None

    async def _release(self) -> None:
        self.writer = False
        try:
            await self.lease.release()
        except self.cluster.errors as error:
            self.cluster.trouble(error)

    async def close(self) -> None:
        """The room closes here: its last edits and awareness out, the lease given up."""
        self.leave_cluster()
        await self.outbox.close()
        await self._release()
        self._saves.fail_all()
