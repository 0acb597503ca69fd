"""What a room's document deletes is freed: its live ``Doc`` and its encoding (a new peer's first
sync, the update log's compactions, a save's snapshot) hold the document, not everything ever
typed into it.

jupyter_ydoc's views make an undo manager on their document, and an undo manager keeps every
item it saw deleted; the server makes views of each room's ``Doc`` (the room's own, the hooks'
initialiser view, the compatibility API's live view), and none of them may keep anything
(codec/content.py, ``without_undo_history``). Each test replaces a document's content many times
and checks the live ``Doc``'s encoded state against the size of one content; the last one
checks a server process's resident memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from jupyter_ydoc import YUnicode
from jupyter_ydoc.ybasedoc import YBaseDoc
from pycrdt import Doc, Text

from jupyter_ycollab.app import YCollabApp
from jupyter_ycollab.hooks import CollabHooks
from jupyter_ycollab.rooms.room import Room

from .client import CollabClient, wait_until
from .harness import Collab
from .process import JupyterProcess
from .rawpeer import MiB, rss

REPO = Path(__file__).resolve().parent.parent

SIZE = 100_000  # characters of each content
CYCLES = 10  # replacements: everything typed is CYCLES times the document
#: What a live state may hold beyond one content: a content's encoding plus the items' headers.
#: Kept deletions would make it about CYCLES times the content.
LIMIT = 2 * SIZE


def replace(doc: Doc[Any], text: Text, cycle: int) -> None:
    """Replace the whole text in one transaction, as pasting over a selection does."""
    with doc.transaction():
        del text[:]
        text.insert(0, chr(ord("a") + cycle % 26) * SIZE)


def live_room(collab: Collab) -> Room:
    (room_id,) = collab.document_rooms
    room: Room = collab.rooms[room_id]
    return room


async def replace_from(client: CollabClient[Any], text: Text, room_text: Text) -> None:
    """A peer replaces its ``text`` CYCLES times; returns when the room's text is the same."""
    for cycle in range(CYCLES):
        replace(client.ydoc, text, cycle)
        await wait_until(lambda: str(room_text) == str(text), 30, "the room to apply it")


def assert_state_holds_one_content(room: Room, views: list[YBaseDoc]) -> None:
    size = len(room.doc.get_update())
    assert size < LIMIT, f"{size} bytes of state for {SIZE} characters: deletions kept"
    assert all(not view.undo_manager.can_undo() for view in views), "a view recorded edits"


def notebook_source(doc: Doc[Any]) -> Text:
    source: Text = doc["cells"][0]["source"]
    return source


def text_source(doc: Doc[Any]) -> Text:
    source: Text = doc["source"]
    return source


async def open_document(collab: Collab, name: str) -> CollabClient[Any]:
    """A synced peer of the room of ``name`` (a notebook or a text file)."""
    if name.endswith(".ipynb"):
        return await collab.open_notebook(name)
    return await collab.open_text(name)


@pytest.mark.parametrize(
    ("name", "source_of"),
    [("doc.ipynb", notebook_source), ("doc.txt", text_source)],
    ids=["notebook", "text"],
)
async def test_a_room_keeps_nothing_a_peer_replaced(
    collab: Collab, name: str, source_of: Callable[[Doc[Any]], Text]
) -> None:
    if name.endswith(".ipynb"):
        collab.write_notebook(name, ["x = 1"])
    else:
        collab.write_bytes(name, b"x = 1\n")
    client = await open_document(collab, name)
    room = live_room(collab)
    await replace_from(client, source_of(client.ydoc), source_of(room.doc))
    assert room.document is not None
    assert_state_holds_one_content(room, [room.document.shared])
    newcomer = await open_document(collab, name)  # gets the document, deletions included
    assert str(source_of(newcomer.ydoc)) == str(source_of(client.ydoc))


class ObservingHooks(CollabHooks):
    """A deployment's initialiser that keeps its view of each document and observes it."""

    def __init__(self, app: YCollabApp) -> None:
        super().__init__(app)
        self.views: list[YBaseDoc] = []

    async def initialise_document(self, room: Room, document: YBaseDoc) -> None:
        self.views.append(document)
        document.observe(lambda _topic, _event: None)


