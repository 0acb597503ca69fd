"""Starting, probing and stopping the servers under test, each as its own process.

A server that does not start, or starts without serving collaboration rooms, raises
`ServerFailed` with a short reason; the run reports it as n/a and goes on with the others.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from .client import CollabClient, JupyterEndpoint, RelayEndpoint
from .config import ServerSettings
from .extensions import only_ours
from .procstat import cpu_seconds, descendants, rss_bytes
from .waiting import DeadlineExceeded, wait_until
from .workloads import SMALL, WorkloadCache

REPO = Path(__file__).resolve().parents[2]
BENCHMARKS = REPO / "benchmarks"
START_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0
_LOG_ERROR = re.compile(r"^\[[EC] |Traceback|\bERROR\b")
_SHUTDOWN_NOTICE = "received signal 15, stopping"
#: The INFO line each server logs once it closed a document room: ours "...: clean Room
#: deleted." (its session event), the reference "Room json:notebook:... deleted".
_ROOM_DELETED = re.compile(r"\bRoom (\S+ )?deleted")


class ServerFailed(RuntimeError):
    """The server did not start or does not serve the collaboration protocol."""


@dataclass(frozen=True)
class Target:
    """A Jupyter server flavour: which interpreter runs it and how it is configured."""

    name: str
    python: Path
    app_class: str
    traits: dict[str, float | str | bool]
    cleanup_trait: str  # the name of its ``ServerSettings.cleanup_delay``
    enable: str | None = None
    pythonpath: Path | None = None

    def arguments(self) -> list[str]:
        return [f"--{self.app_class}.{trait}={value}" for trait, value in self.traits.items()]

    def with_cleanup_delay(self, seconds: float) -> Target:
        """The same server, closing a room ``seconds`` after its last client left."""
        return replace(self, traits={**self.traits, self.cleanup_trait: seconds})


#: Our server with its metrics off (``--servers ours,ours-metrics-off``): what they cost.
OURS_METRICS_OFF = "ours-metrics-off"


def ours(settings: ServerSettings, *, metrics: bool = True) -> Target:
    """jupyter_ycollab, run by the current interpreter from this working tree (``metrics``
    False: with ``c.YCollabApp.metrics = False``, named ``ours-metrics-off``)."""
    traits: dict[str, float | str | bool] = {
        "save_delay": settings.save_delay,
        "max_save_delay": settings.max_save_delay,
        "cleanup_delay": settings.cleanup_delay,
        "poll_interval": settings.poll_interval,
    }
    if not metrics:
        traits["metrics"] = False
    return Target(
        name="ours" if metrics else OURS_METRICS_OFF,
        python=Path(sys.executable),
        app_class="YCollabApp",
        traits=traits,
        cleanup_trait="cleanup_delay",
        enable="jupyter_ycollab",
        pythonpath=REPO,
    )


def reference(settings: ServerSettings, python: Path) -> Target:
    """jupyter-collaboration 5.0.4 from its own virtualenv (enabled by its installed config)."""
    return Target(
        name="reference",
        python=python,
        app_class="YDocExtension",
        traits={
            "document_save_delay": settings.save_delay,
            "document_cleanup_delay": settings.cleanup_delay,
            "file_poll_interval": settings.poll_interval,
        },
        cleanup_trait="document_cleanup_delay",
    )


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class ManagedProcess:
    """A child process writing to a log file, whose CPU and memory the scenarios read."""

    command: list[str]
    cwd: Path
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def spawn(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def exited(self) -> bool:
        return self.process is None or self.process.poll() is not None

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def rss(self) -> int:
        return rss_bytes(self.pid)

    def children(self) -> list[int]:
        return descendants(self.pid)

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_errors_since(self, offset: int) -> list[str]:
        """ERROR, CRITICAL and Traceback lines the process logged after byte `offset`."""
        with self.log_path.open("rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
        return [
            line
            for line in text.splitlines()
            if _LOG_ERROR.search(line) and _SHUTDOWN_NOTICE not in line
        ]

    def rooms_deleted(self) -> int:
        """How many document rooms the server said it closed (``_ROOM_DELETED``)."""
        return len(_ROOM_DELETED.findall(self.log_path.read_text(errors="replace")))

    def log_tail(self, lines: int = 8) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return " | ".join(line.strip() for line in text.splitlines()[-lines:])

    async def stop(self) -> None:
        """SIGTERM (the server's graceful shutdown), SIGKILL if it does not exit in time."""
        if self.process is None or self.exited():
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await wait_until(self.exited, STOP_TIMEOUT, "server exit", interval=0.05)
        except DeadlineExceeded:
            self.process.kill()
            await wait_until(self.exited, STOP_TIMEOUT, "server kill", interval=0.05)


class JupyterServer:
    """One Jupyter server under test, with its served folder and its private state folders."""

    def __init__(
        self, target: Target, workdir: Path, cache: WorkloadCache, root: Path | None = None
    ) -> None:
        self.target = target
        # Servers of a cluster serve one shared `root`; on its own, a server gets a folder.
        self.root = root or workdir / "root"
        self.state = workdir / "state"
        self.cache = cache
        self.token = secrets.token_hex(16)
        self.port = 0
        self.root.mkdir(parents=True, exist_ok=True)
        self.state.mkdir(parents=True, exist_ok=True)
        self._process: ManagedProcess | None = None
        self._probes = 0

    @property
    def endpoint(self) -> JupyterEndpoint:
        return JupyterEndpoint(self.port, self.token)

    @property
    def process(self) -> ManagedProcess:
        assert self._process is not None
        return self._process

    async def start(self) -> None:
        """Start the server and check that it serves a collaboration room end to end."""
        self.port = free_port()
        self._process = ManagedProcess(
            self._command(), self.state, self._environment(), self.state / "server.log"
        )
        self._process.spawn()
        try:
            await wait_until(self._ready, START_TIMEOUT, "GET /api/status", interval=0.1)
            await self._probe_room()
        except ServerFailed:
            await self.stop()
            raise
        except Exception as error:  # any failure to come up is reported, with the log's tail
            reason = f"{error!r}; log: {self._process.log_tail()}"
            await self.stop()
            raise ServerFailed(reason) from error

    async def stop(self) -> None:
        if self._process is not None:
            await self._process.stop()

    async def restart(self) -> None:
        """Stop and start again on the same folders (rooms are then rebuilt from disk and logs)."""
        await self.stop()
        await self.start()

    def _command(self) -> list[str]:
        return [
            str(self.target.python),
            "-m",
            "jupyter_server",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--no-browser",
            *(["--allow-root"] if os.geteuid() == 0 else []),
            *self.target.arguments(),
        ]

    def _environment(self) -> dict[str, str]:
        """Private Jupyter config, data and runtime folders, so nothing leaks between servers."""
        env = dict(os.environ)
        config = self.state / "config"
        config.mkdir(exist_ok=True)
        if self.target.enable:
            extensions = {"ServerApp": {"jpserver_extensions": only_ours(self.target.enable)}}
            (config / "jupyter_server_config.json").write_text(json.dumps(extensions))
        env["JUPYTER_CONFIG_DIR"] = str(config)
        env["JUPYTER_DATA_DIR"] = str(self.state / "data")
        env["JUPYTER_RUNTIME_DIR"] = str(self.state / "runtime")
        env.pop("VIRTUAL_ENV", None)
        if self.target.pythonpath is not None:
            parts = [str(self.target.pythonpath), env.get("PYTHONPATH", "")]
            env["PYTHONPATH"] = os.pathsep.join(part for part in parts if part)
        return env

    async def _ready(self) -> bool:
        if self.process.exited():
            raise ServerFailed(f"server exited during start; log: {self.process.log_tail()}")
        request = HTTPRequest(
            f"{self.endpoint.http}/api/status",
            headers={"Authorization": f"token {self.token}"},
            request_timeout=5,
        )
        try:
            await AsyncHTTPClient().fetch(request)
        except (HTTPClientError, OSError):
            return False
        return True

    async def _probe_room(self) -> None:
        """Open a small notebook through the real protocol: proves the extension is serving."""
        self._probes += 1
        # Named after the server's own folder: servers sharing a root probe different files.
        name = f"probe/{self.state.parent.name}-{self._probes}.ipynb"
        path = self.cache.place(SMALL, self.root, name)
        client = CollabClient(self.endpoint, path)
        try:
            await client.open(timeout=60)
            cells = len(client.notebook.ycells)
            assert cells == SMALL.cells, f"probe room loaded {cells} cells, not {SMALL.cells}"
        except HTTPClientError as error:
            hints = [
                line
                for line in self.process.log_tail(200).split(" | ")
                if "Traceback" in line or (self.target.enable and self.target.enable in line)
            ]
            hint = f"; log: {hints[0]}" if hints else ""
            raise ServerFailed(f"session PUT failed: {error}{hint}") from error
        finally:
            await client.close()


class RelayServer:
    """benchmarks/relay.py: the bare Tornado relay that bounds what a fan-out can cost."""

    def __init__(self, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process = ManagedProcess(
            [sys.executable, str(BENCHMARKS / "relay.py"), "--port", str(self.port)],
            workdir,
            dict(os.environ),
            workdir / "relay.log",
        )

    @property
    def endpoint(self) -> RelayEndpoint:
        return RelayEndpoint(self.port)

    async def start(self) -> None:
        self.process.spawn()
        await wait_until(self._listening, START_TIMEOUT, "relay to listen", interval=0.05)

    async def stop(self) -> None:
        await self.process.stop()

    def _listening(self) -> bool:
        if self.process.exited():
            raise ServerFailed(f"relay exited: {self.process.log_tail()}")
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            return False
        return True
