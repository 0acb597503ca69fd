"""What happens to an open document when its file cannot be written, moves, or vanishes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jupyter_server.serverapp import ServerApp
from jupyter_ydoc import YNotebook
from pycrdt import Doc, Text
from tornado import web

from .client import CollabClient, wait_until
from .harness import Collab, append, cell_sources, sources_on_disk
from .servers import SessionEvents, assert_stays, listen_to_session_events

QUICK = {"save_delay": 0.1, "max_save_delay": 0.5, "poll_interval": 0.2}
SAVE_FAILURES = [r"^\s*To access the server", r"(?i)sav\w* .*fail|fail\w* .*sav"]


@pytest.fixture
def session_events(jp_serverapp: ServerApp) -> SessionEvents:
    return listen_to_session_events(jp_serverapp)


class FailingSaves:
    """Makes the server's contents manager refuse every save while ``failing`` is set, like a
    full disk or a storage backend that is down (as root, chmod would not stop the writes)."""

    def __init__(self, contents_manager: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.failing = True
        self.refused = 0
        self.saved = 0
        self._save = contents_manager.save
        monkeypatch.setattr(contents_manager, "save", self.save)

    def save(self, model: dict[str, Any], path: str) -> Any:
        if self.failing:
            self.refused += 1
            raise web.HTTPError(500, "the disk is full")
        self.saved += 1
        return self._save(model, path)


@pytest.mark.parametrize("expected_errors", [SAVE_FAILURES])
@pytest.mark.ycollab(**QUICK)
async def test_failing_saves_lose_nothing_keep_the_document_dirty_and_succeed_later(
    collab: Collab,
    jp_serverapp: ServerApp,
    session_events: SessionEvents,
    monkeypatch: pytest.MonkeyPatch,
    expected_errors: list[str],
) -> None:
    path = collab.write_notebook("nb.ipynb", ["a = 1"])
    data = path.read_bytes()
    client = await collab.open_notebook("nb.ipynb")
    saves = FailingSaves(jp_serverapp.contents_manager, monkeypatch)
    with client.ydoc.transaction():  # a local edit, as the front end makes it
        append(client.document.ycells[0]["source"], "0")
        client.document.ystate["dirty"] = True

    await wait_until(lambda: saves.refused >= 2, 10, "the save to be retried")
    errors = session_events.matching("ERROR", "save")
    assert errors, session_events.events
    assert path.read_bytes() == data
    assert client.document.ystate.get("dirty") is True
    server_copy = await collab.server_notebook("nb.ipynb")
    assert cell_sources(server_copy) == ["a = 10"]
    assert server_copy.ystate.get("dirty") is True

    saves.failing = False
    await wait_until(lambda: sources_on_disk(path) == ["a = 10"], 15, "a save once writable")
    await wait_until(lambda: client.document.ystate.get("dirty") is False, 5, "dirty = false")
    assert client.document.ystate.get("hash"), "no new hash after the save"
    assert cell_sources(client.document) == ["a = 10"]


@pytest.mark.ycollab(**QUICK)
async def test_a_rename_through_jupyter_reaches_every_open_tab_without_an_edit(
    collab: Collab,
) -> None:
    """The front end renames a tab when the document's ``state.path`` changes; the other
    people's tabs must not keep the old name until someone edits (jupyter-collaboration#518
    reports 5-10 s on the reference)."""
    collab.write_notebook("nb.ipynb", ["a = 1"])
    renamer = await collab.open_notebook("nb.ipynb")
    other = await collab.open_notebook("nb.ipynb")

    body = json.dumps({"path": "renamed.ipynb"})
    await collab.fetch("api", "contents", "nb.ipynb", method="PATCH", body=body)

    for client in (renamer, other):
        await client.wait_for(lambda c=client: c.document.ystate.get("path") == "renamed.ipynb")
    assert other.document.ystate.get("dirty") is not True


@pytest.mark.ycollab(**QUICK)
async def test_a_file_renamed_through_jupyter_keeps_its_room_and_saves_go_to_the_new_path(
    collab: Collab,
) -> None:
    old = collab.write_notebook("nb.ipynb", ["a = 1"])
    client = await collab.open_notebook("nb.ipynb")
    rooms = collab.document_rooms

    body = json.dumps({"path": "renamed.ipynb"})
    await collab.fetch("api", "contents", "nb.ipynb", method="PATCH", body=body)
    append(client.document.ycells[0]["source"], "0")

    new = collab.root / "renamed.ipynb"
    await wait_until(lambda: sources_on_disk(new) == ["a = 10"], 10, "a save to the new path")
    await wait_until(lambda: client.document.ystate.get("path") == "renamed.ipynb", 5, "path")
    assert not old.exists(), "a save recreated the old path"
    assert collab.document_rooms == rooms
    assert client.connected
    again = await collab.open_notebook("renamed.ipynb")
    assert collab.document_rooms == rooms, "the new path opened a second room"
    assert cell_sources(again.document) == ["a = 10"]


async def delete_outside(collab: Collab, path: Path) -> None:
    path.unlink()


async def delete_through_jupyter(collab: Collab, path: Path) -> None:
    await collab.fetch("api", "contents", path.name, method="DELETE")


# A save of a deleted file fails on purpose (and says so), it does not recreate the file.
NOT_RECREATED = [
    r"^\s*To access the server",
    r"was deleted: not recreating|no file with id|deleted \(or moved outside Jupyter\)",
]


async def room_cells(collab: Collab, room_id: str) -> list[str]:
    """Cell sources of an open room, found by room id (a deleted file has no path any more)."""
    doc = await collab.compat.get_document(room_id=room_id, copy=True)
    assert isinstance(doc, YNotebook), f"room {room_id} is not open"
    return cell_sources(doc)


@pytest.mark.parametrize("expected_errors", [NOT_RECREATED])
@pytest.mark.parametrize("delete", [delete_outside, delete_through_jupyter])
@pytest.mark.ycollab(**QUICK)
async def test_a_file_deleted_while_open_keeps_the_room_says_so_and_is_not_recreated(
    collab: Collab, session_events: SessionEvents, delete: Any, expected_errors: list[str]
) -> None:
    path = collab.write_notebook("nb.ipynb", ["a = 1"])
    client = await collab.open_notebook("nb.ipynb")
    watcher = await collab.open_notebook("nb.ipynb")
    (room_id,) = collab.document_rooms

    await delete(collab, path)
    await wait_until(lambda: session_events.has("ERROR"), 5, "an ERROR session event")
    append(client.document.ycells[0]["source"], "0")
    await watcher.wait_for(lambda: cell_sources(watcher.document) == ["a = 10"], 5, "the edit")
    await client.save(1)

    await assert_stays(lambda: not path.exists(), 1.0, "a save recreated the deleted file")
    assert client.connected and watcher.connected
    assert await room_cells(collab, room_id) == ["a = 10"]
    gone = session_events.matching("ERROR")[0]
    assert gone.get("path") == "nb.ipynb" and "deleted" in gone.get("msg", ""), gone
    assert not session_events.has("WARNING")  # the front end's dialog says "two views"


def file_statuses(client: CollabClient[Any]) -> list[Any]:
    """The "external-change" statuses ``client`` was sent, in order (docs/protocol.md, 5)."""
    return [raw["change"] for raw in client.received.raw if raw.get("type") == "external-change"]


@pytest.mark.also_other_managers
@pytest.mark.parametrize("expected_errors", [NOT_RECREATED])
@pytest.mark.parametrize("delete", [delete_outside, delete_through_jupyter])
@pytest.mark.ycollab(**QUICK)
async def test_pages_are_told_their_file_was_deleted_and_then_that_it_is_back(
    collab: Collab, delete: Any, expected_errors: list[str]
) -> None:
    """jupyter-docprovider 3.1 shows "The file ... was deleted from disk" over the document
    (Save to original file, Save As, Close tab) and asks before a Ctrl-S when a RAW
    "external-change" status says so; ``null`` takes the notice away. Every joining page is
    told, so a page back shows what holds now, and every page at each change."""
    path = collab.write_notebook("nb.ipynb", ["a = 1"])
    session = await collab.put_session("nb.ipynb")
    alice = await collab.open_notebook("nb.ipynb")
    assert file_statuses(alice) == [None]
    deleted = {"originalPath": "nb.ipynb", "reason": "deleted"}

    await delete(collab, path)
    await alice.wait_for(lambda: file_statuses(alice) == [None, deleted], 5, "the notice")
    bob = collab.session_client(session, YNotebook(Doc()))  # a page back while it is gone
    await bob.sync()
    assert file_statuses(bob) == [deleted]

    # The notice's "Save to original file": the page's content, through the contents API.
    await upload(collab, "nb.ipynb", {"type": "notebook", "content": alice.document.get()})
    await alice.wait_for(lambda: file_statuses(alice)[-1] is None, 5, "alice's notice gone")
    await bob.wait_for(lambda: file_statuses(bob)[-1] is None, 5, "bob's notice gone")
    assert file_statuses(alice) == [None, deleted, None]
    assert file_statuses(bob) == [deleted, None]
    append(bob.document.ycells[0]["source"], "2")
    await wait_until(lambda: sources_on_disk(path) == ["a = 12"], 10, "bob's edit saved")


HOOK_FAILURES = [*SAVE_FAILURES, r"(?i)post-save"]


@pytest.mark.also_other_managers
@pytest.mark.parametrize("expected_errors", [HOOK_FAILURES])
@pytest.mark.ycollab(save_delay=60.0, max_save_delay=120.0, poll_interval=0.2)
async def test_a_save_whose_post_save_hook_failed_after_writing_is_not_merged_in_again(
    collab: Collab, expected_errors: list[str]
) -> None:
    """A post-save hook that raises fails the save after the file was written: the file holds
    our own content. Taking it at the next look for an outside change merged our own edit a
    second time into the edits typed after it ("abcX" saved, "abcXY" typed: "abcXXY")."""
    path = collab.write_bytes("hooked.txt", b"abc\n")
    client = await collab.open_text("hooked.txt")
    source = client.ydoc.get("source", type=Text)
    failed: list[str] = []

    def fail_once(*, os_path: str, **_: Any) -> None:
        if not failed:
            failed.append(os_path)
            raise RuntimeError("the post-save hook broke")

    collab.saving_manager.register_post_save_hook(fail_once)
    source.insert(3, "X")
    failure = await client.save(1)
    assert failure["status"] == "failed"
    # What jupyter-docprovider 3.1 shows in JupyterLab's "File Save Error" dialog:
    assert (
        failure["message"]
        == "Unexpected error while running post hook save: the post-save hook broke"
    )
    assert path.read_text() == "abcX\n", "the file was written before the hook ran"

    source.insert(4, "Y")  # typing on at the same place
    assert (await client.save(2))["status"] == "success"
    assert path.read_text() == "abcXY\n"
    await client.wait_for(lambda: str(source) == "abcXY\n", 5, "the room as typed")


@pytest.mark.parametrize("expected_errors", [NOT_RECREATED])
@pytest.mark.ycollab(**QUICK)
async def test_ctrl_s_on_a_clean_document_whose_file_was_deleted_does_not_answer_success(
    collab: Collab, session_events: SessionEvents, expected_errors: list[str]
) -> None:
    """``success`` says the file holds the document. A deleted one does not: told so, the
    user closes the tab, the room is freed and its log with it (a deleted file's log goes
    with a clean room), and the content is nowhere. With an edit the answer was ``failed``."""
    path = collab.write_notebook("nb.ipynb", ["a = 1"])
    client = await collab.open_notebook("nb.ipynb")
    path.unlink()
    await wait_until(lambda: session_events.has("ERROR"), 5, "the deletion noticed")

    failure = await client.save(1)
    assert failure["status"] == "failed"
    assert failure["message"] == "nb.ipynb was deleted: not recreating it"
    assert not path.exists(), "a save recreated the deleted file"


@pytest.mark.ycollab(save_delay=60.0, max_save_delay=120.0, poll_interval=0.2)
async def test_a_file_renamed_through_jupyter_during_a_save_is_saved_at_its_new_path(
    collab: Collab, session_events: SessionEvents, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Renamed while the save rendered: the save looked again at the old path, took the file
    for deleted (an ERROR, "deleted (or moved outside Jupyter)") and answered ``failed``."""
    collab.write_bytes("old.txt", b"abc\n")
    client = await collab.open_text("old.txt")
    files = collab.extension.manager.files
    render = files.render

    async def renamed_while_rendering(job: Any) -> Any:
        if not (collab.root / "new.txt").exists():
            body = json.dumps({"path": "new.txt"})
            await collab.fetch("api", "contents", "old.txt", method="PATCH", body=body)
        return await render(job)

    monkeypatch.setattr(files, "render", renamed_while_rendering)
    client.ydoc.get("source", type=Text).insert(0, ">")
    assert (await client.save(1))["status"] == "success"
    assert (collab.root / "new.txt").read_text() == ">abc\n"
    assert not (collab.root / "old.txt").exists()
    assert not session_events.has("ERROR"), session_events.events


