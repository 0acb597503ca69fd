"""Awareness: relayed between peers, removed when a peer leaves, and a keepalive for lone peers."""

from __future__ import annotations

import itertools
import time

import pytest
from jupyter_ydoc import YNotebook
from pycrdt import Doc

from .client import AwarenessEntry, create_awareness_message, encode_awareness_update
from .harness import Collab

KEEPALIVE = 0.5


def removals(entries: list[AwarenessEntry], client_id: int) -> list[AwarenessEntry]:
    return [entry for entry in entries if entry.client_id == client_id and entry.state is None]


async def test_awareness_of_one_peer_reaches_the_other(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["x"])
    alice = await collab.open_notebook("nb.ipynb")
    bob = await collab.open_notebook("nb.ipynb")

    alice.set_awareness({"user": {"name": "Alice", "émoji": "✓"}, "autosave": True})
    await bob.wait_for(lambda: alice.client_id in bob.awareness_states, 5, "Alice's awareness")
    assert bob.awareness_states[alice.client_id]["user"] == {"name": "Alice", "émoji": "✓"}

    alice.set_awareness({"user": {"name": "Alice"}, "cursors": [1, 2]})
    await bob.wait_for(
        lambda: bob.awareness_states[alice.client_id].get("cursors") == [1, 2], 5, "an update"
    )


async def test_a_late_joiner_receives_the_awareness_already_in_the_room(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["x"])
    alice = await collab.open_notebook("nb.ipynb")
    alice.set_awareness({"user": {"name": "Alice"}})
    bob = await collab.open_notebook("nb.ipynb")
    await alice.wait_for(lambda: bob.synced, 5)
    await bob.wait_for(lambda: alice.client_id in bob.awareness_states, 5, "Alice's state")


@pytest.mark.parametrize("leave", ["close", "drop"])
async def test_awareness_removal_is_broadcast_when_a_peer_leaves(
    collab: Collab, leave: str
) -> None:
    collab.write_notebook("nb.ipynb", ["x"])
    alice = await collab.open_notebook("nb.ipynb")
    bob = await collab.open_notebook("nb.ipynb")
    alice.set_awareness({"user": {"name": "Alice"}})
    await bob.wait_for(lambda: alice.client_id in bob.awareness_states, 5, "Alice's awareness")

    if leave == "close":
        await alice.close()
    else:
        await alice.drop()  # no close frame: a killed tab

    await bob.wait_for(
        lambda: bool(removals(bob.received.awareness, alice.client_id)), 5, "Alice's removal"
    )
    assert alice.client_id not in bob.awareness_states
    assert bob.connected


async def test_a_lone_peer_receives_a_message_every_keepalive_interval(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["x"])
    client = await collab.open_notebook("nb.ipynb")
    client.set_awareness({"user": {"name": "alone"}})
    start = time.monotonic()
    seen = len(client.received.frames)

    await client.wait_for(
        lambda: len(client.received.frames) >= seen + 3, 4 * KEEPALIVE + 2, "keepalive messages"
    )
    times = [start, *client.received.frame_times[seen : seen + 3]]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert max(gaps) < 2 * KEEPALIVE, f"gaps between messages: {gaps}"


@pytest.mark.parametrize(
    "expected_errors", [[r"^\s*To access the server", "Exception in callback"]]
)
async def test_a_room_that_fails_to_renew_does_not_stop_the_others_keepalive(
    collab: Collab, expected_errors: list[str]
) -> None:
    collab.write_notebook("broken.ipynb", ["x"])
    collab.write_notebook("nb.ipynb", ["y"])
    await collab.open_notebook("broken.ipynb")
    client = await collab.open_notebook("nb.ipynb")
    [broken] = [room for room in collab.rooms.values() if room.document.path == "broken.ipynb"]

    def fail() -> None:
        raise RuntimeError("this room cannot renew its awareness")

    broken.renew_awareness = fail
    seen = len(client.received.frames)

    await client.wait_for(
        lambda: len(client.received.frames) >= seen + 3, 4 * KEEPALIVE + 2, "keepalive messages"
    )


async def test_global_awareness_room_relays_awareness_without_a_session(collab: Collab) -> None:
    url = collab.room_url("JupyterLab:globalAwareness")
    alice = collab.client(YNotebook(Doc()), url)
    bob = collab.client(YNotebook(Doc()), url)
    await alice.connect()
    await bob.connect()
    alice.set_awareness({"user": {"name": "Alice"}, "current": "nb.ipynb"})
    await bob.wait_for(lambda: alice.client_id in bob.awareness_states, 5, "Alice's awareness")
    await alice.close()
    await bob.wait_for(lambda: alice.client_id not in bob.awareness_states, 5, "the removal")


async def test_another_users_cursor_cannot_be_renamed_or_removed_by_a_peer(collab: Collab) -> None:
    """Awareness states name their client id; a peer that sends one under another user's id
    (each token-only connection here is a user of its own) is not heard: others keep seeing
    that user as that user announced itself."""
    collab.write_notebook("nb.ipynb", ["x"])
    alice = await collab.open_notebook("nb.ipynb")
    mallory = await collab.open_notebook("nb.ipynb")
    carol = await collab.open_notebook("nb.ipynb")
    alice.set_awareness({"user": {"name": "Alice"}})
    await carol.wait_for(lambda: alice.client_id in carol.awareness_states, 5, "Alice's state")

    for clock, state in ((100, {"user": {"name": "Alice (not)"}}), (101, None)):
        own = {"user": {"name": "Mallory"}, "clock": clock}  # in the same update: taken alone
        both = [(mallory.client_id, clock, own), (alice.client_id, clock, state)]
        mallory.send(create_awareness_message(encode_awareness_update(both)))
        await carol.wait_for(
            lambda c=clock: carol.awareness_states.get(mallory.client_id, {}).get("clock") == c,
            5,
            "Mallory's own state",
        )
        assert carol.awareness_states[alice.client_id] == {"user": {"name": "Alice"}}
    assert mallory.connected
