"""Who is online crosses servers. JupyterLab's collaborators panel lists the states of the global
awareness room (``JupyterLab:globalAwareness``: each user's identity and the document they are
on), so on a hub with one server per user it listed nobody until those states were shared.

A server whose room opens late still shows everyone at once (it reads the recent part of the
stream), a user who leaves or whose server dies goes from the other panels, and a file outside
``cluster_folder`` is not named to the other servers (neither the tab a page shows nor the
documents it has open). A user's client id is theirs there too: nobody on another server renames
or removes them from the panels.
"""

from __future__ import annotations

from typing import Any

from ..authorizers import USER
from ..client import create_awareness_message, encode_awareness_update
from .cluster import NAMED_USERS, Cluster, Peer


def user(name: str, current: str | None, documents: list[str] | None = None) -> dict[str, Any]:
    """A global awareness state as the front end sets it (``current``: the tab it shows;
    ``documents``: the collaborative documents it has open)."""
    state = {"user": {"username": name.lower(), "name": name}, "current": current}
    return state if documents is None else {**state, "documents": documents}


async def sees(page: Peer, other: Peer, state: Any, what: str) -> None:
    """Wait until ``page`` shows ``other``'s state as ``state`` (None: gone)."""
    states = page.client.awareness_states
    try:
        await page.client.wait_for(lambda: states.get(other.client.client_id) == state, 5, what)
    except AssertionError as error:
        raise AssertionError(f"{error}; the page shows {states}") from None


async def test_a_page_lists_users_online_on_another_server_before_and_after_it_opened(
    cluster: Cluster,
) -> None:
    first, second = await cluster.start(2)
    alice = await cluster.online(first, user("Alice", "notebook:nb.ipynb"))
    # Bob's page opens after Alice announced herself, on a server that had no such room yet.
    bob = await cluster.online(second, user("Bob", None))
    await sees(bob, alice, user("Alice", "notebook:nb.ipynb"), "Bob's panel to list Alice")
    await sees(alice, bob, user("Bob", None), "Alice's panel to list Bob")

    alice.client.set_awareness(user("Alice", "editor:notes.txt"))
    await sees(bob, alice, user("Alice", "editor:notes.txt"), "Alice's new tab on Bob's page")
    await alice.client.close()
    await sees(bob, alice, None, "Alice gone from Bob's panel after she closed her page")


async def test_a_user_whose_server_dies_goes_from_the_other_panels(cluster: Cluster) -> None:
    first, second = await cluster.start(2)
    alice = await cluster.online(first, user("Alice", None))
    bob = await cluster.online(second, user("Bob", None))
    await sees(bob, alice, user("Alice", None), "Bob's panel to list Alice")

    await cluster.sigkill(first)  # its heartbeat (cluster_lease_ttl 1 s) stops
    await sees(bob, alice, None, "Alice gone from Bob's panel after her server died")


async def test_a_document_outside_the_shared_folder_is_not_named_to_other_servers(
    cluster: Cluster,
) -> None:
    (cluster.root / "team").mkdir()
    first, second = await cluster.start(2, cluster_folder="team")
    alice = await cluster.online(first, user("Alice", "notebook:diary.ipynb"))
    carol = await cluster.online(first, user("Carol", None))  # on Alice's own server
    bob = await cluster.online(second, user("Bob", None))

    await sees(bob, alice, user("Alice", None), "Alice online, her private tab unnamed")
    await sees(carol, alice, user("Alice", "notebook:diary.ipynb"), "Carol, same server")
    for current in ("notebook:team/plan.ipynb", "editor:team/sub/a.txt"):
        alice.client.set_awareness(user("Alice", current))
        await sees(bob, alice, user("Alice", current), "a shared document named")
    alice.client.set_awareness(user("Alice", "editor:teamwork.txt"))
    await sees(bob, alice, user("Alice", None), "a file beside the folder, not in it, unnamed")
    opened = ["diary.ipynb", "team/plan.ipynb", "teamwork.txt", "team/sub/a.txt"]
    alice.client.set_awareness(user("Alice", "notebook:team/plan.ipynb", opened))
    shared = user("Alice", "notebook:team/plan.ipynb", ["team/plan.ipynb", "team/sub/a.txt"])
    await sees(bob, alice, shared, "only the shared documents of those she has open")
    await sees(carol, alice, user("Alice", "notebook:team/plan.ipynb", opened), "all, to Carol")
    await alice.client.close()
    await sees(bob, alice, None, "Alice gone from Bob's panel after she closed her page")


async def test_nobody_on_another_server_renames_or_removes_a_user_online(cluster: Cluster) -> None:
    """Mallory, on the second server, sends a state under Alice's client id (and her own, which
    is taken): Alice stays as she announced herself, on both servers' panels."""
    first, second = await cluster.start(2, config=NAMED_USERS)
    alice = await cluster.online(first, user("Alice", None), {USER: "alice"})
    carol = await cluster.online(first, user("Carol", None), {USER: "carol"})
    mallory = await cluster.online(second, user("Mallory", None), {USER: "mallory"})
    bob = await cluster.online(second, user("Bob", None), {USER: "bob"})
    await sees(bob, alice, user("Alice", None), "Bob's panel to list Alice")

    for clock, state in ((100, user("Alice (not)", None)), (101, None)):
        own = {**user("Mallory", None), "clock": clock}
        both = [(mallory.client.client_id, clock, own), (alice.client.client_id, clock, state)]
        mallory.client.send(create_awareness_message(encode_awareness_update(both)))
        for page in (carol, bob):
            await sees(page, mallory, own, "Mallory's own state")
            assert page.client.awareness_states[alice.client.client_id] == user("Alice", None)
