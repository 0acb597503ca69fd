"""The bare Redis hop under the cross-server path: XADD from one asyncio redis-py client, woken
up in another that waits in XREAD BLOCK, both in this process. It bounds from below what the
cluster adds to a delivery (the servers also parse, apply and relay the update, and run on the
same two cores as this process)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from redis.asyncio import Redis

from ..delivery import paced

KEY = "ycbench:hop"


async def _read(reader: Redis, count: int, latencies: list[float]) -> None:
    position: bytes | str = "0-0"
    while len(latencies) < count:
        found: Any = await reader.xread({KEY: position}, block=1000)
        now = time.perf_counter()
        for _key, entries in found or []:  # RESP2: [[key, [(id, fields), ...]], ...]
            for entry_id, fields in entries:
                position = entry_id
                latencies.append(now - float(fields[b"t"]))


async def redis_hop(url: str, count: int, rate: float) -> list[float]:
    """Seconds from each XADD's start to its entry in the reader's hands, `count` times."""
    reader, writer = Redis.from_url(url), Redis.from_url(url)
    latencies: list[float] = []
    try:
        listening = asyncio.create_task(_read(reader, count, latencies))

        async def add(sequence: int) -> None:
            await writer.xadd(KEY, {"t": repr(time.perf_counter())})

        await paced(count, rate, add)
        await asyncio.wait_for(listening, 10)
        await writer.delete(KEY)
    finally:
        await reader.aclose()
        await writer.aclose()
    return latencies
