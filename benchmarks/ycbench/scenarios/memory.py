"""Memory: the server's resident set idle, per idle open room, and for one open 10k-cell room
(just opened, then after an edit and a save).

RSS is read from /proc once it has settled (unchanged within 1 % for half a second).
"""

from __future__ import annotations

from ..client import CollabClient, close_clients, open_clients
from ..delivery import append_marker
from ..results import Sink
from ..servers import JupyterServer
from ..waiting import wait_until_stable
from ..workloads import LARGE, SMALL
from . import Context

GROUP = "memory"
MB = 1024 * 1024


async def settled_rss(server: JupyterServer, quiet: float = 0.5) -> float:
    """The RSS of the server's process tree once unchanged within 1 % for ``quiet`` seconds."""
    return await wait_until_stable(
        lambda: float(server.process.rss()),
        quiet=quiet,
        timeout=30,
        what="RSS",
        tolerance=0.01,
        interval=0.05,
    )


async def measure(server: JupyterServer, context: Context, sink: Sink) -> None:
    idle = await settled_rss(server)
    sink.put("idle server", "MB", idle / MB)
    count = context.mode.idle_rooms
    paths = [
        context.cache.place(SMALL, server.root, f"memory/room-{n}.ipynb") for n in range(count)
    ]
    clients = await open_clients(server.endpoint, paths)
    with_rooms = await settled_rss(server)
    sink.put(
        f"per idle room ({count} rooms, 1 client each)", "KB", (with_rooms - idle) / count / 1024
    )
    path = context.cache.place(LARGE, server.root, "memory/large.ipynb")
    large = CollabClient(server.endpoint, path)
    await large.open(timeout=600)
    with_large = await settled_rss(server)
    sink.put(f"one open {LARGE.name} room", "MB", (with_large - with_rooms) / MB)
    # An edit (and the save it causes, awaited so the edit surely arrived) may cost servers
    # more memory: ours keeps a second copy of a document while a writer edits it (rooms/guard.py).
    await large.edit(append_marker(0))
    await large.save(1, timeout=600)
    edited = await settled_rss(server)
    sink.put(f"one {LARGE.name} room after an edit and a save", "MB", (edited - with_rooms) / MB)
    await close_clients([*clients, large])
