"""A server that may not write the shared file leaves the writing to one that may.

On a hub, each user's server runs as that user, and a file in the shared folder is often not
writable by all of them (made with umask 022; a course folder mounted read-only for students).
Whichever server opens a file first writes it. When that one may not, the others' edits used
to reach the file only once its users left, and a Ctrl-S on any server failed: every save went
through the one server that could not write. Now it steps aside for a server that can.

Here Bob's server sees the shared folder through a read-only bind mount (what the kernel
refuses even to root, which these tests run as); Alice's server can write. Alone, Bob's save
still fails with a clear answer, as on a single server.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..client import wait_until
from .cluster import Cluster

NOTEBOOK, TEXT = "plan.ipynb", "plan.txt"


def write_file(cluster: Cluster, name: str) -> None:
    """The shared file, holding ``start`` and a line end (the notebook, in one cell)."""
    if name == NOTEBOOK:
        cluster.write_notebook(name, ["start\n"])
    else:
        cluster.write_text(name, "start\n")


@pytest.fixture
def read_only_view(cluster: Cluster, tmp_path: Path) -> Iterator[Path]:
    """The shared folder, mounted read-only at another place."""
    view = tmp_path / "read-only"
    view.mkdir()
    subprocess.run(["mount", "--bind", str(cluster.root), str(view)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], check=True)
        yield view
    finally:
        subprocess.run(["umount", "--lazy", str(view)], check=True)


@pytest.mark.parametrize("name", [NOTEBOOK, TEXT])
@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "contents"])
async def test_a_server_that_may_not_write_the_file_leaves_it_to_one_that_may(
    cluster: Cluster, read_only_view: Path, fast_path: bool, name: str
) -> None:
    write_file(cluster, name)
    (bobs,) = await cluster.start(1, root=read_only_view, fast_path=fast_path)
    bob = await cluster.open(bobs, name)  # first: his server takes the lease, and writes
    (alices,) = await cluster.start(1, fast_path=fast_path)
    alice = await cluster.open(alices, name)
    for peer, user in ((alice, "Alice"), (bob, "Bob")):  # as every JupyterLab page does
        peer.client.set_awareness({"user": {"name": user}})
    await bob.client.wait_for(
        lambda: alice.client.client_id in bob.client.awareness_states, 5, "Alice, seen by Bob"
    )

    bob.type("bob\n")
    await alice.client.wait_for(lambda: alice.view() == "start\nbob\n", 5, "Bob's line")
    alice.type("alice\n")
    try:
        await wait_until(lambda: cluster.on_disk(name) == "start\nbob\nalice\n", 15, "")
    except AssertionError:
        raise AssertionError(
            f"both users' lines never reached the file while both had it open: it holds "
            f"{cluster.on_disk(name)!r}; Alice sees {alice.view()!r}, Bob {bob.view()!r}"
        ) from None
    alice.type("saved at once\n")
    assert await alice.save(1) == "success"
    assert await bob.save(2) == "success"
    assert cluster.on_disk(name) == "start\nbob\nalice\nsaved at once\n"
    said = [line for line in bobs.log().splitlines() if "This server may not write" in line]
    # Said, and at INFO: the front end shows a WARNING session event as a dialog everywhere.
    assert said and all(line.startswith("[I ") for line in said), said


async def test_alone_a_server_that_may_not_write_the_file_says_its_save_failed(
    cluster: Cluster, read_only_view: Path
) -> None:
    write_file(cluster, TEXT)
    (bobs,) = await cluster.start(1, root=read_only_view)
    bob = await cluster.open(bobs, TEXT)
    bob.type("bob\n")
    assert await bob.save(1) == "failed"
    assert cluster.on_disk(TEXT) == "start\n"


async def test_a_server_whose_pages_left_still_writes_for_one_that_may_not(
    cluster: Cluster, read_only_view: Path
) -> None:
    """Alice left, but her server keeps the room open a while (``cleanup_delay``), and may write
    the file: Bob's server still hands it over, rather than fail at once because no other page
    is in the room. (Checking for live pages instead, as an exact rule, would break this.)"""
    write_file(cluster, TEXT)
    (bobs,) = await cluster.start(1, root=read_only_view)
    bob = await cluster.open(bobs, TEXT)
    (alices,) = await cluster.start(1, cleanup_delay=60.0)  # the default
    alice = await cluster.open(alices, TEXT)
    alice.client.set_awareness({"user": {"name": "Alice"}})
    await bob.client.wait_for(
        lambda: alice.client.client_id in bob.client.awareness_states, 5, "Alice, seen by Bob"
    )
    await alice.client.close()
    await bob.client.wait_for(
        lambda: alice.client.client_id not in bob.client.awareness_states, 5, "Alice gone"
    )

    bob.type("bob\n")
    assert await bob.save(1) == "success"
    assert cluster.on_disk(TEXT) == "start\nbob\n"
