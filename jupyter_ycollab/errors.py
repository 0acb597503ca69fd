"""The exception tree and the one table that maps each error to what the client sees.

Handlers never choose status codes or close codes themselves: they raise (or catch) one of these
errors and look it up here, so REST statuses, websocket close codes and the README stay in step.
"""

from __future__ import annotations

import json
from typing import NamedTuple


class CollabError(Exception):
    """Base of every error the collaboration server reports to a client."""

    def close_reason(self) -> str:
        """The reason sent with the websocket close frame (at most 123 bytes)."""
        return str(self).encode()[:120].decode(errors="ignore")


class BadRequest(CollabError):
    """The request is malformed: a bad room id, a bad session body."""


class Forbidden(CollabError):
    """The user may not do this (no credentials, or no permission)."""


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


class AwarenessTooLarge(CollabError):
    """A peer's awareness state is over ``max_awareness_state`` bytes, or it announces too many
    client ids: every other peer would have to receive and keep it."""


class RoomFull(CollabError):
    """The room already has ``max_peers_per_room`` peers; the client may try again later."""


class TooManyRooms(CollabError):
    """Opening one more document room would pass ``max_rooms``; nothing was opened."""


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


class Outcome(NamedTuple):
    """How an error surfaces: HTTP status before the upgrade, close code after it."""

    http_status: int
    close_code: int


#: The one table. Close codes 4400/4404/4500 make the front end give up with a message;
#: 1003 with a JSON reason shows a dialog; 1002/1007/1009 are the websocket standard's codes;
#: 1013 ("try again later") makes the front end reconnect with back-off.
OUTCOMES: dict[type[CollabError], Outcome] = {
    BadRequest: Outcome(400, 4400),
    Forbidden: Outcome(403, 1008),
    NotFound: Outcome(404, 4404),
    LoadFailed: Outcome(500, 4500),
    MalformedFrame: Outcome(400, 1002),
    UnsupportedFrame: Outcome(400, 1003),
    InvalidUpdate: Outcome(400, 1007),
    AwarenessTooLarge: Outcome(413, 1009),
    RoomFull: Outcome(503, 1013),
    TooManyRooms: Outcome(503, 1013),
    UnknownSession: Outcome(409, 1003),
}


def outcome_of(error: CollabError) -> Outcome:
    """Look an error up in the table, walking its class hierarchy."""
    for cls in type(error).__mro__:
        if cls in OUTCOMES:
            return OUTCOMES[cls]
    return Outcome(500, 4500)
