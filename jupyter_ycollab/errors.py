"""The exception tree and the one table that maps each error to what the client sees.

Handlers never choose status codes or close codes themselves: they raise (or catch) one of these
errors and look it up here, so REST statuses, websocket close codes and the README stay in step.
"""

from __future__ import annotations

import errno
import json
from typing import NamedTuple

from tornado.web import HTTPError


class CollabError(Exception):
    """Base of every error the collaboration server reports to a client."""

    def close_reason(self) -> str:
        """The reason sent with the websocket close frame (at most 123 bytes)."""
        return str(self).encode()[:120].decode(errors="ignore")


class BadRequest(CollabError):
    """The request is malformed: a bad room id, a bad session body."""


class NotFound(CollabError):
    """The file, file id or room does not exist."""


class LoadFailed(CollabError):
    """The document could not be loaded from its file."""


class MalformedFrame(CollabError):
    """A binary frame that does not follow the y-protocol framing (truncated varint, bad length)."""


class UnsupportedFrame(CollabError):
    """A frame we do not accept at all, such as a text frame."""


class InvalidUpdate(CollabError):
    """A well-framed sync message whose Yjs update pycrdt refuses to apply."""


class MissingDependencies(InvalidUpdate):
    """An update built on changes the server lacks (kept while its peer's handshake may bring
    them: rooms/room.py)."""


class AwarenessTooLarge(CollabError):
    """A peer's awareness state is over ``max_awareness_state`` bytes, or it announces too many
    client ids: every other peer would have to receive and keep it."""


class FrameTooLarge(CollabError):
    """A frame over the peer's size limit (``max_message_size``, or
    ``max_readonly_message_size`` for a read-only peer), refused from its header: its payload is
    never read, so its size costs the server nothing."""


class Backlogged(CollabError):
    """A peer that holds memory it does not read: its unread backlog passed ``max_peer_buffer``,
    it read nothing for ``peer_stall_timeout`` while bytes waited for it, or it had one of the
    largest backlogs when all peers' together passed ``max_server_buffer``. It may come back
    (and resync): the front end reconnects on 1013."""


class RoomFull(CollabError):
    """The room already has ``max_peers_per_room`` peers; the client may try again later."""


class TooManyRooms(CollabError):
    """Opening one more document room would pass ``max_rooms``; nothing was opened."""


class ClusterBusy(CollabError):
    """Servers share this document (cluster/) and it could not be joined now: another server is
    still loading it, or Redis did not answer. Nothing was opened; the client may try again."""


class ServerStopping(CollabError):
    """The server is stopping: its rooms are being saved and closed, and none is opened or
    handed out any more (one opened now would never be saved or closed). Server code's change
    that arrives then (a ``rooms.transaction`` block still running) is not applied."""


class UnknownSession(CollabError):
    """The client's session id names another lineage of the document: its state must not merge."""

    def __init__(self, session_id: str) -> None:
        super().__init__(f"unknown session {session_id!r}")
        self.session_id = session_id

    def close_reason(self) -> str:
        # The front end parses this JSON to offer a reload instead of retrying forever.
        return json.dumps(
            {"reason": "unknown_session", "sessionId": self.session_id, "reloadable": True}
        )


class Refused(CollabError):
    """A deployment's connect-time check (``CollabHooks.check_connection``) turned a peer away.

    With no ``close_code`` the connection closes with 1003 and a JSON reason the front end shows
    in a dialog (title "Document error", body: this message) before it stops trying: the right
    answer to "not allowed" and to "over your quota", which retrying cannot fix by itself. A
    hook that wants the front end to come back later passes ``close_code=TRY_AGAIN_LATER``
    (1013: it reconnects until it is let in); any other standard code or one of 4000-4999 is
    sent as is (4400/4404/4500 make the front end give up with its own message, the rest make
    it reconnect). The same request is refused before the upgrade for a moment after any of
    them (web/refusals.py), so that it does not come back ten times a second.
    """

    TRY_AGAIN_LATER = 1013
    #: Codes a server may send (RFC 6455 section 7.4, IANA registry) besides 4000-4999.
    STANDARD_CODES = frozenset({1000, 1001, 1002, 1003, 1007, 1008, 1009, 1011, 1012, 1013, 1014})

    def __init__(self, message: str, close_code: int | None = None) -> None:
        if close_code is not None and not (
            close_code in self.STANDARD_CODES or 4000 <= close_code <= 4999
        ):
            raise ValueError(f"{close_code} is not a close code a server may send")
        super().__init__(message)
        self.close_code = close_code

    def close_reason(self) -> str:
        if self.close_code is not None:
            return super().close_reason()
        return _dialog_reason(str(self))


def _dialog_reason(message: str) -> str:
    """The JSON close reason the front end turns into a dialog, cut to fit the 123 bytes a close
    frame allows (a longer one fails the connection instead of closing it)."""

    def encode(text: str) -> str:
        fields = {"reason": "initialization_error", "reloadable": False, "errorReason": text}
        return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))

    text = message[:123]
    while len(encode(text).encode()) > 123:
        text = text[:-1]
    return encode(text)


class HookFailed(CollabError):
    """A deployment hook raised something other than a ``CollabError`` (a bug in the hook): its
    one connection, or the opening of its one room, fails with the server-error code."""


class Outcome(NamedTuple):
    """How an error surfaces: HTTP status before the upgrade, close code after it."""

    http_status: int
    close_code: int


#: The one table. Close codes 4400/4404/4500 make the front end give up with a message;
#: 1003 with a JSON reason shows a dialog; 1002/1007/1009 are the websocket standard's codes;
#: 1013 ("try again later") makes the front end reconnect.
OUTCOMES: dict[type[CollabError], Outcome] = {
    BadRequest: Outcome(400, 4400),
    NotFound: Outcome(404, 4404),
    LoadFailed: Outcome(500, 4500),
    MalformedFrame: Outcome(400, 1002),
    UnsupportedFrame: Outcome(400, 1003),
    InvalidUpdate: Outcome(400, 1007),
    AwarenessTooLarge: Outcome(413, 1009),
    FrameTooLarge: Outcome(413, 1009),
    Backlogged: Outcome(503, 1013),
    RoomFull: Outcome(503, 1013),
    TooManyRooms: Outcome(503, 1013),
    ClusterBusy: Outcome(503, 1013),
    ServerStopping: Outcome(503, 1001),
    UnknownSession: Outcome(409, 1003),
    Refused: Outcome(403, 1003),  # or the close code the hook chose
    HookFailed: Outcome(500, 4500),
}


def outcome_of(error: CollabError) -> Outcome:
    """Look an error up in the table, walking its class hierarchy."""
    outcome = next(
        (OUTCOMES[cls] for cls in type(error).__mro__ if cls in OUTCOMES), Outcome(500, 4500)
    )
    if isinstance(error, Refused) and error.close_code is not None:
        return outcome._replace(close_code=error.close_code)
    return outcome


def may_not_write(error: BaseException | None) -> bool:
    """Whether ``error`` (or what caused it) refuses this server the file: no permission (403,
    EACCES, EPERM) or a read-only file system (which Jupyter's manager reports as a 500)."""
    while error is not None:
        if isinstance(error, HTTPError) and error.status_code == 403:
            return True
        if isinstance(error, OSError) and error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return True
        error = error.__cause__
    return False
