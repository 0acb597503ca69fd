"""After Redis was down (or came back empty): a shared room's copy brought level with the
cluster's, both ways, by state vectors.

Each server kept serving its own peers meanwhile: its edits are in its update log and its outbox,
the others' in theirs. Comparing state vectors with what Redis holds (the snapshot and the stream
after it) tells each side what the other lacks; CRDT updates merge in any order, and one seen
twice changes nothing, so nothing is lost or duplicated.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from pycrdt import Doc

from ..codec.listeners import UpdateListeners
from ..codec.origins import Origin
from ..codec.updates import EMPTY_UPDATE

if TYPE_CHECKING:
    from .shared import SharedRoom

log = logging.getLogger(__name__)


async def level_with_cluster(shared: SharedRoom) -> None:
    """Apply what the cluster has and this copy lacks; publish what it lacks. Redis errors
    propagate (the caller tries again later); ``shared.behind`` is cleared once done."""
    doc = shared.doc
    if doc is None:
        return
    state = await shared.store.state()
    if state is None:  # Redis lost the room: the lease's next holder shares it again
        fence = shared.lease.fence if await shared.lease.try_acquire() else None
        if fence is not None:
            await shared.store.create_state(doc.get_update(), shared.lineage, fence)
            shared.position, shared.behind = b"0-0", False
        return
    if state.lineage != shared.lineage:
        log.error("%s holds another history in Redis: not merged", shared.store.keys.prefix)
        return
    entries = await shared.store.read_after(state.at)
    cluster: Doc[Any] = Doc()
    for update in [state.snapshot, *(entry.payload for entry in entries if entry.kind == "u")]:
        cluster.apply_update(update)
    shared.position = entries[-1].id if entries else state.at
    UpdateListeners.of(doc).apply(cluster.get_update(doc.get_state()), Origin.CLUSTER)
    missing = doc.get_update(cluster.get_state())
    if missing != EMPTY_UPDATE:
        shared.outbox.put("u", missing)
    shared.behind = False
