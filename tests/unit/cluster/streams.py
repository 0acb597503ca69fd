"""Writing stream entries as a server does, for tests that read them back or fold them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis.asyncio
from pycrdt import Doc, Text

from jupyter_ycollab.cluster.entries import SERVER
from jupyter_ycollab.cluster.store import RoomStore
from tests.client import wait_until


async def publish(store: RoomStore, entries: Sequence[tuple[str, bytes]]) -> list[bytes]:
    """XADD each ``(kind, payload)`` in order as ``store``'s server, in the format publisher.py
    writes; their stream ids."""
    if not entries:
        return []
    pipe = store.redis.pipeline(transaction=False)  # one connection: the order is kept
    for kind, payload in entries:
        pipe.xadd(store.keys.updates, {SERVER: store.server_id.encode(), kind.encode(): payload})
    return list(await pipe.execute())


async def type_lines(store: RoomStore, doc: Doc[Any], lines: Sequence[str]) -> list[bytes]:
    """Each line typed at the end of ``doc``'s text and published as an update of its own;
    their ids, once Redis's clock is past them (a fold keeping 0 ms may then trim them all)."""
    text, ids = doc.get("source", type=Text), []
    for line in lines:
        before = doc.get_state()
        text += line
        ids += await publish(store, [("u", doc.get_update(before))])
    await clock_past(store.redis, ids[-1])
    return ids


async def clock_past(client: redis.asyncio.Redis, entry_id: bytes) -> None:
    """Wait until Redis's clock, the one stream ids come from, is past ``entry_id``'s ms."""
    entry_ms = int(entry_id.split(b"-")[0])

    async def past() -> bool:
        seconds, micros = await client.time()
        return int(seconds) * 1000 + int(micros) // 1000 > entry_ms

    await wait_until(past, message="Redis's clock to move on")
