"""cluster/store.py's stream against a real redis-server: entries keep their order and the
server that accepted them, the room is read as its state and the entries after it, a blocking
read wakes on a new entry from any of its streams (with a RESP2 or a RESP3 client), and a dead
Redis raises."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import redis
import redis.asyncio

from jupyter_ycollab.cluster.entries import Entry, SharedState
from jupyter_ycollab.cluster.keys import RoomKeys
from jupyter_ycollab.cluster.store import RoomStore, read_streams
from tests.client import wait_until
from tests.redisserver import RedisProcess
from tests.unit.cluster.streams import publish

KEYS = RoomKeys.of("ns", "json", "notebook", "a.ipynb")
OTHER = RoomKeys.of("ns", "text", "file", "b.txt")


@pytest.fixture
async def store(redis_client: redis.asyncio.Redis) -> RoomStore:
    """The room of server "s1", shared: its lease, and its state at ``0-0``."""
    return await shared_room(RoomStore(redis_client, KEYS, "s1"))


async def shared_room(store: RoomStore) -> RoomStore:
    await store.redis.set(store.keys.lease, "s1:1")
    assert await store.create_state(b"snapshot", "l", "s1:1", "a.ipynb")
    return store


async def entries(store: RoomStore) -> list[Entry]:
    """The entries after the state's ``at``: the whole stream, unless the test folded it."""
    current = await store.current()
    assert current is not None
    return list(current.entries)


async def test_publish_then_read_in_order(store: RoomStore) -> None:
    sent = [("u", b"one"), ("a", b"two"), ("c", b""), ("u", b"\x00\xff")]
    ids = await publish(store, sent)
    assert len(ids) == 4 and ids == sorted(ids, key=lambda i: tuple(map(int, i.split(b"-"))))
    found = await entries(store)
    expected = [Entry(i, "s1", kind, data) for i, (kind, data) in zip(ids, sent, strict=True)]
    assert found == expected
    assert await publish(store, []) == []


async def test_the_room_is_its_state_and_the_entries_after_it(store: RoomStore) -> None:
    ids = await publish(store, [("u", b"1"), ("u", b"2"), ("u", b"3")])
    assert await store.fold(b"holds 1", ids[0], "s1:1")  # the last minute is kept in the stream
    after = (Entry(ids[1], "s1", "u", b"2"), Entry(ids[2], "s1", "u", b"3"))
    assert await store.current() == SharedState(b"holds 1", ids[0], "l", after)
    assert await store.fold(b"holds all", ids[2], "s1:1")
    assert await store.current() == SharedState(b"holds all", ids[2], "l")


async def test_entries_name_the_server_that_accepted_them(
    redis_client: redis.asyncio.Redis, store: RoomStore
) -> None:
    await publish(RoomStore(redis_client, KEYS, "s2"), [("u", b"theirs")])
    await publish(store, [("u", b"ours")])
    assert [(e.server, e.payload) for e in await entries(store)] == [
        ("s2", b"theirs"),
        ("s1", b"ours"),
    ]


async def test_read_streams_returns_what_is_there_from_two_streams(
    redis_client: redis.asyncio.Redis, store: RoomStore
) -> None:
    other = RoomStore(redis_client, OTHER, "s2")
    first = await publish(store, [("u", b"a1")])
    await publish(store, [("u", b"a2"), ("a", b"a3")])
    await publish(other, [("u", b"b1")])
    found = await read_streams(redis_client, {KEYS.updates: first[0], OTHER.updates: b"0-0"}, 1000)
    assert sorted((key, e.payload) for key, e in found) == [
        (KEYS.updates, b"a2"),
        (KEYS.updates, b"a3"),
        (OTHER.updates, b"b1"),
    ]
    assert [e.kind for key, e in found if key == KEYS.updates] == ["u", "a"]


async def test_read_streams_blocks_until_an_entry_comes(
    redis_client: redis.asyncio.Redis, redis_server: RedisProcess
) -> None:
    reader = redis.asyncio.Redis.from_url(redis_server.url)
    positions = {KEYS.updates: b"0-0", OTHER.updates: b"0-0"}
    try:
        task = asyncio.create_task(read_streams(reader, positions, block_ms=10_000))
        await wait_until(
            lambda: blocked_clients(redis_client, 1), message="the reader to block in XREAD"
        )
        assert not task.done()
        ids = await publish(RoomStore(redis_client, OTHER, "s2"), [("u", b"late")])
        found = await asyncio.wait_for(task, 5)
        assert found == [(OTHER.updates, Entry(ids[0], "s2", "u", b"late"))]
    finally:
        await reader.aclose()


async def blocked_clients(client: redis.asyncio.Redis, count: int) -> bool:
    return int((await client.info("clients"))["blocked_clients"]) == count


async def test_read_streams_times_out_empty(redis_client: redis.asyncio.Redis) -> None:
    assert await read_streams(redis_client, {KEYS.updates: b"0-0"}, block_ms=50) == []


async def test_publish_raises_when_redis_dies_and_works_once_it_is_back(tmp_path: Path) -> None:
    server = RedisProcess(tmp_path / "redis")
    server.start()
    client = redis.asyncio.Redis.from_url(server.url)
    try:
        store = await shared_room(RoomStore(client, KEYS, "s1"))
        assert len(await publish(store, [("u", b"1")])) == 1
        server.kill()
        with pytest.raises((redis.RedisError, OSError)):
            await publish(store, [("u", b"2")])
        server.start()
        assert await store.current() is None  # no persistence
        assert await client.xrange(KEYS.updates) == []
        assert len(await publish(store, [("u", b"3")])) == 1
    finally:
        await client.aclose()
        server.stop()


async def test_an_entry_we_cannot_read_has_no_kind_but_keeps_its_id(
    redis_client: redis.asyncio.Redis, store: RoomStore
) -> None:
    foreign = await redis_client.xadd(KEYS.updates, {b"x": b"1", b"y": b"2"})
    assert isinstance(foreign, bytes)
    ids = await publish(store, [("u", b"ours")])
    found = await entries(store)
    assert found == [Entry(foreign, "", "", b""), Entry(ids[0], "s1", "u", b"ours")]


async def test_read_streams_with_a_resp3_client(
    redis_client: redis.asyncio.Redis, redis_server: RedisProcess
) -> None:
    resp3 = redis.asyncio.Redis.from_url(redis_server.url, protocol=3)
    try:
        store = await shared_room(RoomStore(resp3, KEYS, "s3"))
        ids = await publish(store, [("u", b"1"), ("a", b"2")])
        found = await read_streams(resp3, {KEYS.updates: b"0-0", OTHER.updates: b"0-0"}, 1000)
        assert found == [
            (KEYS.updates, Entry(ids[0], "s3", "u", b"1")),
            (KEYS.updates, Entry(ids[1], "s3", "a", b"2")),
        ]
        assert await read_streams(resp3, {KEYS.updates: ids[1]}, block_ms=20) == []
        assert await store.fold(b"holds 1", ids[0], "s1:1")
        assert await store.current() == SharedState(b"holds 1", ids[0], "l", (found[1][1],))
    finally:
        await resp3.aclose()
