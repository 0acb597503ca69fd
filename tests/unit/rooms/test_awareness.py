"""A room's awareness states (pure): which update wins for a client id, and whether the room
autosaves, from the wishes its pages state (JupyterLab's "Autosave Documents" setting)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jupyter_ycollab.rooms.awareness import AwarenessStates
from jupyter_ycollab.rooms.protocol import (
    AwarenessEntry,
    decode_awareness_update,
    encode_awareness_update,
)

ALICE, BOB = 11, 22


def update(client_id: int, clock: int, state: Any) -> bytes:
    return encode_awareness_update([AwarenessEntry(client_id, clock, json.dumps(state))])


# What is kept first, what comes next, and whether that is taken (and relayed).
CLOCKS = {
    "newer-clock": ((1, {"a": 1}), (2, {"a": 2}), True),
    "older-clock": ((2, {"a": 2}), (1, {"a": 1}), False),
    "same-clock-again": ((2, {"a": 2}), (2, {"a": 2}), False),
    "same-clock-removal": ((2, {"a": 2}), (2, None), True),  # y-protocols' removal of a state
    "same-clock-removal-twice": ((2, None), (2, None), False),
}


@pytest.mark.parametrize(("kept", "incoming", "taken"), CLOCKS.values(), ids=CLOCKS.keys())
def test_an_update_wins_by_its_clock(
    kept: tuple[int, Any], incoming: tuple[int, Any], taken: bool
) -> None:
    states = AwarenessStates()
    states.apply("alice", update(ALICE, *kept))

    accepted = states.apply("alice", update(ALICE, *incoming))

    assert bool(accepted) is taken
    winner = incoming if taken else kept
    assert states.states().get(ALICE) == winner[1]


def test_no_peer_can_write_the_servers_own_state() -> None:
    states = AwarenessStates()
    server = states.server_client_id

    assert states.apply("mallory", update(server, 99, {"user": "mallory"})) == []
    assert states.states()[server] == {}


# Each page's awareness state, by client id, and whether the room autosaves.
WISHES: dict[str, tuple[dict[int, Any], bool]] = {
    "no-page": ({}, True),
    "one-page-against": ({ALICE: {"autosave": False}}, False),
    "one-against-one-for": ({ALICE: {"autosave": False}, BOB: {"autosave": True}}, True),
    # A client that says nothing (an agent, a script) neither asks nor refuses.
    "one-against-one-silent": ({ALICE: {"autosave": False}, BOB: {"user": "bot"}}, False),
    "only-silent": ({BOB: {"user": "bot"}}, True),
    "not-a-boolean": ({ALICE: {"autosave": "no"}}, True),
}


@pytest.mark.parametrize(("pages", "autosaves"), WISHES.values(), ids=WISHES.keys())
def test_the_room_autosaves_unless_a_page_refuses_and_none_asks(
    pages: dict[int, Any], autosaves: bool
) -> None:
    states = AwarenessStates()
    for client_id, state in pages.items():
        states.apply(client_id, update(client_id, 1, state))

    assert states.autosave() is autosaves


def test_the_wish_of_a_page_that_may_not_save_is_not_heard() -> None:
    """A read-only page's front end states its user's own setting (true by default)."""
    states = AwarenessStates()
    states.apply("alice", update(ALICE, 1, {"autosave": False}))
    states.apply("reader", update(BOB, 1, {"autosave": True}), saves=False)

    assert states.autosave() is False


def test_a_client_id_another_user_announced_is_theirs_alone() -> None:
    """Nobody else may rename, move or remove a user's cursor; a page of the same user that
    reconnected may, and once that user's connections left, the id is free."""
    states = AwarenessStates()
    states.apply("alice-tab", update(ALICE, 1, {"user": "alice"}), user="alice")

    assert states.apply("mallory", update(ALICE, 100, {"user": "not alice"}), user="mallory") == []
    assert states.apply("mallory", update(ALICE, 101, None), user="mallory") == []
    assert states.states()[ALICE] == {"user": "alice"}

    assert states.apply("alice-again", update(ALICE, 2, {"user": "alice", "x": 1}), user="alice")
    states.forget("alice-tab")
    states.forget("alice-again")
    assert states.apply("mallory", update(ALICE, 200, {"user": "m"}), user="mallory")


def test_a_wish_changes_with_its_page_and_leaves_with_it() -> None:
    states = AwarenessStates()
    states.apply("alice", update(ALICE, 1, {"autosave": False}))
    assert states.autosave() is False

    states.apply("alice", update(ALICE, 2, {"autosave": True}))
    assert states.autosave() is True

    states.apply("alice", update(ALICE, 3, {"autosave": False}))
    removal = states.forget("alice")

    assert states.autosave() is True
    assert removal is not None
    assert decode_awareness_update(removal) == [AwarenessEntry(ALICE, 4, "null")]
    assert ALICE not in states.states()
