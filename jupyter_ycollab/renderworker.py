"""Render big documents in a child process, so that the server's event loop never waits for them.

Why a process: rendering a 10,000-cell notebook takes ~0.2 s of calls into Rust and C (applying
the update, pycrdt's JSON export, ``json.loads``, ``json.dumps``) that hold the GIL throughout;
in a worker thread they still freeze the event loop for tens of milliseconds at a time.

Why not ``multiprocessing``: its spawned children re-import the parent's ``__main__``, which
would start a second Jupyter server from any launcher script without a main guard. This child
runs ``python -m jupyter_ycollab.renderworker``; jobs and results travel as length-prefixed
pickles over its stdin and stdout, one at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import pickle
import struct
import sys
from typing import BinaryIO

from .render import Rendered, RenderJob, render

_LENGTH = struct.Struct("<Q")


class RenderProcess:
    """The parent's side: starts the child on first use, sends it one job at a time."""

    def __init__(self) -> None:
        self._child: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Start the child now (it imports pycrdt and nbformat while the room loads)."""
        if self._child is None or self._child.returncode is not None:
            self._child = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "jupyter_ycollab.renderworker",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )

    async def render(self, job: RenderJob) -> Rendered:
        """``render(job)`` in the child; raises ``OSError`` if the child is gone."""
        async with self._lock:
            await self.start()
            child = self._child
            assert child is not None and child.stdin is not None and child.stdout is not None
            try:
                message = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
                child.stdin.write(_LENGTH.pack(len(message)) + message)
                await child.stdin.drain()
                (length,) = _LENGTH.unpack(await child.stdout.readexactly(_LENGTH.size))
                ok, result = pickle.loads(await child.stdout.readexactly(length))
            except (asyncio.IncompleteReadError, ConnectionError) as error:
                await self.close()
                raise OSError(f"the render process stopped: {error}") from error
        if not ok:
            raise OSError(f"the render process failed: {result}")
        assert isinstance(result, Rendered)
        return result

    async def close(self) -> None:
        child, self._child = self._child, None
        if child is None or child.returncode is not None:
            return
        if child.stdin is not None:
            child.stdin.close()  # the child exits at the end of its input
        try:
            await asyncio.wait_for(child.wait(), 5)
        except asyncio.TimeoutError:
            child.kill()
            await child.wait()


def _serve(jobs: BinaryIO, results: BinaryIO) -> None:
    while header := jobs.read(_LENGTH.size):
        (length,) = _LENGTH.unpack(header)
        job = pickle.loads(jobs.read(length))
        try:
            reply: tuple[bool, object] = (True, render(job))
        except Exception as error:  # reported to the parent, which renders in a thread instead
            reply = (False, repr(error))
        message = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        results.write(_LENGTH.pack(len(message)) + message)
        results.flush()


if __name__ == "__main__":
    results = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing printed by a library may corrupt the results
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError):
        _serve(sys.stdin.buffer, results)
