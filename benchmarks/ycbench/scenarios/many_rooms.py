"""Many rooms: R small notebooks, each open in two clients; one edits lightly, the other receives.

Figures: delivery latency p50/p99 over all rooms, server CPU seconds over the edit phase, and
errors: client-side exceptions or sockets the server closed, plus ERROR/Traceback lines in the
server's log during the phase, plus deliveries that never arrived. Also the notebooks written
during the phase: both servers are asked to save after the same quiet time, and a server that
falls behind saves less often (and spends less CPU on it), which the CPU figure alone hides.
"""

from __future__ import annotations

import asyncio
import contextlib
import random

from ..client import CollabClient, close_clients, open_clients
from ..delivery import DeliveryTracker, append_marker, paced
from ..inotify import DirectoryWrites
from ..results import Sink
from ..servers import JupyterServer
from ..stats import median, percentile
from ..waiting import DeadlineExceeded, wait_until
from ..workloads import SMALL
from . import Context

GROUP = "many rooms"
EDITS_PER_SECOND_PER_ROOM = 1.0
DRAIN_TIMEOUT = 60.0


async def _edit_room(
    writer: CollabClient, room: int, edits: int, offset: float, tracker: DeliveryTracker
) -> None:
    async def edit(sequence: int) -> None:
        tracker.mark_sent(room, sequence)
        await writer.edit(append_marker(sequence))

    await paced(edits, EDITS_PER_SECOND_PER_ROOM, edit, offset)


async def _edit_all(
    writers: list[CollabClient], edits: int, run: int, tracker: DeliveryTracker
) -> None:
    """Every writer edits its room `edits` times at the pace, each from its own phase; then wait
    for the deliveries (undelivered edits are counted as missed)."""
    phases = random.Random(run)
    await asyncio.gather(
        *(
            _edit_room(writer, room, edits, phases.random() / EDITS_PER_SECOND_PER_ROOM, tracker)
            for room, writer in enumerate(writers)
        )
    )
    expected = edits * len(writers)
    with contextlib.suppress(DeadlineExceeded):
        await wait_until(lambda: tracker.received >= expected, DRAIN_TIMEOUT, "deliveries")


async def _run_once(server: JupyterServer, context: Context, run: int) -> dict[str, float]:
    rooms = context.mode.many_rooms
    paths = [
        context.cache.place(SMALL, server.root, f"rooms-{run}/room-{room}.ipynb")
        for room in range(rooms)
    ]
    clients = await open_clients(server.endpoint, [path for path in paths for _ in range(2)])
    writers, readers = clients[0::2], clients[1::2]
    tracker = DeliveryTracker()
    for room, reader in enumerate(readers):
        tracker.watch(reader, room)
    edits = round(context.mode.many_rooms_seconds * EDITS_PER_SECOND_PER_ROOM)
    async with DirectoryWrites(server.root / f"rooms-{run}", ".ipynb") as saves:
        log_offset, cpu_before = server.process.log_size(), server.process.cpu()
        await _edit_all(writers, edits, run, tracker)
        cpu, files_written = server.process.cpu() - cpu_before, saves.count
    log_errors = len(server.process.log_errors_since(log_offset))
    tracker.unwatch()
    client_errors = sum(len(client.errors) for client in clients)
    await close_clients(clients)
    return {
        "p50": percentile(tracker.latencies, 0.5) if tracker.latencies else float("nan"),
        "p99": percentile(tracker.latencies, 0.99) if tracker.latencies else float("nan"),
        "cpu": cpu,
        "errors": client_errors + log_errors,
        "missed": edits * rooms - tracker.received,
        "saves": files_written,
    }


async def measure(server: JupyterServer, context: Context, sink: Sink) -> None:
    runs = [await _run_once(server, context, run) for run in range(context.mode.many_rooms_repeats)]
    label = f"{context.mode.many_rooms} rooms x 2 clients"
    sink.put(f"{label}, delivery p50", "ms", median([run["p50"] for run in runs]) * 1000)
    sink.put(f"{label}, delivery p99", "ms", median([run["p99"] for run in runs]) * 1000)
    sink.put(f"{label}, server CPU", "s", median([run["cpu"] for run in runs]))
    sink.put(f"{label}, notebooks written", "count", median([run["saves"] for run in runs]))
    sink.put(f"{label}, errors", "count", max(run["errors"] for run in runs), ratio=False)
    sink.put(
        f"{label}, missed deliveries", "count", max(run["missed"] for run in runs), ratio=False
    )
