"""Changing a shared room from a process that is no Jupyter server (a worker, a grader, a script),
over the cluster's Redis, as a channels consumer's ``group_send`` reaches every consumer::

    from jupyter_ycollab.cluster.push import edit, send

    todo = {"file_format": "text", "file_type": "file"}  # a notebook: the defaults
    async with edit("redis://redis:6379/0", "shared/todo.md", **todo) as text:
        text.source += "- reviewed\\n"  # a jupyter_ydoc view: YUnicode here, YNotebook for .ipynb
    await send("redis://redis:6379/0", "shared/todo.md", {"type": "grade", "score": 9}, **todo)

The edit reaches every server's peers and is saved by the file's writer like any edit; the
message reaches every peer of the room on every server as a RAW JSON frame. A room no server
has open is refused (``NotFound``): its document lives in its file, to be changed there. An edit
whose room was closed or opened anew meanwhile (Redis came back empty, another history began)
is refused too (``ClusterBusy``: try again): its update would not apply to the new history.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from jupyter_ydoc.ybasedoc import YBaseDoc
from pycrdt import Doc
from redis.asyncio import Redis

from ..codec.kinds import DocumentKind
from ..codec.updates import EMPTY_UPDATE
from ..errors import ClusterBusy, NotFound
from .entries import SharedState
from .names import Names
from .store import RoomStore

#: The entry kind of a message to a room's peers.
MESSAGE = "m"
#: How long a name this process gives a path lasts (names.py), unless a server opening it keeps
#: it alive: the servers' default idle expiry.
ALIAS_MS = 24 * 3600 * 1000


@asynccontextmanager
async def edit(
    redis_url: str,
    path: str,
    *,
    file_format: str = "json",
    file_type: str = "notebook",
    namespace: str = "",
) -> AsyncIterator[YBaseDoc]:
    """The document of the shared room for ``path``, as it is now, to change in the block; the
    change is published as one update on exit (nothing if the block raises). Peers keep editing
    meanwhile: both sides' changes merge as concurrent edits."""
    kind = DocumentKind.parse(file_format, file_type)
    async with _store(redis_url, path, kind, namespace) as store:
        state = _live(await store.current(), path)
        doc: Doc[Any] = Doc()
        for update in state.updates:
            doc.apply_update(update)
        before = doc.get_state()
        yield kind.wrap(doc)
        change = doc.get_update(before)
        if change != EMPTY_UPDATE and not await store.publish_to(state.lineage, "u", change):
            raise ClusterBusy(f"{path!r} was closed or opened anew as it was edited: try again")


async def send(
    redis_url: str,
    path: str,
    message: dict[str, Any],
    *,
    file_format: str = "json",
    file_type: str = "notebook",
    namespace: str = "",
) -> None:
    """Send ``message`` (JSON) to every peer of the shared room for ``path``, on every server."""
    kind = DocumentKind.parse(file_format, file_type)
    async with _store(redis_url, path, kind, namespace) as store:
        state = _live(await store.state(), path)
        if not await store.publish_to(state.lineage, MESSAGE, json.dumps(message).encode()):
            raise ClusterBusy(f"{path!r} was closed or opened anew as it was messaged: try again")


@asynccontextmanager
async def _store(
    redis_url: str, path: str, kind: DocumentKind, namespace: str
) -> AsyncIterator[RoomStore]:
    redis = Redis.from_url(redis_url)
    try:
        names = Names(redis, namespace, kind, ALIAS_MS)
        where = await names.room_of(path)
        yield RoomStore(redis, where.keys, f"push:{socket.gethostname()}:{os.getpid()}")
    finally:
        await redis.aclose()


def _live(state: SharedState | None, path: str) -> SharedState:
    if state is None:
        raise NotFound(f"{path!r} is not open on any server of this cluster")
    return state
