"""cluster/store.py's stream against a real redis-server: entries keep their order and the
server that accepted them, reads exclude the id they start after, a blocking read wakes on a new
entry from any of its streams (with a RESP2 or a RESP3 client), and a dead Redis raises."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import redis
import redis.asyncio

from jupyter_ycollab.cluster.keys import RoomKeys
from jupyter_ycollab.cluster.store import Entry, RoomStore, read_streams
from tests.client import wait_until
from tests.redisserver import RedisProcess

KEYS = RoomKeys.of("ns", "json", "notebook", "a.ipynb")
OTHER = RoomKeys.of("ns", "text", "file", "b.txt")


@pytest.fixture
def store(redis_client: redis.asyncio.Redis) -> RoomStore:
    return RoomStore(redis_client, KEYS, "s1")


async def test_publish_then_read_after_in_order(store: RoomStore) -> None:
    sent = [("u", b"one"), ("a", b"two"), ("c", b""), ("u", b"\x00\xff")]
    ids = await store.publish(sent)
    assert len(ids) == 4 and ids == sorted(ids, key=lambda i: tuple(map(int, i.split(b"-"))))
    found = await store.read_after(b"0-0")
    expected = [Entry(i, "s1", kind, data) for i, (kind, data) in zip(ids, sent, strict=True)]
    assert found == expected
    assert await store.publish([]) == []


async def test_read_after_excludes_that_id(store: RoomStore) -> None:
    ids = await store.publish([("u", b"1"), ("u", b"2"), ("u", b"3")])
    assert [e.payload for e in await store.read_after(ids[0])] == [b"2", b"3"]
    assert await store.read_after(ids[2]) == []


async def test_entries_name_the_server_that_accepted_them(
    redis_client: redis.asyncio.Redis, store: RoomStore
) -> None:
    await RoomStore(redis_client, KEYS, "s2").publish([("u", b"theirs")])
    await store.publish([("u", b"ours")])
    assert [(e.server, e.payload) for e in await store.read_after(b"0-0")] == [
        ("s2", b"theirs"),
        ("s1", b"ours"),
    ]


async def test_read_streams_returns_what_is_there_from_two_streams(
    redis_client: redis.asyncio.Redis, store: RoomStore
) -> None:
    other = RoomStore(redis_client, OTHER, "s2")
    first = await store.publish([("u", b"a1")])
    await store.publish([("u", b"a2"), ("a", b"a3")])
    await other.publish([("u", b"b1")])
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
        ids = await RoomStore(redis_client, OTHER, "s2").publish([("u", b"late")])
        found = await asyncio.wait_for(task, 5)
        assert found == [(OTHER.updates, Entry(ids[0], "s2", "u", b"late"))]
    finally:
        await reader.aclose()


async def blocked_clients(client: redis.asyncio.Redis, count: int) -> bool:
    return int((await client.info("clients"))["blocked_clients"]) == count


async def test_read_streams_times_out_empty(redis_client: redis.asyncio.Redis) -> None:
    assert await read_streams(redis_client, {KEYS.updates: b"0-0"}, block_ms=50) == []
    assert await read_streams(redis_client, {}, block_ms=10) == []


async def test_publish_raises_when_redis_dies_and_works_once_it_is_back(tmp_path: Path) -> None:
    server = RedisProcess(tmp_path / "redis")
    server.start()
    client = redis.asyncio.Redis.from_url(server.url)
    try:
        store = RoomStore(client, KEYS, "s1")
        assert len(await store.publish([("u", b"1")])) == 1
        server.kill()
        with pytest.raises((redis.RedisError, OSError)):
            await store.publish([("u", b"2")])
        server.start()
        assert [e.payload for e in await store.read_after(b"0-0")] == []  # no persistence
        assert len(await store.publish([("u", b"3")])) == 1
    finally:
        await client.aclose()
        server.stop()


async def test_an_entry_we_cannot_read_has_no_kind_but_keeps_its_id(
    redis_client: redis.asyncio.Redis, store: RoomStore
) -> None:
    foreign = await redis_client.xadd(KEYS.updates, {b"x": b"1", b"y": b"2"})
    assert isinstance(foreign, bytes)
    ids = await store.publish([("u", b"ours")])
    found = await store.read_after(b"0-0")
    assert found == [Entry(foreign, "", "", b""), Entry(ids[0], "s1", "u", b"ours")]


async def test_read_streams_with_a_resp3_client(
    redis_client: redis.asyncio.Redis, redis_server: RedisProcess
) -> None:
    resp3 = redis.asyncio.Redis.from_url(redis_server.url, protocol=3)
    try:
        ids = await RoomStore(resp3, KEYS, "s3").publish([("u", b"1"), ("a", b"2")])
        found = await read_streams(resp3, {KEYS.updates: b"0-0", OTHER.updates: b"0-0"}, 1000)
        assert found == [
            (KEYS.updates, Entry(ids[0], "s3", "u", b"1")),
            (KEYS.updates, Entry(ids[1], "s3", "a", b"2")),
        ]
        assert await read_streams(resp3, {KEYS.updates: ids[1]}, block_ms=20) == []
        assert await RoomStore(resp3, KEYS, "s3").read_after(ids[0]) == [found[1][1]]
    finally:
        await resp3.aclose()
