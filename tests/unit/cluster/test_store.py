"""cluster/store.py's shared state against a real redis-server: the state and the saved file
are written only by the lease's holder (not by a server with a stale or a repeated fence), a
fold trims the stream but never past its ``at``, and an idle room expires (but never its lease,
which keeps its own expiry)."""

from __future__ import annotations

import pytest
import redis.asyncio

from jupyter_ycollab.cluster.entries import SharedState
from jupyter_ycollab.cluster.keys import RoomKeys
from jupyter_ycollab.cluster.store import RoomStore, SavedFile
from tests.client import wait_until
from tests.unit.cluster.streams import clock_past, publish

KEYS = RoomKeys.of("ns", "json", "notebook", "a.ipynb")


@pytest.fixture
def store(redis_client: redis.asyncio.Redis) -> RoomStore:
    return RoomStore(redis_client, KEYS, "s1")


async def hold_lease(client: redis.asyncio.Redis, server: str = "s1") -> tuple[int, str]:
    """Take the lease as lease.py does (a new fence; the lease's value names its holder): the
    fence and the value."""
    fence = int(await client.incr(KEYS.fence))
    holder = f"{server}:{fence}"
    await client.set(KEYS.lease, holder, px=60_000)
    return fence, holder


async def test_create_state_only_once_and_only_by_the_holder(
    redis_client: redis.asyncio.Redis, store: RoomStore
) -> None:
    assert await store.state() is None
    assert not await store.create_state(
        b"snap", "lineage-1", "s1:1", "a.ipynb"
    )  # nobody holds the lease
    fence, holder = await hold_lease(redis_client)
    assert not await store.create_state(b"snap", "lineage-1", f"s1:{fence - 1}", "a.ipynb")
    assert not await store.create_state(b"snap", "lineage-1", f"s2:{fence}", "a.ipynb")
    assert await store.state() is None
    assert await store.create_state(b"snap", "lineage-1", holder, "a.ipynb")
    assert not await store.create_state(b"other", "lineage-2", holder, "a.ipynb")
    assert await store.state() == SharedState(b"snap", b"0-0", "lineage-1")


async def test_fold_trims_before_at_never_after(
    redis_client: redis.asyncio.Redis, store: RoomStore
) -> None:
    _fence, holder = await hold_lease(redis_client)
    assert await store.create_state(b"empty", "l", holder, "a.ipynb")
    ids = await publish(store, [("u", str(n).encode()) for n in range(5)])
    at = ids[2]
    await clock_past(redis_client, ids[-1])  # with keep_ms=0 the trim point is min(at, now)
    assert await store.fold(b"folded", at, holder, keep_ms=0)
    assert await store.state() == SharedState(b"folded", at, "l")
    assert [entry_id for entry_id, _ in await redis_client.xrange(KEYS.updates)] == ids[2:]


async def test_fold_keeps_the_last_minute(
    redis_client: redis.asyncio.Redis, store: RoomStore
) -> None:
    _fence, holder = await hold_lease(redis_client)
    await store.create_state(b"empty", "l", holder, "a.ipynb")
    ids = await publish(store, [("u", b"1"), ("u", b"2")])
    assert await store.fold(b"folded", ids[-1], holder)  # keep_ms=60_000: all are younger
    assert [entry_id for entry_id, _ in await redis_client.xrange(KEYS.updates)] == ids


async def test_fold_refused_to_a_former_holder_with_an_older_at_or_no_state(
    redis_client: redis.asyncio.Redis, store: RoomStore
) -> None:
    ids = await publish(store, [("u", b"1"), ("u", b"2")])
    _fence, holder = await hold_lease(redis_client)
    assert not await store.fold(b"x", ids[0], holder, keep_ms=0)  # no state yet
    await store.create_state(b"empty", "l", holder, "a.ipynb")
    assert await store.fold(b"at-1", ids[1], holder)
    assert not await store.fold(b"at-0", ids[0], holder)  # `at` never moves back
    _newer, successor = await hold_lease(redis_client, "s2")
    assert not await store.fold(b"stale", ids[1], holder, keep_ms=0)
    assert await store.state() == SharedState(b"at-1", ids[1], "l")
    assert await redis_client.xlen(KEYS.updates) == 2
    assert await store.fold(b"new", ids[1], successor)


