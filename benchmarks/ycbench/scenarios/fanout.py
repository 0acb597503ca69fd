"""Fan-out: one writer edits a cell at a steady rate; N other clients of the room receive it.

Per client count: delivery latency p50/p99 over every (edit, receiver) pair, the server's CPU
seconds over the edit phase (until the last delivery), deliveries that never arrived, and whether
all documents ended equal. The same code measures the bare relay for the limit column.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass

from ..client import CollabClient, Endpoint, close_clients, open_clients
from ..delivery import DeliveryTracker, append_marker, paced
from ..results import Sink
from ..servers import JupyterServer, ManagedProcess
from ..stats import median, percentile
from ..waiting import DeadlineExceeded, wait_until
from ..workloads import SMALL, notebook
from . import Context

GROUP = "fan-out"
DRAIN_TIMEOUT = 60.0
CONVERGE_TIMEOUT = 20.0


@dataclass(frozen=True)
class FanoutRun:
    latencies: list[float]
    cpu: float
    missed: int
    converged: bool


def _snapshot(client: CollabClient) -> str:
    return json.dumps(client.notebook.get(), sort_keys=True)


def _converged(clients: list[CollabClient]) -> bool:
    first = _snapshot(clients[0])
    return all(_snapshot(client) == first for client in clients[1:])


async def _join(
    endpoint: Endpoint, path: str, receivers: int, stateless: bool
) -> tuple[CollabClient, list[CollabClient]]:
    """Receivers first, then the writer. A stateless relay holds no document: there the writer
    brings it, and its handshake step2 reaches the receivers already waiting."""
    readers = await open_clients(endpoint, [path] * receivers)
    writer = CollabClient(endpoint, path)
    if stateless:
        writer.notebook.set(notebook(SMALL))
    await writer.open()
    await wait_until(
        lambda: all(len(reader.notebook.ycells) == SMALL.cells for reader in readers),
        DRAIN_TIMEOUT,
        "receivers to hold the document",
        interval=0.02,
    )
    return writer, readers


async def fanout_once(
    endpoint: Endpoint,
    process: ManagedProcess,
    path: str,
    receivers: int,
    context: Context,
    stateless: bool = False,
) -> FanoutRun:
    """One edit phase with `receivers` receiving clients plus one writer."""
    writer, readers = await _join(endpoint, path, receivers, stateless)
    tracker = DeliveryTracker()
    for reader in readers:
        tracker.watch(reader, room=path)
    edits = round(context.mode.fanout_seconds * context.mode.edit_rate)

    async def edit(sequence: int) -> None:
        tracker.mark_sent(path, sequence)
        await writer.edit(append_marker(sequence))

    cpu_before = process.cpu()
    await paced(edits, context.mode.edit_rate, edit)
    expected = edits * receivers
    with contextlib.suppress(DeadlineExceeded):  # undelivered edits are counted as missed
        await wait_until(lambda: tracker.received >= expected, DRAIN_TIMEOUT, "deliveries")
    cpu = process.cpu() - cpu_before
    try:
        await wait_until(
            lambda: _converged([writer, *readers]), CONVERGE_TIMEOUT, "convergence", interval=0.1
        )
        converged = True
    except DeadlineExceeded:
        converged = False
    tracker.unwatch()
    await close_clients([writer, *readers])
    return FanoutRun(tracker.latencies, cpu, expected - tracker.received, converged)


def record(sink: Sink, receivers: int, runs: list[FanoutRun]) -> None:
    """Medians over runs of each run's p50 / p99 / CPU; worst case for correctness counts."""
    label = f"{receivers} receiver{'s' if receivers > 1 else ''}"
    with_latency = [run for run in runs if run.latencies]
    if with_latency:
        p50 = median([percentile(run.latencies, 0.5) for run in with_latency])
        p99 = median([percentile(run.latencies, 0.99) for run in with_latency])
        sink.put(f"{label}, delivery p50", "ms", p50 * 1000)
        sink.put(f"{label}, delivery p99", "ms", p99 * 1000)
    sink.put(f"{label}, server CPU", "s", median([run.cpu for run in runs]))
    sink.put(f"{label}, missed deliveries", "count", max(run.missed for run in runs), ratio=False)
    sink.put(f"{label}, converged", "runs", sum(run.converged for run in runs), ratio=False)


async def measure(server: JupyterServer, context: Context, sink: Sink) -> None:
    for receivers in context.mode.fanout_clients:
        runs = []
        for run in range(context.mode.fanout_repeats):
            path = context.cache.place(SMALL, server.root, f"fanout/{receivers}-{run}.ipynb")
            runs.append(
                await fanout_once(server.endpoint, server.process, path, receivers, context)
            )
        record(sink, receivers, runs)
