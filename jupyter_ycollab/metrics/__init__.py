"""The numbers behind the collaboration metrics: what the hot paths count, as plain attributes.

Every package records here (``metrics.current.applied(...)``); export.py turns the numbers into
Prometheus families when ``/metrics`` is scraped. Why plain numbers and not prometheus_client's
``Counter`` and ``Histogram``: theirs take a lock per ``inc`` and per ``observe`` (about 1 us,
several per update); an attribute added to costs tens of nanoseconds, and the process's one
registry is read only at a scrape. Each number has one writer thread: the event loop, or the
one thread that commits the update logs (the fsync figures), or the render process's job
thread (its figures), so no increment is lost without a lock. A scrape may see a histogram's
count one observation ahead of its sum: harmless.

``current`` is ``OFF`` (every method does nothing) unless the extension turned metrics on:
off costs a call that returns at once. One recorder per process, as Prometheus's registry is:
a server started in the process starts it afresh (its counters restart, as after a restart).
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field

#: Seconds, for what takes microseconds to a second (applying an update, an fsync, a delivery).
FAST_BUCKETS = (
    *(1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3),
    *(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
#: Seconds, for what takes milliseconds to tens of seconds (a save, a render job).
SLOW_BUCKETS = (1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: Seconds from a document's first unsaved change to its file written (save_delay, 1 s, and
#: max_save_delay, 10 s, by default).
LAG_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0)

#: The render process's jobs (fastpath/process.py), each counted ``ok`` or ``failed``.
RENDER_JOBS = ("render", "digest", "read")
#: What can happen to this server's lease on a file (cluster/lease.py).
LEASE_CHANGES = ("acquired", "lost", "released")
#: A save's answer (saving.py) -> the outcome it is counted under.
SAVE_OUTCOMES = {"success": "written", "skipped": "unchanged", "failed": "failed"}

clock = time.perf_counter


class Histogram:
    """Observations counted into buckets (``le`` bounds, plus +Inf) and summed."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value


@dataclass(frozen=True)
class Census:
    """What is open right now, counted when ``/metrics`` is scraped (rooms/status.py)."""

    rooms: dict[str, int] = field(default_factory=dict)  # by kind
    peers: dict[str, int] = field(default_factory=dict)  # by role: writer, read-only
    unsaved_rooms: int = 0
    backlog_bytes: int = 0


class Metrics:
    """The recorder: one method per event the hot paths report."""

    def __init__(self) -> None:
        self.updates_applied = self.updates_applied_bytes = 0
        self.update_apply = Histogram(FAST_BUCKETS)
        self.updates_relayed = self.updates_relayed_bytes = 0
        self.saves: Counter[str] = Counter(dict.fromkeys(SAVE_OUTCOMES.values(), 0))
        self.save_duration = Histogram(SLOW_BUCKETS)
        self.save_lag = Histogram(LAG_BUCKETS)
        self.saved_bytes = 0
        self.log_commits = self.log_bytes = self.log_compactions = 0
        self.log_fsync = Histogram(FAST_BUCKETS)
        self.refusals: Counter[int] = Counter()  # by HTTP status
        self.closes: Counter[int] = Counter()  # by close code
        self.slow_peers_dropped = 0
        self.outside_changes = self.merge_conflicts = 0
        # By (job, outcome); every key made now: the job thread adds to them during scrapes.
        self.render_jobs: Counter[tuple[str, str]] = Counter(
            {(job, outcome): 0 for job in RENDER_JOBS for outcome in ("ok", "failed")}
        )
        self.render_duration = Histogram(SLOW_BUCKETS)
        self.redis_errors = self.entries_published = self.entries_applied = 0
        self.lease_changes: Counter[str] = Counter(dict.fromkeys(LEASE_CHANGES, 0))
        self.delivery = Histogram(FAST_BUCKETS)

    def applied(self, size: int, started: float) -> None:
        """A peer's (or server code's) update of ``size`` bytes was checked and applied,
        relayed included, starting at ``started`` (``clock()``)."""
        self.updates_applied += 1
        self.updates_applied_bytes += size
        self.update_apply.observe(clock() - started)

    def relayed(self, size: int, peers: int) -> None:
        """A frame of ``size`` bytes went to ``peers`` peers: one call per update, not per peer."""
        self.updates_relayed += peers
        self.updates_relayed_bytes += size * peers

    def saved(self, answer: str, started: float, lag: float | None, size: int | None) -> None:
        """A save answered ``answer`` (saving.py's); ``lag``: seconds since the first change it
        wrote, when it wrote; ``size``: the bytes the file holds now, when known."""
        self.saves[SAVE_OUTCOMES[answer]] += 1
        self.save_duration.observe(clock() - started)
        if lag is not None:
            self.save_lag.observe(lag)
        if size is not None:
            self.saved_bytes += size

    def log_committed(self, size: int, seconds: float) -> None:
        """An update log's write + fsync (in the commit thread)."""
        self.log_commits += 1
        self.log_bytes += size
        self.log_fsync.observe(seconds)

    def log_compacted(self) -> None:
        self.log_compactions += 1

    def refused(self, status: int) -> None:
        """A websocket upgrade was refused with this HTTP status."""
        self.refusals[status] += 1

    def closed(self, code: int) -> None:
        """The server closed a websocket with this close code."""
        self.closes[code] += 1

    def peer_dropped(self) -> None:
        """A peer that held memory it did not read was disconnected."""
        self.slow_peers_dropped += 1

    def merged(self, conflicts: int) -> None:
        """A change made to a file outside the room was merged into it."""
        self.outside_changes += 1
        self.merge_conflicts += conflicts

    def rendered(self, job: str, ok: bool, seconds: float) -> None:
        """The render process did one job (in its job thread)."""
        self.render_jobs[job, "ok" if ok else "failed"] += 1
        self.render_duration.observe(seconds)

    def redis_error(self) -> None:
        self.redis_errors += 1

    def lease_changed(self, change: str) -> None:
        """This server ``acquired``, ``lost`` or ``released`` a file's lease."""
        self.lease_changes[change] += 1

    def published(self, entries: int) -> None:
        self.entries_published += entries

    def entry_applied(self, entry_id: bytes) -> None:
        """Another server's stream entry arrived; its id is Redis's clock (ms) at its XADD."""
        self.entries_applied += 1
        sent_ms = int(entry_id.partition(b"-")[0] or 0)
        self.delivery.observe(max(0.0, time.time() - sent_ms / 1000))


def _forget(self: Metrics, *event: object) -> None:
    """Metrics off: the event is forgotten at once."""


#: Metrics off: every recording method of ``Metrics`` (so none can be missed) forgets.
_Off = type(
    "_Off",
    (Metrics,),
    {name: _forget for name in vars(Metrics) if not name.startswith("_")},
)
OFF: Metrics = _Off()
#: The process's recorder: the extension sets it as it starts (option.py).
current: Metrics = OFF


def use(metrics: Metrics) -> None:
    """Record into ``metrics`` from now on."""
    global current
    current = metrics
