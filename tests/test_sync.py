"""Peers co-edit notebooks and text files; the server converges and saves once per burst."""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

import pytest
from jupyter_ydoc import YUnicode
from pycrdt import Doc, Text

from jupyter_ycollab.history import logfile
from jupyter_ycollab.rooms import protocol

from .client import CollabClient, wait_until
from .harness import Collab, append, cell_sources, sources_on_disk

pytestmark = pytest.mark.ycollab(save_delay=0.5, max_save_delay=5.0, cleanup_delay=0.5)


def source_text(client: CollabClient[Any]) -> Text:
    """The shared text of a YUnicode document."""
    text: Text = client.ydoc.get("source", type=Text)
    return text


async def wait_evicted(collab: Collab, room_id: str, timeout: float = 5.0) -> None:
    await wait_until(lambda: room_id not in collab.rooms, timeout, f"eviction of {room_id}")


@pytest.mark.also_jupytext
async def test_notebook_edits_of_two_peers_reach_each_other_and_the_server(
    collab: Collab,
) -> None:
    collab.write_notebook("nb.ipynb", ["a = 1", "b = 2"])
    alice = await collab.open_notebook("nb.ipynb")
    bob = await collab.open_notebook("nb.ipynb")
    assert cell_sources(alice.document) == ["a = 1", "b = 2"]

    alice.document.ycells[0]["source"].insert(5, "0")
    bob.document.append_cell({"cell_type": "markdown", "source": "# bob", "metadata": {}})

    expected = ["a = 10", "b = 2", "# bob"]
    await alice.wait_for(lambda: cell_sources(alice.document) == expected)
    await bob.wait_for(lambda: cell_sources(bob.document) == expected)
    assert alice.document.get() == bob.document.get()
    server = await collab.server_notebook("nb.ipynb")
    assert cell_sources(server) == expected
    assert server.get()["cells"] == alice.document.get()["cells"]


@pytest.mark.also_jupytext
@pytest.mark.also_other_managers
async def test_notebook_burst_of_edits_is_written_to_disk_once(collab: Collab) -> None:
    path = collab.write_notebook("nb.ipynb", ["a = 1", "b = 2"])
    writes = collab.watch_writes()
    alice = await collab.open_notebook("nb.ipynb")
    bob = await collab.open_notebook("nb.ipynb")
    room_id = collab.document_rooms[0]

    for char in "xyz":
        append(alice.document.ycells[0]["source"], char)
    bob.document.ycells[1]["source"].insert(0, "# ")

    expected = ["a = 1xyz", "# b = 2"]
    await wait_until(lambda: sources_on_disk(path) == expected, 10, "the saved edits")
    await alice.close()
    await bob.close()
    await wait_evicted(collab, room_id)
    assert writes.count("nb.ipynb") == 1


@pytest.mark.also_other_managers
async def test_text_edits_of_two_peers_converge_and_are_written_once(collab: Collab) -> None:
    path = collab.write_bytes("notes.txt", b"hello\nworld\n")
    writes = collab.watch_writes()
    alice = await collab.open_text("notes.txt")
    bob = await collab.open_text("notes.txt")
    room_id = collab.document_rooms[0]
    assert alice.document.get() == "hello\nworld\n"

    source_text(alice).insert(5, ",")
    source_text(bob).insert(len("hello\nworld"), "!")

    expected = "hello,\nworld!\n"
    await alice.wait_for(lambda: alice.document.get() == expected)
    await bob.wait_for(lambda: bob.document.get() == expected)
    assert await collab.server_text("notes.txt") == expected
    await wait_until(lambda: path.read_bytes() == expected.encode(), 10, "the saved text")
    await alice.close()
    await bob.close()
    await wait_evicted(collab, room_id)
    assert writes.count("notes.txt") == 1


async def test_crlf_line_endings_survive_an_edit_and_a_save(collab: Collab) -> None:
    path = collab.write_bytes("dos.txt", b"one\r\ntwo\r\n")
    client = await collab.open_text("dos.txt")
    assert "one" in client.document.get()

    source_text(client).insert(0, "zero\n")

    await wait_until(lambda: b"zero" in path.read_bytes(), 10, "the saved edit")
    assert path.read_bytes() == b"zero\r\none\r\ntwo\r\n"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("plain.txt", b"no newline at end"),
        ("dos.txt", b"one\r\ntwo\r\n"),
        ("mixed.txt", b"one\ntwo\r\nthree\r"),
    ],
)
async def test_opening_and_closing_a_text_file_keeps_its_bytes_and_mtime(
    collab: Collab, name: str, data: bytes
) -> None:
    path = collab.write_bytes(name, data)
    writes = collab.watch_writes()
    before = path.stat()
    client = await collab.open_text(name)
    room_id = collab.document_rooms[0]
    client.document.ystate["document_id"] = room_id  # as the front end does after its sync
    await client.close()
    await wait_evicted(collab, room_id)
    assert path.read_bytes() == data
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    assert writes.count(name) == 0


