"""cluster/reconcile.py against a real redis-server: a room that Redis's outage left behind is
brought level once, even when the reader (as Redis answers) and the keeper come at once, and
what the cluster lacks reaches it before the room's outbox says it is flushed; a server paused
past the stream's trim is levelled too."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import redis.asyncio
from pycrdt import Doc, Text

from jupyter_ycollab.cluster import cluster as cluster_module
from jupyter_ycollab.cluster.cluster import Cluster
from jupyter_ycollab.cluster.entries import SharedState
from jupyter_ycollab.cluster.keys import RoomKeys
from jupyter_ycollab.cluster.options import ClusterSettings
from jupyter_ycollab.cluster.reconcile import hold, level_with_cluster
from jupyter_ycollab.cluster.shared import SharedRoom
from jupyter_ycollab.cluster.store import RoomStore
from jupyter_ycollab.codec.kinds import DocumentKind
from tests.client import wait_until
from tests.redisserver import RedisProcess
from tests.unit.cluster.streams import type_lines

LINEAGE = "the-one-history"


async def test_the_reader_and_the_keeper_level_a_room_once(
    redis_server: RedisProcess, redis_client: redis.asyncio.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both levelling at once would each read the cluster's copy, then each publish what it
    lacks: carried into another history, the same edits twice (doubled text)."""
    cluster = Cluster(ClusterSettings(redis_server.url))
    try:
        shared = await cluster.share(DocumentKind("text", "file"), "notes.txt")
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
        assert await shared.store.create_state(doc.get_update(), LINEAGE, "other:1", "notes.txt")
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
            shared = await cluster.share(DocumentKind("text", "file"), name)
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


async def test_a_server_paused_longer_than_the_stream_keeps_entries_levels_its_rooms(
    redis_server: RedisProcess, redis_client: redis.asyncio.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This process stops (a frozen VM, SIGSTOP) while another server edits and folds the
    stream, trimming entries this one never read: read on from where it was, the rest of the
    stream cannot apply without them. Its rooms are levelled instead, as after an outage."""
    monkeypatch.setattr(cluster_module, "PAUSE_LIMIT", 1.0)  # seconds; a minute's half in use
    cluster = Cluster(ClusterSettings(redis_server.url))
    try:
        shared = await cluster.share(DocumentKind("text", "file"), "notes.txt")
        assert isinstance(shared, SharedRoom)
        theirs: Doc = Doc()
        await redis_client.set(shared.store.keys.lease, "other:1")
        assert await shared.store.create_state(theirs.get_update(), LINEAGE, "other:1", "notes.txt")
        ours: Doc = Doc()
        shared.start(ours, lambda _saved: None, ahead=False)  # the reader and keeper start
        shared.lineage = LINEAGE
        await wait_until(lambda: blocked_in_xread(redis_client), message="the reader to read")

        # The pause: this thread, and so the event loop, stops while the other server works.
        other = threading.Thread(target=asyncio.run, args=[edit_and_fold(redis_server, theirs)])
        other.start()
        other.join()
        time.sleep(1.2)  # the pause itself, past the (patched) limit

        text = ours.get("source", type=Text)
        await wait_until(lambda: str(text) == "one\ntwo\nthree\n", message="every line")
    finally:
        await cluster.stop()


async def blocked_in_xread(client: redis.asyncio.Redis) -> bool:
    return int((await client.info("clients"))["blocked_clients"]) >= 1


async def edit_and_fold(redis_server: RedisProcess, doc: Doc) -> None:
    """The other server: three edits, then a fold that trims the stream up to the last."""
    client = redis.asyncio.Redis.from_url(redis_server.url)
    try:
        store = RoomStore(client, RoomKeys.of("", "text", "file", "notes.txt"), "other")
        ids = await type_lines(store, doc, ["one\n", "two\n", "three\n"])
        assert await store.fold(doc.get_update(), ids[-1], "other:1", keep_ms=0)
    finally:
        await client.aclose()
