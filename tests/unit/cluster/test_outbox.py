"""What an outbox sends after waiting (outbox.py ``latest_awareness``): each client's latest
awareness state in one entry, after everything else, which keeps its order."""

from __future__ import annotations

import pytest

from jupyter_ycollab.cluster.outbox import latest_awareness
from jupyter_ycollab.cluster.publisher import Entry
from jupyter_ycollab.rooms.protocol import (
    AwarenessEntry,
    decode_awareness_update,
    encode_awareness_update,
)


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
