"""What other servers' peers announce in one room (a document's, or the global awareness room):
relayed to this server's peers, kept under the server that sent it, and gone when that server's
key expires (it died: cluster.py's keeper asks). A peer that leaves a live server is removed by
that server, through the stream."""

from __future__ import annotations

from ..rooms.room import Room


class RemoteAwareness:
    def __init__(self) -> None:
        self.room: Room | None = None  # this server's room, once made
        self.servers: set[str] = set()  # those whose peers' states the room keeps

    def heard(self, server: str, payload: bytes) -> None:
        """An awareness update ``server``'s peers made."""
        if self.room is not None:
            self.servers.add(server)
            self.room.relay_awareness(server, payload)

    def server_gone(self, server: str) -> None:
        """``server`` stopped renewing its key: its peers' states go."""
        self.servers.discard(server)
        if self.room is not None:
            self.room.forget_awareness(server)
