"""Redis memory per shared room: `INFO memory` used_memory before any room is open, with N
small notebooks open (each on both servers, a few edits each, saved), and once they went idle.

"Idle" is when no server has the room open any more: both servers closed it (its clients left,
then the servers' 1 s cleanup delay), which releases its lease key; its stream, state and saved
hash stay in Redis until `cluster_idle_expiry` (a day by default). Also `MEMORY USAGE` of each
kind of key, summed over the rooms, to show where the bytes are.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict

from ..client import CollabClient, close_clients, open_clients
from ..delivery import DeliveryTracker, append_marker, paced
from ..results import Sink
from ..servers import JupyterServer
from ..waiting import DeadlineExceeded, wait_until, wait_until_stable
from ..workloads import SMALL
from .config import Part
from .farm import started_cluster
from .redisserver import RedisServer

GROUP = "Redis memory"
PREFIX = "ycollab::json:notebook:"
EDIT_RATE = 5.0  # per room and second
SETTLE_TIMEOUT = 30.0


async def _settled(redis: RedisServer) -> dict[str, int]:
    """INFO memory once used_memory stayed within 0.1 % for 1 s (saves, folds, trims done)."""
    with contextlib.suppress(DeadlineExceeded):  # a Redis that never settles: take it as is
        await wait_until_stable(
            lambda: float(redis.used_memory()), 1.0, SETTLE_TIMEOUT, "used_memory", 1e-3, 0.1
        )
    return redis.memory()


def _by_kind(redis: RedisServer, paths: list[str]) -> dict[str, int]:
    """Bytes of each kind of room key (updates, state, saved, lease, fence) over all rooms."""
    found: dict[str, int] = defaultdict(int)
    for path in paths:
        for key in redis.keys(f"{PREFIX}{path}:*"):
            found[key.rsplit(":", 1)[1]] += redis.key_bytes(key)
    return dict(found)


async def _edit_everywhere(
    servers: list[JupyterServer], paths: list[str], edits: int
) -> list[CollabClient]:
    """Open each room on both servers, make `edits` edits from A's client, wait until B's has
    them: every room is then shared and has a stream."""
    writers = await open_clients(servers[0].endpoint, paths)
    readers = await open_clients(servers[1].endpoint, paths)
    tracker = DeliveryTracker()
    for path, reader in zip(paths, readers, strict=True):
        tracker.watch(reader, path)

    async def edit(sequence: int) -> None:
        for path, writer in zip(paths, writers, strict=True):
            tracker.mark_sent(path, sequence)
            await writer.edit(append_marker(sequence))

    await paced(edits, EDIT_RATE, edit)
    expected = edits * len(paths)
    with contextlib.suppress(DeadlineExceeded):
        await wait_until(lambda: tracker.received >= expected, SETTLE_TIMEOUT, "deliveries")
    tracker.unwatch()
    return writers + readers


async def _closed(redis: RedisServer, paths: list[str]) -> None:
    """Wait until no server has any of the rooms open: none of them has a lease any more."""
    leases = [f"{PREFIX}{path}:lease" for path in paths]
    await wait_until(lambda: redis.exists(leases) == 0, SETTLE_TIMEOUT, "rooms to close", 0.1)


def _record(
    sink: Sink, rooms: int, memory: dict[str, dict[str, int]], kinds: dict[str, dict[str, int]]
) -> None:
    sink.put("used_memory, no room open", "KB", memory["before"]["used_memory"] / 1024)
    for state in ("open", "idle"):
        label = f"per {state} room ({rooms} notebooks of {SMALL.cells} cells)"
        for field in ("used_memory", "used_memory_dataset", "mem_clients_normal"):
            growth = memory[state][field] - memory["before"][field]
            sink.put(f"{label}, {field} growth", "bytes", growth / rooms)
        for kind, size in sorted(kinds[state].items()):
            sink.put(f"{label}, MEMORY USAGE of :{kind}", "bytes", size / rooms)


async def measure(part: Part, sink: Sink) -> None:
    rooms, edits = part.mode.memory_rooms, part.mode.memory_edits
    async with started_cluster(part, "memory") as (redis, servers):
        memory = {"before": await _settled(redis)}
        paths = [
            part.cache.place(SMALL, servers[0].root, f"memory/room-{room}.ipynb")
            for room in range(rooms)
        ]
        clients = await _edit_everywhere(servers, paths, edits)
        try:
            memory["open"] = await _settled(redis)
            kinds = {"open": _by_kind(redis, paths)}
        finally:
            await close_clients(clients)
        await _closed(redis, paths)
        memory["idle"] = await _settled(redis)
        kinds["idle"] = _by_kind(redis, paths)
    _record(sink, rooms, memory, kinds)
