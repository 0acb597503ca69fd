"""Connections refused after the upgrade, remembered for a moment, so that the front end does
not come back ten times a second.

JupyterLab's front end (jupyter-docprovider 3.0, over y-websocket) reconnects 100 ms after the
close of any connection that had opened: its back-off grows only for connections that never
opened. It stops in two cases only: after a close with 1003 and a JSON reason (a connection the
deployment refused, a session of another lineage), once its user answered the dialog; and
after 4400, 4404 or 4500, but only before the page first synced. Otherwise it comes back for as
long as its tab stays open. Measured in Chromium: 60 dialogs queued in 7 s for a refusal shown
in a dialog; 91 connections in 12 s, each loading the file, from a page back to a file deleted
while it was away; 93 in 12 s from a page back while Redis was down (1013, "try again later").

So a request (user, room, session) refused once its connection had opened is refused again
before the upgrade for a moment: no dialog, no load, and the client's back-off grows. A refusal
that asks to try again later is remembered for a short moment, as what it waits for (another
server's load, Redis) may come soon; any other for longer, as it needs a person (to answer the
dialog, to put the file back). A connection closed later, for what it sent or did not read, is
not a refusal: it may come back at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..errors import CollabError, Refused, outcome_of

#: Seconds a refusal is given again before the upgrade, to the same request.
REPEAT_WINDOW = 10.0
#: The same for a refusal closed with "try again later" (1013).
RETRY_WINDOW = 2.0
#: A repeat's HTTP status when its error's own is a server error, which jupyter_server would log
#: as an ERROR (with the request's headers) at each of the client's retries.
TOO_SOON = 429

Request = tuple[str, str, str]  # the user, the room the URL names, the session id


class Refusals:
    """The requests refused after the upgrade a moment ago, when, and why."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._recent: dict[Request, tuple[float, CollabError]] = {}

    def note(self, request: Request, error: CollabError) -> None:
        """Remember that ``request`` was refused with ``error`` after its upgrade."""
        now = self._clock()
        self._recent = {key: seen for key, seen in self._recent.items() if _fresh(seen, now)}
        self._recent[request] = (now, error)

    def repeated(self, request: Request) -> CollabError | None:
        """The error ``request`` was refused with a moment ago, if any."""
        seen = self._recent.get(request)
        return seen[1] if seen is not None and _fresh(seen, self._clock()) else None


def _fresh(seen: tuple[float, CollabError], now: float) -> bool:
    later = outcome_of(seen[1]).close_code == Refused.TRY_AGAIN_LATER
    return now - seen[0] < (RETRY_WINDOW if later else REPEAT_WINDOW)


def repeat_status(error: CollabError) -> int:
    """The HTTP status that refuses a request again: its error's own, below 500."""
    status = outcome_of(error).http_status
    return status if status < 500 else TOO_SOON
