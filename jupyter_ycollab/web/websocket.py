"""The room websocket, and what every collaboration route shares (the base handler, JSON bodies).

Thin: authenticate, authorize, translate ids and bytes, map errors. The session PUT is in
session.py, the fork, timeline and undo/redo routes in forks.py.

Authentication and authorization happen before anything is allocated: an unauthenticated or
unauthorized request creates no room, no file id and no task.
"""

from __future__ import annotations

import json
import logging
from typing import Any, cast

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web

from .. import metrics
from ..errors import (
    BadRequest,
    CollabError,
    FrameTooLarge,
    RoomFull,
    UnknownSession,
    UnsupportedFrame,
    outcome_of,
)
from ..rooms import protocol
from ..rooms.ids import parse_room_id
from ..rooms.peer import Peer
from ..rooms.room import Room
from .refusals import Request, repeat_status
from .services import SETTINGS_KEY, Services
from .transport import SocketTransport


class CollabHandler(JupyterHandler):
    """What every collaboration route shares: the services, the auth resource, the user."""

    auth_resource = "contents"

    @property
    def services(self) -> Services:
        """The parts of the server the routes use (services.py), from the Tornado settings."""
        return cast(Services, self.settings[SETTINGS_KEY])

    def username(self) -> str:
        user: Any = self.current_user
        return str(getattr(user, "username", "") or "")

    async def may(self, action: str) -> bool:
        user = self.current_user
        allowed = await ensure_async(self.authorizer.is_authorized(self, user, action, "contents"))
        return bool(allowed)


def json_object(body: bytes, expected: str) -> dict[str, Any]:
    """The request body as a JSON object (an empty body is ``{}``), else ``BadRequest`` saying
    what was ``expected``."""
    try:
        data = json.loads(body or b"{}")
    except ValueError as error:
        raise BadRequest("the body is not JSON") from error
    if not isinstance(data, dict):
        raise BadRequest(f"expected a JSON object {expected}")
    return data


