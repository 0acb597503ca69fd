"""The one Redis connection through which this server adds entries to its rooms' streams, written
to at once: in the listener that accepted an update, before this server's own peers get it.

Why not an awaited call (``XADD`` through redis-py's pool, as everything else here)? A coroutine
only starts at the event loop's next turn, after the rest of the update's handling (its relay to
this server's peers), and its first steps go through the pool's locks and bookkeeping. Measured
from an edit's arrival on one server (benchmarks/README.md, "Cluster"), the other server's peers
got it 2.4-2.6 ms later that way, 1.2-1.4 ms later written at once; this server's own peers got
it no later (0.6-0.7 ms, against 0.8).

One connection keeps each room's entries in order (Redis runs one connection's commands in
order); one task reads the replies in the same order. When the connection fails, the entries
whose reply did not come back go back to their outboxes, in front of what queued since, and are
sent again once the connection is made again: an entry may then reach the stream twice, which
costs nothing (an update applied twice changes nothing; a forwarded save is answered once).
redis-py has no public way to write without awaiting: its connection's stream writer is the one
private attribute used (there since redis-py's asyncio client began, 4.2).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING

from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection

from .. import metrics
from .entries import SERVER

if TYPE_CHECKING:
    from .cluster import Cluster
    from .outbox import Outbox

Entry = tuple[str, bytes]  # (kind, payload): ``u`` update, ``a`` awareness, ``c`` control
RETRY_DELAY = 0.5
#: Seconds ``end`` gives a cancelled task before it cancels it again.
CANCEL_AGAIN = 0.1


async def end(*tasks: asyncio.Task[None]) -> None:
    """Cancel ``tasks`` and wait until they are done; again while one goes on. redis-py's
    ``connect`` may swallow a cancellation (redis-py 8.2: a task cancelled while it makes a
    connection returns from it, connected): waited for once, the task would never end."""
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _done, pending = await asyncio.wait(pending, timeout=CANCEL_AGAIN)
    await asyncio.gather(*tasks, return_exceptions=True)  # their errors are no one's now


class Publisher:
    def __init__(self, cluster: Cluster, redis: Redis) -> None:
        self._cluster = cluster
        self._redis = redis
        self._server = cluster.server_id.encode()
        self._connection: AbstractConnection | None = None  # None: not connected (yet)
        self._unconfirmed: deque[tuple[Outbox, list[Entry]]] = deque()  # in the writing order
        self._waiting: set[Outbox] = set()  # senders that keep entries until it connects
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def write(self, sender: Outbox, key: str, entries: list[Entry]) -> bool:
        """XADD ``entries`` to stream ``key`` now. False while not connected: nothing is
        written, ``sender`` keeps them, and its ``send`` is called once connected."""
        writer = getattr(self._connection, "_writer", None)
        if self._connection is None or writer is None or writer.is_closing():
            self._waiting.add(sender)
            if self._task is None:
                self._task = asyncio.create_task(self._run(), name="cluster publish")
            return False
        server = self._server
        commands = [(b"XADD", key, b"*", SERVER, server, kind, body) for kind, body in entries]
        writer.writelines(self._connection.pack_commands(commands))
        self._unconfirmed.append((sender, entries))
        self._wake.set()
        return True

    def forget(self, sender: Outbox) -> None:
        """``sender`` is gone (its room closed): no ``send`` for it any more."""
        self._waiting.discard(sender)

    async def _run(self) -> None:
        while True:
            try:
                await self._connect()
                await self._read_replies()
            except self._cluster.errors as error:
                self._cluster.trouble(error)
                await self._drop()
                await asyncio.sleep(RETRY_DELAY)

    async def _connect(self) -> None:
        connection: AbstractConnection = self._redis.connection_pool.make_connection()  # type: ignore[no-untyped-call]
        await connection.connect()  # type: ignore[no-untyped-call]
        self._connection = connection
        waiting, self._waiting = self._waiting, set()
        for sender in waiting:
            sender.send()

    async def _read_replies(self) -> None:
        assert self._connection is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._unconfirmed:
                sender, entries = self._unconfirmed[0]
                for _entry in entries:  # an error reply (out of memory...) raises
                    await self._connection.read_response()
                self._unconfirmed.popleft()
                metrics.current.published(len(entries))
                sender.confirmed(len(entries))

    async def reconnect(self) -> None:
        """Redis answers again: the connection may be to the Redis that died, unnoticed while
        the rooms held their entries (outbox.py). It is made anew, before anyone writes."""
        if self._task is not None:
            await end(self._task)
            self._task = None
        await self._drop()
        if self._waiting:
            self._task = asyncio.create_task(self._run(), name="cluster publish")

    async def _drop(self) -> None:
        """The connection failed, or is made anew: what it did not confirm goes back to its
        senders."""
        unconfirmed, self._unconfirmed = list(self._unconfirmed), deque()
        for sender, entries in reversed(unconfirmed):  # the last first: each goes in front
            sender.returned(entries)
            self._waiting.add(sender)
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.disconnect(nowait=True)

    async def stop(self) -> None:
        if self._task is not None:
            await end(self._task)
        if self._connection is not None:
            await self._connection.disconnect()
