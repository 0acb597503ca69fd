"""Starting a cluster for one part: a fresh redis-server and `count` of our Jupyter servers that
serve ONE folder, each with its own config, data and runtime folders (its own file-id database
and update logs, as separate pods have). Or, with `redis` None, one server on its own."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from ..servers import JupyterServer, Target, ours
from .config import SETTINGS, Part
from .redisserver import RedisServer


def clustered(redis: RedisServer) -> Target:
    """Ours with `c.YCollabApp.redis_url` set: a member of the cluster behind `redis`."""
    target = ours(SETTINGS)
    return dataclasses.replace(target, traits={**target.traits, "redis_url": redis.url})


@asynccontextmanager
async def started_redis(workdir: Path) -> AsyncIterator[RedisServer]:
    redis = RedisServer(workdir)
    await redis.start()
    try:
        yield redis
    finally:
        await redis.stop()


@asynccontextmanager
async def started_servers(
    part: Part, name: str, count: int, redis: RedisServer | None
) -> AsyncIterator[list[JupyterServer]]:
    """`count` servers over `part.workdir/name/shared`, started together, stopped together."""
    base = part.workdir / name
    target = clustered(redis) if redis is not None else ours(SETTINGS)
    servers = [
        JupyterServer(target, base / f"server-{index}", part.cache, root=base / "shared")
        for index in range(count)
    ]
    try:
        starts = await asyncio.gather(
            *(server.start() for server in servers), return_exceptions=True
        )
        for failure in starts:
            if isinstance(failure, BaseException):
                raise failure
        yield servers
    finally:
        await asyncio.gather(*(server.stop() for server in servers))


@asynccontextmanager
async def started_cluster(
    part: Part, name: str, count: int = 2
) -> AsyncIterator[tuple[RedisServer, list[JupyterServer]]]:
    """A fresh Redis and `count` servers sharing it and one folder."""
    async with (
        started_redis(part.workdir / name / "redis") as redis,
        started_servers(part, name, count, redis) as servers,
    ):
        yield redis, servers
