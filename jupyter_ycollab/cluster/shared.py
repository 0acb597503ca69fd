"""One document shared through the cluster (docs/cluster.md): the ``Sharing`` of its ``Document``.

Its way out is a listener at ``Hears.CLUSTER`` that queues every update this server accepted (and
its peers' awareness) for the room's stream, published in order by one task; its way in is
``receive``, which the cluster's one reader calls with each new entry of that stream. It holds
the room's lease: only while it does is this server the one that writes the file.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pycrdt import Doc

from ..codec.listeners import Hears, UpdateListeners
from ..codec.origins import Origin, TransactionOrigin
from ..codec.updates import EMPTY_UPDATE, merged_update
from ..document.sharing import Joined, SavedFile, SaveReply
from ..errors import ClusterBusy
from ..history.history import History
from ..rooms.room import Room
from .lease import Lease
from .store import Entry, RoomStore, SharedState

if TYPE_CHECKING:
    from .cluster import Cluster

log = logging.getLogger(__name__)

#: Seconds a server waits for another that is loading the document to share it.
JOIN_TIMEOUT = 30.0
#: Seconds a server waits for its edits to reach Redis before it says they did not (yet).
FLUSH_TIMEOUT = 2.0
#: Seconds a Ctrl-S forwarded to the writer waits for its answer.
SAVE_TIMEOUT = 30.0


class SharedRoom:
    def __init__(self, cluster: Cluster, store: RoomStore, lease: Lease) -> None:
        self.cluster = cluster
        self.store = store
        self.lease = lease
        self.position = b"0-0"  # the last stream entry this server applied
        self.room: Room | None = None
        self.writer = False  # this server writes the file
        self._doc: Doc[Any] | None = None
        self._take_over: Callable[[SavedFile | None], None] = lambda _saved: None
        self._stop_listening: Callable[[], None] | None = None
        self._outbox: list[tuple[str, bytes]] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._publisher: asyncio.Task[None] | None = None
        self._awaiting: dict[str, SaveReply] = {}  # forwarded Ctrl-S by request id
        self._backlog_awareness: list[Entry] = []  # met while joining, relayed once attached
        self.servers_heard: set[str] = set()  # other servers whose peers' awareness we keep
        self.lineage = ""  # the session id of the history the cluster holds
        self.behind = False  # not level with the cluster since an outage (``reconcile``)

    # -- joining -------------------------------------------------------------------------------

    async def join(self) -> Joined | None:
        """The document as the cluster holds it; None when this server is to load it from its
        file (nobody shares it yet, and this server took the lease)."""
        deadline = asyncio.get_running_loop().time() + JOIN_TIMEOUT
        while True:
            try:
                held = await self.lease.try_acquire()
                state = await self.store.state()
                if state is not None:  # writing waits for the keeper's ``take_over``
                    return await self._joined(state)
            except self.cluster.errors as error:
                self.cluster.trouble(error)
                raise ClusterBusy("Redis did not answer: try again") from error
            if held:
                self.writer = True
                return None
            if asyncio.get_running_loop().time() > deadline:
                raise ClusterBusy("another server is still loading this document")
            await asyncio.sleep(0.05)  # the loader shares it within its load time

    async def _joined(self, state: SharedState) -> Joined:
        entries = await self.store.read_after(state.at)
        updates = [state.snapshot, *(entry.payload for entry in entries if entry.kind == "u")]
        self._backlog_awareness = [entry for entry in entries if entry.kind == "a"]
        self.position = entries[-1].id if entries else state.at
        self.lineage = state.lineage
        return Joined(updates, state.lineage, await self.store.saved())

    async def started_here(self, state: list[bytes], history: History) -> None:
        """Share what this server loaded; refuse the opening if someone else shared first."""
        fence, self.lineage = self.lease.fence, history.lineage
        try:
            full = state[0] if len(state) == 1 else await asyncio.to_thread(merged_update, state)
            await self.cluster.redis.delete(self.store.keys.updates)  # an expired history's
            created = fence is not None and await self.store.create_state(
                full, history.lineage, fence
            )
            if created and fence is not None:
                base = history.base_update
                await self.store.record_saved(
                    SavedFile(base, history.base_hash, history.base_digest, fence)
                )
        except self.cluster.errors as error:
            self.cluster.trouble(error)
            created = False
        if not created:
            await self._release()
            raise ClusterBusy("another server shared this document first: try again")

    def start(self, doc: Doc[Any], take_over: Callable[[SavedFile | None], None]) -> None:
        self._doc, self._take_over = doc, take_over
        self._stop_listening = UpdateListeners.of(doc).listen(Hears.CLUSTER, self._on_update)
        self._publisher = asyncio.create_task(self._publish(), name=f"publish {self.store.keys}")
        self.cluster.add(self)

    def attach(self, room: Room) -> None:
        """The room is made: share its peers' awareness, relay the others'."""
        self.room = room
        room.awareness_out = lambda payload: self._queue("a", payload)
        for entry in self._backlog_awareness:
            self.receive(entry)
        self._backlog_awareness = []

    # -- the way out ---------------------------------------------------------------------------

    def _on_update(self, update: bytes, origin: TransactionOrigin) -> None:
        if origin is not Origin.CLUSTER:  # another server's: it is in the stream already
            self._queue("u", update)

    def _queue(self, kind: str, payload: bytes) -> None:
        self._outbox.append((kind, payload))
        self._idle.clear()
        self._wake.set()

    async def _publish(self) -> None:
        """Publish the outbox in order, batch by batch; keep it while Redis does not answer."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._outbox:
                batch, self._outbox = self._outbox, []
                try:
                    await self.store.publish(batch)
                except self.cluster.errors as error:
                    self._outbox[:0] = batch
                    self.cluster.trouble(error)
                    await self.cluster.healthy.wait()
            self._idle.set()

    async def flush(self) -> bool:
        try:
            await asyncio.wait_for(self._idle.wait(), FLUSH_TIMEOUT)
        except asyncio.TimeoutError:
            return False
        return True

    # -- the way in ----------------------------------------------------------------------------

    def receive(self, entry: Entry) -> None:
        """One entry of the room's stream, in order."""
        self.position = entry.id
        if entry.server == self.cluster.server_id:
            return
        if entry.kind == "u" and self._doc is not None:
            try:
                UpdateListeners.of(self._doc).apply(entry.payload, Origin.CLUSTER)
            except Exception:  # one bad entry must not stop the others
                log.exception("Applying an update from %s failed", entry.server)
        elif entry.kind == "a" and self.room is not None:
            self.servers_heard.add(entry.server)
            self.room.relay_awareness(entry.server, entry.payload)
        elif entry.kind == "c":
            self._control(json.loads(entry.payload))

    def server_gone(self, server: str) -> None:
        """``server`` stopped renewing its key: its peers' awareness states go."""
        self.servers_heard.discard(server)
        if self.room is not None:
            self.room.forget_awareness(server)

    # -- saving --------------------------------------------------------------------------------

    def writes_file(self) -> bool:
        return self.writer and self.lease.held()

    async def confirm_writer(self) -> bool:
        try:
            self.writer = self.writer and bool(await self.lease.confirm())
        except self.cluster.errors as error:
            self.cluster.trouble(error)
            return self.lease.held()  # Redis is down: nobody can take it before it expires
        return self.writer

    async def saved(self, saved: SavedFile) -> None:
        fence = self.lease.fence
        if fence is None:
            return
        try:
            await self.store.record_saved(_fenced(saved, fence))
            if self._doc is not None:
                await self.store.fold(self._doc.get_update(), self.position, fence)
        except self.cluster.errors as error:
            self.cluster.trouble(error)

    def forward_save(self, reply: SaveReply) -> None:
        request = uuid.uuid4().hex
        self._awaiting[request] = reply
        self._queue("c", json.dumps({"save": request}).encode())
        loop = asyncio.get_running_loop()
        loop.call_later(SAVE_TIMEOUT, lambda: self._answer(request, "failed"))

    def _control(self, message: dict[str, Any]) -> None:
        if "save" in message and self.writes_file() and self.room is not None:
            document = self.room.document
            if document is not None:
                request = str(message["save"])
                document.request_save(lambda status: self._answered(request, status))
        elif "saved" in message:
            self._answer(str(message["saved"]), str(message.get("status", "failed")))

    def _save_forwarded_here(self) -> None:
        """Ctrl-S forwarded to a writer that is gone: this server writes the file now."""
        document = self.room.document if self.room is not None else None
        if document is not None:
            awaiting, self._awaiting = self._awaiting, {}
            for reply in awaiting.values():
                document.request_save(reply)

    def _answered(self, request: str, status: str) -> None:
        self._queue("c", json.dumps({"saved": request, "status": status}).encode())

    def _answer(self, request: str, status: str) -> None:
        reply = self._awaiting.pop(request, None)
        if reply is not None:
            reply(status)

    # -- after an outage ------------------------------------------------------------------------

    async def reconcile(self) -> None:
        """Bring this server's copy level with the cluster's, both ways, by state vectors:
        what Redis missed while it was down (or lost, restarted empty) and what we missed."""
        if self._doc is None:
            return
        self.behind = True
        state = await self.store.state()
        if state is None:  # Redis lost the room: the lease's next holder shares it again
            fence = self.lease.fence if await self.lease.try_acquire() else None
            if fence is not None:
                await self.store.create_state(self._doc.get_update(), self.lineage, fence)
                self.position, self.behind = b"0-0", False
            return
        if state.lineage != self.lineage:
            log.error("%s has another history in Redis: not merged", self.store.keys)
            return
        entries = await self.store.read_after(state.at)
        cluster: Doc[Any] = Doc()
        for update in [state.snapshot, *(e.payload for e in entries if e.kind == "u")]:
            cluster.apply_update(update)
        self.position = entries[-1].id if entries else state.at
        UpdateListeners.of(self._doc).apply(
            cluster.get_update(self._doc.get_state()), Origin.CLUSTER
        )
        missing = self._doc.get_update(cluster.get_state())
        if missing != EMPTY_UPDATE:
            self._queue("u", missing)
        self.behind = False

    # -- the lease -----------------------------------------------------------------------------

    async def keep_lease(self) -> None:
        """Renew the lease, or take it if it fell free; take over writing when it is new."""
        if self.behind:
            await self.reconcile()
        if self.lease.fence is not None:
            held = await self.lease.renew()
        else:
            held = await self.lease.try_acquire()
        if held and not self.writer:
            self.writer = True
            self._take_over(await self.store.saved())
            self._save_forwarded_here()
        self.writer = held
        if held:
            await self.store.expire(self.cluster.settings.idle_expiry)

    async def _release(self) -> None:
        self.writer = False
        try:
            await self.lease.release()
        except self.cluster.errors as error:
            self.cluster.trouble(error)

    async def close(self) -> None:
        """The room closes here: its last edits and awareness out, the lease given up."""
        self.cluster.remove(self)
        if self._stop_listening is not None:
            self._stop_listening()
        await self.flush()
        if self._publisher is not None:
            self._publisher.cancel()
        await self._release()
        for request in list(self._awaiting):
            self._answer(request, "failed")


def _fenced(saved: SavedFile, fence: int) -> SavedFile:
    return SavedFile(saved.update, saved.hash, saved.digest, fence)
