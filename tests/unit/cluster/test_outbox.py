"""What an outbox keeps while it cannot send, and sends after (outbox.py): no update while held,
and each client's latest awareness state in one entry (``latest_awareness``), after everything
else, which keeps its order."""

from __future__ import annotations

import tracemalloc

import pytest
from redis.asyncio import Redis

from jupyter_ycollab.cluster.outbox import Outbox, latest_awareness
from jupyter_ycollab.cluster.publisher import Entry
from jupyter_ycollab.rooms.protocol import (
    AwarenessEntry,
    decode_awareness_update,
    encode_awareness_update,
)

from .test_publisher import _publisher


def announced(*states: tuple[int, int, str]) -> Entry:
    """An awareness entry: (client id, clock, JSON state) for each client."""
    return ("a", encode_awareness_update([AwarenessEntry(*state) for state in states]))


U1, U2, SAVE = ("u", b"\x01"), ("u", b"\x02"), ("c", b'{"save": 1}')


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        pytest.param([], [], id="nothing"),
        pytest.param([U1, U2, SAVE], [U1, U2, SAVE], id="no awareness"),
        pytest.param(
            [U1, announced((7, 1, "{}")), U2], [U1, announced((7, 1, "{}")), U2], id="one: kept"
        ),
        pytest.param(
            [announced((7, 1, '{"c":1}')), U1, announced((7, 2, '{"c":2}')), SAVE],
            [U1, SAVE, announced((7, 2, '{"c":2}'))],
            id="one client: its last state, after the rest",
        ),
        pytest.param(
            [announced((7, 1, "{}"), (8, 4, "{}")), announced((7, 2, "null"))],
            [announced((7, 2, "null"), (8, 4, "{}"))],
            id="a removal is a latest state too",
        ),
    ],
)
def test_latest_awareness(entries: list[Entry], expected: list[Entry]) -> None:
    assert latest_awareness(entries) == expected


def test_every_client_keeps_its_newest_state() -> None:
    entries = [
        announced((client, clock, f'{{"at":{clock}}}'))
        for clock in range(1, 4)
        for client in (1, 2, 3)
    ]
    ((kind, payload),) = latest_awareness(entries)
    assert kind == "a"
    states = {entry.client_id: entry.clock for entry in decode_awareness_update(payload)}
    assert states == {1: 3, 2: 3, 3: 3}


async def test_an_outage_keeps_one_awareness_entry_and_no_update(redis_client: Redis) -> None:
    """Held through an outage, an outbox keeps neither the updates (the document holds them,
    and ``release`` sends what the cluster lacks) nor every state a cursor went through: its
    memory does not grow with the typing. Released, the stream gets the two entries."""
    publisher, _cluster = _publisher(redis_client)
    outbox = Outbox(publisher, "test:room")
    outbox.hold()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for keystroke in range(2_000):
        outbox.put("u", b"x" * 1_024 + str(keystroke).encode())
        outbox.put("a", announced((7, keystroke, f'{{"cursor":{keystroke}}}'))[1])
    kept = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert kept < 64 * 1_024, f"{kept} bytes kept for 2 MiB of typing"
    assert not await outbox.flush()  # held: not in Redis yet

    outbox.release(b"what the cluster lacks")
    assert await outbox.flush()
    entries = [fields for _id, fields in await redis_client.xrange("test:room")]
    assert [entry[b"u"] for entry in entries if b"u" in entry] == [b"what the cluster lacks"]
    (awareness,) = [entry[b"a"] for entry in entries if b"a" in entry]
    assert decode_awareness_update(awareness) == [AwarenessEntry(7, 1_999, '{"cursor":1999}')]
    await publisher.stop()
