"""Start, stop and restart ``jupyter lab`` as a subprocess for the end-to-end tests."""

from __future__ import annotations

import json
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from waiting import wait_until

HERE = Path(__file__).resolve().parent
CONFIG_FILE = HERE / "jupyter_server_test_config.py"
JUPYTER_ENV = "YCOLLAB_UI_JUPYTER"
START_TIMEOUT = 90.0
OURS = "jupyter_ycollab"
REFERENCE = "jupyter_server_ydoc"
STOP_TIMEOUT = 30.0


def jupyter_command() -> list[str]:
    """The command that runs ``jupyter``: ``$YCOLLAB_UI_JUPYTER`` or this interpreter's."""
    chosen = os.environ.get(JUPYTER_ENV, "").strip()
    if chosen:
        return shlex.split(chosen)
    return [sys.executable, "-m", "jupyter"]


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LabServer:
    """One ``jupyter lab`` process on a fixed loopback port, restartable with the same state.

    ``home`` holds everything the server writes: the served folder (``root``), Jupyter's config,
    data and runtime folders (so the cookie secret, file ids and any update log survive a restart),
    user settings, workspaces, and the server log.
    """

    home: Path
    port: int = field(default_factory=free_port)
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    collaboration: str = ""  # the collaboration extension serving: OURS or REFERENCE
    #: Environment variables for this server only (see jupyter_server_test_config.py).
    extra_env: dict[str, str] = field(default_factory=dict)
    #: More command-line options (``--YCollabApp.redis_url=...``).
    options: list[str] = field(default_factory=list)
    #: The served folder, when servers share one (a cluster); else ``home/root``.
    shared_root: Path | None = None

    @property
    def root(self) -> Path:
        return self.shared_root or self.home / "root"

    @property
    def settings_dir(self) -> Path:
        return self.home / "user-settings"

    @property
    def log_path(self) -> Path:
        return self.home / "server.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            *jupyter_command(),
            "lab",
            f"--config={CONFIG_FILE}",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            "--ServerApp.allow_root=True",
            f"--ServerApp.root_dir={self.root}",
            f"--IdentityProvider.token={self.token}",
            f"--LabApp.user_settings_dir={self.settings_dir}",
            f"--LabApp.workspaces_dir={self.home / 'workspaces'}",
            *self.options,
        ]

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        for name in ("config", "data", "runtime"):
            folder = self.home / f"jupyter-{name}"
            folder.mkdir(parents=True, exist_ok=True)
            env[f"JUPYTER_{name.upper()}_DIR"] = str(folder)
        env["PYTHONUNBUFFERED"] = "1"
        env.update(self.extra_env)
        return env

    def start(self) -> None:
        """Start the server and wait until it answers and serves the collaboration routes."""
        assert self.process is None, "already running"
        self.root.mkdir(parents=True, exist_ok=True)
        self.write_user_settings()
        self.starts += 1
        log_offset = self.log_size()
        with self.log_path.open("ab") as log:
            log.write(f"\n===== start #{self.starts}: {shlex.join(self.command())}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.command(),
                cwd=self.home,  # not the repository: `python -m` would import the checkout
                env=self.environment(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until(self._ready, timeout=START_TIMEOUT, what="jupyter lab to answer")
            # A plain GET on a known room (no websocket upgrade) is refused, but not with 404.
            if self._http_status("/api/collaboration/room/JupyterLab:globalAwareness") == 404:
                raise RuntimeError("no collaboration routes: is the extension enabled?")
            self.collaboration = self._loaded_collaboration(self.log_since(log_offset))
        except BaseException as error:
            self.stop()
            raise RuntimeError(
                f"jupyter lab did not start ({error}); end of {self.log_path}:\n{self.log_tail()}"
            ) from None

    def write_user_settings(self) -> None:
        """No "Would you like to get notified about official Jupyter news?" toast over the UI."""
        notification = self.settings_dir / "@jupyterlab" / "apputils-extension"
        notification.mkdir(parents=True, exist_ok=True)
        settings = {"fetchNews": "false", "checkForUpdates": False}
        (notification / "notification.jupyterlab-settings").write_text(json.dumps(settings))

    def stop(self) -> None:
        """Stop gracefully (SIGTERM, as a service manager would). A server that does not exit
        by the deadline is killed, and that fails the test: it would have hung for a user, with
        its last edits not saved."""
        if self.process is None:
            return
        process, self.process = self.process, None
        hung = False
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                hung = True
                process.kill()
                process.wait(timeout=STOP_TIMEOUT)
        wait_until(self._port_free, timeout=STOP_TIMEOUT, what=f"port {self.port} to be free")
        if hung:
            raise AssertionError(
                f"jupyter lab did not exit within {STOP_TIMEOUT} s of SIGTERM; end of "
                f"{self.log_path}:\n{self.log_tail()}"
            )

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_since(0).splitlines()[-lines:])

    def log_since(self, offset: int) -> str:
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def open_documents(self) -> list[str]:
        """The paths of the rooms open on this server (ours only: its status route)."""
        request = urllib.request.Request(
            self.url("/api/collaboration/status"), headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return [room["path"] for room in json.load(response)["rooms"]]

    def _http_status(self, path: str) -> int:
        request = urllib.request.Request(
            self.url(path), headers={"Authorization": f"token {self.token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    def _ready(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited early; see {self.log_path}")
        try:
            return self._http_status("/api/status") == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    @staticmethod
    def _loaded_collaboration(log: str) -> str:
        """OURS or REFERENCE. Ours also enters a stand-in named like the reference, which
        jupyter_server reports loaded too (it does nothing): ours loaded means ours serves."""
        loaded = [
            name for name in (OURS, REFERENCE) if f"{name} | extension was successfully" in log
        ]
        if not loaded:
            raise RuntimeError("no collaboration extension loaded")
        return loaded[0]

    def _port_free(self) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) != 0
