"""Awareness (who is here, where their cursor is) crosses servers: a state set on one server is
seen on the other, and it goes away when its owner leaves, or when its owner's server dies
(``cluster_lease_ttl`` 1 s governs the servers' heartbeat, so within a few seconds)."""

from __future__ import annotations

import pytest

from .cluster import Cluster, Peer

NAME = "nb.ipynb"


async def open_on_two_servers(cluster: Cluster) -> tuple[Peer, Peer]:
    """Alice on the first server, Bob on the second, both in one notebook."""
    first, second = await cluster.start(2)
    cluster.write_notebook(NAME, ["x = 1"])
    return await cluster.open(first, NAME), await cluster.open(second, NAME)


async def bob_sees_alice(alice: Peer, bob: Peer) -> None:
    """Alice announces herself; Bob, on the other server, must see exactly her state."""
    state = {"user": {"name": "Alice", "émoji": "✓"}, "cursors": [1, 2]}
    alice.client.set_awareness(state)
    try:
        await bob.client.wait_for(lambda: alice.client.client_id in bob.client.awareness_states, 5)
    except AssertionError:
        raise AssertionError(
            "after 5 s, Bob (other server) never saw Alice's awareness state; he sees "
            f"{bob.client.awareness_states}"
        ) from None
    assert bob.client.awareness_states[alice.client.client_id] == state


async def test_a_state_set_on_one_server_is_seen_on_the_other_and_follows_updates(
    cluster: Cluster,
) -> None:
    alice, bob = await open_on_two_servers(cluster)
    await bob_sees_alice(alice, bob)

    alice.client.set_awareness({"user": {"name": "Alice"}, "cursors": [3]})
    await bob.client.wait_for(
        lambda: bob.client.awareness_states[alice.client.client_id].get("cursors") == [3],
        5,
        "Alice's moved cursor on the other server",
    )
    # And back: Bob's state reaches Alice's server too.
    bob.client.set_awareness({"user": {"name": "Bob"}})
    await alice.client.wait_for(
        lambda: (
            alice.client.awareness_states.get(bob.client.client_id) == {"user": {"name": "Bob"}}
        ),
        5,
        "Bob's awareness state on Alice's server",
    )


@pytest.mark.parametrize("leave", ["close", "drop"])
async def test_a_state_is_removed_on_the_other_server_when_its_owner_leaves(
    cluster: Cluster, leave: str
) -> None:
    alice, bob = await open_on_two_servers(cluster)
    await bob_sees_alice(alice, bob)

    if leave == "close":
        await alice.client.close()
    else:
        await alice.client.drop()  # no close frame: a killed browser tab
    await bob.client.wait_for(
        lambda: alice.client.client_id not in bob.client.awareness_states,
        5,
        "Alice's state to be removed on the other server after she left",
    )
    assert bob.client.connected


async def test_a_state_is_removed_within_seconds_when_its_owners_server_dies(
    cluster: Cluster,
) -> None:
    alice, bob = await open_on_two_servers(cluster)
    await bob_sees_alice(alice, bob)

    await cluster.sigkill(alice.server)  # Alice's server dies; her state must not linger
    await bob.client.wait_for(
        lambda: alice.client.client_id not in bob.client.awareness_states,
        5,
        "Alice's state to be removed after her server died (its heartbeat expires in ~1 s)",
    )
    assert bob.client.connected, "Bob's server must not go down with Alice's"
