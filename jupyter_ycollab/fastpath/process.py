"""Render big documents in a child process, so that the server's event loop never waits for them.

Why a process: rendering a 10,000-cell notebook takes ~0.2 s of calls into Rust and C (applying
the update, pycrdt's JSON export, ``json.loads``, ``json.dumps``) that hold the GIL throughout;
in a worker thread they still freeze the event loop for tens of milliseconds at a time.

Why not ``multiprocessing``: its spawned children re-import the parent's ``__main__``, which would
start a second Jupyter server from any launcher script without a main guard. This child runs as
``python -m jupyter_ycollab.fastpath.child`` would (see ``_CHILD_MAIN``) and serves one job at a
time over its stdin and stdout. The parent talks to it from one thread of its own
(jobthread.py: waiting jobs hold no thread, urgent ones go first).

The child runs only while big documents are being saved: it starts at the first edit of one
(files.py), while the save waits for its delay, and exits after a minute without jobs. Its
imports hold ~43 MB, and its cache of written cells ~30 MB for 10,000 cells: a
server whose big documents are only read, or edited once in a while, does not keep them.
"""

from __future__ import annotations

import dataclasses
import logging
import pickle
import subprocess
import sys
import threading

from .. import metrics
from ..document.render import Rendered
from .child import HELLO, read_exactly, readable, receive, send, widen
from .jobthread import BACKGROUND, URGENT, JobThread
from .read import NotebookRead, ReadJob
from .serialise import FastJob, RenderedBytes

log = logging.getLogger(__name__)

#: How the child starts: as ``python -m jupyter_ycollab.fastpath.child`` would, but for two imports
#: that nothing in it needs (``CHILD_IMPORTS``). nbformat imports jsonschema, which loads the
#: ``rfc3987_syntax`` format checker where installed (it is treated as absent when its import
#: fails): its grammar took 0.6 of the child's 0.75 s of imports and 18 of its 56 MB. And
#: jupyter_ydoc loads every installed document class at import: here none (codec/kinds.py).
CHILD_IMPORTS = (
    "import sys, importlib.metadata as m; sys.modules['rfc3987_syntax'] = None; "
    "every = m.entry_points; m.entry_points = lambda **chosen: "
    "() if chosen.get('group') == 'jupyter_ydoc' else every(**chosen); "
    "import jupyter_ydoc; m.entry_points = every; "
)
_CHILD_MAIN = CHILD_IMPORTS + (
    "import runpy; "
    "runpy.run_module('jupyter_ycollab.fastpath.child', run_name='__main__', alter_sys=True)"
)
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
        self._jobs = JobThread("render process", self._stop_idle_child, EXIT_WHEN_IDLE_SECONDS)
        self._spawning = threading.Lock()  # apart: starting must not wait for an exchange
        self.reply_timeout = REPLY_SECONDS

    @property
    def ready(self) -> bool:
        """Whether the child is up and done importing (~0.25 s after it starts): until then, a
        read for an open is better done in a thread (files.py)."""
        child = self._child
        if child is None or child.poll() is not None or child.stdout is None:
            return False
        return self._greeted or readable(child.stdout, 0)

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
        """Start the child now, if it does not run (its imports overlap the save delay). In the
        job thread: the child's idle clock starts with it, so it exits even if no job comes (a
        small document's jobs go to threads while it imports: files.py)."""
        if not self.running:
            await self._jobs.run(BACKGROUND, self._running)

    async def render(self, job: FastJob) -> Rendered:
        """``render(job)`` in the child; raises ``OSError`` if the child fails or is gone.
        A digest only waits for saves and reads (it is background work)."""
        priority = BACKGROUND if job.digest_only else URGENT
        return await self._jobs.run(priority, lambda: self._exchange(job))

    async def read(self, job: ReadJob) -> NotebookRead | None:
        """``read_notebook_file(job)`` in the child; raises ``OSError`` as ``render`` does."""
        result, _ = await self._jobs.run(URGENT, lambda: self._call((job, False), [], "read"))
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
                    widen(pipe)
            return self._child

    def _exchange(self, job: FastJob) -> Rendered:
        base = [] if job.base is None else [job.base]
        meta = dataclasses.replace(job, parts=(), base=None)
        name = "digest" if job.digest_only else "render"
        result, parts = self._call((meta, bool(base)), [*base, *job.parts], name)
        assert isinstance(result, Rendered)
        snapshot = parts[0] or job.parts[0]  # empty: the job's single part, not sent back
        if isinstance(result, RenderedBytes):
            return dataclasses.replace(result, snapshot=snapshot, data=parts[1])
        return dataclasses.replace(result, snapshot=snapshot)

    def _call(self, request: object, parts: list[bytes], job: str) -> tuple[object, list[bytes]]:
        """One exchange with the child (in the job thread); ``job`` names it for the metrics."""
        child = self._running()
        assert child.stdin is not None and child.stdout is not None
        watchdog = _Watchdog(self.reply_timeout, child)
        started, ok = metrics.clock(), False
        try:
            if not self._greeted:
                self._greeted = read_exactly(child.stdout, len(HELLO)) == HELLO
            send(child.stdin, request, parts)
            (ok, result), parts = receive(child.stdout)
        except (OSError, EOFError, ValueError, pickle.UnpicklingError) as error:
            child.kill()
            hung = TimeoutError(f"no reply in {self.reply_timeout} s")
            cause = hung if watchdog.fired else error
            raise OSError(f"the render process stopped: {cause!r}") from cause
        finally:
            watchdog.cancel()
            metrics.current.rendered(job, ok, metrics.clock() - started)
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
