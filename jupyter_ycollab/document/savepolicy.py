"""When to save: debounce by ``delay`` of quiet, but never later than ``max_delay``. Pure.

The clock is injected (plain floats), so the policy is table-tested without waiting.
A save takes a *ticket* when it snapshots the document; changes that arrive while the save runs
start a new burst, so an edit made during a save always schedules another one.
"""

from __future__ import annotations

from dataclasses import dataclass

#: A failed save is retried after ``delay`` doubled at each failure in a row, at most this.
MAX_RETRY_DELAY = 60.0


@dataclass
class SavePolicy:
    delay: float
    max_delay: float
    first_change: float | None = None
    last_change: float | None = None
    not_before: float = 0.0
    failures: int = 0  # in a row

    @property
    def pending(self) -> bool:
        """True while there are changes no save has taken yet."""
        return self.first_change is not None

    def changed(self, now: float) -> None:
        """Record a change of the document's content at ``now``."""
        if self.first_change is None:
            self.first_change = now
        self.last_change = now

    def due_at(self) -> float | None:
        """When the next save should start, or None when nothing is pending."""
        if self.first_change is None or self.last_change is None:
            return None
        debounced = min(self.last_change + self.delay, self.first_change + self.max_delay)
        return max(debounced, self.not_before)

    def take(self) -> float | None:
        """A save snapshots the document now: forget the burst, return its start as the ticket."""
        ticket = self.first_change
        self.first_change = self.last_change = None
        self.not_before = 0.0
        return ticket

    def retry_now(self) -> None:
        """Whatever held the next attempt back is gone: the debounce alone decides again."""
        self.not_before = 0.0

    def give_back(self, ticket: float | None, retry_at: float) -> None:
        """A save failed: its changes are pending again, retried not before ``retry_at``."""
        if ticket is None:
            return
        if self.first_change is None or ticket < self.first_change:
            self.first_change = ticket
        if self.last_change is None:
            self.last_change = ticket
        self.not_before = retry_at

    def failed(self, ticket: float | None, now: float) -> float:
        """A save failed at ``now``: give its changes back, to be retried after a delay that
        doubles with each failure in a row; return the delay."""
        self.failures += 1
        delay = min(self.delay * 2.0**self.failures, MAX_RETRY_DELAY)
        self.give_back(ticket, now + delay)
        return delay
