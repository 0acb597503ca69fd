"""What an outbox keeps while it cannot send, and sends after (outbox.py): no update while held,
and each client's latest awareness state in one entry per announcer (``latest_awareness``), after
everything else, which keeps its order."""

from __future__ import annotations

import tracemalloc

import pytest
from redis.asyncio import Redis

from jupyter_ycollab.cluster.awareness import Announced
from jupyter_ycollab.cluster.outbox import Outbox, latest_awareness
from jupyter_ycollab.cluster.publisher import Entry
from jupyter_ycollab.rooms.protocol import (
    AwarenessEntry,
    decode_awareness_update,
    encode_awareness_update,
)

from .test_publisher import _publisher


def announced(*states: tuple[int, int, str], user: str | None = "yu", saves: bool = True) -> Entry:
    """An awareness entry: (client id, clock, JSON state) for each client, announced by ``user``
    (who ``saves`` or not)."""
    update = encode_awareness_update([AwarenessEntry(*state) for state in states])
    return ("a", Announced(update, user, saves).encode())


def states_in(entry: Entry) -> tuple[str | None, bool, dict[int, tuple[int, str]]]:
    """Who announced an awareness entry, and its states by client id: (clock, state)."""
    said = Announced.decode(entry[1])
    states = {e.client_id: (e.clock, e.state) for e in decode_awareness_update(said.update)}
    return said.user, said.saves, states


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
    assert states_in((kind, payload))[2] == {n: (3, '{"at":3}') for n in (1, 2, 3)}


def test_each_announcer_keeps_an_entry_of_its_own() -> None:
    """Held states of two users, a read-only page of one, and the server's removal of a page
    that left: merged into one entry per announcer, so that the server reading them applies each
    under the rules of the peer who said it (no user speaks for another's client ids, a
    read-only page's autosave wish stays unheard). A client's latest state goes with whoever
    said it last."""
    entries = [
        announced((1, 1, '{"c":1}'), user="yu"),
        announced((2, 1, '{"autosave":true}'), user="xi", saves=False),
        announced((3, 1, '{"c":1}'), user="xi"),
        U1,
        announced((1, 2, '{"c":2}'), user="yu"),
        announced((4, 1, "{}"), user="yu"),
        announced((4, 2, "null"), user=None),  # the page that announced 4 left
        announced((3, 2, '{"c":2}'), user="xi"),
    ]
    merged = latest_awareness(entries)
    assert merged[0] == U1
    assert sorted(map(states_in, merged[1:]), key=repr) == sorted(
        [
            ("yu", True, {1: (2, '{"c":2}')}),
            ("xi", False, {2: (1, '{"autosave":true}')}),
            ("xi", True, {3: (2, '{"c":2}')}),
            (None, True, {4: (2, "null")}),
        ],
        key=repr,
    )


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
    assert states_in(("a", awareness)) == ("yu", True, {7: (1_999, '{"cursor":1999}')})
    await publisher.stop()
