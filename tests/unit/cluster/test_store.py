"""cluster/store.py against a real redis-server: the stream keeps order and the accepting server,
blocking reads wake on new entries, the state and the saved file refuse stale fences, a fold trims
the stream but never past its ``at``, and an idle room expires (but never its lease)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import redis
import redis.asyncio

from jupyter_ycollab.cluster.keys import RoomKeys
from jupyter_ycollab.cluster.store import Entry, RoomStore, SavedFile, SharedState, read_streams
from tests.client import wait_until
from tests.redisserver import RedisProcess

KEYS = RoomKeys.of("ns", "json", "notebook", "a.ipynb")
OTHER = RoomKeys.of("ns", "text", "file", "b.txt")


@pytest.fixture
def store(redis_client: redis.asyncio.Redis) -> RoomStore:
    return RoomStore(redis_client, KEYS, "s1")


async def take_fence(client: redis.asyncio.Redis, times: int = 1) -> int:
    """Move ``P:fence`` on, as changes of the lease's holder do."""
    fence = 0
    for _ in range(times):
        fence = int(await client.incr(KEYS.fence))
    return fence


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
    assert [e.id for e in await store.read_after(b"0-0", count=2)] == ids[:2]


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


async def test_create_state_only_once_and_only_with_the_current_fence(
    redis_client: redis.asyncio.Redis, store: RoomStore
) -> None:
    assert await store.state() is None
    fence = await take_fence(redis_client, 2)
    assert not await store.create_state(b"snap", "lineage-1", fence - 1)
    assert await store.state() is None
    assert await store.create_state(b"snap", "lineage-1", fence)
    assert not await store.create_state(b"other", "lineage-2", fence)
    assert await store.state() == SharedState(b"snap", b"0-0", "lineage-1")


async def test_create_state_before_any_lease_takes_fence_zero(store: RoomStore) -> None:
    assert await store.create_state(b"snap", "l", 0)
    assert await store.state() == SharedState(b"snap", b"0-0", "l")


async def redis_ms(client: redis.asyncio.Redis) -> int:
    seconds, micros = await client.time()
    return int(seconds) * 1000 + int(micros) // 1000


async def test_fold_trims_before_at_never_after(
    redis_client: redis.asyncio.Redis, store: RoomStore
) -> None:
    fence = await take_fence(redis_client)
    assert await store.create_state(b"empty", "l", fence)
    ids = await store.publish([("u", str(n).encode()) for n in range(5)])
    at = ids[2]
    # With keep_ms=0 the trim point is min(at, now): let Redis's clock pass the entries' ms.
    last_ms = int(ids[-1].split(b"-")[0])
    await wait_until(lambda: later(redis_client, last_ms), message="Redis's clock to move on")
    assert await store.fold(b"folded", at, fence, keep_ms=0)
    assert await store.state() == SharedState(b"folded", at, "l")
    assert [e.id for e in await store.read_after(b"0-0")] == ids[2:]


async def later(client: redis.asyncio.Redis, ms: int) -> bool:
    return await redis_ms(client) > ms


async def test_fold_keeps_the_last_minute(
    redis_client: redis.asyncio.Redis, store: RoomStore
) -> None:
    fence = await take_fence(redis_client)
    await store.create_state(b"empty", "l", fence)
    ids = await store.publish([("u", b"1"), ("u", b"2")])
    assert await store.fold(b"folded", ids[-1], fence)  # keep_ms=60_000: all are younger
    assert [e.id for e in await store.read_after(b"0-0")] == ids


async def test_fold_refused_with_a_stale_fence_an_older_at_or_no_state(
    redis_client: redis.asyncio.Redis, store: RoomStore
) -> None:
    ids = await store.publish([("u", b"1"), ("u", b"2")])
    assert not await store.fold(b"x", ids[0], 0, keep_ms=0)  # no state yet
    fence = await take_fence(redis_client)
    await store.create_state(b"empty", "l", fence)
    assert await store.fold(b"at-1", ids[1], fence)
    assert not await store.fold(b"at-0", ids[0], fence)  # `at` never moves back
    newer = await take_fence(redis_client)
    assert not await store.fold(b"stale", ids[1], fence, keep_ms=0)
    assert await store.state() == SharedState(b"at-1", ids[1], "l")
    assert len(await store.read_after(b"0-0")) == 2
    assert await store.fold(b"new", ids[1], newer)


async def test_record_saved_refuses_an_older_fence(
    redis_client: redis.asyncio.Redis, store: RoomStore
) -> None:
    assert await store.saved() is None
    assert await store.record_saved(SavedFile(b"v0", None, None, 0))
    assert await store.saved() == SavedFile(b"v0", None, None, 0)
    fence = await take_fence(redis_client, 3)
    assert not await store.record_saved(SavedFile(b"old", "h", "d", fence - 1))
    assert await store.saved() == SavedFile(b"v0", None, None, 0)
    assert await store.record_saved(SavedFile(b"v1", "hash-1", "sha256:1", fence))
    assert await store.saved() == SavedFile(b"v1", "hash-1", "sha256:1", fence)


async def test_expire_then_persist_every_key_but_the_lease(
    redis_client: redis.asyncio.Redis, store: RoomStore
) -> None:
    fence = await take_fence(redis_client)
    await store.publish([("u", b"1")])
    await store.create_state(b"s", "l", fence)
    await store.record_saved(SavedFile(b"u", "h", "d", fence))
    await redis_client.set(KEYS.lease, f"s1:{fence}", px=5000)
    others = [key for key in KEYS.all() if key != KEYS.lease]
    await store.expire(100)
    for key in others:
        assert 0 < await redis_client.pttl(key) <= 100_000, key
    assert await redis_client.pttl(KEYS.lease) <= 5000  # its own expiry, not the room's
    await store.persist()
    for key in others:
        assert await redis_client.pttl(key) == -1, key
    assert 0 < await redis_client.pttl(KEYS.lease) <= 5000


async def test_expired_room_is_gone(redis_client: redis.asyncio.Redis, store: RoomStore) -> None:
    await store.publish([("u", b"1")])
    await store.create_state(b"s", "l", 0)
    await store.expire(0.05)
    await wait_until(lambda: gone(redis_client), message="the room to expire")
    assert await store.state() is None


async def gone(client: redis.asyncio.Redis) -> bool:
    return not await client.exists(*KEYS.all())


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
    ids = await store.publish([("u", b"ours")])
    found = await store.read_after(b"0-0")
    assert found == [Entry(foreign, "", "", b""), Entry(ids[0], "s1", "u", b"ours")]
