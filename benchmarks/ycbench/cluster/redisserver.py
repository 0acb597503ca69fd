"""Debian's redis-server on a free loopback port, for one part of the cluster benchmark.

Nothing persisted (`--save ""`, `--appendonly no`): every part starts from an empty Redis, and its
`used_memory` is the cluster's keys plus Redis's own baseline. Stopped by its pid (SIGTERM, then
SIGKILL), like the Jupyter servers.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import redis

from ..servers import START_TIMEOUT, ManagedProcess, free_port
from ..waiting import wait_until

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class RedisServer:
    """One redis-server process and a (blocking) client for the benchmark's own queries: they
    are short (INFO, SCAN, MEMORY USAGE) and never run while latencies are being measured."""

    def __init__(self, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        command = [
            REDIS_SERVER,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(workdir),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
        ]  # fmt: skip
        self.process = ManagedProcess(command, workdir, dict(os.environ), workdir / "redis.log")
        self.client = redis.Redis(port=self.port, socket_timeout=10)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self.process.spawn()
        await wait_until(self._answers, START_TIMEOUT, "redis-server to answer PING", 0.02)

    async def stop(self) -> None:
        self.client.close()
        await self.process.stop()

    def used_memory(self) -> int:
        """`INFO memory`'s used_memory: bytes Redis allocated for data and its own needs."""
        return self.memory()["used_memory"]

    def memory(self) -> dict[str, int]:
        """`INFO memory`'s used_memory and two of its parts: the dataset (keys and values, less
        Redis's per-key overhead) and the clients' buffers (the servers' connections)."""
        info = self.client.info("memory")
        fields = ("used_memory", "used_memory_dataset", "mem_clients_normal")
        return {name: int(info[name]) for name in fields}

    def keys(self, pattern: str) -> list[str]:
        return sorted(key.decode() for key in self.client.scan_iter(match=pattern, count=1000))

    def exists(self, keys: list[str]) -> int:
        """How many of `keys` exist."""
        return int(self.client.exists(*keys)) if keys else 0

    def key_bytes(self, key: str) -> int:
        """`MEMORY USAGE` of one key (all its values sampled), 0 if it is gone."""
        found = self.client.memory_usage(key, samples=0)
        return int(found or 0)

    def _answers(self) -> bool:
        if self.process.exited():
            raise RuntimeError(f"redis-server exited: {self.process.log_tail()}")
        try:
            return bool(self.client.ping())
        except redis.RedisError:
            return False
