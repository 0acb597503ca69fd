"""REST routes for forks, the document timeline and its undo/redo/restore (docs/protocol.md
section 2).

Thin, like websocket.py: GET needs ``contents:read``, PUT and DELETE ``contents:write`` (the
``authorized`` decorator maps the method to the action). The front end writes literal ``&&`` in
its query strings; Tornado's query parser skips the empty pairs.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..errors import BadRequest, CollabError, NotFound, outcome_of
from ..rooms.forks import Fork, ForkInfo
from ..rooms.ids import room_id_of
from .websocket import CollabHandler, json_object


class _RestHandler(CollabHandler, APIHandler):
    def fail(self, error: CollabError) -> None:
        """Answer the error in the front end's shape: ``{"code": status, "error": message}``."""
        status = outcome_of(error).http_status
        self.set_status(status)
        self.finish({"code": status, "error": str(error)})

    def required_argument(self, name: str) -> str:
        value = self.get_query_argument(name, None)
        if value is None:
            raise BadRequest(f"the query needs {name}=...")
        return value


class ForkHandler(_RestHandler):
    """``/api/collaboration/fork/{room_id}``: list (GET root), create (PUT root), delete (DELETE
    fork, ``?merge=true|false``) forks of a document room."""

    @web.authenticated
    @authorized
    async def get(self, root_id: str) -> None:
        forks = self.services.manager.forks_of(root_id)
        self.finish({fork.fork_id: asdict(fork.info) for fork in forks if not fork.timeline})

    @web.authenticated
    @authorized
    async def put(self, root_id: str) -> None:
        try:
            fork = self.services.manager.fork(root_id, _fork_info(root_id, self.request.body))
        except CollabError as error:
            return self.fail(error)
        info = asdict(fork.info)
        self.services.events.fork(fork.fork_id, info, self.username(), "create")
        self.set_status(201)
        self.finish(
            {"sessionId": fork.room.session_id, "fork_roomid": fork.fork_id, "fork_info": info}
        )

    @web.authenticated
    @authorized
    async def delete(self, fork_id: str) -> None:
        manager = self.services.manager
        try:
            merge = self.required_argument("merge")
            if merge not in ("true", "false"):
                raise BadRequest(f"merge must be true or false, not {merge!r}")
            fork = manager.forks.get(fork_id)
            if fork is None or fork.timeline is not None:
                raise NotFound("Fork room not found")
            if merge == "true":
                fork.merge_into_root()
        except CollabError as error:
            return self.fail(error)
        manager.remove_fork(fork_id)
        self.services.events.fork(fork_id, asdict(fork.info), self.username(), "delete")
        self.finish({})


class TimelineHandler(_RestHandler):
    """``GET /api/collaboration/timeline/{path}?format=..&&type=..``: the versions of an open
    document, and a read-only room showing the latest; undo/redo move it through them."""

    @web.authenticated
    @authorized
    async def get(self, path: str) -> None:
        path = path.lstrip("/")  # the front end may send "/dir/file"
        try:
            file_format = self.required_argument("format")
            file_type = self.required_argument("type")
            file_id = self.services.files.ids.get_id(path)
            if file_id is None:
                raise NotFound("Room not found")
            room_id = room_id_of(file_format, file_type, file_id)
            fork = await self.services.manager.open_timeline(room_id, self.username())
        except CollabError as error:
            return self.fail(error)
        assert fork.timeline is not None
        self.finish(
            {
                "roomId": fork.root.room_id,
                "timestamps": fork.timeline.timestamps,
                "forkRoom": fork.fork_id,
                "sessionId": fork.room.session_id,
            }
        )


class UndoRedoHandler(_RestHandler):
    """``PUT /api/collaboration/undo_redo/{room_id}?action=..&&steps=N&&forkRoom=ID``: step a
    timeline back or forth (``undo``, ``redo``), or ``restore`` the version it shows."""

    @web.authenticated
    @authorized
    async def put(self, room_id: str) -> None:
        try:
            action = self.required_argument("action")
            steps = _steps(self.get_query_argument("steps", "1"))
            fork = self.services.manager.forks.get(self.required_argument("forkRoom"))
            if fork is None or fork.timeline is None or fork.root.room_id != room_id:
                raise NotFound("Fork not found")
            self.finish(self._perform(fork, action, steps))
        except CollabError as error:
            self.fail(error)

    def _perform(self, fork: Fork, action: str, steps: int) -> dict[str, Any]:
        assert fork.timeline is not None
        if action == "undo":
            if fork.timeline.undo(steps):
                return {"status": "undone"}
            return {"error": "No more undo operations available"}
        if action == "redo":
            if fork.timeline.redo(steps):
                return {"status": "redone"}
            return {"error": "No more redo operations available"}
        if action == "restore":
            fork.merge_into_root()
            self.services.manager.remove_fork(fork.fork_id)
            return {"code": 200, "status": "Document restored successfully"}
        raise BadRequest(f"unknown action {action!r}: expected undo, redo or restore")


def _fork_info(root_id: str, body: bytes) -> ForkInfo:
    data = json_object(body, "{title?, description?, synchronize?}")
    title, description = data.get("title", ""), data.get("description", "")
    synchronize = data.get("synchronize", False)
    if not isinstance(title, str) or not isinstance(description, str):
        raise BadRequest('"title" and "description" must be strings')
    if not isinstance(synchronize, bool):
        raise BadRequest('"synchronize" must be true or false')
    return ForkInfo(root_id, synchronize, title, description)


def _steps(value: str) -> int:
    try:
        steps = int(value)
    except ValueError:
        steps = -1
    if steps < 0:
        raise BadRequest(f"steps must be a whole number >= 0, not {value!r}")
    return steps
