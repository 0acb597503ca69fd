"""Delivery latency within a server and across servers, measured in one run, interleaved.

One text file on the shared folder; on each of servers A and B a writer and a reader. The writers
take turns (A, B, A, ...) appending `[k]` at a steady pace; every edit reaches the reader on the
writer's server (same-server) and the reader on the other one (cross-server), so both latencies
come from the same edits at the same moments. The cross-server path is the writer's server
publishing to the Redis stream and the other server's blocking XREAD picking it up.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable

from jupyter_ydoc import YNotebook
from pycrdt import Text

from ..client import CollabClient, JupyterEndpoint, close_clients
from ..delivery import DeliveryTracker, paced
from ..results import Sink
from ..servers import JupyterServer
from ..stats import median, percentile
from ..waiting import DeadlineExceeded, wait_until
from .config import Part
from .farm import started_cluster
from .hop import redis_hop

GROUP = "delivery, one text file"
PATH = "latency/shared.txt"
WARM_UP = 10
DRAIN_TIMEOUT = 30.0


def text_endpoint(server: JupyterServer) -> JupyterEndpoint:
    """The server's endpoint for text files (room `text:file:{fileId}`, as JupyterLab opens)."""
    return dataclasses.replace(server.endpoint, file_format="text", file_type="file")


def source(client: CollabClient) -> Text:
    """The text file's content in `client`'s document (jupyter_ydoc's YUnicode names it so)."""
    text = client.doc.get("source", type=Text)
    assert isinstance(text, Text)
    return text


def append_text(marker: str) -> Callable[[YNotebook], None]:
    """An edit typing `marker` at the end of the text file (the client hands its notebook view,
    whose `ydoc` is the same document)."""

    def change(view: YNotebook) -> None:
        text = view.ydoc.get("source", type=Text)
        text.insert(len(text), marker)

    return change


async def _warm_up(writers: list[CollabClient], readers: list[CollabClient]) -> None:
    """A few unmeasured edits from each writer, until every reader has them: both servers have
    joined the room and the stream readers are running before the first measured edit."""
    for number in range(WARM_UP):
        for side, writer in enumerate(writers):
            await writer.edit(append_text(f"<w{side}.{number}>"))
    last = [f"<w{side}.{WARM_UP - 1}>" for side in range(len(writers))]
    await wait_until(
        lambda: all(mark in str(source(reader)) for reader in readers for mark in last),
        DRAIN_TIMEOUT,
        "warm-up edits at every reader",
        interval=0.02,
    )


async def _edits(
    writers: list[CollabClient], same: DeliveryTracker, cross: DeliveryTracker, part: Part
) -> int:
    """The measured phase; returns the deliveries missing at the end (2 per edit expected)."""
    count = part.mode.latency_edits

    async def edit(sequence: int) -> None:
        side = sequence % 2  # writer on A for even, on B for odd sequences
        same.mark_sent(side, sequence)  # rooms here are the receiving server: 0 is A, 1 is B
        cross.mark_sent(1 - side, sequence)
        await writers[side].edit(append_text(f"[{sequence}]"))

    await paced(count, part.mode.latency_rate, edit)
    with contextlib.suppress(DeadlineExceeded):
        await wait_until(
            lambda: same.received + cross.received >= 2 * count, DRAIN_TIMEOUT, "deliveries"
        )
    return 2 * count - same.received - cross.received


def _record(sink: Sink, same: DeliveryTracker, cross: DeliveryTracker, missed: int) -> None:
    figures = {}
    for name, tracker in (("same server", same), ("cross server", cross)):
        for label, fraction in (("p50", 0.5), ("p99", 0.99)):
            value = percentile(tracker.latencies, fraction) * 1000 if tracker.latencies else None
            figures[(name, label)] = value
            if value is not None:
                sink.put(f"{name}, {label}", "ms", value)
    same50, cross50 = figures[("same server", "p50")], figures[("cross server", "p50")]
    if same50 is not None and cross50 is not None:
        sink.put("cross minus same server, p50 (target: <= 2 ms)", "ms", cross50 - same50)
    sink.put("edits measured", "count", len(same.sent), ratio=False)
    sink.put("missed deliveries", "count", missed, ratio=False)


async def measure(part: Part, sink: Sink) -> None:
    async with started_cluster(part, "latency") as (redis, servers):
        (servers[0].root / PATH).parent.mkdir(parents=True, exist_ok=True)
        (servers[0].root / PATH).write_text("")
        endpoints = [text_endpoint(server) for server in servers]
        writers = [CollabClient(endpoint, PATH) for endpoint in endpoints]
        readers = [CollabClient(endpoint, PATH) for endpoint in endpoints]
        for client in [*writers, *readers]:
            await client.open()
        try:
            await _warm_up(writers, readers)
            same, cross = DeliveryTracker(), DeliveryTracker()
            for side, reader in enumerate(readers):
                same.watch_text(source(reader), side)
                cross.watch_text(source(reader), side)
            missed = await _edits(writers, same, cross, part)
            _record(sink, same, cross, missed)
            hops = await redis_hop(redis.url, part.mode.latency_edits, part.mode.latency_rate)
            sink.put("limit: Redis hop alone (XADD -> XREAD BLOCK), p50", "ms", median(hops) * 1000)
        finally:
            await close_clients([*writers, *readers])
