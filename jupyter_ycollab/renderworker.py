"""Render big documents in a child process, so that the server's event loop never waits for them.

Why a process: rendering a 10,000-cell notebook takes ~0.2 s of calls into Rust and C (applying
the update, pycrdt's JSON export, ``json.loads``, ``json.dumps``) that hold the GIL throughout;
in a worker thread they still freeze the event loop for tens of milliseconds at a time.

Why not ``multiprocessing``: its spawned children re-import the parent's ``__main__``, which would
start a second Jupyter server from any launcher script without a main guard. This child runs as
``python -m jupyter_ycollab.renderworker`` would (see ``_CHILD_MAIN``) and serves one job at a time
over its stdin and stdout. The parent talks to it from one thread of its own (jobthread.py: waiting
jobs hold no thread, urgent ones go first), and the big byte strings (snapshots, file contents: 20
MB each for a notebook of images) travel beside the pickle, never copied into it: copying them on
the event loop stalled it for ~70 ms per save. The pipes get 1 MiB buffers (Linux's default, 64 KiB,
made a 20 MB transfer take ~28 ms of back-and-forth between the two processes; 1 MiB: ~7 ms).

The child runs only while big documents are being saved: it starts at the first edit of one
(document.py), while the save waits for its delay, and exits after a minute without jobs. Its
imports alone hold ~40 MB, and its cache of written cells as much again for 10,000 cells: a
server whose big documents are only read, or edited once in a while, does not keep them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
from typing import IO, Any

from .jobthread import BACKGROUND, URGENT, JobThread
from .memory import give_back_freed_memory
from .readfile import NotebookRead, ReadJob, read_notebook_file
from .render import Rendered, RenderJob, render

log = logging.getLogger(__name__)

#: How the child starts: as ``python -m jupyter_ycollab.renderworker``, with one optional module
#: kept out first. nbformat imports jsonschema, which loads the ``rfc3987_syntax`` format checker
#: if it is installed (jupyter_events installs it): building its grammar took 0.6 of the child's
#: 0.75 s of imports and 18 of its 56 MB. Nothing in the child validates, and jsonschema treats
#: the module as absent when importing it fails.
_CHILD_MAIN = (
    "import runpy, sys; sys.modules['rfc3987_syntax'] = None; "
    "runpy.run_module('jupyter_ycollab.renderworker', run_name='__main__', alter_sys=True)"
)
_COUNT = struct.Struct("<Q")
_HELLO = b"ready\n"
_PIPE_BYTES = 1 << 20
#: Freed memory goes back to the system once no job came for this long, not after every job:
#: each job would then fault its pages in again (a save of a 20 MB notebook: ~35 ms of trimming
#: and page faults in a ~100 ms save).
_IDLE_SECONDS = 0.25
_F_SETPIPE_SZ = 1031  # Linux's fcntl command (Python 3.10+ names it, on Linux only)
#: A child with no job for this long exits; the next job starts another (~0.25 s).
EXIT_WHEN_IDLE_SECONDS = 60.0
#: A child that has not answered a job after this long is killed (its job fails over to a
#: thread): a render takes well under a second, and a child that hangs must not stop every save.
REPLY_SECONDS = 120.0


class RenderProcess:
    """The parent's side: starts the child on first use, sends it one job at a time, and stops
    it when it had no job for ``EXIT_WHEN_IDLE_SECONDS``."""

    def __init__(self) -> None:
        self._child: subprocess.Popen[bytes] | None = None
        self._greeted = False  # the child's first byte, sent once its imports are done, was read
        # One exchange at a time, urgent ones first; idle, the child is stopped from there.
        self._jobs = JobThread(
            "render process", on_idle=self._stop_idle_child, idle_after=EXIT_WHEN_IDLE_SECONDS
        )
        self._spawning = threading.Lock()  # apart: starting must not wait for an exchange
        self.reply_timeout = REPLY_SECONDS

    @property
    def ready(self) -> bool:
        """Whether the child is up and done importing (about a second after it starts): until
        then, work that cannot wait is better done in a thread."""
        child = self._child
        if child is None or child.poll() is not None or child.stdout is None:
            return False
        return self._greeted or bool(select.select([child.stdout], [], [], 0)[0])

    @property
    def running(self) -> bool:
        """Whether the child is started (and has not exited)."""
        child = self._child
        return child is not None and child.poll() is None

    @property
    def busy(self) -> bool:
        """Whether a job is running or waiting (a new one would wait for it)."""
        return self._jobs.busy

    async def start(self) -> None:
        """Start the child now (it imports pycrdt and nbformat while the room loads)."""
        await asyncio.to_thread(self._running)

    async def render(self, job: RenderJob) -> Rendered:
        """``render(job)`` in the child; raises ``OSError`` if the child fails or is gone.
        A digest only waits for saves and reads (it is background work)."""
        priority = BACKGROUND if job.digest_only else URGENT
        return await self._jobs.run(priority, lambda: self._exchange(job))

    async def read(self, job: ReadJob) -> NotebookRead | None:
        """``read_notebook_file(job)`` in the child; raises ``OSError`` as ``render`` does."""
        result, _ = await self._jobs.run(URGENT, lambda: self._call((job, False), []))
        assert result is None or isinstance(result, NotebookRead)
        return result

    async def close(self) -> None:
        await self._jobs.stop(self._stop)

    def _running(self) -> subprocess.Popen[bytes]:
        with self._spawning:
            if self._child is None or self._child.poll() is not None:
                command = [sys.executable, "-c", _CHILD_MAIN]
                self._child = subprocess.Popen(
                    command, stdin=subprocess.PIPE, stdout=subprocess.PIPE
                )
                self._greeted = False
                for pipe in (self._child.stdin, self._child.stdout):
                    _widen(pipe)
            return self._child

    def _exchange(self, job: RenderJob) -> Rendered:
        base = [] if job.base is None else [job.base]
        meta = dataclasses.replace(job, parts=(), base=None)
        result, parts = self._call((meta, bool(base)), [*base, *job.parts])
        assert isinstance(result, Rendered)
        data = parts[1] if len(parts) > 1 else None
        snapshot = parts[0] or job.parts[0]  # empty: the job's single part, not sent back
        return dataclasses.replace(result, snapshot=snapshot, data=data)

    def _call(self, request: object, parts: list[bytes]) -> tuple[object, list[bytes]]:
        child = self._running()
        assert child.stdin is not None and child.stdout is not None
        watchdog = _Watchdog(self.reply_timeout, child)
        try:
            if not self._greeted:
                self._greeted = _read(child.stdout, len(_HELLO)) == _HELLO
            _send(child.stdin, request, parts)
            (ok, result), parts = _receive(child.stdout)
        except (OSError, EOFError, ValueError, pickle.UnpicklingError) as error:
            child.kill()
            hung = TimeoutError(f"no reply in {self.reply_timeout} s")
            cause = hung if watchdog.fired else error
            raise OSError(f"the render process stopped: {cause!r}") from cause
        finally:
            watchdog.cancel()
        if not ok:
            raise OSError(f"the render process failed: {result}")
        return result, parts

    def _stop_idle_child(self) -> None:
        """In the job thread, so never during an exchange: the next job starts a new child."""
        try:
            self._stop()
        except OSError as error:  # gone already: nothing to give back
            log.debug("The idle render process was gone: %s", error)

    def _stop(self) -> None:
        with self._spawning:
            child, self._child = self._child, None
        if child is None:
            return
        if child.stdin is not None:
            child.stdin.close()  # the child exits at the end of its input
        try:
            child.wait(5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()


class _Watchdog:
    """Kills ``child`` unless cancelled within ``seconds``: the parent's blocked read then ends."""

    def __init__(self, seconds: float, child: subprocess.Popen[bytes]) -> None:
        self.fired = False
        self._child = child
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        self._child.kill()

    def cancel(self) -> None:
        self._timer.cancel()


