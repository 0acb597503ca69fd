"""cluster/lease.py against a real redis-server: one holder at a time, a new fence at every change
of holder, renewal keeps it, expiry or release hands it over, a paused holder stops trusting it,
and a holder that lost it can neither renew it nor record a save with its old fence."""

from __future__ import annotations

import time
from collections.abc import Callable

import redis.asyncio

from jupyter_ycollab.cluster.keys import RoomKeys
from jupyter_ycollab.cluster.lease import Lease
from jupyter_ycollab.cluster.store import RoomStore, SavedFile
from tests.client import wait_until

KEYS = RoomKeys.of("ns", "text", "file", "a.txt")
TTL = 0.3


class Clock:
    """A clock the test moves by hand (what a paused process sees when it resumes)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def lease(
    client: redis.asyncio.Redis, server: str, clock: Callable[[], float] = time.monotonic
) -> Lease:
    return Lease(client, KEYS, server, TTL, clock)


async def test_only_one_acquires(redis_client: redis.asyncio.Redis) -> None:
    a, b = lease(redis_client, "a"), lease(redis_client, "b")
    assert await a.holder() is None
    assert await a.try_acquire()
    assert not await b.try_acquire()
    assert (a.fence, b.fence) == (1, None)
    assert a.held() and not b.held()
    assert await b.holder() == "a"
    assert await redis_client.get(KEYS.lease) == b"a:1"


async def test_try_acquire_while_held_renews_with_the_same_fence(
    redis_client: redis.asyncio.Redis,
) -> None:
    a = lease(redis_client, "a")
    assert await a.try_acquire()
    await redis_client.pexpire(KEYS.lease, 50)
    assert await a.try_acquire()
    assert a.fence == 1
    assert await redis_client.pttl(KEYS.lease) > 100


async def test_renewing_keeps_it_past_its_ttl(redis_client: redis.asyncio.Redis) -> None:
    a, b = lease(redis_client, "a"), lease(redis_client, "b")
    assert await a.try_acquire()
    for _ in range(9):  # three ttls, renewed every third of it
        await wait_until(lambda: aged(redis_client), message="a third of the ttl to pass")
        assert await a.renew()
        assert not await b.try_acquire()
    assert a.fence == 1 and await b.holder() == "a"


async def aged(client: redis.asyncio.Redis) -> bool:
    """The lease is a third of its ttl older than its last renewal."""
    return 0 < await client.pttl(KEYS.lease) <= TTL * 1000 * 2 / 3


async def test_the_other_takes_it_once_it_expired(redis_client: redis.asyncio.Redis) -> None:
    a, b = lease(redis_client, "a"), lease(redis_client, "b")
    assert await a.try_acquire()
    await wait_until(b.try_acquire, message="b to take the expired lease")
    assert b.fence == 2 and await a.holder() == "b"
    assert not await a.renew()
    assert a.fence is None and not a.held()
    await b.release()
    assert await a.try_acquire()
    assert a.fence == 3  # every change of holder is a new fence


async def test_release_hands_it_over_at_once(redis_client: redis.asyncio.Redis) -> None:
    a, b = lease(redis_client, "a"), lease(redis_client, "b")
    assert await a.try_acquire()
    await a.release()
    assert a.fence is None and await a.holder() is None
    assert await b.try_acquire()
    assert b.fence == 2
    await a.release()  # not ours: nothing happens
    assert await a.holder() == "b"


async def test_release_never_deletes_a_successors_lease(redis_client: redis.asyncio.Redis) -> None:
    a, b = lease(redis_client, "a"), lease(redis_client, "b")
    assert await a.try_acquire()
    await wait_until(b.try_acquire, message="b to take the expired lease")
    await a.release()  # a still believes it holds fence 1
    assert await a.holder() == "b" and b.held()


async def test_a_paused_holder_stops_trusting_it(redis_client: redis.asyncio.Redis) -> None:
    clock = Clock()
    a = lease(redis_client, "a", clock=clock)
    assert await a.try_acquire()
    clock.now += TTL * 0.6
    assert a.held() and await a.confirm()
    clock.now += TTL * 0.1  # now past two thirds of the ttl since the acquire
    assert not a.held()
    assert not await a.confirm()
    assert await a.renew()  # still ours in Redis: renewing restores trust
    assert a.held()


async def test_confirm_is_false_once_another_took_it(redis_client: redis.asyncio.Redis) -> None:
    clock = Clock()  # a's clock stands still: it believes it holds the lease
    a, b = lease(redis_client, "a", clock=clock), lease(redis_client, "b")
    assert await a.try_acquire()
    await wait_until(b.try_acquire, message="b to take the expired lease")
    assert a.held()
    assert not await a.confirm()
    assert a.fence is None and not a.held()


async def test_a_holder_whose_key_expired_cannot_renew(redis_client: redis.asyncio.Redis) -> None:
    a = lease(redis_client, "a")
    assert await a.try_acquire()
    await wait_until(lambda: free(redis_client), message="the lease to expire")
    assert not await a.renew()
    assert a.fence is None
    assert not await a.renew()
    assert await a.try_acquire()  # taking it again is a new fence
    assert a.fence == 2


async def free(client: redis.asyncio.Redis) -> bool:
    return not await client.exists(KEYS.lease)


async def test_the_old_holder_cannot_record_a_save(redis_client: redis.asyncio.Redis) -> None:
    clock = Clock()
    a, b = lease(redis_client, "a", clock=clock), lease(redis_client, "b")
    assert await a.try_acquire()
    old = a.fence
    assert old is not None
    await wait_until(b.try_acquire, message="b to take the expired lease")
    assert b.fence is not None
    store = RoomStore(redis_client, KEYS, "a")
    assert not await store.record_saved(SavedFile(b"stale", None, None, old), f"a:{old}")
    assert await store.record_saved(SavedFile(b"fresh", None, None, b.fence), b.value)


async def test_a_holder_that_steps_aside_leaves_it_to_the_others_for_two_terms(
    redis_client: redis.asyncio.Redis,
) -> None:
    """It may not write the file: another server takes the lease; with none, it takes it back
    after two terms; it steps aside once a minute at most (lease.py ``STEP_ASIDE_AGAIN``)."""
    clock = Clock()
    a = lease(redis_client, "a", clock)
    assert await a.try_acquire()
    assert a.step_aside()
    await a.release()
    clock.now += 2 * TTL - 0.01
    assert not await a.try_acquire(), "it took back the lease it had just stepped aside from"
    assert await redis_client.get(KEYS.lease) is None  # free for the others meanwhile
    clock.now += 0.02
    assert await a.try_acquire(), "nobody took it in two terms: it is this server's again"
    assert not a.step_aside(), "a second step aside within the minute: the save fails instead"
    clock.now += 60
    assert a.step_aside()
