"""Refusals the front end shows in a dialog, remembered for a moment, so that it shows one.

JupyterLab's front end (jupyter-docprovider 3.0) shows a dialog for a close with code 1003 and
a JSON reason (a connection the deployment refused, a session of another lineage), and stops
only once the user answers it. Until then its websocket client reconnects 100 ms after each
close of a connection that had opened: a refusal, and a dialog, ten times a second (60 queued
in 7 s, measured in Chromium). So the same request (user, room, session), refused so a moment
ago, is refused again before the upgrade: no dialog, and the client's back-off grows (to 2.5 s)
until the user answered the first one, or the moment passed and the request is weighed anew.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..errors import CollabError, Refused, UnknownSession, outcome_of

#: Seconds a refusal shown in a dialog is given again before the upgrade, to the same request.
REPEAT_WINDOW = 10.0
DIALOG_CLOSE = 1003

Request = tuple[str, str, str]  # the user, the room the URL names, the session id


class Refusals:
    """The requests refused with a dialog within ``REPEAT_WINDOW``, and why."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._recent: dict[Request, tuple[float, CollabError]] = {}

    def note(self, request: Request, error: CollabError) -> None:
        """Remember ``error`` if it closes ``request``'s connection with a dialog."""
        if not isinstance(error, Refused | UnknownSession):
            return
        if outcome_of(error).close_code != DIALOG_CLOSE:
            return  # a hook's own close code: the front end reconnects, or gives up, by itself
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
