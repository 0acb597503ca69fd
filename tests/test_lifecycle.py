"""Room lifecycle: eviction, flushes on eviction and on stop, reconnects after eviction."""

from __future__ import annotations

import gc
import sys
import threading
from typing import Any

import nbformat
import pytest
from jupyter_server.serverapp import ServerApp
from jupyter_ydoc import YNotebook
from pycrdt import Doc, Text

from jupyter_ycollab.rooms.closing import COLLECT_AFTER_SECONDS

from .client import CollabClient, wait_until
from .harness import (
    Collab,
    append,
    cell_sources,
    make_notebook,
    read_notebook,
    sources_on_disk,
)

SLOW_SAVES = {"save_delay": 60.0, "max_save_delay": 120.0}


async def test_an_empty_room_is_evicted_after_cleanup_delay(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["x"])
    client = await collab.open_notebook("nb.ipynb")
    (room_id,) = collab.document_rooms
    assert room_id.startswith("json:notebook:")
    await client.close()
    await wait_until(lambda: room_id not in collab.rooms, 5, "eviction")


@pytest.mark.also_jupytext
@pytest.mark.parametrize("kind", ["notebook", "text"])
async def test_a_closed_room_lets_go_of_its_document(collab: Collab, kind: str) -> None:
    """Observers held by pycrdt's Rust side are cycles Python's collector cannot see: with them,
    every room ever closed kept its whole document (codec/listeners.py; document.py ``close``
    unobserves its view). Here after an edit and a save, which start everything that listens."""
    client, room_id = await _edited_and_saved(collab, kind)
    freed = collab.freed_once_closed(room_id)
    await client.close()
    await collab.room_closed(room_id)
    await wait_until(freed, 10, "the closed room's Doc and document to be freed", interval=0.05)


async def test_a_closed_room_is_freed_soon_without_waiting_for_the_collector(
    collab: Collab,
) -> None:
    """A closed room is garbage with cycles: the collector's next full collection frees it,
    maybe much later, and then nothing gives its memory back (memory.py ``CollectAfterCloses``).
    Automatic collections are off here: only the server's own collection can free it."""
    client, room_id = await _edited_and_saved(collab, "notebook")
    freed = collab.freed_once_closed(room_id, collect=lambda: None)
    gc.disable()
    try:
        await client.close()
        await collab.room_closed(room_id)
        await wait_until(freed, COLLECT_AFTER_SECONDS + 5, "the closed room to be freed")
    finally:
        gc.enable()


@pytest.mark.parametrize("kind", ["notebook", "text"])
async def test_a_closed_room_collected_on_another_thread_is_freed_without_a_word(
    collab: Collab, kind: str
) -> None:
    """A closed room is garbage with cycles, and Python's collector frees it on whichever thread
    allocates when a collection is due: often a save's or a load's. pycrdt before 0.14.10 (the
    newest Python 3.10 can have is 0.14.8) cannot free its undo managers and subscriptions off
    the thread that made them: it prints "unsendable, but is being dropped on another thread"
    and leaks them, each with its document. Hence the floors, pycrdt 0.14.10 and Python 3.11."""
    gc.collect()  # no earlier garbage (other tests' servers) left for the worker thread
    unfreeable: list[str] = []
    client, room_id = await _edited_and_saved(collab, kind)
    freed = collab.freed_once_closed(room_id, collect=lambda: _collect_on_a_worker(unfreeable))
    await client.close()
    await collab.room_closed(room_id)
    await wait_until(freed, 10, "the closed room's Doc and document to be freed", interval=0.05)
    assert unfreeable == []


async def _edited_and_saved(collab: Collab, kind: str) -> tuple[CollabClient[Any], str]:
    """A client on a notebook or a text file it edited and saved, and the room's id."""
    if kind == "notebook":
        collab.write_notebook("nb.ipynb", ["a"])
        client: CollabClient[Any] = await collab.open_notebook("nb.ipynb")
        typed = client.document.ycells[0]["source"]
    else:
        (collab.root / "notes.txt").write_text("a")
        client = await collab.open_text("notes.txt")
        typed = client.document._ysource
    (room_id,) = collab.document_rooms
    append(typed, "b")
    assert (await client.save(1))["status"] == "success"
    return client, room_id


def _collect_on_a_worker(unfreeable: list[str]) -> None:
    """A full collection on a thread of its own; what could not be freed there (reported to
    ``sys.unraisablehook``) is added to ``unfreeable``."""
    previous = sys.unraisablehook
    sys.unraisablehook = lambda report: unfreeable.append(f"{report.exc_value!r}")
    try:
        worker = threading.Thread(target=gc.collect)
        worker.start()
        worker.join()
    finally:
        sys.unraisablehook = previous