@pytest.mark.ycollab(hooks_class=ObservingHooks)
async def test_an_initialisers_view_keeps_nothing(collab: Collab) -> None:
    hooks: ObservingHooks = collab.extension.hooks
    collab.write_notebook("doc.ipynb", ["x = 1"])
    client = await collab.open_notebook("doc.ipynb")
    room = live_room(collab)
    await replace_from(client, notebook_source(client.ydoc), notebook_source(room.doc))
    assert len(hooks.views) == 1
    assert_state_holds_one_content(room, hooks.views)


async def test_a_live_compat_view_keeps_nothing(collab: Collab) -> None:
    """An extension edits the live document (``get_document(copy=False)``) as peers do."""
    collab.write_bytes("doc.txt", b"x = 1\n")
    client = await collab.open_text("doc.txt")
    room = live_room(collab)
    live = await collab.compat.get_document(
        path="doc.txt", content_type="file", file_format="text", copy=False
    )
    assert live is not None
    for cycle in range(CYCLES):
        replace(live.ydoc, live._ysource, cycle)
    await wait_until(lambda: str(text_source(client.ydoc)) == str(live._ysource), 30, "the peer")
    assert_state_holds_one_content(room, [live])


async def test_a_forks_live_compat_view_keeps_nothing(collab: Collab) -> None:
    """A fork room has no view until the compatibility API hands one out (compat/rooms.py)."""
    collab.write_notebook("doc.ipynb", ["x = 1"])
    await collab.open_notebook("doc.ipynb")
    (root_id,) = collab.document_rooms
    status, created = await collab.request("PUT", f"fork/{root_id}", body="{}")
    assert status == 201, created
    fork: Room = collab.rooms[created["fork_roomid"]]
    live = await collab.compat.get_document(room_id=fork.room_id, copy=False)
    assert live is not None
    for cycle in range(CYCLES):
        replace(live.ydoc, live.ycells[0]["source"], cycle)
    assert_state_holds_one_content(fork, [live])


# -- the server's memory (a subprocess: the test's peers hold the document too) ---------------

MB = 1_000_000


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[JupyterProcess]:
    root = tmp_path / "root"
    root.mkdir()
    process = JupyterProcess(tmp_path / "home", root, pythonpath=[REPO])
    process.start()
    try:
        await process.wait_ready(60)
        yield process
    finally:
        process.kill()


def quiet_text_client(server: JupyterProcess, session: dict[str, Any]) -> CollabClient[YUnicode]:
    """A text peer whose own view records nothing either: the test process stays small."""
    view = YUnicode(Doc())
    view.undo_manager.include_origin(object())
    return CollabClient(view, server.room_url(session), server.headers)


@pytest.mark.alone
async def test_the_servers_memory_stays_flat_while_a_peer_replaces_megabytes(
    server: JupyterProcess,
) -> None:
    """60 replacements of 1 MB after a warm-up of 15: kept deletions grew the server by 170 to
    240 MiB; freed, it grows by 3 to 25 MiB (the allocator's noise, measured on a busy machine).
    The encoded-state tests above are the contract; this one tells the memory it costs."""
    (server.root / "doc.txt").write_text("")
    session = await server.put_session("doc.txt", "text", "file")
    writer, watcher = quiet_text_client(server, session), quiet_text_client(server, session)
    await writer.sync(30)
    await watcher.sync(30)
    typed, seen = text_source(writer.ydoc), text_source(watcher.ydoc)

    async def replace_megabyte(cycle: int) -> None:
        with writer.ydoc.transaction():
            del typed[:]
            typed.insert(0, chr(ord("a") + cycle % 26) * MB)
        await wait_until(lambda: seen[:1] == typed[:1] and len(seen) == MB, 60, "the watcher")

    for cycle in range(15):
        await replace_megabyte(cycle)
    warm = rss(server.pid)
    for cycle in range(15, 75):
        await replace_megabyte(cycle)
    growth = rss(server.pid) - warm
    await writer.close()
    await watcher.close()
    print(f"RSS growth over 60 MB replaced: {growth / MiB:.1f} MiB")
    assert growth < 80 * MiB, f"the server grew by {growth / MiB:.0f} MiB: deletions kept"
