"""Two failures at once: Redis is down when a server accepts edits, and that server dies before
Redis returns. The edits are only in its own update log; when it comes back and the document is
opened there again, it joins the cluster's history and merges its log into it: the edits reach
everyone, once, and the file."""

from __future__ import annotations

from ..client import wait_until
from ..process import JupyterProcess
from .cluster import Cluster
from .markers import everyone_sees, file_holds, markers, sees, type_interleaved

NAME = "notes.txt"


def logged(server: JupyterProcess, marker: str) -> bool:
    """Whether the server's update logs (in its own data dir) hold ``marker``: durable there."""
    logs = (server.home / "data").rglob("*.ylog")
    return any(marker.encode() in log.read_bytes() for log in logs)


async def test_edits_a_server_logged_while_redis_was_down_survive_its_crash(
    cluster: Cluster,
) -> None:
    first, second = await cluster.start(2, save_delay=30.0, max_save_delay=60.0)
    cluster.write_text(NAME, "start\n")
    alice, colleague = await cluster.open(first, NAME), await cluster.open(first, NAME)
    bob = await cluster.open(second, NAME)

    cluster.redis.kill()
    offline = markers("x", 5)
    type_interleaved((alice, offline))
    await sees(colleague, offline, 5, "Alice's colleague (same server), Redis down")
    await wait_until(lambda: all(logged(first, m) for m in offline), 5, "the edits logged")
    await cluster.sigkill(first)  # only its update log has them now

    cluster.redis.start()  # same port, empty
    first.start()  # the same home: the same file ids, the same update logs
    await first.wait_ready(60)
    carol = await cluster.open(first, NAME)  # the room opens there again, joining the cluster

    await everyone_sees([carol, bob], offline, 10)
    assert await bob.save(1) == "success"
    await file_holds(cluster, NAME, offline, 5)
    assert cluster.on_disk(NAME) == bob.view() == carol.view()
