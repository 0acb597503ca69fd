"""After Redis was down (or came back empty): a shared room's copy brought level with the
cluster's, both ways, by state vectors; or, when the cluster holds another history, its edits
carried into that one.

Each server kept serving its own peers meanwhile: its edits are in its update log and its outbox,
the others' in theirs. From the outage on, a room neither sends nor applies updates (``hold``):
Redis may come back empty, and another server may then load the file before this one shares its
copy again, starting another history (another session id) whose updates do not mix with ours.

- The same history: comparing state vectors with what Redis holds (the snapshot and the stream
  after it) tells each side what the other lacks; CRDT updates merge in any order, and one seen
  twice changes nothing, so nothing is lost or duplicated.
- Another history: it wins, since other servers' peers may be on it already. What this copy
  changed since its last save is merged into it as an outside change is (merge/threeway.py
  ``carried_over``), in updates of its own history; then this copy's room closes, its peers
  told their session ended (``1003``, reloadable), and opens again from the cluster's history.
  The servers that held the old history carry one at a time, what none carried (carrying.py).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from pycrdt import Doc

from ..codec.listeners import UpdateListeners
from ..codec.origins import Origin
from ..codec.updates import EMPTY_UPDATE, merged_update, replayed
from ..errors import UnknownSession, outcome_of
from .carrying import Carrying
from .keys import file_ids_key

if TYPE_CHECKING:
    from ..document.document import Document
    from .entries import SharedState
    from .shared import SharedRoom

log = logging.getLogger(__name__)


def hold(shared: SharedRoom) -> None:
    """Redis stopped answering: no update goes either way until ``level_with_cluster``."""
    shared.behind = True
    shared.outbox.hold()


async def level_with_cluster(shared: SharedRoom) -> None:
    """Apply what the cluster has and this copy lacks; publish what it lacks (or carry this
    copy's edits into the cluster's history). Redis errors propagate (the caller tries again
    later); ``shared.behind`` is cleared once done. Never twice at once: the reader (as Redis
    answers) and the keeper may both come, and two carries would bring the same edits twice."""
    if shared.doc is None or shared.retired or shared.levelling.locked():
        return
    async with shared.levelling:
        await _level(shared, shared.doc)
        if not shared.behind:  # Redis may have come back empty, and its map of file ids with it
            await record_file_id(shared)


async def record_file_id(shared: SharedRoom) -> None:
    """Lead this server's file id for the room's file to the room, for a page that a load
    balancer moves to another server (hooks.py ``name_room``)."""
    if (document := shared.document()) is not None:
        key = file_ids_key(shared.cluster.settings.namespace)
        await shared.cluster.redis.hset(key, document.file_id, shared.where.keys.prefix)


async def _level(shared: SharedRoom, doc: Doc[Any]) -> None:
    state = await shared.store.current()
    if state is None:  # Redis lost the room: the lease's next holder shares it again
        if await shared.lease.try_acquire():
            full, holder = doc.get_update(), shared.lease.value
            await shared.store.create_state(full, shared.lineage, holder, shared.where.path)
            shared.position, shared.behind = b"0-0", False
            shared.outbox.release(EMPTY_UPDATE)  # the state holds every update
        return
    if state.lineage != shared.lineage:
        await _carry_over(shared)
        return
    cluster = _cluster_copy(shared, state)
    UpdateListeners.of(doc).apply(cluster.get_update(doc.get_state()), Origin.CLUSTER)
    shared.outbox.release(doc.get_update(cluster.get_state()))
    shared.behind = False


def _cluster_copy(shared: SharedRoom, state: SharedState) -> Doc[Any]:
    """The document as the cluster holds it; the room's position moves to its end."""
    shared.position = state.end
    return replayed(state.updates)


async def _carry_over(shared: SharedRoom) -> None:
    """Publish, in the cluster's history, what this copy changed since its last save and no
    other server carried yet, then retire it. One server at a time (a turn in Redis), each
    carrying only what is not in the state of the old history carried before it: what two
    copies hold, the same items, lands once. Edits its peers make while that is published are
    carried too: the room retires only once a carried state is still the copy's own."""
    document, carrying = shared.document(), Carrying(shared.store, shared.lineage)
    if document is None or not await carrying.take_turn():
        return  # its room is being made, or another server carries: the keeper's next turn
    try:
        state, before = await shared.store.current(), await carrying.carried()
        if state is None or state.lineage == shared.lineage or _waits(shared, document, before):
            return
        log.warning(
            "%s holds another history in Redis (another server loaded the file while Redis "
            "came back empty): this server's edits are merged into it, and its peers reload",
            shared.store.keys.prefix,
        )
        carried = await _carry(shared, document, state, before)
        if carried is None:
            return  # another history again (or none): the keeper's next turn carries there
        await carrying.record(carried, shared.cluster.settings.idle_expiry)
    finally:
        await carrying.end_turn()
    _retire(shared)


def _waits(shared: SharedRoom, document: Document, carried: bytes | None) -> bool:
    """Whether this copy leaves the first turn to one whose base is the last save (what was saved
    since its older base would be doubled), for two lease terms at most: the writer may be gone."""
    if carried is not None or document.file.base_is_last_save():
        return False
    now = asyncio.get_running_loop().time()
    shared.carry_after = shared.carry_after or now + 2 * shared.lease.ttl
    return now < shared.carry_after


async def _carry(
    shared: SharedRoom, document: Document, state: SharedState, before: bytes | None
) -> bytes | None:
    """Carry the edits; the state of this copy's history now carried in all (with what was
    ``before``), or None if the cluster's history changed again meanwhile."""
    cluster, doc, since = _cluster_copy(shared, state), document.file.doc, None
    while True:
        seen, carried = doc.get_state(), doc.get_update()
        update = document.carried_into(cluster, since, before)  # since the save at first
        if update != EMPTY_UPDATE:
            if not await shared.store.publish_to(state.lineage, "u", update):
                return None
            cluster.apply_update(update)
        if doc.get_state() == seen:
            return carried if before is None else merged_update([before, carried])
        since = carried  # edits came while it was published: carried at the next turn


def _retire(shared: SharedRoom) -> None:
    """This copy is shared no more; its room closes now and opens again from the cluster."""
    shared.retired = True
    shared.leave_cluster()
    shared.outbox.release(EMPTY_UPDATE)  # awareness and control messages still go
    room = shared.awareness.room
    if room is not None:
        error = UnknownSession(room.session_id)
        code, reason = outcome_of(error).close_code, error.close_reason()
        for peer in tuple(room.peers):
            peer.close(code, reason)
        shared.cluster.retire_room(room)
