"""A room's stream holding an entry no server could have written (a corrupt update: a faulty
client of Redis, a bad disk) costs nothing but that entry: each server that reads it skips it
and logs it, the room goes on, what is typed before and after reaches everyone and the file,
and a server that joins the room afterwards opens it."""

from __future__ import annotations

import redis.asyncio

from jupyter_ycollab.cluster.entries import SERVER

from ..client import wait_until
from .cluster import Cluster
from .markers import everyone_sees, file_holds, markers, type_interleaved

NAME = "notes.txt"
CORRUPT = b"\x05\xff\xfe\x00\x01"


async def test_a_corrupt_entry_in_a_rooms_stream_is_skipped_and_the_room_goes_on(
    cluster: Cluster,
) -> None:
    first, second, third = await cluster.start(3)
    cluster.write_text(NAME, "start\n")
    alice, bob = await cluster.open(first, NAME), await cluster.open(second, NAME)
    before = markers("a", 5)
    type_interleaved((alice, before))
    await everyone_sees([alice, bob], before, 10)

    client = redis.asyncio.Redis.from_url(cluster.redis.url)
    (stream,) = [key async for key in client.scan_iter(match=f"*:{NAME}:updates")]
    await client.xadd(stream, {SERVER: b"not-a-server", b"u": CORRUPT})
    await client.aclose()

    after = markers("b", 5)
    type_interleaved((bob, after))
    await everyone_sees([alice, bob], before + after, 10)
    carol = await cluster.open(third, NAME)
    await everyone_sees([carol], before + after, 10)
    await file_holds(cluster, NAME, before + after, 10)
    for server in (first, second):
        await wait_until(lambda s=server: "not-a-server" in s.log(), 5, "the entry logged")
    assert all(server.returncode is None for server in (first, second, third))
