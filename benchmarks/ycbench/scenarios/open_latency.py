"""Open latency: session PUT until the client holds the whole document (its step2 arrived).

cold: the first client of a room, built from the file; warm: a second client of an open room;
reopen: a first client after a server restart (the room is rebuilt from whatever the server kept).
"""

from __future__ import annotations

from ..client import CollabClient, close_clients
from ..results import Sink
from ..servers import JupyterServer
from ..stats import median
from ..workloads import Workload
from . import Context

GROUP = "open latency"


async def _open(server: JupyterServer, path: str, workload: Workload) -> tuple[CollabClient, float]:
    client = CollabClient(server.endpoint, path)
    await client.open(timeout=600)
    cells = len(client.notebook.ycells)
    if cells != workload.cells:
        await client.close()
        raise AssertionError(f"{path}: loaded {cells} cells, expected {workload.cells}")
    return client, client.times.latency


async def _cold_and_warm(
    server: JupyterServer, context: Context, workload: Workload, sink: Sink
) -> list[str]:
    paths = [
        context.cache.place(workload, server.root, f"open/{workload.name}-{run}.ipynb")
        for run in range(context.mode.repeats)
    ]
    holders: list[CollabClient] = []
    cold: list[float] = []
    for path in paths:
        holder, latency = await _open(server, path, workload)
        holders.append(holder)
        cold.append(latency)
    warm: list[float] = []
    for _ in range(context.mode.repeats):
        second, latency = await _open(server, paths[0], workload)
        warm.append(latency)
        await second.close()
    await close_clients(holders)
    sink.put(f"cold, {workload.name}", "ms", median(cold) * 1000)
    sink.put(f"warm, {workload.name}", "ms", median(warm) * 1000)
    return paths


async def measure(server: JupyterServer, context: Context, sink: Sink) -> None:
    opened = {
        workload: await _cold_and_warm(server, context, workload, sink)
        for workload in context.mode.workloads
    }
    await server.restart()
    for workload, paths in opened.items():
        reopen: list[float] = []
        for path in paths:
            client, latency = await _open(server, path, workload)
            reopen.append(latency)
            await client.close()
        sink.put(f"reopen after restart, {workload.name}", "ms", median(reopen) * 1000)
