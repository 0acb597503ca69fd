"""Bytes queued for all peers of the server: a budget for their sum, and a watch on progress.

A limit per peer (``max_peer_buffer``) bounds one peer, not a hundred, and cannot tell a stuck
peer from a slow link receiving a big first sync: both hold bytes. Progress can: a peer whose
transport flushed none of its backlog for ``peer_stall_timeout`` is stuck, whatever the size of
that backlog, and one that drains, however slowly, is not. Past ``max_server_buffer`` for all
peers together, the largest backlogs go first: they free the most, and they are the peers
furthest behind (a peer that reconnects resyncs with one step2, usually smaller than its backlog).

The watch runs only while some peer has a backlog (a timer, not a task): an idle server does
nothing for it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import Backlogged

if TYPE_CHECKING:
    from .peer import Peer

#: The watch looks at least this often (and four times per timeout when that is shorter).
LONGEST_SWEEP = 1.0


@dataclass
class _Watch:
    """What a backlogged peer had flushed when last seen moving, and when that was."""

    mark: int
    since: float


class Backlogs:
    """Every backlogged peer's watch, and the sum of their backlogs (``total``)."""

    def __init__(self, budget: int, stall_timeout: float) -> None:
        self.budget = budget
        self.stall_timeout = stall_timeout
        self.total = 0
        self._peers: dict[Peer, _Watch] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._stopped = False

    def __len__(self) -> int:
        return len(self._peers)

    def grew(self, peer: Peer, size: int) -> None:
        """``size`` more bytes wait for ``peer`` (its ``pending_bytes`` counts them already)."""
        if peer.closed:
            return
        if peer not in self._peers:
            self._peers[peer] = _Watch(peer.progress(), self._now())
            self._schedule()
        self.total += size
        if self.total > self.budget:
            self._shed()

    def shrank(self, peer: Peer, size: int) -> None:
        """``size`` bytes for ``peer`` left the server (flushed, or failed with its stream)."""
        if peer not in self._peers:
            return  # forgotten already: its bytes left the total then
        self.total -= size
        if peer.pending_bytes <= 0:
            del self._peers[peer]

    def forget(self, peer: Peer) -> None:
        """The peer is gone: what it still holds is its closed stream's, freed with it."""
        if self._peers.pop(peer, None) is not None:
            self.total -= peer.pending_bytes

    def stop(self) -> None:
        self._stopped = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _shed(self) -> None:
        """Close the peers with the largest backlogs until the total is within the budget."""
        for peer in sorted(self._peers, key=lambda p: p.pending_bytes, reverse=True):
            if self.total <= self.budget:
                return
            peer.drop(
                Backlogged(
                    f"{peer.pending_bytes} bytes unread, the most of any peer while all peers' "
                    f"{self.total} passed max_server_buffer ({self.budget})"
                )
            )

    def _tick(self) -> None:
        """Close every peer that flushed nothing of its backlog for ``stall_timeout``; look again
        later while some peer still has a backlog."""
        self._timer = None
        now = self._now()
        for peer, watch in list(self._peers.items()):
            mark = peer.progress()
            if mark != watch.mark:
                watch.mark, watch.since = mark, now
            elif now - watch.since >= self.stall_timeout:
                peer.drop(
                    Backlogged(
                        f"read nothing of its {peer.pending_bytes} queued bytes for "
                        f"{now - watch.since:.1f} s (peer_stall_timeout)"
                    )
                )
        if self._peers:
            self._schedule()

    def _schedule(self) -> None:
        if self._timer is None and not self._stopped:
            interval = min(self.stall_timeout / 4, LONGEST_SWEEP)
            self._timer = asyncio.get_running_loop().call_later(interval, self._tick)

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()
