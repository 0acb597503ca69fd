"""Memory across closes: one 10k-cell notebook opened, edited, saved and closed again and again,
the server's resident set read after each close, and once more when it runs no child process.

What a closed room leaves behind adds up here, once per close: ours kept every closed room's
whole document until codec/listeners.py stopped pycrdt's observers from holding it (+52 MB a
close of this notebook). The servers close a room ``CLEANUP_DELAY`` after its last client left
(theirs is 60 s elsewhere); each close is awaited on the line the server logs for it, and RSS
read once unchanged for ``QUIET`` seconds: a server may free a room a moment after its close.
"""

from __future__ import annotations

from ..client import CollabClient
from ..delivery import append_marker
from ..results import Sink
from ..servers import JupyterServer
from ..waiting import wait_until
from ..workloads import LARGE
from . import Context
from .memory import MB, settled_rss

GROUP = "memory"
CLEANUP_DELAY = 1.0
QUIET = 2.0
#: Ours' render process exits after a minute without a job (fastpath/process.py).
CHILDREN_EXIT_TIMEOUT = 120.0


async def measure(server: JupyterServer, context: Context, sink: Sink) -> None:
    idle = await settled_rss(server, QUIET)
    path = context.cache.place(LARGE, server.root, "reopen/large.ipynb")
    after_close = []
    for cycle in range(context.mode.reopen_cycles):
        await _edit_save_and_close(server, path, cycle)
        after_close.append(await settled_rss(server, QUIET))
    await wait_until(
        lambda: not server.process.children(),
        timeout=CHILDREN_EXIT_TIMEOUT,
        what="the server's child processes to exit",
        interval=0.5,
    )
    alone = await settled_rss(server, QUIET)
    name, cycles = LARGE.name, len(after_close)
    opened = f"{name} room opened, edited, saved, closed"
    sink.put(f"{opened}: after once", "MB", (after_close[0] - idle) / MB)
    sink.put(f"{opened}: after {cycles} times", "MB", (after_close[-1] - idle) / MB)
    sink.put(f"{opened}: after {cycles} times, no child process", "MB", (alone - idle) / MB)


async def _edit_save_and_close(server: JupyterServer, path: str, cycle: int) -> None:
    closed = server.process.rooms_deleted()
    client = CollabClient(server.endpoint, path)
    await client.open(timeout=600)
    await client.edit(append_marker(cycle))
    await client.save(1, timeout=600)
    await client.close()
    await wait_until(
        lambda: server.process.rooms_deleted() > closed,
        timeout=CLEANUP_DELAY + 120,
        what="the server to close the room",
        interval=0.1,
    )
