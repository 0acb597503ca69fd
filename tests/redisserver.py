"""A real ``redis-server`` (Debian's) on a free loopback port, started and stopped by the tests.

The cluster tests need the real engine: its streams, its expiry, its behaviour when it dies and
comes back. ``kill`` is SIGKILL by pid (what a crash looks like); ``start`` again reuses the port,
so that the servers' ``redis_url`` stays right across a restart. No persistence: a restarted
Redis is empty unless ``appendonly`` was asked for.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path

from .process import free_port, start_service

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class RedisProcess:
    def __init__(self, directory: Path, *, appendonly: bool = False) -> None:
        self.directory = directory
        self.port = free_port()
        self.appendonly = appendonly
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        """Start ``redis-server`` and return once it answers PING."""
        self.directory.mkdir(parents=True, exist_ok=True)
        args = [
            REDIS_SERVER,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.directory),
            "--save", "",
            "--appendonly", "yes" if self.appendonly else "no",
            "--daemonize", "no",
        ]  # fmt: skip
        log = self.directory / "redis.log"
        self.process = start_service(args, log, self._answers_ping, timeout=timeout)

    def _answers_ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        """SIGKILL by pid, as a crash would end it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        """Stop it for good (test teardown)."""
        self.kill()
        self.process = None
