"""The server's keep-alive: every peer of every room hears from the server at least once per
``keepalive_interval``, so that an idle front end does not drop its connection after 30 s.

Apart from the manager because it is one loop over all rooms with a life of its own (started with
the first peer, cancelled on stop); the manager only opens and closes rooms under it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from .room import Room


class KeepAlive:
    def __init__(self, rooms: Mapping[str, Room], interval: float) -> None:
        self._rooms = rooms  # the manager's, read as it changes
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the loop, once: called with the first peer, as it needs the running loop."""
        if self._task is None:
            self._task = asyncio.create_task(self._keep_peers_alive(), name="keepalive")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _keep_peers_alive(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            self._renew_awareness()

    def _renew_awareness(self) -> None:
        # Not inlined in the loop above: its variables would keep the last room alive while
        # the task sleeps, after the room was freed.
        for room in list(self._rooms.values()):
            room.renew_awareness()
