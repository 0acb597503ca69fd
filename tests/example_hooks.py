"""A team's hooks for jupyter_ycollab (the README's example; tests/test_hooks.py runs it).

Enable with ``c.YCollabApp.hooks_class = "example_hooks.TeamHooks"`` (any importable path).
"""

from __future__ import annotations

from collections import Counter

from jupyter_ydoc import YUnicode
from jupyter_ydoc.ybasedoc import YBaseDoc

from jupyter_ycollab.hooks import (
    GLOBAL_AWARENESS,
    CollabHooks,
    Peer,
    Refused,
    Room,
    RoomHandler,
    YCollabApp,
)

MAX_DOCUMENTS_PER_USER = 3
ALIASES = {"standup": "notes/standup.md"}  # alias:standup is the room of that text file
TEMPLATES = {"notes/standup.md": "# Stand-up\n\n"}  # stands in for a database


class TeamHooks(CollabHooks):
    def __init__(self, app: YCollabApp) -> None:
        super().__init__(app)
        self.changes: Counter[str] = Counter()  # changes per room, as an observer counts them

    async def room_id(self, handler: RoomHandler, requested: str) -> str:
        """Stable names for bots and wall displays: ``alias:standup`` instead of a file id."""
        prefix, _, name = requested.partition(":")
        if prefix == "alias" and name in ALIASES:
            return await self.rooms.room_id_for(ALIASES[name], "text", "file")
        return requested

    async def check_connection(self, handler: RoomHandler, room_id: str) -> None:
        """A quota: at most MAX_DOCUMENTS_PER_USER document connections per user."""
        if room_id == GLOBAL_AWARENESS:
            return
        user = handler.current_user.username
        count = sum(
            peer.username == user
            for room in self.rooms.values()
            if room.document is not None
            for peer in room.peers
        )
        if count >= MAX_DOCUMENTS_PER_USER:
            # No close code: the front end shows this in a dialog and stops retrying.
            raise Refused(f"{MAX_DOCUMENTS_PER_USER} documents open: close one first")

    async def initialise_document(self, room: Room, document: YBaseDoc) -> None:
        """Start empty files from their template; count every change made to any document."""
        assert room.document is not None
        template = TEMPLATES.get(room.document.path)
        if template and isinstance(document, YUnicode) and not document.get():
            document.set(template)  # logged and saved like any edit, so it happens once
        document.observe(lambda topic, _event: self._count(room.room_id, topic))

    def _count(self, room_id: str, topic: str) -> None:
        if topic != "state":  # state is dirty flags and hashes, not content
            self.changes[room_id] += 1

    def on_join(self, room: Room, peer: Peer) -> None:
        """Welcome the newcomer (to it alone) and tell the others who came."""
        if room.document is None:
            return
        others = [other.username for other in room.peers if other is not peer]
        self.rooms.send(room.room_id, {"type": "welcome", "others": others}, to=peer)
        self.rooms.send(room.room_id, {"type": "joined", "user": peer.username}, exclude=peer)

    def on_leave(self, room: Room, peer: Peer) -> None:
        if room.document is not None:
            self.rooms.send(room.room_id, {"type": "left", "user": peer.username})
