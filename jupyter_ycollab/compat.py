"""The object other extensions find under ``web_app.settings["jupyter_server_ydoc"]``.

Extensions written for jupyter-collaboration (jupyter-ai, jupyterlab-chat, MCP servers) call
``get_document(...)`` and read ``ywebsocket_server.rooms``; this gives them the same calls over
our rooms, nothing more.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jupyter_ydoc.ybasedoc import YBaseDoc
from pycrdt import Doc

from .errors import CollabError
from .manager import RoomManager
from .room import Room
from .roomid import parse_room_id


class RoomsView:
    """Stands in for jupyter-collaboration's ``ywebsocket_server``."""

    def __init__(self, manager: RoomManager) -> None:
        self._manager = manager

    @property
    def rooms(self) -> Mapping[str, Room]:
        return self._manager.rooms

    def room_exists(self, room_id: str) -> bool:
        return room_id in self._manager.rooms

    async def get_room(self, room_id: str) -> Room:
        return await self._manager.open(room_id)


class YDocCompat:
    def __init__(self, manager: RoomManager) -> None:
        self._manager = manager
        self.ywebsocket_server = RoomsView(manager)

    async def get_document(
        self,
        *,
        path: str | None = None,
        content_type: str | None = None,
        file_format: str | None = None,
        room_id: str | None = None,
        copy: bool = True,
        create: bool = False,
    ) -> YBaseDoc | None:
        """The live document of a room (``copy=False``) or a detached copy of it.

        A room that is not open is opened only with ``create=True``; otherwise None. Forks and
        timelines are found by their room id too. Ids that name no document give None.
        """
        if room_id is None:
            room_id = self._room_id_of(path, content_type, file_format, create)
            if room_id is None:
                return None
        room = self._manager.rooms.get(room_id)
        if room is None and create:
            room = await self._open_document_room(room_id)
        if room is None or room.kind is None:
            return None
        if not copy:
            return room.kind.wrap(room.doc)
        snapshot: Doc[Any] = Doc()
        snapshot.apply_update(room.doc.get_update())
        return room.kind.wrap(snapshot)

    async def _open_document_room(self, room_id: str) -> Room | None:
        try:
            if parse_room_id(room_id) is None:
                return None  # the awareness relay: no document, and no room made for nothing
            return await self._manager.open(room_id)
        except CollabError:
            return None

    def _room_id_of(
        self, path: str | None, content_type: str | None, file_format: str | None, create: bool
    ) -> str | None:
        if path is None or content_type is None or file_format is None:
            raise TypeError("get_document needs room_id, or path, content_type and file_format")
        ids = self._manager.files.ids
        file_id = ids.index(path) if create else ids.get_id(path)
        return None if file_id is None else f"{file_format}:{content_type}:{file_id}"
