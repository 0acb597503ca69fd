"""A shared room nobody has open stays in Redis for ``cluster_idle_expiry`` (a day by default):
the next server to open it joins that history rather than loading the file again. Meanwhile the
file may have changed: deleted and made anew under the same name (JupyterLab names every new
notebook ``Untitled.ipynb``), edited outside, or left behind by a writer that died with edits
it had not saved. The server that opens the room again writes the file from then on, and looks
at it first, as a server loading after a crash does: its user sees what the file holds, never a
deleted file's text, and nothing the dead writer had accepted is lost.
"""

from __future__ import annotations

import pytest
import redis

from jupyter_ycollab.cluster.keys import RoomKeys

from ..client import wait_until
from .cluster import Cluster
from .markers import file_holds, markers, sees, type_interleaved, wrong_counts


def write(cluster: Cluster, name: str, lines: list[str]) -> None:
    """The file, as a user makes it: a text file with these lines, or a notebook of these cells."""
    if name.endswith(".ipynb"):
        cluster.write_notebook(name, lines)
    else:
        cluster.write_text(name, "".join(f"{line}\n" for line in lines))


def room_keys(name: str) -> RoomKeys:
    kind = ("json", "notebook") if name.endswith(".ipynb") else ("text", "file")
    return RoomKeys.of("", *kind, name)


def lease_held(cluster: Cluster, name: str) -> bool:
    """Whether some server writes the file: it has the room open, or died within the lease."""
    client = redis.Redis(port=cluster.redis.port)
    try:
        return bool(client.exists(room_keys(name).lease))
    finally:
        client.close()


def history_in_redis(cluster: Cluster, name: str) -> bytes:
    """The room's history in Redis (its snapshot and stream entries) as raw bytes, in which
    the text typed is found as it was typed."""
    keys = room_keys(name)
    client = redis.Redis(port=cluster.redis.port)
    try:
        history = client.hget(keys.state, "snapshot") or b""
        return history + b"".join(f.get(b"u", b"") for _, f in client.xrange(keys.updates))
    finally:
        client.close()


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "contents"])
@pytest.mark.parametrize("name", ["Untitled.txt", "Untitled.ipynb"])
async def test_a_file_made_anew_under_the_name_of_a_closed_room_opens_with_its_own_content(
    cluster: Cluster, name: str, fast_path: bool
) -> None:
    first, second = await cluster.start(2, fast_path=fast_path)
    write(cluster, name, ["<old>"])
    alice = await cluster.open(first, name)
    alice.type("<typed>")
    await file_holds(cluster, name, ["<old>", "<typed>"], 5)
    await alice.client.drop()
    await wait_until(lambda: not lease_held(cluster, name), 10, "the room to close")
    assert b"<typed>" in history_in_redis(cluster, name), "the closed room stays in Redis"

    cluster.path(name).unlink()  # deleted, and a new file made under its name
    write(cluster, name, ["<new>"])
    bob = await cluster.open(second, name)
    assert "<old>" not in bob.view() and "<typed>" not in bob.view(), (
        f"Bob's new {name} showed the deleted file's text: {bob.view()!r}"
    )
    assert "<new>" in bob.view()
    bob.type("<bob>")
    await file_holds(cluster, name, ["<new>", "<bob>"], 5)
    assert not {"<old>", "<typed>"} & set(cluster.on_disk(name).split()), cluster.on_disk(name)


@pytest.mark.parametrize("outside", [False, True], ids=["file-unchanged", "file-changed"])
async def test_what_a_dead_writer_had_not_saved_reaches_the_file_when_its_room_is_opened_again(
    cluster: Cluster, outside: bool
) -> None:
    name = "notes.txt"
    # Alice's server saves 30 s after typing stops: it dies before that, and nobody else had
    # the room open to take over.
    (first,) = await cluster.start(1, save_delay=30.0, max_save_delay=60.0)
    (second,) = await cluster.start(1)
    write(cluster, name, ["start"])
    alice = await cluster.open(first, name)
    unsaved = markers("a", 5)
    type_interleaved((alice, unsaved))
    shared = lambda: all(m.encode() in history_in_redis(cluster, name) for m in unsaved)  # noqa: E731
    await wait_until(shared, 5, "Alice's edits to reach Redis")
    await cluster.sigkill(first)
    await wait_until(lambda: not lease_held(cluster, name), 10, "the dead writer's lease to end")
    if outside:
        write(cluster, name, ["start", "<outside>"])

    bob = await cluster.open(second, name)  # nobody types: the edits are saved all the same
    expected = [*unsaved, "<outside>"] if outside else unsaved
    assert not wrong_counts(bob.view(), expected), f"Bob's first view: {bob.view()!r}"
    await file_holds(cluster, name, expected, 5)
    await sees(bob, expected, 1, "Bob to keep everything")
    assert cluster.on_disk(name) == bob.view()
