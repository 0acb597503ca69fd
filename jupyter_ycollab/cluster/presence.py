"""Who is online, across servers: the global awareness room (``JupyterLab:globalAwareness``, which
JupyterLab's collaborators panel lists) shared through one stream, ``ycollab:{namespace}:presence``.

Apart from shared.py: this room has no document, so nothing to join or level. Every page renews
its awareness state every 15 s (y-protocols drops one not renewed within 30), so the stream's last
``WINDOW`` seconds hold every live state: a server whose room opens reads from there, and the
keeper trims what is older. A server that dies takes its pages' states with it (the keeper's
heartbeat check, as for documents).

A file outside ``cluster_folder`` is not named to the other servers (a page's ``current`` tab, its
open ``documents``), only that its user is online: that folder is what the servers share, the
rest is each server's own.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace

from redis.asyncio import Redis

from ..rooms.protocol import AwarenessEntry, decode_awareness_update, encode_awareness_update
from ..rooms.room import Room
from .awareness import Announced, RemoteAwareness
from .entries import Entry
from .outbox import Outbox
from .publisher import Publisher

#: Seconds of the stream a server reads when its room opens: the longest a live state goes
#: unrenewed (y-protocols' ``outdatedTimeout``).
WINDOW = 30.0


class SharedPresence:
    def __init__(self, publisher: Publisher, key: str, server_id: str, folder: str) -> None:
        self.key = key  # the stream
        self.position = b"0-0"  # the last entry read
        self.awareness = RemoteAwareness()  # its room: this server's, while open
        self._outbox = Outbox(publisher, key)
        self._server_id = server_id
        self._folder = folder

    def attach(self, room: Room) -> None:
        """The room opened here: share its pages' states, show the others' of the last
        ``WINDOW`` seconds (stream ids are Redis's clock in ms; the servers' clocks agree)."""
        self.awareness.room = room
        room.awareness_out = self._publish
        self.position = f"{_ms(time.time() - WINDOW)}-0".encode()

    def detach(self, room: Room) -> None:
        """The room closed here (its last page left, its removal already sent)."""
        if self.awareness.room is room:
            self.awareness = RemoteAwareness()

    def _publish(self, payload: bytes, user: str | None, saves: bool) -> None:
        shown = hide_private_files(payload, self._folder) if self._folder else payload
        self._outbox.put("a", Announced(shown, user, saves).encode())

    def receive(self, entry: Entry) -> None:
        """One entry of the stream, in order."""
        self.position = entry.id
        if entry.server != self._server_id and entry.kind == "a":
            self.awareness.heard(entry)

    async def trim(self, redis: Redis) -> None:
        """Drop what no server will read again (by Redis's clock, which names the entries);
        the key goes when nobody keeps it."""
        seconds, microseconds = await redis.time()
        keep_ms = _ms(2 * WINDOW)
        now_ms = seconds * 1000 + microseconds // 1000
        await redis.xtrim(self.key, minid=now_ms - keep_ms, approximate=False)
        await redis.pexpire(self.key, keep_ms)

    async def close(self) -> None:
        await self._outbox.close()


def hide_private_files(payload: bytes, folder: str) -> bytes:
    """The awareness update ``payload`` naming no file outside ``folder``: each page's
    ``current`` tab (``"{factory}:{path}"``, e.g. ``"notebook:team/plan.ipynb"``) and its open
    ``documents`` (paths), as the front end sets them."""
    entries = decode_awareness_update(payload)
    shown = [_shared_files_only(entry, folder) for entry in entries]
    return payload if shown == entries else encode_awareness_update(shown)


def _shared_files_only(entry: AwarenessEntry, folder: str) -> AwarenessEntry:
    state = json.loads(entry.state)  # valid: the room applied it before it came out here
    if not isinstance(state, dict):
        return entry
    shown = dict(state)
    inside = folder + "/"
    if state.get("current") is not None:
        tab = str(state["current"]).partition(":")[2]
        shown["current"] = state["current"] if tab.startswith(inside) else None
    if "documents" in state:
        documents = state["documents"] if isinstance(state["documents"], list) else []
        shown["documents"] = [path for path in documents if str(path).startswith(inside)]
    return entry if shown == state else replace(entry, state=json.dumps(shown))


def _ms(seconds: float) -> int:
    return int(seconds * 1000)
