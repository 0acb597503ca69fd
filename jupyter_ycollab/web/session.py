"""``PUT /api/collaboration/session/{path}``: the route a front end asks before it connects.

It indexes the file, opens the document's room and names it (format, type, file id, and the
session id of the document's lineage). Apart from websocket.py, which holds the room websocket:
a plain REST route with its own body, answered before any peer exists. A document that cannot
be loaded is answered too: the front end hears why from the websocket (``_session_of``).
"""

from __future__ import annotations

from collections.abc import Iterable

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..codec.kinds import DocumentKind
from ..document.files import FileIds
from ..errors import BadRequest, CollabError, HookFailed, LoadFailed, NotFound, outcome_of
from ..rooms.ids import DocumentRoomId, parse_room_id
from ..rooms.room import Room
from .websocket import CollabHandler, json_object


class SessionHandler(CollabHandler, APIHandler):
    # Opening a document only needs read: read-only users join as read-only peers.
    @web.authenticated
    @authorized("read")  # type: ignore[untyped-decorator]
    async def put(self, path: str) -> None:
        path = path.lstrip("/")  # the timeline asks for "/dir/file": the same file as "dir/file"
        try:
            kind = _parse_session_body(self.request.body)
            files = self.services.files
            if not await files.exists(path):
                raise NotFound(f"file {path!r} does not exist")
            file_ids = files.ids
            file_id = file_ids.get_id(path)
            created = file_id is None
            if created:
                file_id = file_ids.index(path)
            rooms = self.services.manager.rooms.values()
            followed = _following(rooms, files.ids, kind, path, str(file_id))
            room_id = followed or DocumentRoomId(kind, str(file_id))
            session_id = await self._session_of(str(room_id))
        except CollabError as error:
            raise web.HTTPError(outcome_of(error).http_status, str(error)) from error
        self.set_status(201 if created else 200)
        self.finish(
            {
                "format": kind.file_format,
                "type": kind.file_type,
                "fileId": room_id.file_id,
                "sessionId": session_id,
            }
        )

    async def _session_of(self, room_id: str) -> str:
        """The room's session id, opened now; none for one that cannot open: a failed PUT only
        made the front end wait and retry, its websocket's close code makes it say why."""
        try:
            room = await self.services.manager.open(room_id)
        except (LoadFailed, HookFailed) as error:
            self.log.warning("Cannot open %s: %s", room_id, error)
            return ""
        return room.session_id


def _following(
    rooms: Iterable[Room], ids: FileIds, kind: DocumentKind, path: str, file_id: str
) -> DocumentRoomId | None:
    """An open room of this file under the id the file had before: deleted through Jupyter and
    made again, it has a new one, which the room follows (document/watch.py), or will at its
    next look, its own id lost. A page that opens the file now joins the people editing it,
    not a room of its own."""
    for room in rooms:
        document = room.document
        if document is None or room.kind != kind:
            continue
        lost = document.path == path and ids.get_path(document.file_id) is None
        if document.file_id == file_id or lost:
            return parse_room_id(room.room_id)
    return None


def _parse_session_body(body: bytes) -> DocumentKind:
    data = json_object(body, '{"format": ..., "type": ...}')
    file_format, file_type = data.get("format"), data.get("type")
    if not isinstance(file_format, str) or not isinstance(file_type, str):
        raise BadRequest('"format" and "type" must be strings')
    return DocumentKind.parse(file_format, file_type)
