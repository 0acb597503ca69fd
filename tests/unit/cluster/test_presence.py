"""cluster/presence.py. ``hide_private_files``: what a page's global awareness state tells the
other servers when ``cluster_folder`` is ``team``. Only file names outside the folder go: the
tab it shows, the documents it has open; everything else is kept as the page sent it. And the
presence stream keeps its last minute (a real redis-server)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import redis.asyncio

from jupyter_ycollab.cluster.cluster import Cluster
from jupyter_ycollab.cluster.options import ClusterSettings
from jupyter_ycollab.cluster.presence import hide_private_files
from jupyter_ycollab.rooms.protocol import (
    AwarenessEntry,
    decode_awareness_update,
    encode_awareness_update,
)
from tests.redisserver import RedisProcess

USER = {"username": "alice", "name": "Alice"}


def update(state: Any) -> bytes:
    return encode_awareness_update([AwarenessEntry(7, 3, json.dumps(state))])


def published(state: Any) -> Any:
    [entry] = decode_awareness_update(hide_private_files(update(state), "team"))
    assert (entry.client_id, entry.clock) == (7, 3)
    return json.loads(entry.state)


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ({"user": USER, "current": "notebook:team/a.ipynb"}, "notebook:team/a.ipynb"),
        ({"user": USER, "current": "editor:team/sub/b.txt"}, "editor:team/sub/b.txt"),
        ({"user": USER, "current": "notebook:diary.ipynb"}, None),
        ({"user": USER, "current": "editor:teamwork.txt"}, None),  # beside, not in
        ({"user": USER, "current": "editor:team"}, None),  # the folder is no file
        ({"user": USER, "current": "team/a.ipynb"}, None),  # no factory: not a tab name
        ({"user": USER, "current": None}, None),
    ],
)
def test_the_tab_a_page_shows_is_named_only_inside_the_folder(sent: Any, shown: Any) -> None:
    assert published(sent) == {**sent, "current": shown}


@pytest.mark.parametrize(
    ("documents", "shown"),
    [
        (
            ["team/a.ipynb", "diary.ipynb", "teamwork.txt", "team/s/b.txt"],
            ["team/a.ipynb", "team/s/b.txt"],
        ),
        (["diary.ipynb"], []),
        ([], []),
        ("diary.ipynb", []),  # not a list, as no front end sends: nothing named
    ],
)
def test_the_documents_a_page_has_open_are_named_only_inside_the_folder(
    documents: Any, shown: list[str]
) -> None:
    assert published({"user": USER, "documents": documents}) == {"user": USER, "documents": shown}


@pytest.mark.parametrize("state", [None, {"user": USER}, {"user": USER, "cursors": [1]}, 5])
def test_a_state_naming_no_file_goes_as_the_page_sent_it(state: Any) -> None:
    payload = update(state)
    assert hide_private_files(payload, "team") is payload


async def test_the_presence_stream_keeps_its_last_minute(
    redis_server: RedisProcess, redis_client: redis.asyncio.Redis
) -> None:
    cluster = Cluster(ClusterSettings(redis_server.url, namespace="team"))
    key, now = cluster.presence.key, round(time.time() * 1000)
    for age in (90_000, 61_000, 50_000, 1_000):
        await redis_client.xadd(key, {b"s": b"elsewhere", b"a": update({})}, id=f"{now - age}-0")
    await cluster.presence.trim(redis_client)
    kept = [entry_id for entry_id, _fields in await redis_client.xrange(key)]
    assert kept == [f"{now - 50_000}-0".encode(), f"{now - 1_000}-0".encode()]
    assert 0 < await redis_client.pttl(key) <= 60_000  # gone a minute after nobody keeps it
    await cluster.redis.aclose()
