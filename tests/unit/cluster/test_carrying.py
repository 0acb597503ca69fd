"""cluster/carrying.py against a real redis-server: one server's turn at a time, which no other
server ends, and the state carried so far, per old history."""

from __future__ import annotations

import redis.asyncio

from jupyter_ycollab.cluster.carrying import Carrying
from jupyter_ycollab.cluster.keys import RoomKeys
from jupyter_ycollab.cluster.store import RoomStore

KEYS = RoomKeys.of("ns", "text", "file", "notes.txt")


def carrying(client: redis.asyncio.Redis, server: str, lineage: str = "old") -> Carrying:
    return Carrying(RoomStore(client, KEYS, server), lineage)


async def test_one_turn_at_a_time_ended_only_by_its_server(
    redis_client: redis.asyncio.Redis,
) -> None:
    first, second = carrying(redis_client, "first"), carrying(redis_client, "second")
    assert await first.take_turn()
    assert not await second.take_turn()
    await second.end_turn()  # not its turn: nothing ends
    assert not await second.take_turn()
    await first.end_turn()
    assert await second.take_turn()
    assert 0 < await redis_client.pttl(KEYS.carrying) <= 30_000  # a dead carrier's turn ends


async def test_the_state_carried_is_kept_per_old_history(
    redis_client: redis.asyncio.Redis,
) -> None:
    old, other = carrying(redis_client, "a", "old"), carrying(redis_client, "b", "another")
    assert await old.carried() is None
    await old.record(b"state", 60)
    assert await carrying(redis_client, "b", "old").carried() == b"state"
    assert await other.carried() is None
    assert 0 < await redis_client.pttl(KEYS.carried("old")) <= 60_000
