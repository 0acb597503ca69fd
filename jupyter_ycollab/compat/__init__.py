"""The object other extensions find as ``jupyter_server_ydoc`` (jupyter-collaboration's server).

Extensions written for jupyter-collaboration (jupyter-ai, jupyterlab-chat, jupyter-server-nbmodel,
MCP servers) look it up under ``web_app.settings["jupyter_server_ydoc"]`` or as the app of the
``jupyter_server_ydoc`` extension (standin.py), call ``get_document(...)`` and read
``ywebsocket_server.rooms`` and ``disable_rtc``; this gives them the same calls over our rooms,
nothing more. The rooms it hands out are rooms.py's views.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping

from jupyter_ydoc.ybasedoc import YBaseDoc

from ..codec.updates import copy_of
from ..errors import CollabError
from ..rooms.ids import parse_room_id, room_id_of
from ..rooms.manager import RoomManager
from ..rooms.room import Room
from .rooms import CompatRoom, live_document

#: The name jupyter-collaboration's server extension answers to.
NAME = "jupyter_server_ydoc"

ManagerGetter = Callable[[], RoomManager]


class CompatRooms(Mapping[str, CompatRoom]):
    """The open rooms by id, each as a ``CompatRoom``, read as they change."""

    def __init__(self, rooms: Mapping[str, Room]) -> None:
        self._rooms = rooms

    def __getitem__(self, room_id: str) -> CompatRoom:
        return CompatRoom(self._rooms[room_id])

    def __iter__(self) -> Iterator[str]:
        return iter(self._rooms)

    def __len__(self) -> int:
        return len(self._rooms)


class RoomsView:
    """Stands in for jupyter-collaboration's ``ywebsocket_server``."""

    def __init__(self, manager: ManagerGetter) -> None:
        self._manager = manager

    @property
    def rooms(self) -> Mapping[str, CompatRoom]:
        return CompatRooms(self._manager().rooms)

    def room_exists(self, room_id: str) -> bool:
        return room_id in self._manager().rooms

    async def get_room(self, room_id: str) -> CompatRoom:
        return CompatRoom(await self._manager().open(room_id))


class YDocCompat:
    """What jupyter-collaboration's ``YDocExtension`` offers other extensions, over our rooms.

    Made when jupyter_ycollab links, before its rooms exist (other extensions take it while they
    load, some before us), so it finds the room manager through ``manager`` when called. It is
    also the app of the stand-in extension entry (standin.py): hence ``name``, ``log``,
    ``current_activity`` and ``stop_extension``, which jupyter_server and others use on
    extension apps.
    """

    name = NAME
    log = logging.getLogger(__name__)

    def __init__(self, manager: ManagerGetter, *, disable_rtc: bool = False) -> None:
        self._manager = manager
        #: jupyterlab-chat and jupyter-ai-tools read it to decide whether collaboration is on.
        self.disable_rtc = disable_rtc
        self.ywebsocket_server = RoomsView(manager)

    def current_activity(self) -> None:
        """Nothing to report: jupyter_ycollab's own app stands for the rooms' activity."""
        return None

    async def stop_extension(self) -> None:
        """Nothing to stop here: jupyter_ycollab's own app saves and closes the rooms."""

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
        """The live document of a room (``copy=False``, with the room's awareness as
        ``.awareness``) or a detached copy of it (no awareness).

        A room that is not open is opened with ``create=True``, and for its live document:
        whoever asks for that writes to it, and what it writes must land (jupyter-server-nbmodel
        asks as each cell it runs starts, maybe after the room closed because the user left;
        the reference answers None then, and the cell's outputs were never written). A copy of
        a room that is not open is None. Forks and timelines are found by their room id too.
        Ids that name no document give None.
        """
        opened = create or not copy
        if room_id is None:
            room_id = self._room_id_of(path, content_type, file_format, opened)
            if room_id is None:
                return None
        room = self._manager().rooms.get(room_id)
        if room is None and opened:
            room = await self._open_document_room(room_id)
        if room is None or room.kind is None:
            return None
        if not copy:
            return live_document(room)
        return room.kind.wrap(copy_of(room.doc))

    async def _open_document_room(self, room_id: str) -> Room | None:
        try:
            if parse_room_id(room_id) is None:
                return None  # the awareness relay: no document, and no room made for nothing
            return await self._manager().open(room_id)
        except CollabError:
            return None

    def _room_id_of(
        self, path: str | None, content_type: str | None, file_format: str | None, create: bool
    ) -> str | None:
        if path is None or content_type is None or file_format is None:
            raise TypeError("get_document needs room_id, or path, content_type and file_format")
        ids = self._manager().files.ids
        file_id = ids.index(path) if create else ids.get_id(path)
        return None if file_id is None else room_id_of(file_format, content_type, file_id)
