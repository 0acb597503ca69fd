"""Awareness (who is here, where their cursor is) crosses servers: a state set on one server is
seen on the other, and it goes away when its owner leaves, or when its owner's server dies
(``cluster_lease_ttl`` 1 s governs the servers' heartbeat, so within a few seconds). The rules a
server keeps for its own peers hold across servers: a client id is its user's, and a read-only
peer's autosave wish is not heard."""

from __future__ import annotations

from typing import Any

import pytest

from ..authorizers import READ_ONLY, USER
from ..client import create_awareness_message, encode_awareness_update, wait_until
from ..fswatch import WriteCounter
from ..harness import append, sources_on_disk
from .cluster import NAMED_USERS, Cluster, Peer

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


async def test_another_users_client_id_is_theirs_on_every_server(cluster: Cluster) -> None:
    """Yu's cursor, announced on the first server, cannot be renamed or removed by Xi from the
    second (in the same update as Xi's own state, which is taken): not for Carol beside Yu, not
    for Dora beside Xi, nor for a page opening on either server after. Yu, back through the
    second server (a page that reconnected elsewhere), may announce it again."""
    first, second = await cluster.start(2, config=NAMED_USERS)
    cluster.write_notebook(NAME, ["x = 1"])
    yu = await cluster.open(first, NAME, {USER: "yu"})
    carol = await cluster.open(first, NAME, {USER: "carol"})
    xi = await cluster.open(second, NAME, {USER: "xi"})
    dora = await cluster.open(second, NAME, {USER: "dora"})
    yours, cursor = yu.client.client_id, {"user": {"name": "Yu"}, "cursors": [1]}
    yu.client.set_awareness(cursor)
    await seen_by([carol, dora], yours, cursor, "Yu's cursor")

    for clock, state in ((100, {"user": {"name": "Yu (not)"}}), (101, None)):
        own = {"user": {"name": "Xi"}, "clock": clock}  # in the same update: taken alone
        both = [(xi.client.client_id, clock, own), (yours, clock, state)]
        xi.client.send(create_awareness_message(encode_awareness_update(both)))
        await seen_by([carol, dora], xi.client.client_id, own, "Xi's own state")
        assert carol.client.awareness_states[yours] == cursor
        assert dora.client.awareness_states[yours] == cursor
    for server in (first, second):
        newcomer = await cluster.open(server, NAME, {USER: "eve"})
        assert newcomer.client.awareness_states.get(yours) == cursor, f"on {server.port}"

    again = await cluster.open(second, NAME, {USER: "yu"})
    moved = {"user": {"name": "Yu"}, "cursors": [2]}
    again.client.send(create_awareness_message(encode_awareness_update([(yours, 200, moved)])))
    await seen_by([carol, dora], yours, moved, "Yu's own page taking the client id again")


async def seen_by(peers: list[Peer], client_id: int, state: Any, what: str) -> None:
    for peer in peers:
        await peer.client.wait_for(
            lambda p=peer: p.client.awareness_states.get(client_id) == state,
            5,
            f"{what} (state {state!r}) on the server at port {peer.server.port}",
        )


async def test_a_read_only_page_on_another_server_does_not_turn_autosave_back_on(
    cluster: Cluster,
) -> None:
    """Alice, on the server that writes the file, turned autosave off; a read-only page on the
    other server states its user's own setting, on: her edit stays unsaved. The control room
    beside it, where an editor on the other server states the same wish, is saved three times
    meanwhile: the wish crosses servers, and would have saved the first room by then."""
    writer, other = await cluster.start(2, config=NAMED_USERS)
    cluster.write_notebook("manual.ipynb", ["a = 1"])
    cluster.write_notebook("auto.ipynb", ["b = 1"])
    writes = WriteCounter(cluster.root)
    try:
        alice = await cluster.open(writer, "manual.ipynb", {USER: "alice"})  # its writer
        alice.client.set_awareness({"user": {"name": "Alice"}, "autosave": False})
        reader = await cluster.open(other, "manual.ipynb", {USER: "reader", **READ_ONLY})
        reader.client.set_awareness({"user": {"name": "Reader"}, "autosave": True})
        await alice.client.wait_for(
            lambda: reader.client.client_id in alice.client.awareness_states, 5, "the reader"
        )
        alice.type("2")
        await reader.client.wait_for(lambda: reader.view() == "a = 12", 5, "Alice's edit")
        await control_saves_three_times(cluster, writes)
        assert writes.count("manual.ipynb") == 0
        assert sources_on_disk(cluster.path("manual.ipynb")) == ["a = 1"]
    finally:
        writes.close()


async def control_saves_three_times(cluster: Cluster, writes: WriteCounter) -> None:
    """Bea on the first server with autosave off, as Alice; an editor on the second server
    asks for autosave: each of Bea's three edits is saved (counted by ``writes``)."""
    writer, other = cluster.servers
    bea = await cluster.open(writer, "auto.ipynb", {USER: "bea"})
    bea.client.set_awareness({"user": {"name": "Bea"}, "autosave": False})
    editor = await cluster.open(other, "auto.ipynb", {USER: "editor"})
    editor.client.set_awareness({"user": {"name": "Editor"}, "autosave": True})
    await bea.client.wait_for(
        lambda: editor.client.client_id in bea.client.awareness_states, 5, "the editor"
    )
    for saves in range(1, 4):
        append(bea.client.document.ycells[0]["source"], str(saves))
        await wait_until(lambda n=saves: writes.count("auto.ipynb") >= n, 10, "a control save")
