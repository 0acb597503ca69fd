"""What this server sends to one room's stream: its peers' updates and awareness, and control
messages, published in order by one task, in batches (one round trip for all that queued while
the last one was on its way). Kept, in order, while Redis does not answer: the local update log
has the edits meanwhile, and ``SharedRoom.reconcile`` levels both sides when it answers again.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from .. import metrics
from .store import RoomStore

if TYPE_CHECKING:
    from .cluster import Cluster

#: Seconds ``flush`` waits for the queue to reach Redis before it says it did not (yet).
FLUSH_TIMEOUT = 2.0


class Outbox:
    def __init__(self, cluster: Cluster, store: RoomStore) -> None:
        self._cluster = cluster
        self._store = store
        self._queued: list[tuple[str, bytes]] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None  # started by the first entry

    def put(self, kind: str, payload: bytes) -> None:
        """Queue one entry (``u`` update, ``a`` awareness, ``c`` control)."""
        self._queued.append((kind, payload))
        self._idle.clear()
        self._wake.set()
        if self._task is None:
            name = f"publish {self._store.keys.prefix}"
            self._task = asyncio.create_task(self._publish(), name=name)

    async def _publish(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queued:
                batch, self._queued = self._queued, []
                try:
                    await self._store.publish(batch)
                    metrics.current.published(len(batch))
                except self._cluster.errors as error:
                    self._queued[:0] = batch
                    self._cluster.trouble(error)
                    await self._cluster.healthy.wait()
            self._idle.set()

    async def flush(self) -> bool:
        """Whether everything queued so far reached Redis (waits ``FLUSH_TIMEOUT`` at most)."""
        try:
            await asyncio.wait_for(self._idle.wait(), FLUSH_TIMEOUT)
        except asyncio.TimeoutError:
            return False
        return True

    async def close(self) -> None:
        """Publish what is queued (a bounded wait), then stop."""
        if self._task is not None:
            await self.flush()
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
