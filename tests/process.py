"""A `jupyter server` subprocess on a free loopback port, configured by a config file; and the
start of the helper servers tests run beside it (``start_service``: redis-server, moto_server)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from jupyter_ycollab.cli import SLOW_OPTIONAL_MODULE

from .client import wait_until

TOKEN = "ycollab-test-token"
# Extensions the tests do not need: off, so that the server starts fast. jupytext too: it enables
# itself in the environment's jupyter_server_config.d and would replace the stock contents manager
# in every subprocess server (a test that wants it enables it: ``extensions``). And
# jupyter-collaboration's server, which packages that require it (jupyter-mcp-server) install and
# enable: beside it, ours refuses to start (app.py). jupyter-mcp-server, also enabled where it is
# installed, adds a handler of its own to the root logger: every log line would print twice.
UNNEEDED = (
    "jupyter_server_ydoc",
    "jupyter_mcp_server",
    "jupyterlab",
    "notebook",
    "jupyter_lsp",
    "jupyter_server_terminals",
    "nbclassic",
    "jupyterlab_jupytext",
    "jupyter_ai_router",
    "jupyter_ai_persona_manager",
)

#: How a test server starts: as ``python -m jupyter_server``, with the optional format checker
#: jsonschema loads kept out first, as ``jupyter ycollab`` keeps it out (cli.py). Building its
#: grammar took 3 of the 4.3 s of CPU a server's imports take here, and the suite starts
#: hundreds of servers; nothing a test server does validates an IRI.
SERVER_MAIN = (
    f"import runpy, sys; sys.modules[{SLOW_OPTIONAL_MODULE!r}] = None; "
    "runpy.run_module('jupyter_server', run_name='__main__', alter_sys=True)"
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_service(
    args: list[str], log: Path, answers: Callable[[], bool], *, timeout: float
) -> subprocess.Popen[bytes]:
    """Start a helper server (its output appended to ``log``) and return once ``answers()``."""
    name = Path(args[0]).name
    with log.open("ab") as output:  # the child has its own copy
        process = subprocess.Popen(args, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while not answers():
        if process.poll() is not None:
            raise AssertionError(f"{name} exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} did not answer within {timeout} s")
        time.sleep(0.02)
    return process


class JupyterProcess:
    """One server process; ``home`` holds its config, data and runtime dirs (never the root)."""

    def __init__(
        self,
        home: Path,
        root: Path,
        extensions: dict[str, bool] | None = None,
        ycollab: dict[str, Any] | None = None,
        pythonpath: list[Path] | None = None,
        config: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        """``config``: more sections of the server's config (another contents manager's)."""
        self.home = home
        self.root = root
        self.port = free_port()
        self.log_path = home / "server.log"
        enabled = {name: False for name in UNNEEDED}
        enabled.update({"jupyter_ycollab": True, "jupyter_server_fileid": True})
        enabled.update(extensions or {})
        self.config = {
            "ServerApp": {
                "ip": "127.0.0.1",
                "port": self.port,
                "port_retries": 0,
                "open_browser": False,
                "root_dir": str(root),
                "jpserver_extensions": enabled,
            },
            "IdentityProvider": {"token": TOKEN},
            "YCollabApp": ycollab or {},
        }
        for section, values in (config or {}).items():
            self.config[section] = {**self.config.get(section, {}), **values}
        self.pythonpath = pythonpath or []
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {TOKEN}"}

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        for name in ("config", "data", "runtime"):
            (self.home / name).mkdir(parents=True, exist_ok=True)
        env["JUPYTER_CONFIG_DIR"] = str(self.home / "config")
        env["JUPYTER_DATA_DIR"] = str(self.home / "data")
        env["JUPYTER_RUNTIME_DIR"] = str(self.home / "runtime")
        env["JUPYTER_PLATFORM_DIRS"] = "1"
        paths = [str(path) for path in self.pythonpath]
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(paths)
        return env

    def start(self) -> None:
        env = self._environment()
        config_file = self.home / "config" / "jupyter_server_config.json"
        config_file.write_text(json.dumps(self.config, indent=1))
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", SERVER_MAIN, "--allow-root"],
                env=env,
                cwd=self.home,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def wait_ready(self, timeout: float = 30.0) -> None:
        async def ready() -> bool:
            if self.returncode is not None:
                raise AssertionError(f"server exited with {self.returncode}:\n{self.log()}")
            try:
                response = await AsyncHTTPClient().fetch(
                    f"{self.base_url}/api/status", headers=self.headers, request_timeout=2
                )
            except (ConnectionError, HTTPClientError, OSError):
                return False
            return response.code == 200

        await wait_until(ready, timeout, "the server to answer /api/status", interval=0.05)

    async def wait_exit(self, timeout: float) -> int:
        """Wait for the process to end; return its exit code."""
        await wait_until(lambda: self.returncode is not None, timeout, "the server to exit")
        assert self.returncode is not None
        return self.returncode

    async def terminate(self, timeout: float = 10.0) -> float:
        """Send SIGTERM; return the seconds the process took to exit."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        await self.wait_exit(timeout)
        return time.monotonic() - started

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        assert self.process is not None
        return self.process.poll()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def ask_to_stop(self) -> None:
        """Send SIGTERM if the process runs (teardown: ``kill`` then waits for it)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def kill(self, grace: float = 5.0) -> None:
        """Make sure the process is gone (test teardown): SIGTERM first, so that it shuts down
        as a server does and coverage, when measured, writes what the server ran; SIGKILL if it
        has not exited within ``grace`` seconds."""
        if self.process is None or self.process.poll() is not None:
            return
        self.ask_to_stop()
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    async def put_session(self, path: str, file_format: str, file_type: str) -> dict[str, Any]:
        response = await AsyncHTTPClient().fetch(
            f"{self.base_url}/api/collaboration/session/{path}",
            method="PUT",
            headers=self.headers,
            body=json.dumps({"format": file_format, "type": file_type}),
        )
        session: dict[str, Any] = json.loads(response.body)
        return session

    async def browser_headers(self) -> dict[str, str]:
        """The token and a login cookie: a browser's user is the same at every request, where
        each request with the token alone is a new anonymous user."""
        response = await AsyncHTTPClient().fetch(
            f"{self.base_url}/api/status", headers=self.headers
        )
        cookies = [header.split(";", 1)[0] for header in response.headers.get_list("Set-Cookie")]
        assert cookies, "the server set no login cookie"
        return {**self.headers, "Cookie": "; ".join(cookies)}

    async def open_documents(self) -> list[str]:
        """The paths of the rooms open on this server (its status route)."""
        response = await AsyncHTTPClient().fetch(
            f"{self.base_url}/api/collaboration/status", headers=self.headers
        )
        return [room["path"] for room in json.loads(response.body)["rooms"]]

    def room_url(self, session: dict[str, Any]) -> str:
        room_id = f"{session['format']}:{session['type']}:{session['fileId']}"
        return (
            f"ws://127.0.0.1:{self.port}/api/collaboration/room/{room_id}"
            f"?sessionId={session['sessionId']}"
        )


async def run_cancelled(tasks: list[asyncio.Task[Any]]) -> None:
    """Cancel and await tasks (test teardown)."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