class RoomHandler(WebSocketMixin, SocketTransport, CollabHandler):
    """``/api/collaboration/room/{room_id}``: one peer of one room.

    The deployment's hooks (hooks.py) name the room from the request, may refuse the connection
    before the room is opened, and hear of the peer's join and leave.
    """

    peer: Peer | None = None
    room: Room | None = None
    room_id = ""  # the room this request joins, as the room_id hook named it
    bad_request: BadRequest | None = None  # a room id naming no room that may open: 4400
    readonly = True
    _closing = False  # this side started closing (tornado's own closes do not come through us)

    @property
    def max_message_size(self) -> int:
        """The largest frame this peer may send, by its role (``get`` knows it before tornado
        reads this, at the upgrade): a read-only peer sends only state vectors and awareness."""
        settings = self.services.manager.settings
        if self.readonly:
            return settings.max_readonly_message_size
        return settings.max_message_size

    def frame_too_large(self) -> None:
        """Tornado refused a frame from its header (its payload is never read) and closes the
        connection with 1009 itself: say so in the log, and leave the room now."""
        if self._closing:
            return  # our own close with that code (an awareness state too large)
        limit = "max_readonly_message_size" if self.readonly else "max_message_size"
        error = FrameTooLarge(f"a frame over {self.max_message_size} bytes ({limit})")
        code = outcome_of(error).close_code
        self.log.warning("Closing %r of room %s with %d: %s", self.peer, self.room_id, code, error)
        self._leave_room()

    @ws_authenticated
    async def get(self, requested: str) -> None:
        if not await self.may("read"):
            raise web.HTTPError(403)
        self.readonly = not await self.may("write")
        repeated = self.services.refusals.repeated(self._request_key(requested))
        if repeated is not None:  # refused a moment ago (refusals.py), which the log said
            raise web.HTTPError(repeat_status(repeated))  # the access log has each repeat
        try:
            room_id = await self.services.hooks.name_room(self, requested)
            # Rooms the REST routes registered (forks, timelines) have no file behind their id.
            parsed = None if room_id in self.services.manager.rooms else parse_room_id(room_id)
            if parsed is not None:
                self.services.files.path_of(parsed.file_id)
            self._check_capacity(room_id)
            self.room_id = room_id
        except BadRequest as error:
            # Said after the upgrade: the front end gives up on 4400 with "Bad request for" and
            # the path, while it would retry a refused upgrade forever. Nothing is allocated.
            self.bad_request = error
        except CollabError as error:
            raise web.HTTPError(outcome_of(error).http_status, str(error)) from error
        await super().get(requested)

    async def open(self, requested: str) -> None:
        super().open()
        # Frames are small and latency is the point: without this, Nagle's algorithm holds an
        # update back until the peer's delayed ACK (40 ms) whenever one is still unacknowledged.
        self.set_nodelay(True)
        if self.bad_request is not None:
            self._refuse(self.bad_request)
            return
        manager = self.services.manager
        try:
            await self.services.hooks.check_connection(self, self.room_id)
            if self.ws_connection is None:  # gone while it was checked: open nothing for it
                return
            room = await manager.open(self.room_id)
            self._check_session(room)
            self._check_capacity(self.room_id)  # again: peers may have joined while it loaded
        except CollabError as error:
            self._refuse(error)
            return
        if self.ws_connection is None or manager.stopping:  # gone while the room was loading
            return
        self.room = room
        self.peer = Peer(
            self,
            readonly=self.readonly,
            username=self.username(),
            max_buffer=manager.settings.max_peer_buffer,
            room_id=self.room_id,
            backlogs=manager.backlogs,
        )
        manager.join(room, self.peer)
        self.services.events.awareness(self.room_id, self.peer.username, "join")
        try:
            self.services.hooks.joined(room, self.peer)
        except CollabError as error:
            self._refuse(error)

    def _refuse(self, error: CollabError) -> None:
        """Close a connection refused as it opened; the same request is refused before the
        upgrade for a moment (refusals.py)."""
        self.services.refusals.note(self._request_key(self.path_args[0]), error)
        self._close_with(error)

    def _request_key(self, requested: str) -> Request:
        return self.username(), requested, self.get_query_argument("sessionId", "")

    def _check_capacity(self, room_id: str) -> None:
        """Refuse a peer the room or the server has no place for, before it is allocated.

        Checked before the upgrade (HTTP 503, cheap for the client) and again after it, where
        the answer is close code 1013: the front end retries with back-off either way.
        """
        manager = self.services.manager
        room = manager.rooms.get(room_id)
        if room is None:
            manager.check_room_limit(room_id)
        elif len(room.peers) >= manager.settings.max_peers_per_room:
            raise RoomFull(f"room {room_id} has {len(room.peers)} peers (max_peers_per_room)")

    def _check_session(self, room: Room) -> None:
        if room.document is None:
            return
        session_id = self.get_query_argument("sessionId", "")
        if session_id != room.session_id:
            raise UnknownSession(session_id)

    def on_message(self, message: str | bytes) -> None:
        peer, room = self.peer, self.room
        if peer is None or room is None or peer.closed:
            return  # closed connections are not handled any further
        try:
            if isinstance(message, str):
                raise UnsupportedFrame("text frames are not part of the protocol")
            room.receive(peer, protocol.decode(message))
        except CollabError as error:
            self._close_with(error)

    def on_close(self) -> None:
        self._leave_room()

    def on_finish(self) -> None:
        """The request is over: an upgrade (101) or its refusal, counted by status."""
        super().on_finish()
        if self.get_status() >= 400:
            metrics.current.refused(self.get_status())

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        """Close, and leave the room now: a peer that does not read (the reason we may be
        closing) would not answer the closing handshake for a while."""
        self._closing = True
        super().close(code, reason)
        self._leave_room()

    def _leave_room(self) -> None:
        peer, room = self.peer, self.room
        if peer is None or room is None:
            return
        self.peer = self.room = None  # leave once, whichever of close and on_close comes first
        peer.left()
        self.services.manager.leave(room, peer)
        self.services.events.awareness(room.room_id, peer.username, "leave")
        self.services.hooks.left(room, peer)

    def _close_with(self, error: CollabError) -> None:
        # A stale session is routine (a tab left open across a history reset) and clients may
        # retry it often: keep it out of the default log.
        level = logging.DEBUG if isinstance(error, UnknownSession) else logging.INFO
        self.log.log(level, "Closing collaboration websocket %s: %s", self.request.path, error)
        code = outcome_of(error).close_code
        if self.peer is not None:
            self.peer.close(code, error.close_reason())
        else:
            self.close(code, error.close_reason())
