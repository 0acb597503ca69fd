"""Wait on a condition with a deadline (never a fixed sleep standing in for a condition)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

POLL_INTERVAL = 0.1


def wait_until(
    predicate: Callable[[], T],
    *,
    timeout: float,
    what: str,
    pause: Callable[[float], None] = time.sleep,
) -> T:
    """Poll ``predicate`` until it returns a truthy value, which is returned.

    ``pause`` sleeps between polls; pass a page's ``wait_for_timeout`` (in ms, see ``pages``) when
    polling a browser so that Playwright keeps dispatching its events meanwhile.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        pause(POLL_INTERVAL)


def wait_for_value(
    read: Callable[[], T],
    expected: T,
    *,
    timeout: float,
    what: str,
    pause: Callable[[float], None] = time.sleep,
) -> T:
    """Poll ``read()`` until it equals ``expected``; on timeout, report the last value read."""
    last: list[T] = []

    def matches() -> bool:
        last[:] = [read()]
        return last[0] == expected

    try:
        wait_until(matches, timeout=timeout, what=what, pause=pause)
    except TimeoutError as error:
        raise AssertionError(
            f"{error}\n  expected: {expected!r}\n  last seen: {last[0] if last else None!r}"
        ) from None
    return last[0]
