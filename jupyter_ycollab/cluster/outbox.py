"""What this server sends to one room's stream: its peers' updates and awareness, and control
messages, in order. Each goes to Redis at once, through the server's one publisher
(publisher.py); kept here, in order, while it cannot: the local update log has the edits
meanwhile, and reconcile.py levels both sides when Redis answers again.

From an outage until then, it is held: Redis may have come back empty and its stream be another
history's (cluster/reconcile.py), where this room's updates would not apply or would be doubled.
Meanwhile it keeps no update (``release`` sends what the cluster lacks of the document, which
holds them all), and what its pages announce is each client's latest state, one entry for each
announcer: an hour's outage would otherwise keep every keystroke twice in memory, and its
cursors would reach the others' pages as a burst of stale places.
"""

from __future__ import annotations

import asyncio

from ..codec.updates import EMPTY_UPDATE
from ..rooms.protocol import AwarenessEntry, decode_awareness_update, encode_awareness_update
from .awareness import Announced
from .publisher import Entry, Publisher

#: Who announced an awareness update: the user (None: the server) and whether they may save.
Announcer = tuple[str | None, bool]
#: Seconds ``flush`` waits for the entries to reach Redis before it says they did not (yet).
FLUSH_TIMEOUT = 2.0


class Outbox:
    def __init__(self, publisher: Publisher, key: str) -> None:
        self._publisher = publisher
        self._key = key  # the room's stream
        self._kept: list[Entry] = []  # not written yet: the publisher could not
        self._unconfirmed = 0  # written, not yet confirmed by Redis
        self.held = False  # nothing is written until ``release``
        self._idle = asyncio.Event()
        self._idle.set()

    def put(self, kind: str, payload: bytes) -> None:
        """Send one entry (``u`` update, ``a`` awareness, ``c`` control), after those before.
        What waits is kept small: held, no update (the document has them all: ``release``);
        one awareness entry for each announcer."""
        self._idle.clear()
        if kind == "u" and self.held:
            return
        self._kept.append((kind, payload))
        if kind == "a" and len(self._kept) > 1:  # they wait: an outage, a connection made again
            self._kept = latest_awareness(self._kept)
        self.send()

    def send(self) -> None:
        """Write what is kept, if the publisher can now."""
        if self._kept and not self.held and self._publisher.write(self, self._key, self._kept):
            self._unconfirmed += len(self._kept)
            self._kept = []

    def hold(self) -> None:
        """Keep everything until ``release`` (an outage began)."""
        self.held = True

    def release(self, update: bytes) -> None:
        """Send what was kept, its updates replaced by ``update``: what the cluster lacks of
        the document now, which holds them (``EMPTY_UPDATE`` for none)."""
        self._kept = [entry for entry in self._kept if entry[0] != "u"]
        if update != EMPTY_UPDATE:
            self._kept.insert(0, ("u", update))
            self._idle.clear()  # ``flush`` waits for it too
        self.held = False
        self.confirmed(0)  # idle if nothing is left
        self.send()

    def confirmed(self, count: int) -> None:
        """The next ``count`` entries written are in the stream."""
        self._unconfirmed -= count
        if not self._unconfirmed and not self._kept:
            self._idle.set()

    def returned(self, entries: list[Entry]) -> None:
        """These entries, written last, may not be in the stream: keep them, in front."""
        self._unconfirmed -= len(entries)
        self._kept[:0] = entries

    async def flush(self) -> bool:
        """Whether everything put so far reached Redis (waits ``FLUSH_TIMEOUT`` at most)."""
        try:
            await asyncio.wait_for(self._idle.wait(), FLUSH_TIMEOUT)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        """Let what was put reach Redis (a bounded wait); the publisher forgets this outbox."""
        await self.flush()
        self._publisher.forget(self)


def latest_awareness(entries: list[Entry]) -> list[Entry]:
    """``entries`` with their awareness updates merged, last: each client's latest state (they
    come from this server's peers, in order, so the last one met is the newest), in one entry
    per announcer (cluster/awareness.py ``Announced``): none speaks for another's clients."""
    announced = [payload for kind, payload in entries if kind == "a"]
    if len(announced) < 2:
        return entries
    latest: dict[int, tuple[Announcer, AwarenessEntry]] = {}
    for said in map(Announced.decode, announced):
        for entry in decode_awareness_update(said.update):
            latest[entry.client_id] = ((said.user, said.saves), entry)
    merged: dict[Announcer, list[AwarenessEntry]] = {}
    for announcer, entry in latest.values():
        merged.setdefault(announcer, []).append(entry)
    others = [entry for entry in entries if entry[0] != "a"]
    return [*others, *(_announced(by, states) for by, states in merged.items())]


def _announced(announcer: Announcer, states: list[AwarenessEntry]) -> Entry:
    return ("a", Announced(encode_awareness_update(states), *announcer).encode())
