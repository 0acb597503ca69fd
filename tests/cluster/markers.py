"""Unique markers typed by users, and the checks a user cares about: every marker is seen, once,
by everyone, and reaches the file once.

A marker is ``<tag><n>``, angle brackets included, so that ``<a1>`` is never found inside
``<a17>``: counting occurrences of each is exact.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

from ..client import wait_until
from ..fswatch import WriteCounter
from .cluster import Cluster, Peer

#: Seconds between two keystrokes of a typing user: the scenario's pace, not a wait.
PACE = 0.02


def markers(tag: str, count: int) -> list[str]:
    return [f"<{tag}{index}>" for index in range(count)]


def wrong_counts(text: str, expected: Sequence[str]) -> dict[str, int]:
    """The markers that ``text`` holds other than exactly once, with how often it holds them."""
    return {marker: text.count(marker) for marker in expected if text.count(marker) != 1}


def describe(text: str, expected: Sequence[str]) -> str:
    """ "12 missing (<a3>, ...), 2 doubled (<b1>, ...)" or "complete"."""
    wrong = wrong_counts(text, expected)
    missing = [marker for marker, count in wrong.items() if count == 0]
    doubled = [marker for marker, count in wrong.items() if count > 1]
    parts = []
    for label, found in (("missing", missing), ("more than once", doubled)):
        if found:
            parts.append(f"{len(found)} of {len(expected)} {label} ({', '.join(found[:4])}...)")
    return "; ".join(parts) or "complete"


def type_interleaved(*typing: tuple[Peer, Sequence[str]]) -> None:
    """Each peer types its markers, taking turns, all at once: they reach the wire in the same
    tick, interleaved (a1 b1 a2 b2...)."""
    longest = max(len(to_type) for _, to_type in typing)
    for index in range(longest):
        for peer, to_type in typing:
            if index < len(to_type):
                peer.type(to_type[index])


async def type_markers(peer: Peer, to_type: Sequence[str], pace: float = PACE) -> None:
    """A user typing one marker every ``pace`` seconds into the SAME document, whichever
    connection (or none, while its server is dead) carries it at the time."""
    for marker in to_type:
        peer.type(marker)
        await asyncio.sleep(pace)  # the typing pace: the scenario, not a wait for a condition


async def everyone_sees(peers: Sequence[Peer], expected: Sequence[str], timeout: float) -> None:
    """Every peer's view holds every marker exactly once, and all views are identical."""

    def done() -> bool:
        views = [peer.view() for peer in peers]
        return len(set(views)) == 1 and not wrong_counts(views[0], expected)

    try:
        await wait_until(done, timeout, "every view to hold every marker once")
    except AssertionError:
        report = [
            f"  peer {index} (server port {peer.server.port}): {describe(peer.view(), expected)}"
            for index, peer in enumerate(peers)
        ]
        same = len({peer.view() for peer in peers}) == 1
        raise AssertionError(
            f"after {timeout} s the views {'are identical but' if same else 'differ and'} "
            "do not each hold every marker once:\n" + "\n".join(report)
        ) from None


async def file_holds(cluster: Cluster, name: str, expected: Sequence[str], timeout: float) -> None:
    """The file on disk holds every marker exactly once (it was saved, once, completely)."""
    try:
        await wait_until(
            lambda: not wrong_counts(cluster.on_disk(name), expected),
            timeout,
            f"{name} on disk to hold every marker once",
        )
    except AssertionError:
        found = describe(cluster.on_disk(name), expected)
        raise AssertionError(f"after {timeout} s, {name} on disk: {found}") from None


async def sees(peer: Peer, expected: Sequence[str], timeout: float, what: str) -> None:
    """``peer`` sees every one of ``expected`` (at least once): delivery, with a clear failure."""
    try:
        await wait_until(lambda: all(m in peer.view() for m in expected), timeout, what)
    except AssertionError:
        missing = [marker for marker in expected if marker not in peer.view()]
        raise AssertionError(
            f"after {timeout} s, {what}: {len(missing)} of {len(expected)} never arrived "
            f"({', '.join(missing[:4])}...)"
        ) from None


async def writes_settle(
    writes: WriteCounter, name: str, quiet: float = 0.5, timeout: float = 10.0
) -> int:
    """Wait until ``name`` was not written for ``quiet`` seconds; return its write count."""
    last = {"count": writes.count(name), "at": time.monotonic()}

    def quiet_enough() -> bool:
        count = writes.count(name)
        if count != last["count"]:
            last.update(count=count, at=time.monotonic())
        return time.monotonic() - last["at"] >= quiet

    await wait_until(quiet_enough, timeout, f"writes of {name} to stop")
    return writes.count(name)


def count_in(peer: Peer, expected: Sequence[str]) -> Callable[[], int]:
    """How many of ``expected`` the peer sees now (for waits on progress)."""
    return lambda: sum(marker in peer.view() for marker in expected)
