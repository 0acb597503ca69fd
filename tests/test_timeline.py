"""The document timeline (docs/protocol.md section 2): versions from the update log, a read-only
room stepping through them with undo and redo, restore as ordinary edits, and nothing leaked.

``timeline_step=0`` makes every log commit a version, so no test waits seconds between edits."""

from __future__ import annotations

import gc
import json
import weakref
from pathlib import Path
from typing import Any
from urllib.parse import quote

import nbformat
import pytest
from jupyter_ydoc import YNotebook
from pycrdt import Doc, Text
from tornado.httpclient import AsyncHTTPClient

from jupyter_ycollab.history.records import parse_log

from .client import CollabClient, wait_until
from .harness import Collab, append, cell_sources, make_notebook, sources_on_disk
from .process import JupyterProcess
from .servers import ServerSeries, log_name, notebook_peer


def updates_in(log: Path) -> int:
    """The updates a log holds; none before its first commit writes it (a room opened from its
    file writes its first log with the first commit after the open)."""
    return len(parse_log(log.read_bytes()).updates) if log.exists() else 0


def logged_updates(collab: Collab, room_id: str) -> int:
    return updates_in(collab.rooms[room_id].document.history.path)


async def type_versions(collab: Collab, client: CollabClient[YNotebook], texts: list[str]) -> None:
    """Append each text to the first cell, each in its own log commit."""
    (room_id,) = collab.document_rooms
    log = collab.rooms[room_id].document.history.path
    # A room opened from its file writes its first log with the first commit, after the open.
    await wait_until(log.exists, 5, "the room's first log commit")
    for text in texts:
        logged = logged_updates(collab, room_id)
        append(client.document.ycells[0]["source"], text)
        await wait_until(
            lambda logged=logged: logged_updates(collab, room_id) > logged, 5, "the log commit"
        )


async def open_timeline(
    collab: Collab,
    path: str,
    query: str = "format=json&&type=notebook",
    headers: dict[str, str] | None = None,
) -> Any:
    status, body = await collab.request("GET", f"timeline/{path}", query, headers=headers)
    assert status == 200, body
    return body


async def step(collab: Collab, room_id: str, query: str) -> tuple[int, Any]:
    return await collab.request("PUT", f"undo_redo/{quote(room_id, safe='')}", query)


async def watch(collab: Collab, opened: dict[str, Any]) -> CollabClient[YNotebook]:
    """Connect to the timeline's room as the front end does (connectToForkDoc)."""
    url = collab.room_url(opened["forkRoom"], f"sessionId={opened['sessionId']}")
    client = collab.client(YNotebook(Doc()), url)
    await client.sync()
    return client


@pytest.mark.ycollab(timeline_step=0, log_commit_delay=0.01)
async def test_the_slider_steps_through_versions_and_restores_one(collab: Collab) -> None:
    path = collab.write_notebook("nb.ipynb", ["a"])
    alice = await collab.open_notebook("nb.ipynb")
    (root_id,) = collab.document_rooms
    await type_versions(collab, alice, ["1", "2", "3"])

    opened = await open_timeline(collab, "nb.ipynb")

    assert opened["roomId"] == root_id
    assert opened["sessionId"] == collab.rooms[root_id].session_id
    stamps = opened["timestamps"]
    assert len(stamps) == 4 and stamps == sorted(stamps)  # as loaded, then three versions
    viewer = await watch(collab, opened)
    assert cell_sources(viewer.document) == ["a123"]

    async def slide(query: str, answer: dict[str, Any], shown: str) -> None:
        assert await step(collab, root_id, f"{query}&&forkRoom={opened['forkRoom']}") == (
            200,
            answer,
        )
        await viewer.wait_for(lambda: cell_sources(viewer.document) == [shown], 5, shown)

    await slide("action=undo&&steps=2", {"status": "undone"}, "a1")
    await slide("action=redo&&steps=1", {"status": "redone"}, "a12")
    await slide("action=undo&&steps=9", {"status": "undone"}, "a")
    await slide("action=undo&&steps=1", {"error": "No more undo operations available"}, "a")
    await slide("action=redo&&steps=1", {"status": "redone"}, "a1")
    await slide("action=redo&&steps=9", {"status": "redone"}, "a123")
    await slide("action=redo&&steps=1", {"error": "No more redo operations available"}, "a123")
    await slide("action=undo&&steps=2", {"status": "undone"}, "a1")
    assert cell_sources(alice.document) == ["a123"]  # the document itself did not move

    restored = {"code": 200, "status": "Document restored successfully"}
    await slide("action=restore&&steps=0", restored, "a1")

    await alice.wait_for(lambda: cell_sources(alice.document) == ["a1"], 5, "the restore")
    await wait_until(lambda: sources_on_disk(path) == ["a1"], 10, "the restore saved")
    await viewer.wait_closed(5)
    assert opened["forkRoom"] not in collab.rooms


