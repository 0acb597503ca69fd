"""cluster/store.py's shared state against a real redis-server: the state and the saved file
refuse stale fences, a fold trims the stream but never past its ``at``, and an idle room expires
(but never its lease, which keeps its own expiry)."""

from __future__ import annotations

import pytest
import redis.asyncio

from jupyter_ycollab.cluster.keys import RoomKeys
from jupyter_ycollab.cluster.store import RoomStore, SavedFile, SharedState
from tests.client import wait_until

KEYS = RoomKeys.of("ns", "json", "notebook", "a.ipynb")


@pytest.fixture
def store(redis_client: redis.asyncio.Redis) -> RoomStore:
    return RoomStore(redis_client, KEYS, "s1")


async def take_fence(client: redis.asyncio.Redis, times: int = 1) -> int:
    """Move ``P:fence`` on, as changes of the lease's holder do."""
    fence = 0
    for _ in range(times):
        fence = int(await client.incr(KEYS.fence))
    return fence


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


async def test_expire_every_key_but_the_lease_and_the_fence(
    redis_client: redis.asyncio.Redis, store: RoomStore
) -> None:
    fence = await take_fence(redis_client)
    await store.publish([("u", b"1")])
    await store.create_state(b"s", "l", fence)
    await store.record_saved(SavedFile(b"u", "h", "d", fence))
    await redis_client.set(KEYS.lease, f"s1:{fence}", px=5000)
    others = [key for key in KEYS.all() if key not in (KEYS.lease, KEYS.fence)]
    await store.expire(100)
    for key in others:
        assert 0 < await redis_client.pttl(key) <= 100_000, key
    assert await redis_client.pttl(KEYS.lease) <= 5000  # its own expiry, not the room's
    assert await redis_client.pttl(KEYS.fence) == -1  # never restarts at 1: see store.py


async def test_expired_room_is_gone(redis_client: redis.asyncio.Redis, store: RoomStore) -> None:
    await store.publish([("u", b"1")])
    await store.create_state(b"s", "l", 0)
    await store.expire(0.05)
    await wait_until(lambda: gone(redis_client), message="the room to expire")
    assert await store.state() is None


async def gone(client: redis.asyncio.Redis) -> bool:
    return not await client.exists(*(key for key in KEYS.all() if key != KEYS.fence))
