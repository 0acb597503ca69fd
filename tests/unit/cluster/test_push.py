"""cluster/push.py against a real redis-server, no Jupyter server needed: an edit made while
the room was opened anew (Redis came back empty, another server began another history) is
refused with a clear error, and nothing of it reaches the new history's stream."""

from __future__ import annotations

import pytest
import redis.asyncio
from pycrdt import Doc, Text

from jupyter_ycollab.cluster.keys import RoomKeys
from jupyter_ycollab.cluster.push import edit, send
from jupyter_ycollab.cluster.store import RoomStore
from jupyter_ycollab.errors import ClusterBusy
from tests.redisserver import RedisProcess

TEXT = {"file_format": "text", "file_type": "file"}
KEYS = RoomKeys.of("", "text", "file", "todo.md")


async def share(client: redis.asyncio.Redis, content: str, lineage: str) -> None:
    """What a server does as it shares a room it loaded: the lease, then the state."""
    doc: Doc = Doc()
    doc.get("source", type=Text).insert(0, content)
    await client.set(KEYS.lease, "server:1")
    assert await RoomStore(client, KEYS, "server").create_state(
        doc.get_update(), lineage, "server:1"
    )


async def stream_kinds(client: redis.asyncio.Redis) -> list[bytes]:
    return [
        next(k for k in fields if k != b"s") for _id, fields in await client.xrange(KEYS.updates)
    ]


async def test_an_edit_lands_in_the_history_it_was_made_in(
    redis_server: RedisProcess, redis_client: redis.asyncio.Redis
) -> None:
    await share(redis_client, "- one\n", "first")
    async with edit(redis_server.url, "todo.md", **TEXT) as document:
        document.source += "- two\n"
    await send(redis_server.url, "todo.md", {"type": "notice"}, **TEXT)
    assert await stream_kinds(redis_client) == [b"u", b"m"]


async def test_an_edit_across_another_history_is_refused(
    redis_server: RedisProcess, redis_client: redis.asyncio.Redis
) -> None:
    await share(redis_client, "- one\n", "first")
    with pytest.raises(ClusterBusy, match="opened anew"):
        async with edit(redis_server.url, "todo.md", **TEXT) as document:
            await redis_client.flushall()  # Redis came back empty...
            await share(redis_client, "- one\n", "second")  # ...and a server began anew
            document.source += "- two\n"
    assert await stream_kinds(redis_client) == []
