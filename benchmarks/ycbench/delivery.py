"""Edits that carry their own sequence number, and the delivery latency of each at each peer.

The writer appends `[k]` to a cell's source and notes when edit k was sent; every other peer
observes that cell's Text and, when an insert carrying `[k]` arrives, records the delay. All
clients live in this process, so one perf_counter clock serves both ends.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from jupyter_ydoc import YNotebook
from pycrdt import Text, TextEvent

from .client import CollabClient

_MARKER = re.compile(r"\[(\d+)\]")


def append_marker(sequence: int, cell: int = 0) -> Callable[[YNotebook], None]:
    """An edit appending `[sequence]` to the source of cell `cell`."""

    def change(notebook: YNotebook) -> None:
        source = notebook.ycells[cell]["source"]
        assert isinstance(source, Text)
        source.insert(len(source), f"[{sequence}]")

    return change


@dataclass
class DeliveryTracker:
    """Send instants per (room, sequence) and the latencies observed at receivers."""

    sent: dict[tuple[Hashable, int], float] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    received: int = 0
    _subscriptions: list[tuple[Text, Any]] = field(default_factory=list)

    def mark_sent(self, room: Hashable, sequence: int) -> None:
        self.sent[(room, sequence)] = time.perf_counter()

    def watch(self, client: CollabClient, room: Hashable, cell: int = 0) -> None:
        """Record every marker that reaches `client` in the source of cell `cell`."""
        source = client.notebook.ycells[cell]["source"]
        assert isinstance(source, Text)
        self.watch_text(source, room)

    def watch_text(self, source: Text, room: Hashable) -> None:
        """Record every marker inserted into `source` (a cell's source, or a text file's)."""

        def on_change(event: TextEvent) -> None:
            now = time.perf_counter()
            for operation in event.delta:  # type: ignore[attr-defined]
                inserted = operation.get("insert")
                if isinstance(inserted, str):
                    for match in _MARKER.finditer(inserted):
                        self._arrived(room, int(match.group(1)), now)

        self._subscriptions.append((source, source.observe(on_change)))

    def _arrived(self, room: Hashable, sequence: int, now: float) -> None:
        sent = self.sent.get((room, sequence))
        if sent is not None:
            self.received += 1
            self.latencies.append(now - sent)

    def unwatch(self) -> None:
        for source, subscription in self._subscriptions:
            source.unobserve(subscription)
        self._subscriptions.clear()


async def paced(
    count: int, rate: float, action: Callable[[int], Awaitable[None]], offset: float = 0.0
) -> None:
    """Run `action(k)` for k in 0..count-1 at `rate` per second, starting `offset` s from now.

    Sleeping here keeps a schedule; it never stands in for waiting on a condition.
    """
    start = time.perf_counter() + offset
    for sequence in range(count):
        delay = start + sequence / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await action(sequence)
