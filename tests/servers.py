"""What the recovery tests share: one document folder served by a series of server processes
(restarted, or killed with SIGKILL, over the same root and data dirs), bounded waits for things
that must NOT happen, session events captured in process, and the `jupyter ycollab` tool.
"""

from __future__ import annotations

import asyncio
import re
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_ydoc import YNotebook, YUnicode
from pycrdt import Doc

from .client import CollabClient, DocT, wait_until
from .process import JupyterProcess

SESSION_SCHEMA = "https://schema.jupyter.org/jupyter_collaboration/session/v1"


async def assert_stays(
    predicate: Callable[[], bool | Awaitable[bool]],
    seconds: float,
    message: str,
    interval: float = 0.02,
) -> None:
    """Fail as soon as ``predicate`` turns false; pass once ``seconds`` went by without that.

    The negative twin of ``wait_until``: "no update arrived before the deadline"."""
    deadline = time.monotonic() + seconds
    while True:
        result = predicate()
        if not isinstance(result, bool):
            result = await result
        if not result:
            raise AssertionError(f"{message} (within {seconds} s)")
        if time.monotonic() >= deadline:
            return
        await asyncio.sleep(interval)


class ServerSeries:
    """Server processes, one at a time, over one root and one home (config, data, runtime):
    what a user gets by restarting Jupyter. The update logs live in the home's data dir."""

    def __init__(self, home: Path, root: Path, ycollab: dict[str, Any]) -> None:
        self.home = home
        self.root = root
        self.ycollab = dict(ycollab)
        self.extensions: dict[str, bool] = {}  # besides ours and jupyter_server_fileid
        self.config: dict[str, dict[str, Any]] = {}  # more config sections (JupyterProcess)
        self.current: JupyterProcess | None = None
        self.started: list[JupyterProcess] = []
        root.mkdir(parents=True, exist_ok=True)

    @property
    def log_dir(self) -> Path:
        """Where the default ``log_dir`` points: ``<JUPYTER_DATA_DIR>/ycollab/logs``."""
        return self.home / "data" / "ycollab" / "logs"

    async def start(self) -> JupyterProcess:
        assert self.current is None, "a server of this series is still running"
        server = JupyterProcess(
            self.home, self.root, self.extensions, self.ycollab, config=self.config
        )
        server.log_path = self.home / f"server-{len(self.started)}.log"  # one per process
        self.started.append(server)
        server.start()
        await server.wait_ready()
        self.current = server
        return server

    async def sigkill(self) -> float:
        """Kill the running server with SIGKILL; return the monotonic time of the signal."""
        server = self._take_current()
        assert server.process is not None
        killed_at = time.monotonic()
        server.process.send_signal(signal.SIGKILL)
        await server.wait_exit(10)
        return killed_at

    async def stop(self) -> None:
        """A clean shutdown (SIGTERM): the server flushes what it holds."""
        await self._take_current().terminate(timeout=30)

    def _take_current(self) -> JupyterProcess:
        server, self.current = self.current, None
        assert server is not None, "no server of this series is running"
        return server

    def kill_all(self) -> None:
        for server in self.started:
            server.kill()


def room_id(session: dict[str, Any]) -> str:
    return f"{session['format']}:{session['type']}:{session['fileId']}"


def log_name(session: dict[str, Any]) -> str:
    """The log file of a document room: its id, characters outside [A-Za-z0-9_.-] made ``_``."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", room_id(session)) + ".ylog"


def holds(path: Path, needle: bytes) -> bool:
    """Whether the file's bytes contain ``needle`` (Yjs updates carry inserted text verbatim)."""
    return path.exists() and needle in path.read_bytes()


async def disconnected(client: CollabClient[Any], timeout: float = 10.0) -> None:
    """Wait until the client noticed that its socket is gone (the server died)."""
    await wait_until(lambda: not client.connected, timeout, "the socket to close")


def successor(client: CollabClient[DocT], url: str) -> CollabClient[DocT]:
    """A new connection for the same document (what the front end does when its socket died):
    the old connection object is retired, the document and its history carry on."""
    client.dispose()
    return CollabClient(client.document, url, client.headers)


def notebook_peer(server: JupyterProcess, session: dict[str, Any]) -> CollabClient[YNotebook]:
    return CollabClient(YNotebook(Doc()), server.room_url(session), server.headers)


def text_peer(server: JupyterProcess, session: dict[str, Any]) -> CollabClient[YUnicode]:
    return CollabClient(YUnicode(Doc()), server.room_url(session), server.headers)


@dataclass(eq=False)  # hashable by identity: the event logger keeps its listeners in a set
class SessionEvents:
    """A jupyter_events listener that keeps every session event the server emits."""

    events: list[dict[str, Any]] = field(default_factory=list)

    async def __call__(self, logger: Any, schema_id: str, data: Any) -> None:
        """jupyter_events calls listeners with these keyword arguments."""
        self.events.append(dict(data))

    def has(self, level: str | None = None, action: str | None = None) -> bool:
        return bool(self.matching(level, action))

    def matching(self, level: str | None = None, action: str | None = None) -> list[dict[str, Any]]:
        return [
            event
            for event in self.events
            if (level is None or event.get("level") == level)
            and (action is None or event.get("action") == action)
        ]


def listen_to_session_events(serverapp: Any) -> SessionEvents:
    recorder = SessionEvents()
    serverapp.event_logger.add_listener(schema_id=SESSION_SCHEMA, listener=recorder)
    return recorder


@dataclass(frozen=True)
class ToolRun:
    code: int
    stdout: str
    stderr: str


async def run_tool(*args: str, command: tuple[str, ...] | None = None) -> ToolRun:
    """Run ``jupyter ycollab ARGS`` (by default as ``python -m jupyter_ycollab.cli``)."""
    argv = command or (sys.executable, "-m", "jupyter_ycollab.cli")
    process = await asyncio.create_subprocess_exec(
        *argv, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return ToolRun(process.returncode, stdout.decode(), stderr.decode())
