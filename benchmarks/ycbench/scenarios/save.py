"""Saving, per workload: explicit save reply time, autosave delay, writes per burst, loop stall.

- explicit save: an edit, then a RAW save request; time until the server's save reply.
- longest stall: while that save runs, a second client pings every 5 ms; the longest round trip.
- autosave: an edit, then time until the file is written (includes the configured save delay).
- writes per burst: edits at the fan-out rate for a while; completed writes of the file (inotify)
  until it holds the last edit and nothing has written it for a while.
- content: the file on disk ends up holding the burst's last edit (1) or not (0).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..client import CollabClient, close_clients
from ..delivery import append_marker, paced
from ..inotify import FileWrites
from ..probes import StallProbe
from ..results import Sink
from ..servers import JupyterServer
from ..stats import median
from ..waiting import wait_until_stable
from ..workloads import Workload
from . import Context

GROUP = "save"
SAVE_TIMEOUT = 120.0


@dataclass
class SaveBench:
    """One workload's file and its two clients: the writer and the stall probe."""

    file: Path
    writes: FileWrites
    writer: CollabClient
    probe: CollabClient
    context: Context
    markers: Iterator[int]
    quiet: float = 1.0

    async def settle(self) -> None:
        """Wait until no save has touched the file for `quiet` seconds."""
        await wait_until_stable(
            lambda: float(self.writes.count), self.quiet, SAVE_TIMEOUT, "file writes"
        )

    async def edit(self) -> int:
        marker = next(self.markers)
        await self.writer.edit(append_marker(marker))
        return marker


async def _explicit(bench: SaveBench) -> tuple[list[float], list[float], int]:
    """Back-to-back edit + save request pairs: each reply says the save is done."""
    replies, stalls, failed = [], [], 0
    for save_id in range(bench.context.mode.save_repeats):
        await bench.edit()
        async with StallProbe(bench.probe) as stall:
            started = time.perf_counter()
            reply = await bench.writer.save(save_id, SAVE_TIMEOUT)
            replies.append(time.perf_counter() - started)
        stalls.append(stall.longest)
        failed += reply.get("status") != "success"
    return replies, stalls, failed


async def _autosave(bench: SaveBench) -> list[float]:
    delays = []
    for _ in range(bench.context.mode.save_repeats):
        await bench.settle()
        before = bench.writes.count
        started = time.perf_counter()
        await bench.edit()
        await bench.writes.next_write(before, SAVE_TIMEOUT)
        delays.append(time.perf_counter() - started)
    return delays


def _first_source(file: Path) -> str:
    """Cell 0's source as saved (nbformat may store it as a list of lines).

    "" while the file is being rewritten: Jupyter's contents manager writes in place, so a reader
    can see it empty or cut short."""
    try:
        source = json.loads(file.read_text())["cells"][0]["source"]
    except (ValueError, LookupError):
        return ""
    return "".join(source) if isinstance(source, list) else str(source)


async def _holds(bench: SaveBench, marker: int) -> bool:
    """Wait (re-reading the file after each completed write) until it holds edit `marker`."""
    seen = bench.writes.count
    try:
        while not _first_source(bench.file).endswith(f"[{marker}]"):
            await bench.writes.next_write(seen, SAVE_TIMEOUT)
            seen = bench.writes.count
    except TimeoutError:
        return False
    return True


async def _burst(bench: SaveBench) -> tuple[int, bool]:
    mode = bench.context.mode
    await bench.settle()
    before = bench.writes.count
    markers: list[int] = []

    async def edit(_: int) -> None:
        markers.append(await bench.edit())

    await paced(round(mode.burst_seconds * mode.edit_rate), mode.edit_rate, edit)
    holds = await _holds(bench, markers[-1])
    await bench.settle()
    return bench.writes.count - before, holds


async def _one_workload(
    server: JupyterServer, context: Context, workload: Workload, sink: Sink
) -> None:
    path = context.cache.place(workload, server.root, f"save/{workload.name}.ipynb")
    writer, probe = CollabClient(server.endpoint, path), CollabClient(server.endpoint, path)
    async with FileWrites(server.root / path) as writes:
        bench = SaveBench(server.root / path, writes, writer, probe, context, itertools.count())
        try:
            await writer.open(timeout=600)
            await probe.open(timeout=600)
            replies, stalls, failed = await _explicit(bench)
            # Quiet long enough to see a save triggered by the previous save's own state change.
            bench.quiet = context.settings.save_delay + 0.3 + max(replies)
            autosaves = await _autosave(bench)
            writes_in_burst, holds = await _burst(bench)
        finally:
            await close_clients([writer, probe])
    name = workload.name
    sink.put(f"explicit save reply, {name}", "ms", median(replies) * 1000)
    sink.put(f"longest loop stall during save, {name}", "ms", median(stalls) * 1000)
    sink.put(f"explicit saves not 'success', {name}", "count", failed, ratio=False)
    sink.put(f"autosave (edit to file written), {name}", "ms", median(autosaves) * 1000)
    sink.put(
        f"file writes per {context.mode.burst_seconds:g} s burst, {name}", "count", writes_in_burst
    )
    sink.put(f"file holds last edit after burst, {name}", "ok", int(holds), ratio=False)


async def measure(server: JupyterServer, context: Context, sink: Sink) -> None:
    for workload in context.mode.workloads:
        await _one_workload(server, context, workload, sink)