@pytest.mark.parametrize("expected_errors", [NOT_RECREATED])
@pytest.mark.ycollab(save_delay=0.1, max_save_delay=0.5, poll_interval=0)
async def test_with_polling_off_saves_resume_once_a_deleted_file_is_back(
    collab: Collab, session_events: SessionEvents, expected_errors: list[str]
) -> None:
    """With polling off only a save looks at the file. A save that found it deleted held every
    later save back for good (until Ctrl-S or the room closed): the file came back, and the
    edits made since never reached it."""
    path = collab.write_bytes("t.txt", b"abc\n")
    client = await collab.open_text("t.txt")
    source = client.ydoc.get("source", type=Text)
    path.unlink()
    source.insert(0, "1")
    await wait_until(lambda: session_events.has("ERROR"), 5, "the save to find it deleted")
    path.write_text("abc\n")  # restored (a checkout, an editor's delete-then-write)
    source.insert(0, "2")
    await wait_until(lambda: path.read_text() == "21abc\n", 15, "an autosave once it is back")


@pytest.mark.also_other_managers
@pytest.mark.parametrize("expected_errors", [NOT_RECREATED])
@pytest.mark.parametrize("delete", [delete_outside, delete_through_jupyter])
@pytest.mark.ycollab(**QUICK)
async def test_a_deleted_notebook_created_again_by_ctrl_s_takes_the_edits_made_after(
    collab: Collab, session_events: SessionEvents, delete: Any, expected_errors: list[str]
) -> None:
    """JupyterLab's Ctrl-S on a file it cannot find uploads the page's content. Deleted through
    Jupyter, the file then has a new id, and the room, under the old one, saved nothing more:
    every edit made after that stayed in it, and the user's Ctrl-S said "Saving failed". And
    an edit typed before the room saw the upload made the line conflict: both versions kept."""
    path = collab.write_notebook("nb.ipynb", ["a = 1"])
    alice = await collab.open_notebook("nb.ipynb")
    bob = await collab.open_notebook("nb.ipynb")
    await delete(collab, path)
    await wait_until(lambda: session_events.has("ERROR"), 5, "the room to see it deleted")
    append(alice.document.ycells[0]["source"], "0")
    await bob.wait_for(lambda: cell_sources(bob.document) == ["a = 10"], 5, "the edit")

    await upload(collab, "nb.ipynb", {"type": "notebook", "content": alice.document.get()})
    append(alice.document.ycells[0]["source"], "2")  # before the room looks at the file

    await wait_until(lambda: sources_on_disk(path) == ["a = 102"], 10, "the later edit saved")
    await wait_until(lambda: alice.document.ystate.get("dirty") is False, 5, "the tab clean")
    back = [event.get("msg") for event in session_events.matching("INFO")]
    assert "the file is back" in back, back  # after the ERROR that it was gone
    assert (await alice.save(1))["status"] == "success"
    assert cell_sources(bob.document) == ["a = 102"]
    rooms = collab.document_rooms
    carol = await collab.open_notebook("nb.ipynb")  # the file's new id: the same room
    assert collab.document_rooms == rooms
    append(carol.document.ycells[0]["source"], "3")
    await alice.wait_for(lambda: cell_sources(alice.document) == ["a = 1023"], 5, "carol's edit")
    assert not session_events.has("WARNING"), "the file was open in two rooms"


