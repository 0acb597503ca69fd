"""Refusals the front end does not stop on, remembered for a moment, so that it is not asked
again ten times a second.

JupyterLab's front end (jupyter-docprovider 3.0) stops reconnecting only in two cases: a close
with code 1003 and a JSON reason (a connection the deployment refused, a session of another
lineage), once the user answered the dialog it shows; and a close with 4400, 4404 or 4500, but
only before the page first synced. Otherwise its websocket client reconnects 100 ms after each
close of a connection that had opened. So a refusal shown in a dialog came back ten times a
second (60 dialogs queued in 7 s, measured in Chromium), and so did a page coming back to a
file that was deleted, or can no longer be read, while it was away: an upgrade, a failed load
and a close every 120 ms for as long as the tab stays open.

The same request (user, room, session), refused so a moment ago, is therefore refused again
before the upgrade: no dialog, no load, and the client's back-off grows (to 2.5 s) until the
moment has passed and the request is weighed anew (a file put back is then opened).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..errors import CollabError, Refused, UnknownSession, outcome_of

#: Seconds a refusal is given again before the upgrade, to the same request.
REPEAT_WINDOW = 10.0
DIALOG_CLOSE = 1003
#: Codes the front end gives up on before its first sync, and ignores after it.
GIVE_UP_CLOSES = frozenset({4400, 4404, 4500})
#: A repeat's HTTP status when its error's own is a server error, which jupyter_server would log
#: as an ERROR (with the request's headers) at each of the client's retries.
TOO_SOON = 429

Request = tuple[str, str, str]  # the user, the room the URL names, the session id


class Refusals:
    """The requests refused within ``REPEAT_WINDOW`` with a close the front end does not stop
    on, and why."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._recent: dict[Request, tuple[float, CollabError]] = {}

    def note(self, request: Request, error: CollabError) -> None:
        """Remember ``error`` if the close it gives ``request``'s connection brings it back."""
        code = outcome_of(error).close_code
        dialog = code == DIALOG_CLOSE and isinstance(error, Refused | UnknownSession)
        if not (dialog or code in GIVE_UP_CLOSES):
            return  # 1013 and the like: the front end backs off by itself
        now = self._clock()
        self._recent = {key: seen for key, seen in self._recent.items() if self._fresh(seen, now)}
        self._recent[request] = (now, error)

    def repeated(self, request: Request) -> CollabError | None:
        """The error ``request`` was refused with a moment ago, if any."""
        seen = self._recent.get(request)
        return seen[1] if seen is not None and self._fresh(seen, self._clock()) else None

    @staticmethod
    def _fresh(seen: tuple[float, CollabError], now: float) -> bool:
        return now - seen[0] < REPEAT_WINDOW


def repeat_status(error: CollabError) -> int:
    """The HTTP status that refuses a request again: its error's own, below 500."""
    status = outcome_of(error).http_status
    return status if status < 500 else TOO_SOON