def _widen(pipe: IO[bytes] | None) -> None:
    """Give ``pipe`` a 1 MiB buffer where the system allows it (Linux; else keep its own)."""
    if pipe is None or not sys.platform.startswith("linux"):
        return
    import fcntl

    with contextlib.suppress(OSError):  # above the system's limit: the default stays
        fcntl.fcntl(pipe.fileno(), _F_SETPIPE_SZ, _PIPE_BYTES)


def _send(stream: IO[bytes], value: object, parts: list[bytes]) -> None:
    """A pickle, then byte strings beside it (never copied into it)."""
    message = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    lengths = [len(message), *map(len, parts)]
    stream.write(_COUNT.pack(len(lengths)) + struct.pack(f"<{len(lengths)}Q", *lengths))
    for part in (message, *parts):
        stream.write(part)  # big parts go straight to the pipe, not through a buffer
    stream.flush()


def _receive(stream: IO[bytes]) -> tuple[Any, list[bytes]]:
    (count,) = _COUNT.unpack(_read(stream, _COUNT.size))
    lengths = struct.unpack(f"<{count}Q", _read(stream, 8 * count))
    message, *parts = [_read(stream, length) for length in lengths]
    return pickle.loads(message), parts


def _read(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise EOFError("the other side closed the pipe")
    return data


def _serve(jobs: IO[bytes], results: IO[bytes]) -> None:
    while True:
        # The parent sends a job only once it has the last one's reply, so nothing is buffered:
        # an empty pipe means no job is on its way.
        if not select.select([jobs], [], [], _IDLE_SECONDS)[0]:
            give_back_freed_memory()  # the last jobs' parses and documents: ~90 MB at 10k
        try:
            (meta, has_base), parts = _receive(jobs)
        except EOFError:
            return
        try:
            if isinstance(meta, ReadJob):
                _send(results, (True, read_notebook_file(meta)), [])
            else:
                _send(results, *_rendered(meta, has_base, parts))
        except Exception as error:  # reported to the parent, which works in a thread instead
            _send(results, (False, repr(error)), [])
        del meta, parts


def _rendered(meta: RenderJob, has_base: bool, parts: list[bytes]) -> tuple[object, list[bytes]]:
    base = parts.pop(0) if has_base else None
    job = dataclasses.replace(meta, parts=tuple(parts), base=base)
    rendered = render(job)
    data = [] if rendered.data is None else [rendered.data]
    snapshot = rendered.snapshot if len(job.parts) > 1 else b""
    reply = dataclasses.replace(rendered, snapshot=b"", data=None)
    return (True, reply), [snapshot, *data]


if __name__ == "__main__":
    # Below the server in priority: on a busy machine a save may take longer, but the server
    # (and its event loop) keeps its share of the CPU.
    os.nice(5)
    results = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing printed by a library may corrupt the results
    results.write(_HELLO)  # everything is imported: jobs are answered at once from now on
    results.flush()
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError):
        _serve(sys.stdin.buffer, results)
