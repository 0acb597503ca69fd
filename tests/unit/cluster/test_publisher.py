"""The publisher and the outboxes against a real redis-server: entries reach each room's stream
in order, are written before the event loop turns, and none is lost when Redis dies and comes
back (some may arrive twice, which costs nothing)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, cast

import redis
import redis.asyncio
from redis.exceptions import RedisError

from jupyter_ycollab.cluster.outbox import Outbox
from jupyter_ycollab.cluster.publisher import Publisher
from tests.client import wait_until
from tests.redisserver import RedisProcess

if TYPE_CHECKING:
    from jupyter_ycollab.cluster.cluster import Cluster

SERVER_ID = "host:1:test"


class _ClusterStandIn:
    """What the publisher asks of its cluster: the server's id, Redis's errors, and where to
    report them."""

    errors = (RedisError, OSError)
    server_id = SERVER_ID

    def __init__(self) -> None:
        self.troubles: list[BaseException] = []

    def trouble(self, error: BaseException) -> None:
        self.troubles.append(error)


def _publisher(client: redis.asyncio.Redis) -> tuple[Publisher, _ClusterStandIn]:
    cluster = _ClusterStandIn()
    return Publisher(cast("Cluster", cluster), client), cluster


def _payloads(client: redis.Redis, key: str) -> list[bytes]:
    return [fields[b"u"] for _id, fields in client.xrange(key)]


async def test_entries_reach_each_rooms_stream_in_order(redis_server: RedisProcess) -> None:
    client = redis.asyncio.Redis.from_url(redis_server.url)
    publisher, cluster = _publisher(client)
    first, second = Outbox(publisher, "test:first"), Outbox(publisher, "test:second")
    for number in range(50):
        first.put("u", b"first %d" % number)
        second.put("u", b"second %d" % number)
    assert await first.flush() and await second.flush()
    reader = redis.Redis.from_url(redis_server.url)
    assert _payloads(reader, "test:first") == [b"first %d" % n for n in range(50)]
    assert _payloads(reader, "test:second") == [b"second %d" % n for n in range(50)]
    entry_fields = reader.xrange("test:first", count=1)[0][1]
    assert entry_fields == {b"s": SERVER_ID.encode(), b"u": b"first 0"}
    assert not cluster.troubles
    await publisher.stop()
    await client.aclose()


async def test_an_entry_is_on_its_way_before_the_event_loop_turns(
    redis_server: RedisProcess,
) -> None:
    client = redis.asyncio.Redis.from_url(redis_server.url)
    publisher, _cluster = _publisher(client)
    outbox = Outbox(publisher, "test:at-once")
    outbox.put("u", b"connect")
    assert await outbox.flush()  # connected from here on
    outbox.put("u", b"at once")
    # A blocking read from another connection, with this event loop held: it finds the entry
    # only if ``put`` wrote it to Redis itself, not a task that would run later.
    reader = redis.Redis.from_url(redis_server.url)
    found = reader.xread({"test:at-once": b"0-0"}, block=2000)
    assert [fields[b"u"] for _id, fields in found[0][1]] == [b"connect", b"at once"]
    assert await outbox.flush()
    await publisher.stop()
    await client.aclose()


async def test_what_was_put_while_redis_was_down_reaches_it_when_it_is_back(
    tmp_path: Path,
) -> None:
    server = RedisProcess(tmp_path / "redis")
    server.start()
    client = redis.asyncio.Redis.from_url(server.url)
    publisher, cluster = _publisher(client)
    outbox = Outbox(publisher, "test:outage")
    try:
        outbox.put("u", b"before")
        assert await outbox.flush()
        server.kill()
        for number in range(20):
            outbox.put("u", b"during %d" % number)
        assert not await outbox.flush()  # not confirmed while Redis is away
        await wait_until(lambda: bool(cluster.troubles), timeout=10)
        server.start()  # empty: nothing persisted
        assert await wait_until_flushed(outbox)
        during = [b"during %d" % number for number in range(20)]
        payloads = _payloads(redis.Redis.from_url(server.url), "test:outage")
        # Each one there, in order; one written to the dead connection may be there twice.
        assert list(dict.fromkeys(payloads)) == during
    finally:
        await publisher.stop()
        await client.aclose()
        server.stop()


async def wait_until_flushed(outbox: Outbox) -> bool:
    for _attempt in range(10):  # each flush waits up to 2 s: 20 s in all
        if await outbox.flush():
            return True
    return False


async def test_a_held_outbox_sends_nothing_until_released_and_then_one_update_for_its_updates(
    redis_server: RedisProcess,
) -> None:
    """From an outage until the room levelled (cluster/reconcile.py), the stream may be another
    history's: nothing is written, even once the publisher is connected. On release, the kept
    updates give way to the one update the room computed (it holds them); the rest goes."""
    client = redis.asyncio.Redis.from_url(redis_server.url)
    publisher, _cluster = _publisher(client)
    outbox = Outbox(publisher, "test:held")
    outbox.put("u", b"connects the publisher")
    assert await outbox.flush()
    outbox.hold()
    for entry in [("u", b"kept 1"), ("a", b"awareness"), ("u", b"kept 2"), ("c", b"control")]:
        outbox.put(*entry)
    assert not await outbox.flush()  # waited: nothing was written
    reader = redis.Redis.from_url(redis_server.url)
    assert reader.xlen("test:held") == 1
    outbox.release(b"what the cluster lacks")
    assert await outbox.flush()
    entries = [
        {k: v for k, v in fields.items() if k != b"s"} for _id, fields in reader.xrange("test:held")
    ]
    assert entries[1:] == [
        {b"u": b"what the cluster lacks"},
        {b"a": b"awareness"},
        {b"c": b"control"},
    ]
    await publisher.stop()
    await client.aclose()


async def test_stopping_while_it_connects_ends(redis_server: RedisProcess) -> None:
    """redis-py's ``connect`` may swallow a cancellation: a publisher stopped (or made to
    reconnect, as Redis answers again) while it connects must still end, not wait for good."""
    client = redis.asyncio.Redis.from_url(redis_server.url)
    try:
        for delay in (0.0, 0.0005, 0.001, 0.002, 0.004):  # the moments it is stopped at
            publisher, _cluster = _publisher(client)
            outbox = Outbox(publisher, "test:stop")
            outbox.put("u", b"1")  # not connected yet: starts connecting
            await asyncio.sleep(delay)
            await asyncio.wait_for(publisher.stop(), 5)
    finally:
        await client.aclose()