@pytest.mark.ycollab(cleanup_delay=0.5, keepalive_interval=0.5)
async def test_a_room_with_a_peer_outlives_cleanup_delay(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["x"])
    alice = await collab.open_notebook("nb.ipynb")
    bob = await collab.open_notebook("nb.ipynb")
    (room_id,) = collab.document_rooms
    room = collab.rooms[room_id]
    await bob.close()
    seen = len(alice.received.frames)
    # Three keepalives take longer than cleanup_delay: the deadline without a sleep.
    await alice.wait_for(lambda: len(alice.received.frames) >= seen + 3, 5, "keepalives")

    assert collab.rooms.get(room_id) is room
    append(alice.document.ycells[0]["source"], "y")
    reader = await collab.open_notebook("nb.ipynb")
    await reader.wait_for(lambda: cell_sources(reader.document) == ["xy"], 5, "the edit")


@pytest.mark.also_jupytext
@pytest.mark.ycollab(**SLOW_SAVES)
async def test_a_dirty_room_is_saved_before_it_is_evicted(collab: Collab) -> None:
    path = collab.write_notebook("nb.ipynb", ["a = 1"])
    client = await collab.open_notebook("nb.ipynb")
    (room_id,) = collab.document_rooms
    append(client.document.ycells[0]["source"], "23")
    await wait_until(lambda: server_sources(collab, "nb.ipynb", ["a = 123"]), 5, "the edit")
    assert cell_sources(read_notebook(path)) == ["a = 1"], "saved early: save_delay ignored"

    await client.close()
    await wait_until(lambda: room_id not in collab.rooms, 5, "eviction")
    assert cell_sources(read_notebook(path)) == ["a = 123"]


@pytest.mark.also_jupytext
@pytest.mark.ycollab(**SLOW_SAVES)
async def test_stopping_the_server_saves_dirty_rooms(
    collab: Collab, jp_serverapp: ServerApp
) -> None:
    notebook = collab.write_notebook("nb.ipynb", ["a = 1"])
    text = collab.write_bytes("t.txt", b"abc")
    nb_client = await collab.open_notebook("nb.ipynb")
    text_client = await collab.open_text("t.txt")
    append(nb_client.document.ycells[0]["source"], "!")
    text_client.ydoc.get("source", type=Text).insert(3, "def")

    async def server_has_both_edits() -> bool:
        return await server_sources(collab, "nb.ipynb", ["a = 1!"]) and (
            await collab.server_text("t.txt") == "abcdef"
        )

    await wait_until(server_has_both_edits, 5, "both edits on the server")
    assert text.read_bytes() == b"abc", "saved early: save_delay ignored"

    await jp_serverapp._cleanup()
    assert cell_sources(read_notebook(notebook)) == ["a = 1!"]
    assert text.read_bytes() == b"abcdef"


@pytest.mark.ycollab(**SLOW_SAVES)
async def test_stopping_the_server_with_browsers_connected_saves_dirty_rooms(
    collab: Collab, jp_serverapp: ServerApp
) -> None:
    """Every JupyterLab window is also a peer of the global awareness room, a relay room that
    goes with its last peer: closing the peers at shutdown removes it from the open rooms."""
    notebook = collab.write_notebook("nb.ipynb", ["a = 1"])
    windows = [
        collab.client(YNotebook(Doc()), collab.room_url("JupyterLab:globalAwareness"))
        for _ in range(2)
    ]
    for window in windows:
        await window.connect()
    nb_client = await collab.open_notebook("nb.ipynb")
    append(nb_client.document.ycells[0]["source"], "!")
    await wait_until(
        lambda: server_sources(collab, "nb.ipynb", ["a = 1!"]), 5, "the edit on the server"
    )

    await jp_serverapp._cleanup()

    assert cell_sources(read_notebook(notebook)) == ["a = 1!"]
    for window in windows:
        await window.wait_closed(10)


@pytest.mark.also_jupytext
async def test_a_client_reconnecting_to_a_reopened_room_duplicates_nothing(
    collab: Collab,
) -> None:
    path = collab.write_notebook("nb.ipynb", ["a = 1", "b = 2"])
    client = await collab.open_notebook("nb.ipynb")
    (room_id,) = collab.document_rooms
    await client.close()
    await wait_until(lambda: room_id not in collab.rooms, 5, "eviction")

    append(client.document.ycells[1]["source"], "0")  # an offline edit, merged on reconnect
    await client.reconnect()

    assert client.close_code is None, (client.close_code, client.close_reason)
    assert cell_sources(client.document) == ["a = 1", "b = 20"]
    await wait_until(lambda: server_sources(collab, "nb.ipynb", ["a = 1", "b = 20"]), 5, "merge")
    await wait_until(lambda: sources_on_disk(path) == ["a = 1", "b = 20"], 10, "the save")


