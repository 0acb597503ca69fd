"""Redis fails between taking a dead writer's lease and reading what its file holds: the
server that took the lease must still take over (save what the dead writer had accepted),
once Redis answers again.

The failure is made by Redis itself: an ACL takes HGETALL from the servers' user for the
moment of the takeover (the lease is taken by a script, the record of the file is read by
HGETALL), as a connection dropped between the two would.
"""

from __future__ import annotations

from redis.asyncio import Redis

from ..client import wait_until
from .cluster import Cluster
from .markers import file_holds, markers, sees, type_interleaved

NAME = "notes.txt"
LEASE = f"ycollab::text:file:{NAME}:lease"


async def test_a_takeover_interrupted_by_redis_still_saves_the_dead_writers_edits(
    cluster: Cluster,
) -> None:
    # The writer saves 30 s after typing stops: it dies first. The other server's own save
    # (only making sure its edits reached the cluster) is over long before it takes over.
    (first,) = await cluster.start(1, save_delay=30.0, max_save_delay=60.0)
    (second,) = await cluster.start(1)
    cluster.write_text(NAME, "start\n")
    alice = await cluster.open(first, NAME)  # the first server to open it writes the file
    bob = await cluster.open(second, NAME)
    unsaved = markers("a", 5)
    type_interleaved((alice, unsaved))
    await sees(bob, unsaved, 2, "Bob's view (other server) to show Alice's edits live")

    redis = Redis.from_url(cluster.redis.url)
    try:
        await redis.execute_command("ACL", "SETUSER", "default", "-hgetall")
        await cluster.sigkill(first)
        # The second server takes the lease, then cannot read the file's record.
        await wait_until(lambda: "did not answer" in second.log(), 10, "the takeover to fail")
        assert await redis.exists(LEASE), "the second server holds the lease"
        await redis.execute_command("ACL", "SETUSER", "default", "+hgetall")
        await file_holds(cluster, NAME, unsaved, 10)
    finally:
        await redis.aclose()
    assert cluster.on_disk(NAME) == bob.view()
