"""cluster/names.py against a real redis-server: which room serves a path once files were renamed
through Jupyter. A renamed file's path leads to its room; its old path, taken by a new file,
leads to a room of its own (the same one for every server that opens it); an alias lives as long
as its room's writer keeps it."""

from __future__ import annotations

import pytest
import redis.asyncio

from jupyter_ycollab.cluster.names import Names, RoomPath
from jupyter_ycollab.cluster.store import RoomStore
from jupyter_ycollab.codec.kinds import DocumentKind

HOLDER = "s1:1"
DAY_MS = 24 * 3600 * 1000


@pytest.fixture
def names(redis_client: redis.asyncio.Redis) -> Names:
    return Names(redis_client, "ns", DocumentKind("text", "file"), DAY_MS)


async def shared_at(names: Names, path: str) -> RoomPath:
    """The room a server opened at ``path`` and shared there, holding its lease."""
    where = await names.room_of(path)
    await names.redis.set(where.keys.lease, HOLDER)
    store = RoomStore(names.redis, where.keys, "s1")
    assert await store.create_state(b"snap", "l", HOLDER, path)
    return where


async def test_a_path_leads_to_its_own_room_until_a_file_is_renamed(names: Names) -> None:
    assert (await names.room_of("a.txt")).keys == names.own("a.txt")  # nobody shared it yet
    where = await shared_at(names, "a.txt")
    assert where.keys == names.own("a.txt")
    assert (await names.room_of("a.txt")).keys == where.keys


async def test_a_renamed_file_is_found_at_its_new_path(names: Names) -> None:
    where = await shared_at(names, "a.txt")
    await where.moved_to("b.txt")
    assert where.path == "b.txt"
    assert (await names.room_of("b.txt")).keys == where.keys
    assert await names.redis.hget(where.keys.state, "path") == b"b.txt"
    assert await where.recorded() == "b.txt"


async def test_a_room_gone_from_redis_is_not_made_again_by_a_rename(names: Names) -> None:
    """A state holding only a path would pass for the room: nobody could share it again."""
    where = await names.room_of("a.txt")
    await where.moved_to("b.txt")
    assert where.path == "a.txt" and not await names.redis.exists(where.keys.state)
    assert (await names.room_of("b.txt")).keys == names.own("b.txt")


async def test_a_new_file_at_a_renamed_files_old_path_gets_one_room_of_its_own(
    names: Names,
) -> None:
    where = await shared_at(names, "a.txt")
    await where.moved_to("b.txt")
    first, second = await names.room_of("a.txt"), await names.room_of("a.txt")
    assert first.keys != where.keys
    assert first.keys.prefix.startswith(names.own("a.txt").prefix + ":")
    assert second.keys == first.keys, "two servers opening the new file picked different rooms"


async def test_a_file_renamed_back_leads_to_its_room_not_to_a_stale_alias(names: Names) -> None:
    where = await shared_at(names, "a.txt")
    await where.moved_to("b.txt")
    stale = await names.room_of("a.txt")  # a new a.txt, opened, then deleted
    assert stale.keys != where.keys
    await where.moved_to("a.txt")
    assert (await names.room_of("a.txt")).keys == where.keys


async def test_a_room_from_before_rooms_recorded_their_path_is_still_found(
    names: Names,
) -> None:
    own = names.own("a.txt")
    await names.redis.hset(own.state, mapping={"snapshot": b"s", "at": "0-0", "lineage": "l"})
    assert (await names.room_of("a.txt")).keys == own


async def test_the_writer_keeps_only_the_alias_that_leads_to_its_room(names: Names) -> None:
    where = await shared_at(names, "a.txt")
    await where.moved_to("b.txt")
    alias = names.own("b.txt").alias
    await names.redis.pexpire(alias, 5_000)  # about to expire
    await where.keep()
    assert await names.redis.pttl(alias) > 5_000, "kept for the idle expiry"

    await names.redis.delete(alias)  # Redis came back empty: the room is shared again
    await where.keep()
    assert (await names.room_of("b.txt")).keys == where.keys

    await names.redis.set(alias, "another room", px=5_000)  # a later rename led it elsewhere
    await where.keep()
    assert await names.redis.pttl(alias) <= 5_000
    assert await names.redis.get(alias) == b"another room"