@pytest.mark.also_jupytext
async def test_a_client_whose_edits_were_saved_reconnects_to_the_reopened_room(
    collab: Collab,
) -> None:
    path = collab.write_notebook("nb.ipynb", ["a = 1", "b = 2"])
    client = await collab.open_notebook("nb.ipynb")
    (room_id,) = collab.document_rooms
    append(client.document.ycells[0]["source"], "0")
    await wait_until(lambda: sources_on_disk(path) == ["a = 10", "b = 2"], 10, "the save")
    await client.close()
    await wait_until(lambda: room_id not in collab.rooms, 5, "eviction")

    # Same document, same URL and sessionId: what the front end does after a network outage.
    await client.reconnect()

    assert client.close_code is None, (client.close_code, client.close_reason)
    assert cell_sources(client.document) == ["a = 10", "b = 2"]
    assert cell_sources(await collab.server_notebook("nb.ipynb")) == ["a = 10", "b = 2"]


async def test_a_text_client_reconnecting_to_a_reopened_room_duplicates_nothing(
    collab: Collab,
) -> None:
    collab.write_bytes("t.txt", b"one\ntwo\n")
    client = await collab.open_text("t.txt")
    (room_id,) = collab.document_rooms
    await client.close()
    await wait_until(lambda: room_id not in collab.rooms, 5, "eviction")
    await client.reconnect()
    assert client.document.get() == "one\ntwo\n"
    assert await collab.server_text("t.txt") == "one\ntwo\n"


@pytest.mark.also_jupytext
@pytest.mark.parametrize("changed", ["while-open", "while-closed"])
@pytest.mark.ycollab(poll_interval=0.2)
async def test_a_client_reconnecting_after_a_change_on_disk_duplicates_nothing(
    collab: Collab, changed: str
) -> None:
    """The file changed outside (merged while the room was open, or found changed when it
    opened again), the room was closed and opened again from its log, and a page that was away
    comes back with an edit made meanwhile: each cell once, with both changes."""
    path = collab.write_notebook("nb.ipynb", ["a = 1", "b = 2"])
    client = await collab.open_notebook("nb.ipynb")
    (room_id,) = collab.document_rooms
    outside = make_notebook(["a = 1", "b = 2 # outside"])
    if changed == "while-open":
        nbformat.write(outside, path)
        await client.wait_for(
            lambda: cell_sources(client.document) == ["a = 1", "b = 2 # outside"], 5, "merge"
        )
    await client.close()
    await wait_until(lambda: room_id not in collab.rooms, 5, "eviction")
    if changed == "while-closed":
        nbformat.write(outside, path)

    append(client.document.ycells[0]["source"], "0")  # made away, sent on reconnecting
    await client.reconnect()

    expected = ["a = 10", "b = 2 # outside"]
    assert client.close_code is None, (client.close_code, client.close_reason)
    await client.wait_for(lambda: cell_sources(client.document) == expected, 5, "both changes")
    await wait_until(lambda: server_sources(collab, "nb.ipynb", expected), 5, "the room")
    await wait_until(lambda: sources_on_disk(path) == expected, 10, "the save")


async def server_sources(collab: Collab, path: str, expected: list[str]) -> bool:
    return cell_sources(await collab.server_notebook(path)) == expected


@pytest.mark.ycollab(freeze_startup_objects=True)
async def test_objects_alive_at_start_are_kept_out_of_the_cycle_collectors_way(
    collab: Collab,
) -> None:
    before = gc.get_freeze_count()
    try:
        # What jupyter_server does once its loop runs (pytest-jupyter's server does not).
        await collab.extension._start_jupyter_server_extension(collab.serverapp)
        assert gc.get_freeze_count() > before
        collab.write_notebook("nb.ipynb", ["a"])
        client = await collab.open_notebook("nb.ipynb")  # the server works as before
        assert cell_sources(client.document) == ["a"]
    finally:
        gc.unfreeze()  # this process runs the other tests too


@pytest.mark.ycollab(freeze_startup_objects=False)
async def test_the_cycle_collector_is_left_alone_when_asked(collab: Collab) -> None:
    frozen = gc.get_freeze_count()
    await collab.extension._start_jupyter_server_extension(collab.serverapp)
    assert gc.get_freeze_count() == frozen
