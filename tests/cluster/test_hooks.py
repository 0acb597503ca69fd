"""A deployment's observer on servers sharing a room: each server hears every change, and
``Room.from_another_server`` tells it which came from elsewhere, so that code acting on new
content (a bot answering it, a notifier) acts once, on the server where it was made."""

from __future__ import annotations

from ..client import wait_until
from ..process import JupyterProcess
from .cluster import Cluster
from .markers import everyone_sees
from .noting_hooks import heard_file

HOOKS = {"hooks_class": "tests.cluster.noting_hooks.NotingHooks"}


def heard(server: JupyterProcess) -> list[str]:
    path = heard_file(server.home / "runtime")
    return path.read_text().split() if path.exists() else []


async def test_an_observer_knows_which_changes_came_from_another_server(cluster: Cluster) -> None:
    first, second = await cluster.start(2, **HOOKS)
    cluster.write_text("notes.txt", "start\n")
    alice = await cluster.open(first, "notes.txt")
    bob = await cluster.open(second, "notes.txt")

    alice.type("<alice>")
    await everyone_sees([alice, bob], ["<alice>"], 5)
    await wait_until(lambda: bool(heard(second)), 5, "Bob's server's observer to hear Alice's edit")
    assert set(heard(first)) == {"here"} and set(heard(second)) == {"elsewhere"}

    bob.type("<bob>")
    await everyone_sees([alice, bob], ["<alice>", "<bob>"], 5)
    await wait_until(lambda: "elsewhere" in heard(first), 5, "Alice's server to hear Bob's edit")
    assert set(heard(first)) == set(heard(second)) == {"here", "elsewhere"}
