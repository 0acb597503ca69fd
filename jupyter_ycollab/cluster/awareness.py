"""What other servers' peers announce in one room (a document's, or the global awareness room):
relayed to this server's peers, kept under the server that sent it, and gone when that server's
key expires (it died: cluster.py's keeper asks). A peer that leaves a live server is removed by
that server, through the stream.

Each awareness entry of a stream says who announced it (``Announced``): the rules a server keeps
for its own peers hold across servers (rooms/awareness.py ``apply``): a client id is its user's,
and a read-only peer's autosave wish is not heard.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from ..errors import CollabError
from ..rooms.room import Room
from .entries import Entry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Announced:
    """An awareness update and who announced it, as an awareness entry ("a") holds them: a line
    of JSON, ``{"user": "alice", "saves": true}``, then the update's bytes. ``user``: the user
    of the peer's connection, None for what the server says itself (a departed peer's removal);
    ``saves``: whether that peer may save (only then is its autosave wish heard)."""

    update: bytes
    user: str | None = None
    saves: bool = True

    def encode(self) -> bytes:
        return json.dumps({"user": self.user, "saves": self.saves}).encode() + b"\n" + self.update

    @classmethod
    def decode(cls, payload: bytes) -> Announced:
        """The announcement ``payload`` holds; ``ValueError`` if it holds none."""
        header, newline, update = payload.partition(b"\n")  # JSON's own text has no newline
        said = json.loads(header) if newline else None
        if not isinstance(said, dict) or set(said) != {"user", "saves"}:
            raise ValueError("no announcer")
        user, saves = said["user"], said["saves"]
        if not (user is None or isinstance(user, str)) or not isinstance(saves, bool):
            raise ValueError(f"not an announcer: {said!r}")
        return cls(update, user, saves)


class RemoteAwareness:
    def __init__(self) -> None:
        self.room: Room | None = None  # this server's room, once made
        self.servers: set[str] = set()  # those whose peers' states the room keeps

    def heard(self, entry: Entry) -> None:
        """An awareness entry of another server: one of its peers' updates, applied as that
        peer's. One we cannot read (no server of ours wrote it) is left out, and logged."""
        if self.room is None:
            return
        try:
            said = Announced.decode(entry.payload)
            self.room.relay_awareness(entry.server, said.update, said.user, said.saves)
        except (ValueError, CollabError):  # the update is refused whole: the room is unchanged
            log.error(
                "Stream entry %r from %s is no awareness update: left out", entry.id, entry.server
            )
            return
        self.servers.add(entry.server)

    def server_gone(self, server: str) -> None:
        """``server`` stopped renewing its key: its peers' states go."""
        self.servers.discard(server)
        if self.room is not None:
            self.room.forget_awareness(server)
