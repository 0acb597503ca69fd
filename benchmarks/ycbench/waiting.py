"""Waiting on a condition with a deadline: the suite never sleeps a fixed time to wait."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class DeadlineExceeded(TimeoutError):
    """A condition did not hold before its deadline."""


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]],
    timeout: float,
    what: str,
    interval: float = 0.005,
) -> None:
    """Poll `condition` every `interval` seconds until it is true or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise DeadlineExceeded(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(interval)


async def wait_until_stable(
    sample: Callable[[], float],
    quiet: float,
    timeout: float,
    what: str,
    tolerance: float = 0.0,
    interval: float = 0.01,
) -> float:
    """Wait until `sample()` has not moved by more than `tolerance` for `quiet` seconds.

    Returns the last sample. Used for "the file is no longer being written" and "RSS has settled".
    """
    deadline = time.monotonic() + timeout
    last = sample()
    since = time.monotonic()
    while True:
        await asyncio.sleep(interval)
        now = time.monotonic()
        value = sample()
        if abs(value - last) > tolerance * max(abs(last), 1.0):
            last, since = value, now
        elif now - since >= quiet:
            return value
        if now > deadline:
            raise DeadlineExceeded(f"timed out after {timeout:g}s waiting for {what} to settle")
