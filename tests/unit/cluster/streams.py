"""Writing stream entries as a server does, for tests that read them back."""

from __future__ import annotations

from collections.abc import Sequence

from jupyter_ycollab.cluster.store import SERVER, RoomStore


async def publish(store: RoomStore, entries: Sequence[tuple[str, bytes]]) -> list[bytes]:
    """XADD each ``(kind, payload)`` in order as ``store``'s server, in the format publisher.py
    writes; their stream ids."""
    if not entries:
        return []
    pipe = store.redis.pipeline(transaction=False)  # one connection: the order is kept
    for kind, payload in entries:
        pipe.xadd(store.keys.updates, {SERVER: store.server_id.encode(), kind.encode(): payload})
    return list(await pipe.execute())
