"""One thread that runs blocking calls one at a time, the most urgent first.

Why not ``asyncio.to_thread``: the render process serves one job at a time, and each job sent
through the default executor held one of its few threads (six on two cores) while it waited
for its turn. When a few big documents reopened together, their background digests filled the
executor and every other ``to_thread`` of the server (reading logs, stat-ing and hashing files,
committing logs) queued behind them: a 20 MB notebook took 570 ms to reopen instead of 170 ms.
Here waiting jobs hold no thread, and a job someone waits for (a save, a read for an open) goes
before background work (a base's digest), which is cancelled when nobody wants it any more.
An owner may also be told, in the thread, when no call came for a while (``on_idle``): the
render process exits then, and hands its memory back.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

URGENT = 0  # someone waits for it: a save, a read for an open
BACKGROUND = 1  # may wait: a base's digest computed ahead of the first save
_LAST = 2  # stopping the thread, after everything queued

_Item = tuple[int, int, Callable[[], Any] | None, "concurrent.futures.Future[Any] | None"]


class JobThread:
    def __init__(self, name: str, on_idle: Callable[[], None], idle_after: float) -> None:
        """``on_idle()`` runs in the thread once no call came for ``idle_after`` seconds (again
        only after the next call)."""
        self._name = name
        self._on_idle = on_idle
        self.idle_after = idle_after
        self._queue: queue.PriorityQueue[_Item] = queue.PriorityQueue()
        self._order = itertools.count()  # first come, first served within a priority
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()
        self._calls = 0  # queued or running

    @property
    def busy(self) -> bool:
        """Whether a call is running or waiting: a new one would wait for it."""
        return self._calls > 0

    async def run(self, priority: int, call: Callable[[], T]) -> T:
        """``call()`` in the thread, after the queued calls of a priority up to ``priority``.
        Cancelling the caller before the call starts drops it."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._ensure_thread()
        self._calls += 1  # on the event loop only, like its decrement
        self._queue.put((priority, next(self._order), call, future))
        try:
            return await asyncio.wrap_future(future)
        finally:
            self._calls -= 1

    async def stop(self, last: Callable[[], None]) -> None:
        """Run ``last()`` after every queued call, then end the thread."""
        try:
            await self.run(_LAST, last)
        finally:
            thread, self._thread = self._thread, None
            if thread is not None:
                self._queue.put((_LAST, next(self._order), None, None))
                await asyncio.to_thread(thread.join)

    def _ensure_thread(self) -> None:
        with self._starting:
            if self._thread is None or not self._thread.is_alive():
                # A daemon: a server that exits without closing it must not hang on it.
                self._thread = threading.Thread(target=self._work, name=self._name, daemon=True)
                self._thread.start()

    def _work(self) -> None:
        idle_told = False
        while True:
            try:
                wait = None if idle_told else self.idle_after
                _, _, call, future = self._queue.get(timeout=wait)
            except queue.Empty:
                self._on_idle()
                idle_told = True
                continue
            idle_told = False
            if call is None or future is None:
                return
            if not future.set_running_or_notify_cancel():
                continue  # its caller gave up before its turn
            try:
                result = call()
            except BaseException as error:  # handed to the caller, which re-raises it
                future.set_exception(error)
            else:
                future.set_result(result)