@pytest.mark.ycollab(timeline_step=0, log_commit_delay=0.01)
async def test_a_timeline_is_read_only_for_its_peers(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["a"])
    alice = await collab.open_notebook("nb.ipynb")
    await type_versions(collab, alice, ["1"])
    opened = await open_timeline(collab, "nb.ipynb")
    viewer = await watch(collab, opened)

    append(viewer.document.ycells[0]["source"], "-typed in the timeline")
    await type_versions(collab, alice, ["2"])  # something to wait for that did go through

    fork_doc = YNotebook(collab.rooms[opened["forkRoom"]].doc)
    assert cell_sources(fork_doc) == ["a1"]
    assert cell_sources(alice.document) == ["a12"]


# cleanup_delay: without a replacement, every timeline asked for would still be open at the end.
@pytest.mark.ycollab(timeline_step=0, log_commit_delay=0.01, cleanup_delay=60.0)
async def test_a_viewer_asking_again_gets_a_timeline_in_place_of_the_one_nobody_watches(
    collab: Collab,
) -> None:
    """A page shows one timeline at a time, and each holds a copy of the document's whole
    history for ``cleanup_delay``: a user who asked again and again (a reader may) filled
    ``max_rooms`` and the server's memory. A viewer's new timeline now replaces the one of
    theirs nobody watches; the one they watch, and another user's, stay."""
    collab.write_notebook("nb.ipynb", ["a"])
    alice = await collab.open_notebook("nb.ipynb")
    (root_id,) = collab.document_rooms
    await type_versions(collab, alice, ["1"])
    browser = {"Cookie": await collab.login_cookie()}  # the same user at every request
    watched = await open_timeline(collab, "nb.ipynb", headers=browser)
    await watch(collab, watched)
    another_users = await open_timeline(collab, "nb.ipynb")  # the token alone: a user of its own

    asked = [await open_timeline(collab, "nb.ipynb", headers=browser) for _ in range(20)]

    timelines = set(collab.extension.manager.forks)
    assert timelines == {watched["forkRoom"], another_users["forkRoom"], asked[-1]["forkRoom"]}
    assert set(collab.rooms) == {root_id, *timelines}
    replaced = asked[0]["forkRoom"]
    assert await step(collab, root_id, f"action=undo&&steps=1&&forkRoom={replaced}") == (
        404,
        {"code": 404, "error": "Fork not found"},
    )
    latest = asked[-1]["forkRoom"]
    assert await step(collab, root_id, f"action=undo&&steps=1&&forkRoom={latest}") == (
        200,
        {"status": "undone"},
    )


# A timeline nobody joins goes after cleanup_delay: longer than this test's requests take on a
# busy machine (at 0.5 s, CI once answered the last one 404, the fork gone, instead of 400).
@pytest.mark.ycollab(timeline_step=0, log_commit_delay=0.01, cleanup_delay=30.0)
async def test_timeline_errors(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["a"])
    collab.write_notebook("closed.ipynb", ["b"])
    alice = await collab.open_notebook("nb.ipynb")
    (root_id,) = collab.document_rooms
    await type_versions(collab, alice, ["1"])
    opened = await open_timeline(collab, "nb.ipynb")
    fork = opened["forkRoom"]
    collab.extension.manager.files.ids.index("closed.ipynb")

    not_open = await collab.request("GET", "timeline/closed.ipynb", "format=json&&type=notebook")
    assert not_open == (404, {"code": 404, "error": "Root room not found"})
    leading_slash = await collab.request("GET", "timeline//nb.ipynb", "format=json&&type=notebook")
    assert leading_slash[0] == 200  # the front end's way of naming nb.ipynb
    unknown = await collab.request("GET", "timeline/none.ipynb", "format=json&&type=notebook")
    assert unknown[0] == 404
    assert (await collab.request("GET", "timeline/nb.ipynb", "type=notebook"))[0] == 400
    assert await step(collab, root_id, "action=undo&&steps=1&&forkRoom=nope") == (
        404,
        {"code": 404, "error": "Fork not found"},
    )
    assert (await step(collab, "json:notebook:other", f"action=undo&&forkRoom={fork}"))[0] == 404
    assert (await step(collab, root_id, f"action=jump&&steps=1&&forkRoom={fork}"))[0] == 400
    assert (await step(collab, root_id, f"action=undo&&steps=-1&&forkRoom={fork}"))[0] == 400
    assert (await step(collab, root_id, f"action=undo&&steps=x&&forkRoom={fork}"))[0] == 400
    assert (await step(collab, root_id, "action=undo&&steps=1"))[0] == 400
    assert fork in collab.rooms  # refused requests freed nothing