@pytest.mark.also_jupytext
@pytest.mark.also_other_managers
@pytest.mark.parametrize("minor", [4, 5])
async def test_opening_and_closing_a_notebook_does_not_rewrite_it(
    collab: Collab, minor: int
) -> None:
    path = collab.write_notebook("old.ipynb", ["x = 1", "print(x)"], minor=minor)
    writes = collab.watch_writes()
    data = path.read_bytes()
    before = path.stat()
    client = await collab.open_notebook("old.ipynb")
    room_id = collab.document_rooms[0]
    assert cell_sources(client.document) == ["x = 1", "print(x)"]
    client.document.ystate["document_id"] = room_id
    await client.close()
    await wait_evicted(collab, room_id)
    assert path.read_bytes() == data
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    assert writes.count("old.ipynb") == 0


async def test_an_update_sent_before_the_room_is_loaded_is_applied_once_it_is(
    collab: Collab,
) -> None:
    path = collab.write_bytes("early.txt", b"hello\n")
    session = await collab.put_session("early.txt", "text", "file")
    room_id = collab.room_id(session)
    await wait_evicted(collab, room_id)  # the PUT loaded it: let it go, so connecting loads it
    client = collab.session_client(session, YUnicode(Doc()))
    await client.connect()
    source_text(client).insert(0, "EARLY ")  # sent at once, while the room is loading

    await client.sync()
    await client.wait_for(lambda: client.document.get() in ("EARLY hello\n", "hello\nEARLY "))
    final = client.document.get()
    assert await collab.server_text("early.txt") == final
    await wait_until(lambda: path.read_bytes() == final.encode(), 10, "the saved edit")


async def test_peers_sockets_send_without_waiting_for_acks(collab: Collab) -> None:
    """TCP_NODELAY: otherwise Nagle's algorithm holds an update back for up to 40 ms (the
    receiver's delayed ACK) whenever an earlier frame is still unacknowledged."""
    collab.write_notebook("nb.ipynb", ["x"])
    await collab.open_notebook("nb.ipynb")
    (room_id,) = collab.document_rooms
    (peer,) = collab.rooms[room_id].peers
    stream = peer.connection.ws_connection.stream
    assert stream.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


async def test_new_peers_of_an_idle_room_share_one_encoding_and_see_every_edit(
    collab: Collab,
) -> None:
    collab.write_notebook("nb.ipynb", ["a = 1"])
    alice = await collab.open_notebook("nb.ipynb")
    (room_id,) = collab.document_rooms
    document = collab.rooms[room_id].document
    idle = document.full_state()
    bob = await collab.open_notebook("nb.ipynb")
    assert document.full_state() is idle  # bob's step 2 was the same bytes, not a new encoding
    assert cell_sources(bob.document) == ["a = 1"]

    append(alice.document.ycells[0]["source"], "2")
    await bob.wait_for(lambda: cell_sources(bob.document) == ["a = 12"])
    carol = await collab.open_notebook("nb.ipynb")
    assert cell_sources(carol.document) == ["a = 12"]
    assert document.full_state() is not idle


async def test_a_room_opened_from_its_file_or_its_log_holds_its_state_encoded_once(
    collab: Collab,
) -> None:
    collab.write_notebook("nb.ipynb", ["a = 1"])
    await collab.open_notebook("nb.ipynb")
    (room_id,) = collab.document_rooms
    document = collab.rooms[room_id].document
    # One encoding, with the server's state values in it: the log's checkpoint is the step 2.
    assert document.full_state() is document.history.base_update
    await collab.close_all()
    await wait_evicted(collab, room_id)

    reopened = await collab.open_notebook("nb.ipynb")
    document = collab.rooms[room_id].document
    assert document.full_state() is document.history.base_update  # the log's, as read
    assert cell_sources(reopened.document) == ["a = 1"]
    assert reopened.document.ystate.get("path") == "nb.ipynb"


async def test_a_frame_to_a_peer_is_written_at_once_without_a_task(collab: Collab) -> None:
    """Tornado's ``write_message`` wraps each write in a coroutine and a task: with 100 peers
    that was a task per peer and update. A small frame goes straight to the socket instead."""
    collab.write_notebook("nb.ipynb", ["x"])
    await collab.open_notebook("nb.ipynb")
    (room_id,) = collab.document_rooms
    (peer,) = collab.rooms[room_id].peers
    written = peer.connection.send_frame(protocol.encode_awareness(b"\x00"))  # no states
    assert written is not None and written.done() and not isinstance(written, asyncio.Task)


async def test_a_room_opens_without_waiting_for_its_logs_first_write(
    collab: Collab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file holds the whole document until the log's first write lands (a 20 MB notebook:
    ~50 ms of writing that the first peer no longer waits for)."""
    release, writes = threading.Event(), []
    write_fresh = logfile.write_fresh

    def slow_disk(path: Any, records: Any) -> None:
        writes.append(path)
        release.wait(30)
        write_fresh(path, records)

    monkeypatch.setattr(logfile, "write_fresh", slow_disk)
    collab.write_notebook("nb.ipynb", ["a = 1"])

    alice = await collab.open_notebook("nb.ipynb")  # while the log's first write waits
    append(alice.document.ycells[0]["source"], "2")
    (room_id,) = collab.document_rooms
    await wait_until(lambda: bool(writes), 10, "the log's first write to start")
    release.set()

    logged = await collab.rooms[room_id].document.history.read()  # flushed: all of it
    assert logged.checkpoint and logged.updates  # the base, then the edit
