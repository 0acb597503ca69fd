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
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from pycrdt import Doc

from ..codec.listeners import UpdateListeners
from ..codec.origins import Origin
from ..codec.updates import EMPTY_UPDATE, replayed
from ..errors import UnknownSession, outcome_of

if TYPE_CHECKING:
    from .shared import SharedRoom
    from .store import SharedState

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


async def _level(shared: SharedRoom, doc: Doc[Any]) -> None:
    state = await shared.store.state()
    if state is None:  # Redis lost the room: the lease's next holder shares it again
        if await shared.lease.try_acquire():
            await shared.store.create_state(doc.get_update(), shared.lineage, shared.lease.value)
            shared.position, shared.behind = b"0-0", False
            shared.outbox.release(EMPTY_UPDATE)  # the state holds every update
        return
    if state.lineage != shared.lineage:
        await _carry_over(shared, state)
        return
    cluster = await _cluster_copy(shared, state)
    UpdateListeners.of(doc).apply(cluster.get_update(doc.get_state()), Origin.CLUSTER)
    shared.outbox.release(doc.get_update(cluster.get_state()))
    shared.behind = False


async def _cluster_copy(shared: SharedRoom, state: SharedState) -> Doc[Any]:
    """The document as the cluster holds it; the room's position moves to its end."""
    entries = await shared.store.read_after(state.at)
    updates = [state.snapshot, *(entry.payload for entry in entries if entry.kind == "u")]
    shared.position = entries[-1].id if entries else state.at
    return replayed(updates)


async def _carry_over(shared: SharedRoom, state: SharedState) -> None:
    """Publish, in the cluster's history, what this copy changed since its last save, then
    retire it. Edits its peers make while that is published are carried too: the room
    retires only once a carried state is still the copy's own."""
    document = shared.document()
    if document is None:  # its room is still being made: the keeper's next turn does it
        return
    log.warning(
        "%s holds another history in Redis (another server loaded the file while Redis came "
        "back empty): this server's edits are merged into it, and its peers reload",
        shared.store.keys.prefix,
    )
    cluster, doc, since = await _cluster_copy(shared, state), document.file.doc, None
    while True:
        seen, carried = doc.get_state(), doc.get_update()
        update = document.file.carried_into(cluster, since)  # since the last save at first
        if update != EMPTY_UPDATE:
            if not await shared.store.publish_to(state.lineage, "u", update):
                return  # another history again (or none): the keeper's next turn carries there
            cluster.apply_update(update)
        if doc.get_state() == seen:
            break
        since = carried  # edits came while it was published: carried at the next turn
    _retire(shared)


def _retire(shared: SharedRoom) -> None:
    """This copy is shared no more; its room closes now and opens again from the cluster."""
    shared.retired = True
    shared.leave_cluster()
    shared.outbox.release(EMPTY_UPDATE)  # awareness and control messages still go
    room = shared.room
    if room is not None:
        error = UnknownSession(room.session_id)
        code, reason = outcome_of(error).close_code, error.close_reason()
        for peer in tuple(room.peers):
            peer.close(code, reason)
        shared.cluster.retire_room(room)
