"""The limit column: what the same work costs with nothing but pycrdt, or a bare relay.

- open latency: parsing the file and building the document with `YNotebook.set` on a fresh Doc
  (the least a cold open does), encoding the whole document (`Doc.get_update`, the least a warm
  open does) and applying that update to a fresh Doc (the least a rebuild from stored updates does).
- fan-out: the same fan-out code against benchmarks/relay.py, a Tornado relay with no document.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyter_ydoc import YNotebook
from pycrdt import Doc

from ..results import Results, Sink
from ..servers import RelayServer
from ..stats import median
from ..workloads import Workload
from . import Context, fanout, open_latency


def _timed(action: Callable[[], object], repeats: int) -> float:
    """Median seconds of `repeats` calls."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return median(times)


def _build(text: str) -> Doc[Any]:
    doc: Doc[Any] = Doc()
    YNotebook(doc).set(json.loads(text))
    return doc


def _pycrdt(context: Context, workload: Workload, sink: Sink) -> None:
    text = context.cache.source(workload).read_text()
    update = _build(text).get_update()
    repeats = context.mode.repeats
    sink.put(f"cold, {workload.name}", "ms", _timed(lambda: _build(text), repeats) * 1000)
    doc = _build(text)
    sink.put(f"warm, {workload.name}", "ms", _timed(doc.get_update, repeats) * 1000)
    apply = _timed(lambda: Doc().apply_update(update), repeats)
    sink.put(f"reopen after restart, {workload.name}", "ms", apply * 1000)


async def _relay(context: Context, workdir: Path, sink: Sink) -> None:
    relay = RelayServer(workdir)
    await relay.start()
    try:
        for receivers in context.mode.fanout_clients:
            runs = [
                await fanout.fanout_once(
                    relay.endpoint,
                    relay.process,
                    f"room-{receivers}-{run}",
                    receivers,
                    context,
                    stateless=True,
                )
                for run in range(context.mode.fanout_repeats)
            ]
            fanout.record(sink, receivers, runs)
    finally:
        await relay.stop()


async def measure(context: Context, results: Results, workdir: Path) -> None:
    open_sink = Sink(results, open_latency.GROUP, None)
    for workload in context.mode.workloads:
        _pycrdt(context, workload, open_sink)
    await _relay(context, workdir, Sink(results, fanout.GROUP, None))
