"""cluster/push.py against a real redis-server, no Jupyter server needed: an edit made while
the room was opened anew (Redis came back empty, another server began another history) is
refused with a clear error, and nothing of it reaches the new history's stream; an edit starts
from the whole document, though the writer folds the stream as it is read."""

from __future__ import annotations

import pytest
import redis.asyncio
from pycrdt import Doc, Text

from jupyter_ycollab.cluster.entries import SharedState
from jupyter_ycollab.cluster.keys import RoomKeys
from jupyter_ycollab.cluster.push import edit, send
from jupyter_ycollab.cluster.store import RoomStore
from jupyter_ycollab.errors import ClusterBusy
from tests.redisserver import RedisProcess
from tests.unit.cluster.streams import type_lines

TEXT = {"file_format": "text", "file_type": "file"}
KEYS = RoomKeys.of("", "text", "file", "todo.md")


async def share(client: redis.asyncio.Redis, content: str, lineage: str) -> None:
    """What a server does as it shares a room it loaded: the lease, then the state."""
    doc: Doc = Doc()
    doc.get("source", type=Text).insert(0, content)
    await client.set(KEYS.lease, "server:1")
    assert await RoomStore(client, KEYS, "server").create_state(
        doc.get_update(), lineage, "server:1", "todo.md"
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


async def test_an_edit_starts_from_every_update_though_the_writer_folds_as_it_reads(
    redis_server: RedisProcess, redis_client: redis.asyncio.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer folds the stream into the state, trimming it, just after a reader read the
    state and before it read the stream after that state's ``at``: the stream then lacks the
    first updates, and the later ones cannot apply without them (an empty document)."""
    await share(redis_client, "", "first")
    writer, doc = RoomStore(redis_client, KEYS, "server"), Doc()
    ids = await type_lines(writer, doc, ["- one\n", "- two\n", "- three\n"])
    read_state = RoomStore.state

    async def state_then_fold(store: RoomStore) -> SharedState | None:
        state = await read_state(store)
        assert await writer.fold(doc.get_update(), ids[-1], "server:1", keep_ms=0)
        return state

    monkeypatch.setattr(RoomStore, "state", state_then_fold)
    async with edit(redis_server.url, "todo.md", **TEXT) as document:
        assert document.source == "- one\n- two\n- three\n"
