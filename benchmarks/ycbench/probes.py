"""Event-loop stall probe: pings the server while something else (a save) runs."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

from .client import CollabClient

PING_EVERY = 0.005


@dataclass
class StallProbe:
    """A client that pings the server every 5 ms; the longest round trip is the longest stall
    of the server's event loop (Tornado answers pings on that loop)."""

    client: CollabClient
    longest: float = 0.0
    _task: asyncio.Task[None] | None = field(default=None, init=False)
    _in_flight_since: float | None = field(default=None, init=False)
    _running: bool = field(default=False, init=False)

    async def __aenter__(self) -> StallProbe:
        self.longest = 0.0
        self._running = True
        self._task = asyncio.create_task(self._ping())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        # The flag as well as the cancel: Python 3.11's wait_for can swallow a cancellation that
        # lands as the pong arrives, and the loop would then ping forever.
        self._running = False
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        if self._in_flight_since is not None:
            # A ping still unanswered when the save ended: the loop was busy at least that long.
            self.longest = max(self.longest, time.perf_counter() - self._in_flight_since)

    async def _ping(self) -> None:
        while self._running:
            self._in_flight_since = time.perf_counter()
            self.longest = max(self.longest, await self.client.ping())
            self._in_flight_since = None
            await asyncio.sleep(PING_EVERY)