@pytest.mark.also_other_managers
@pytest.mark.parametrize("expected_errors", [NOT_RECREATED])
@pytest.mark.ycollab(**QUICK)
async def test_a_deleted_text_file_created_again_by_ctrl_s_takes_the_edits_made_after_once(
    collab: Collab, session_events: SessionEvents, expected_errors: list[str]
) -> None:
    """The upload holds the edits the room made since its last save, and the room has one more
    when it looks: a text merge that took the upload as a change on disk put them in twice."""
    path = collab.write_bytes("t.txt", b"abc\n")
    client = await collab.open_text("t.txt")
    source = client.ydoc.get("source", type=Text)
    await delete_through_jupyter(collab, path)
    await wait_until(lambda: session_events.has("ERROR"), 5, "the room to see it deleted")
    source.insert(0, "1")

    model = {"type": "file", "format": "text", "content": str(source)}
    await upload(collab, "t.txt", model)
    source.insert(0, "2")  # before the room looks at the file

    await wait_until(lambda: path.read_text() == "21abc\n", 10, "the later edit saved, once")
    assert (await client.save(1))["status"] == "success"
    assert str(source) == "21abc\n"


@pytest.mark.ycollab(save_delay=0.1, max_save_delay=0.5, poll_interval=60.0)
async def test_a_page_opening_a_deleted_file_made_again_before_the_room_looked_joins_it(
    collab: Collab,
) -> None:
    """Opened before the open room looked at the file again (here it looks when it saves),
    the path was a room of its own under the file's new id: both wrote the file, not live."""
    path = collab.write_notebook("nb.ipynb", ["a = 1"])
    alice = await collab.open_notebook("nb.ipynb")
    rooms = collab.document_rooms
    await delete_through_jupyter(collab, path)
    await upload(collab, "nb.ipynb", {"type": "notebook", "content": alice.document.get()})

    carol = await collab.open_notebook("nb.ipynb")
    assert collab.document_rooms == rooms
    append(carol.document.ycells[0]["source"], "2")
    await alice.wait_for(lambda: cell_sources(alice.document) == ["a = 12"], 5, "carol's edit")
    await wait_until(lambda: sources_on_disk(path) == ["a = 12"], 10, "carol's edit saved")


async def upload(collab: Collab, path: str, model: dict[str, Any]) -> None:
    """What JupyterLab's Ctrl-S does when the file it saves is not found: a contents PUT."""
    body = json.dumps({"format": "json", **model})
    response = await collab.fetch("api", "contents", path, method="PUT", body=body)
    assert response.code == 201, response.code