# cleanup_delay: a timeline nobody joined within it goes (404 for a late viewer, as happened once
# on a loaded machine at 0.05 s); the rooms left by their viewers go after it too.
@pytest.mark.ycollab(timeline_step=0, log_commit_delay=0.01, cleanup_delay=1.0)
async def test_opening_and_closing_the_timeline_100_times_leaks_nothing(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["a"])
    alice = await collab.open_notebook("nb.ipynb")
    await type_versions(collab, alice, ["1", "2"])
    manager = collab.extension.manager
    rooms_before = dict(collab.rooms)
    forks: list[weakref.ref[Any]] = []
    docs: list[weakref.ref[Any]] = []

    for _ in range(100):
        opened = await open_timeline(collab, "nb.ipynb")
        fork = manager.forks[opened["forkRoom"]]
        forks.append(weakref.ref(fork))
        docs.append(weakref.ref(fork.room.doc))
        del fork
        viewer = await watch(collab, opened)
        await viewer.close()
        collab.clients.remove(viewer)
        viewer.dispose()

    await wait_until(lambda: dict(collab.rooms) == rooms_before, 10, "the timelines to go")
    assert not manager.forks
    gc.collect()
    assert [ref for ref in forks + docs if ref() is not None] == []
    assert cell_sources(alice.document) == ["a12"]


async def test_the_versions_survive_a_restart(tmp_path: Path) -> None:
    """The log is appended to across restarts, not rewritten: the timeline keeps its versions
    (and their times), and the reconnecting client is accepted as the same lineage."""
    series = ServerSeries(
        tmp_path / "home", tmp_path / "root", {"timeline_step": 0, "log_commit_delay": 0.01}
    )
    nbformat.write(make_notebook(["a"]), series.root / "nb.ipynb")
    try:
        server = await series.start()
        session = await server.put_session("nb.ipynb", "json", "notebook")
        log_file = series.log_dir / log_name(session)
        writer = notebook_peer(server, session)
        await writer.sync()
        for text in ("1", "2", "3"):
            logged = updates_in(log_file)
            append(writer.document.ycells[0]["source"], text)
            await wait_until(
                lambda logged=logged: updates_in(log_file) > logged,
                10,
                "the log commit",
            )
        before = await timeline_of(server, "nb.ipynb")
        await writer.close()
        await series.stop()

        server = await series.start()
        again = await server.put_session("nb.ipynb", "json", "notebook")
        assert again["sessionId"] == session["sessionId"]
        after = await timeline_of(server, "nb.ipynb")
    finally:
        series.kill_all()

    assert len(before) == 4
    assert after[: len(before)] == before  # and the save on shutdown may add none or one


async def timeline_of(server: JupyterProcess, path: str) -> list[float]:
    response = await AsyncHTTPClient().fetch(
        f"{server.base_url}/api/collaboration/timeline/{path}?format=json&&type=notebook",
        headers=server.headers,
    )
    timestamps: list[float] = json.loads(response.body)["timestamps"]
    return timestamps


@pytest.mark.ycollab(timeline_step=0, log_commit_delay=0.01)
async def test_a_text_files_timeline_restores_a_version(collab: Collab) -> None:
    path = collab.write_bytes("notes.md", b"one\n")
    alice = await collab.open_text("notes.md")
    (room_id,) = collab.document_rooms
    source = alice.document.ydoc.get("source", type=Text)
    for line in ("two\n", "three\n"):
        logged = logged_updates(collab, room_id)
        source.insert(len(source), line)
        await wait_until(
            lambda logged=logged: logged_updates(collab, room_id) > logged, 5, "the log commit"
        )
    opened = await open_timeline(collab, "notes.md", "format=text&&type=file")
    assert len(opened["timestamps"]) == 3
    fork = f"forkRoom={opened['forkRoom']}"

    assert await step(collab, room_id, f"action=undo&&steps=1&&{fork}") == (
        200,
        {"status": "undone"},
    )
    assert (await step(collab, room_id, f"action=restore&&steps=0&&{fork}"))[0] == 200

    await alice.wait_for(lambda: str(source) == "one\ntwo\n", 5, "the restored version")
    await wait_until(lambda: path.read_bytes() == b"one\ntwo\n", 10, "the save")