async def test_record_saved_only_by_the_holder_never_going_back(
    redis_client: redis.asyncio.Redis, store: RoomStore
) -> None:
    assert await store.saved() is None
    assert not await store.record_saved(SavedFile(b"v0", None, None, 1), "s1:1")  # no lease
    fence, holder = await hold_lease(redis_client)
    assert await store.record_saved(SavedFile(b"v1", "hash-1", "sha256:1", fence), holder)
    assert await store.saved() == SavedFile(b"v1", "hash-1", "sha256:1", fence)
    assert not await store.record_saved(SavedFile(b"old", "h", "d", fence - 1), holder)
    assert not await store.record_saved(SavedFile(b"other", "h", "d", fence), f"s2:{fence}")
    assert await store.saved() == SavedFile(b"v1", "hash-1", "sha256:1", fence)


async def test_a_save_begun_is_recorded_by_the_holder_until_its_save_is(
    redis_client: redis.asyncio.Redis, store: RoomStore
) -> None:
    """The writer records the digest of what it is about to write: a writer after it, if it
    died before recording that save, tells the file holding it from an outside change."""
    fence, holder = await hold_lease(redis_client)
    assert await store.record_saved(SavedFile(b"v1", "hash-1", "sha256:1", fence), holder)
    assert not await store.record_saving("sha256:2", f"s2:{fence}")  # not the lease's holder
    assert await store.record_saving("sha256:2", holder)
    assert await store.saved() == SavedFile(b"v1", "hash-1", "sha256:1", fence, "sha256:2")
    assert await store.record_saved(SavedFile(b"v2", "hash-2", "sha256:2", fence), holder)
    assert await store.saved() == SavedFile(b"v2", "hash-2", "sha256:2", fence)


async def test_a_write_from_before_redis_came_back_empty_is_refused(
    redis_client: redis.asyncio.Redis, store: RoomStore
) -> None:
    """Redis restarted without its data: fences count from 1 again, so the old holder's token
    is the new holder's too. A fold or a save record the old holder sent before the restart
    (redis-py sends it again on a new connection) must not replace what the new one shared:
    the other history would be taken for this one."""
    old_fence, old_holder = await hold_lease(redis_client, "old")
    await store.create_state(b"old history", "old-lineage", old_holder, "a.ipynb")
    await redis_client.flushall()
    fence, holder = await hold_lease(redis_client, "new")
    assert fence == old_fence  # the token repeats; the holder's value does not
    assert await store.create_state(b"new history", "new-lineage", holder, "a.ipynb")
    assert await store.record_saved(SavedFile(b"new file", "h2", "d2", fence), holder)
    at = (await publish(store, [("u", b"1")]))[0]
    assert not await store.fold(b"old history, later", at, old_holder)
    assert not await store.record_saved(SavedFile(b"old file", "h1", "d1", old_fence), old_holder)
    assert await store.state() == SharedState(b"new history", b"0-0", "new-lineage")
    assert await store.saved() == SavedFile(b"new file", "h2", "d2", fence)


async def test_expire_every_key_but_the_lease_and_the_fence(
    redis_client: redis.asyncio.Redis, store: RoomStore
) -> None:
    fence, holder = await hold_lease(redis_client)
    await publish(store, [("u", b"1")])
    await store.create_state(b"s", "l", holder, "a.ipynb")
    await store.record_saved(SavedFile(b"u", "h", "d", fence), holder)
    await redis_client.set(KEYS.lease, holder, px=5000)
    others = [key for key in KEYS.all() if key not in (KEYS.lease, KEYS.fence)]
    await store.expire(100)
    for key in others:
        assert 0 < await redis_client.pttl(key) <= 100_000, key
    assert await redis_client.pttl(KEYS.lease) <= 5000  # its own expiry, not the room's
    assert await redis_client.pttl(KEYS.fence) == -1  # never restarts at 1: see store.py


async def test_expired_room_is_gone(redis_client: redis.asyncio.Redis, store: RoomStore) -> None:
    await publish(store, [("u", b"1")])
    await store.create_state(b"s", "l", (await hold_lease(redis_client))[1], "a.ipynb")
    await store.expire(0.05)
    await wait_until(lambda: gone(redis_client), message="the room to expire")
    assert await store.state() is None


async def gone(client: redis.asyncio.Redis) -> bool:
    """The room's keys are gone (its lease and fence keep their own expiry: see above)."""
    return not await client.exists(*(k for k in KEYS.all() if k not in (KEYS.lease, KEYS.fence)))
