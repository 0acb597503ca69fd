"""What server-side code (another extension, an agent) uses to work with live rooms.

``app.rooms`` is the registry of open rooms (a read-only mapping by room id) plus two ways to
change a document without a websocket; either way the change reaches every peer and is saved
like any edit:

    await app.rooms.apply_update(room_id, update)          # a Yjs update from elsewhere
    async with app.rooms.transaction(room_id) as notebook:  # a jupyter_ydoc document
        notebook.ycells[0]["source"].insert(0, "# reviewed\n")

A room that is not open is opened for the call and closed ``cleanup_delay`` later (saved first).

It also sends Jupyter RAW messages (``02 varString(JSON)``, the frame of save replies) to the
peers of a room, all of them or one: the JupyterLab front end ignores types it does not know,
so a front-end plugin of the deployment's own can listen for them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from jupyter_ydoc.ybasedoc import YBaseDoc

from .codec.kinds import DocumentKind
from .codec.updates import copy_of
from .errors import BadRequest, NotFound
from .rooms import protocol
from .rooms.ids import DocumentRoomId
from .rooms.manager import RoomManager
from .rooms.peer import Peer
from .rooms.room import Room


class Rooms(Mapping[str, Room]):
    def __init__(self, manager: RoomManager) -> None:
        self._manager = manager

    def __getitem__(self, room_id: str) -> Room:
        return self._manager.rooms[room_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._manager.rooms)

    def __len__(self) -> int:
        return len(self._manager.rooms)

    async def open(self, room_id: str) -> Room:
        """The room, loading its document if it is not open yet."""
        return await self._manager.open(room_id)

    async def room_id_for(
        self, path: str, file_format: str = "json", file_type: str = "notebook"
    ) -> str:
        """The id of the document room of the file at ``path`` (indexing the file if needed),
        the id the front end would ask for; raises ``NotFound`` when there is no such file."""
        kind = DocumentKind.parse(file_format, file_type)
        files = self._manager.files
        if not await files.exists(path):
            raise NotFound(f"file {path!r} does not exist")
        file_id = files.ids.get_id(path) or files.ids.index(path)
        if file_id is None:
            raise NotFound(f"file {path!r} cannot be indexed")
        return str(DocumentRoomId(kind, file_id))

    def send(
        self,
        room_id: str,
        message: dict[str, Any],
        *,
        to: Peer | None = None,
        exclude: Peer | None = None,
    ) -> int:
        """Send ``message`` as a RAW JSON frame to every peer of an open room (but ``exclude``),
        or only to ``to``; return how many peers it was queued for.

        A room that is not open, or a ``to`` that is no longer in it, gets nothing (0): a peer
        may leave at any moment, and a room is not opened only to be told something.
        """
        room = self._manager.rooms.get(room_id)
        if room is None:
            return 0
        frame = protocol.encode_raw(message)
        peers = [to] if to is not None else list(room.peers)
        sent = 0
        for peer in peers:
            if peer is not exclude and peer in room.peers and not peer.closed:
                peer.send(frame)
                sent += 1
        return sent

    async def apply_update(self, room_id: str, update: bytes) -> None:
        """Apply a Yjs update to the room's document, as server-side code (no peer is its author,
        so every peer receives it)."""
        room, _ = await self._editable_room(room_id)
        room.apply_update(update)

    @asynccontextmanager
    async def transaction(self, room_id: str) -> AsyncIterator[YBaseDoc]:
        """Change the document through jupyter_ydoc; the changes land as one update on exit.

        The block works on a private copy, so it may await: peers keep editing meanwhile and
        both sides' changes merge as concurrent edits. Nothing lands if the block raises, nor
        if the server began to stop before it ended: ``ServerStopping`` says so on exit (its
        rooms are being saved and closed; the change landed in one would never be saved).
        """
        room, kind = await self._editable_room(room_id)
        copy = copy_of(room.doc)
        before = copy.get_state()
        yield kind.wrap(copy)
        # The room as it is now: a block that outlasted ``cleanup_delay`` saw it evicted and
        # closed (no peer held it), and a closed room's ``Doc`` is neither logged nor saved. Its
        # log keeps the CRDT history, so the room opened again takes the update just the same.
        room, _ = await self._editable_room(room_id)
        room.apply_update(copy.get_update(before))

    async def _editable_room(self, room_id: str) -> tuple[Room, DocumentKind]:
        """A document room or a fork (not the awareness relay, not a read-only timeline)."""
        room = await self._manager.open(room_id)
        if room.kind is None or not room.editable:
            raise BadRequest(f"{room_id!r} holds no document server code may change")
        return room, room.kind
