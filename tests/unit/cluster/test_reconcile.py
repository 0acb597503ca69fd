"""cluster/reconcile.py against a real redis-server: a room that Redis's outage left behind is
brought level once, even when the reader (as Redis answers) and the keeper come at once, and
what the cluster lacks reaches it before the room's outbox says it is flushed."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio
from pycrdt import Doc, Text

from jupyter_ycollab.cluster.cluster import Cluster
from jupyter_ycollab.cluster.options import ClusterSettings
from jupyter_ycollab.cluster.reconcile import hold, level_with_cluster
from jupyter_ycollab.cluster.shared import SharedRoom
from jupyter_ycollab.cluster.store import SharedState
from jupyter_ycollab.codec.kinds import DocumentKind
from tests.client import wait_until
from tests.redisserver import RedisProcess

LINEAGE = "the-one-history"


async def test_the_reader_and_the_keeper_level_a_room_once(
    redis_server: RedisProcess, redis_client: redis.asyncio.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both levelling at once would each read the cluster's copy, then each publish what it
    lacks: carried into another history, the same edits twice (doubled text)."""
    cluster = Cluster(ClusterSettings(redis_server.url))
    try:
        shared = cluster.share(DocumentKind("text", "file"), "notes.txt")
        assert isinstance(shared, SharedRoom)
        read_room, reads = shared.store.current, []

        async def counted_read() -> SharedState | None:
            reads.append(1)
            return await read_room()

        monkeypatch.setattr(shared.store, "current", counted_read)
        doc: Doc = Doc()
        text = doc.get("source", type=Text)
        text += "shared before the outage\n"
        await redis_client.set(shared.store.keys.lease, "other:1")
        assert await shared.store.create_state(doc.get_update(), LINEAGE, "other:1")
        shared.doc, shared.lineage = doc, LINEAGE
        hold(shared)
        text += "typed while Redis was down\n"  # the outbox holds it

        await asyncio.gather(level_with_cluster(shared), level_with_cluster(shared))

        assert len(reads) == 1 and not shared.behind
        assert await shared.flush()
        current = await shared.store.current()
        assert current is not None
        assert [entry.kind for entry in current.entries] == ["u"]  # what the cluster lacked, once
    finally:
        await cluster.stop()


async def test_a_room_that_cannot_be_levelled_stops_neither_the_others_nor_the_loops(
    redis_server: RedisProcess, redis_client: redis.asyncio.Redis, expected_errors: list[str]
) -> None:
    """A snapshot in Redis that does not decode (another program's key, a corrupted restore):
    that room stays behind, and says why in the log; the others are levelled as Redis answers
    again, and the reader and the keeper go on."""
    expected_errors.append(r"broken\.txt( could not be levelled|: Cannot decode update)")
    cluster = Cluster(ClusterSettings(redis_server.url, lease_ttl=1.0))
    try:
        rooms = []
        for name in ("broken.txt", "fine.txt"):
            shared = cluster.share(DocumentKind("text", "file"), name)
            assert isinstance(shared, SharedRoom)
            doc: Doc = Doc()
            doc.get("source", type=Text).insert(0, f"{name}\n")
            snapshot = b"\x05 not an update" if name == "broken.txt" else doc.get_update()
            await redis_client.hset(
                shared.store.keys.state,
                mapping={"snapshot": snapshot, "at": "0-0", "lineage": LINEAGE},
            )
            shared.start(doc, lambda _saved: None, ahead=False)  # the reader and keeper start
            shared.lineage = LINEAGE
            rooms.append(shared)
        broken, fine = rooms

        cluster.trouble(ConnectionError("the outage this test plays"))  # both held
        await wait_until(lambda: not fine.behind, message="the fine room to be levelled")

        assert broken.behind and broken.outbox.held
        assert not any(task.done() for task in cluster._tasks)  # the reader and the keeper
    finally:
        await cluster.stop()
