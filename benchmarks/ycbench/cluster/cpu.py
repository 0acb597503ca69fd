"""Server CPU of one busy room: two cluster servers with half the clients each, against one
server with all of them, with the same people typing.

One small notebook, `2 x clients_per_server` clients in its room, `typists` of them typing
markers into the first cell at a human pace (a few keystrokes a second each, their phases
spread). In the cluster, each server has half the clients and half the typists; alone, one
server (redis_url unset: today's code path) has them all. CPU is user+system seconds of each
server's process tree and of redis-server from the first keystroke until every other client has
every keystroke, divided by that time: cores kept busy.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from jupyter_ydoc import YNotebook

from ..client import CollabClient, close_clients, open_clients
from ..delivery import DeliveryTracker, append_marker, paced
from ..results import Sink
from ..servers import JupyterServer
from ..stats import median, percentile
from ..waiting import DeadlineExceeded, wait_until
from ..workloads import SMALL
from .config import ClusterMode, Part
from .farm import started_cluster, started_servers
from .redisserver import RedisServer

GROUP = "CPU, one notebook room"
PATH = "cpu/room.ipynb"
DRAIN_TIMEOUT = 60.0


@dataclass
class Phase:
    """One typing phase: CPU seconds per server and of Redis, its length, the deliveries."""

    servers: list[float]
    redis: float
    seconds: float
    latencies: list[float] = field(default_factory=list)
    missed: int = 0

    def rate(self, seconds: float) -> float:
        return seconds / self.seconds


def type_first(text: str) -> Callable[[YNotebook], None]:
    """An edit typing `text` at the start of the first cell."""

    def change(notebook: YNotebook) -> None:
        notebook.ycells[0]["source"].insert(0, text)

    return change


def first_source(client: CollabClient) -> str:
    return str(client.notebook.ycells[0]["source"])


async def _open(servers: list[JupyterServer], per_server: int) -> list[list[CollabClient]]:
    return [await open_clients(server.endpoint, [PATH] * per_server) for server in servers]


async def _warm_up(typists: list[CollabClient], clients: list[CollabClient]) -> None:
    """One unmeasured keystroke per typist, until everyone has them all (the cluster is live)."""
    marks = [f"<{number}>" for number in range(len(typists))]
    for mark, typist in zip(marks, typists, strict=True):
        await typist.edit(type_first(mark))
    await wait_until(
        lambda: all(mark in first_source(client) for client in clients for mark in marks),
        DRAIN_TIMEOUT,
        "warm-up keystrokes everywhere",
        interval=0.05,
    )


async def _type(typists: list[CollabClient], tracker: DeliveryTracker, mode: ClusterMode) -> int:
    """Every typist types its keystrokes at the pace; returns how many were typed in all."""
    keystrokes = round(mode.typing_seconds * mode.keystroke_rate)
    count = len(typists)

    async def typing(index: int, typist: CollabClient) -> None:
        async def keystroke(number: int) -> None:
            sequence = number * count + index
            tracker.mark_sent("room", sequence)
            await typist.edit(append_marker(sequence))

        await paced(keystrokes, mode.keystroke_rate, keystroke, index / count / mode.keystroke_rate)

    await asyncio.gather(*(typing(index, typist) for index, typist in enumerate(typists)))
    return keystrokes * count


async def _phase(
    servers: list[JupyterServer], redis: RedisServer | None, mode: ClusterMode
) -> Phase:
    """Open the room everywhere, warm up, then type and measure."""
    per_server = mode.clients_per_server * 2 // len(servers)
    typing_here = mode.typists // len(servers)
    groups = await _open(servers, per_server)
    typists = [client for group in groups for client in group[:typing_here]]
    receivers = [client for group in groups for client in group[typing_here:]]
    try:
        await _warm_up(typists, receivers)
        tracker = DeliveryTracker()
        for receiver in receivers:
            tracker.watch(receiver, "room")
        before = [server.process.cpu() for server in servers]
        redis_before = redis.process.cpu() if redis is not None else 0.0
        started = time.perf_counter()
        expected = await _type(typists, tracker, mode) * len(receivers)
        with contextlib.suppress(DeadlineExceeded):
            await wait_until(lambda: tracker.received >= expected, DRAIN_TIMEOUT, "deliveries")
        seconds = time.perf_counter() - started
        used = [server.process.cpu() - was for server, was in zip(servers, before, strict=True)]
        redis_used = redis.process.cpu() - redis_before if redis is not None else 0.0
        tracker.unwatch()
        return Phase(used, redis_used, seconds, tracker.latencies, expected - tracker.received)
    finally:
        await close_clients([client for group in groups for client in group])


async def _alone(part: Part, repeat: int) -> Phase:
    async with started_servers(part, f"cpu-alone-{repeat}", 1, None) as servers:
        part.cache.place(SMALL, servers[0].root, PATH)
        return await _phase(servers, None, part.mode)


async def _clustered(part: Part, repeat: int) -> Phase:
    async with started_cluster(part, f"cpu-cluster-{repeat}") as (redis, servers):
        part.cache.place(SMALL, servers[0].root, PATH)
        return await _phase(servers, redis, part.mode)


def _deliveries(sink: Sink, label: str, phases: list[Phase]) -> None:
    for name, fraction in (("p50", 0.5), ("p99", 0.99)):
        values = [percentile(phase.latencies, fraction) for phase in phases if phase.latencies]
        if values:
            sink.put(f"{label}: delivery {name}", "ms", median(values) * 1000)
    sink.put(f"{label}: missed deliveries", "count", max(p.missed for p in phases), ratio=False)


def _record(sink: Sink, mode: ClusterMode, alone: list[Phase], clustered: list[Phase]) -> None:
    """Medians over repeats; CPU as seconds per second of the phase."""
    clients, typists = mode.clients_per_server * 2, mode.typists
    one = f"1 server x {clients} clients, {typists} typing"
    two = f"2 servers x {clients // 2} clients, {typists // 2} typing on each"
    single = median([phase.rate(phase.servers[0]) for phase in alone])
    sink.put(f"{one}: server CPU", "s/s", single)
    _deliveries(sink, one, alone)
    per_server = median([phase.rate(sum(phase.servers)) / 2 for phase in clustered])
    busier = median([phase.rate(max(phase.servers)) for phase in clustered])
    redis = median([phase.rate(phase.redis) for phase in clustered])
    total = median([phase.rate(sum(phase.servers) + phase.redis) for phase in clustered])
    sink.put(f"{two}: CPU per server (mean of the two)", "s/s", per_server)
    sink.put(f"{two}: CPU of the busier server", "s/s", busier)
    sink.put(f"{two}: redis-server CPU", "s/s", redis)
    sink.put(f"{two}: total CPU (servers + Redis)", "s/s", total)
    sink.put(f"{two}: total CPU / one server's", "x", total / single if single else float("nan"))
    _deliveries(sink, two, clustered)
    sink.put("typing phase (median)", "s", median([p.seconds for p in alone + clustered]))


async def measure(part: Part, sink: Sink) -> None:
    alone: list[Phase] = []
    clustered: list[Phase] = []
    for repeat in range(part.mode.cpu_repeats):  # alternated: both close together in time
        alone.append(await _alone(part, repeat))
        clustered.append(await _clustered(part, repeat))
    _record(sink, part.mode, alone, clustered)
