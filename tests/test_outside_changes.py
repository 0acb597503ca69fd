"""Files changed on disk while their documents are open: three-way merges that keep both sides'
edits, conflicts that keep both texts and say so, and a `touch` that changes nothing."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_server.serverapp import ServerApp
from jupyter_ydoc import YUnicode
from pycrdt import Decoder, Text, YMessageType, YSyncMessageType

from jupyter_ycollab.document import watch
from jupyter_ycollab.document.render import Rendered, RenderJob
from jupyter_ycollab.history.records import parse_log
from jupyter_ycollab.logtools import latest_content
from jupyter_ycollab.merge.threeway import merged_into_copy

from .client import CollabClient, wait_until
from .harness import (
    Collab,
    append,
    cell_sources,
    everyone_holds,
    make_notebook,
    sources_on_disk,
)
from .servers import SessionEvents, assert_stays, listen_to_session_events

POLL = 0.2
EMPTY_UPDATE = b"\x00\x00"
UNSAVED = {"save_delay": 60.0, "max_save_delay": 120.0, "poll_interval": POLL}


@pytest.fixture
def session_events(jp_serverapp: ServerApp) -> SessionEvents:
    return listen_to_session_events(jp_serverapp)


def rewrite_notebook(path: Path, sources: list[str], ids: list[str]) -> None:
    """What an outside tool does: write the whole notebook anew (cell ids as given)."""
    notebook = make_notebook(sources)
    for cell, cell_id in zip(notebook.cells, ids, strict=True):
        cell["id"] = cell_id
    nbformat.write(notebook, path)


def rewrite_while_rendering(
    collab: Collab,
    monkeypatch: pytest.MonkeyPatch,
    path: Path,
    second_cell: Callable[[int], str | None],
) -> list[RenderJob]:
    """From now on, each render of a save (the n-th) first rewrites the notebook on disk with
    ``second_cell(n)`` as its second cell's source, as an outside tool would (None: not that
    time); returns the renders' jobs, as they come."""
    files = collab.extension.manager.files
    render = files.render
    renders: list[RenderJob] = []

    async def rendering_while_someone_writes(job: RenderJob) -> Rendered:
        renders.append(job)
        source = second_cell(len(renders))
        if source is not None:
            rewrite_notebook(path, ["a = 1", source], ["cell-0", "cell-1"])
        return await render(job)

    monkeypatch.setattr(files, "render", rendering_while_someone_writes)
    return renders


def changes_since(client: CollabClient[Any], index: int) -> list[bytes]:
    """The SYNC updates (not empty ones) the client received after its ``index``-th frame."""
    changes = []
    for frame in client.received.frames[index:]:
        if frame[:2] == bytes([YMessageType.SYNC, YSyncMessageType.SYNC_UPDATE]):
            update = Decoder(frame[2:]).read_message()
            if update and update != EMPTY_UPDATE:
                changes.append(update)
    return changes


def source_of(client: CollabClient[YUnicode]) -> Text:
    source: Text = client.ydoc.get("source", type=Text)
    return source


@pytest.mark.also_jupytext
@pytest.mark.also_other_managers
@pytest.mark.ycollab(**UNSAVED)
async def test_a_notebook_rewritten_on_disk_while_two_clients_edit_keeps_all_four_changes(
    collab: Collab, session_events: SessionEvents
) -> None:
    path = collab.write_notebook("nb.ipynb", ["a = 1", "b = 2", "d = 4"])
    alice = await collab.open_notebook("nb.ipynb")
    bob = await collab.open_notebook("nb.ipynb")
    append(alice.document.ycells[0]["source"], "  # alice")
    append(bob.document.ycells[1]["source"], "  # bob")
    await everyone_holds(
        collab, "nb.ipynb", [alice, bob], ["a = 1  # alice", "b = 2  # bob", "d = 4"]
    )

    # Outside: a new cell C after B, and a change in D; the file still has the base of A and B.
    rewrite_notebook(
        path, ["a = 1", "b = 2", "c = 3", "d = 40"], ["cell-0", "cell-1", "cell-c", "cell-2"]
    )
    append(alice.document.ycells[0]["source"], "!")  # the clients keep typing meanwhile
    append(bob.document.ycells[1]["source"], "!")

    merged = ["a = 1  # alice!", "b = 2  # bob!", "c = 3", "d = 40"]
    await everyone_holds(collab, "nb.ipynb", [alice, bob], merged)
    await wait_until(lambda: session_events.has("INFO", "overwrite"), 5, "an overwrite event")
    assert (await alice.save(1))["status"] == "success"
    assert sources_on_disk(path) == merged
    assert [cell["id"] for cell in nbformat.read(path, as_version=4).cells] == [
        "cell-0",
        "cell-1",
        "cell-c",
        "cell-2",
    ]


@pytest.mark.ycollab(poll_interval=POLL)
async def test_a_merge_under_way_holds_up_no_room_and_lands_with_what_was_typed_meanwhile(
    collab: Collab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A merge is worked out off the event loop (0.4 s for 10,000 cells): held up here until
    the test lets it go, it keeps no other room waiting, nor its own room's typing, and the
    edits typed meanwhile stay with the file's change."""
    merge_started, go_on, merge_done = threading.Event(), threading.Event(), threading.Event()

    def held_merge(*args: Any, **kwargs: Any) -> Any:
        merge_started.set()
        go_on.wait(10)  # never for good: on the loop, this would stall every room for it
        merged = merged_into_copy(*args, **kwargs)
        merge_done.set()
        return merged

    monkeypatch.setattr(watch, "merged_into_copy", held_merge)
    path = collab.write_notebook("merged.ipynb", ["a = 1", "b = 2"])
    collab.write_notebook("other.ipynb", ["x = 1"])
    alice = await collab.open_notebook("merged.ipynb")
    carol, dave = [await collab.open_notebook("other.ipynb") for _ in range(2)]
    rewrite_notebook(path, ["a = 1", "b = 20"], ["cell-0", "cell-1"])
    await wait_until(merge_started.is_set, 5, "the merge to start")

    append(carol.document.ycells[0]["source"], "  # carol")
    await wait_until(lambda: cell_sources(dave.document) == ["x = 1  # carol"], 5, "Carol's edit")
    append(alice.document.ycells[0]["source"], "  # alice")
    await everyone_holds(collab, "merged.ipynb", [alice], ["a = 1  # alice", "b = 2"])
    assert not merge_done.is_set(), "the edits waited for the merge"
    go_on.set()
    await everyone_holds(collab, "merged.ipynb", [alice], ["a = 1  # alice", "b = 20"])


@pytest.mark.also_jupytext
@pytest.mark.ycollab(**UNSAVED)
async def test_cells_removed_and_moved_on_disk_are_removed_and_moved_in_the_document(
    collab: Collab,
) -> None:
    path = collab.write_notebook("nb.ipynb", ["a = 1", "b = 2", "c = 3", "d = 4"])
    client = await collab.open_notebook("nb.ipynb")
    append(client.document.ycells[0]["source"], "  # edited")
    await everyone_holds(
        collab, "nb.ipynb", [client], ["a = 1  # edited", "b = 2", "c = 3", "d = 4"]
    )

    rewrite_notebook(path, ["d = 4", "a = 1", "c = 3"], ["cell-3", "cell-0", "cell-2"])

    await everyone_holds(collab, "nb.ipynb", [client], ["d = 4", "a = 1  # edited", "c = 3"])


@pytest.mark.ycollab(**UNSAVED)
async def test_a_markdown_cell_with_empty_attachments_is_left_alone_by_a_merge(
    collab: Collab,
) -> None:
    """A markdown cell's empty ``attachments`` is not in the document (jupyter_ydoc's rule, as
    the front end reads it): a merge of a change elsewhere in the file must not take the
    file's ``{}`` for a change to that cell and write it in."""
    notebook = make_notebook(["a = 1"])
    notebook.cells.append(nbformat.v4.new_markdown_cell("# Title", id="md", attachments={}))
    path = collab.write_bytes("nb.ipynb", nbformat.writes(notebook).encode())
    client = await collab.open_notebook("nb.ipynb")
    append(client.document.ycells[1]["source"], " (ours)")
    await everyone_holds(collab, "nb.ipynb", [client], ["a = 1", "# Title (ours)"])

    notebook.cells[0]["source"] = "a = 2"
    path.write_text(nbformat.writes(notebook))

    await everyone_holds(collab, "nb.ipynb", [client], ["a = 2", "# Title (ours)"])
    assert "attachments" not in client.document.ycells[1]
    server = await collab.server_notebook("nb.ipynb")
    assert "attachments" not in server.ycells[1]
    assert (await client.save(1))["status"] == "success"
    assert sources_on_disk(path) == ["a = 2", "# Title (ours)"]


@pytest.mark.also_other_managers
@pytest.mark.ycollab(**UNSAVED)
async def test_a_cell_deleted_in_the_room_stays_deleted_when_another_cell_changes_on_disk(
    collab: Collab,
) -> None:
    """JupyterLab makes code cells with ``metadata.trusted = true``; no file holds the flag,
    and the contents manager sets it at each read from the file's signature. Changed elsewhere
    (a git pull), the file is no longer signed and reads ``trusted: false`` in every code cell:
    the merge must not take that for the disk's change to a cell the room deleted meanwhile,
    and bring that cell back (found by a randomized run of edits, kills and pulls)."""
    path = collab.write_notebook("nb.ipynb", ["a = 1", "b = 2"])
    client = await collab.open_notebook("nb.ipynb")
    cell = {"cell_type": "code", "id": "new", "source": "c = 3", "outputs": []}
    client.document.append_cell({**cell, "metadata": {"trusted": True}, "execution_count": None})
    assert (await client.save(1))["status"] == "success"
    assert sources_on_disk(path) == ["a = 1", "b = 2", "c = 3"]
    del client.document.ycells[2]  # deleted in the room, not saved yet
    pulled = nbformat.read(path, as_version=4)
    pulled.cells[0].source = "a = 10"
    nbformat.write(pulled, path)

    await everyone_holds(collab, "nb.ipynb", [client], ["a = 10", "b = 2"])
    assert (await client.save(2))["status"] == "success"
    assert sources_on_disk(path) == ["a = 10", "b = 2"]


@pytest.mark.also_other_managers
@pytest.mark.parametrize(
    ("client_edit_at_start", "label"),
    [(True, "clients at the start"), (False, "clients at the end")],
)
@pytest.mark.ycollab(**UNSAVED)
async def test_a_text_file_changed_on_disk_keeps_the_clients_edits_at_the_other_end(
    collab: Collab, client_edit_at_start: bool, label: str
) -> None:
    base = "one\ntwo\nthree\n"
    path = collab.write_bytes("t.txt", base.encode())
    alice = await collab.open_text("t.txt")
    bob = await collab.open_text("t.txt")
    if client_edit_at_start:
        source_of(alice).insert(0, "alice ")
        await wait_until(lambda: bob.document.get() == "alice " + base, 5, "alice's edit")
        source_of(bob).insert(0, "bob\n")
        ours = "bob\nalice " + base
        theirs, merged = base + "four\n", "bob\nalice one\ntwo\nthree\nfour\n"
    else:
        append(source_of(alice), "alice\n")
        ours = base + "alice\n"
        theirs, merged = "zero\n" + base, "zero\none\ntwo\nthree\nalice\n"

    async def everyone(expected: str) -> bool:
        clients = [alice, bob]
        return await collab.server_text("t.txt") == expected and all(
            c.document.get() == expected for c in clients
        )

    await wait_until(lambda: everyone(ours), 5, f"the clients' edits ({label})")
    path.write_text(theirs)
    await wait_until(lambda: everyone(merged), 5, f"the merge ({label})")

    assert (await alice.save(1))["status"] == "success"
    assert path.read_text() == merged


@pytest.mark.ycollab(**UNSAVED)
async def test_the_same_line_changed_on_both_sides_keeps_both_and_names_the_cell(
    collab: Collab, session_events: SessionEvents
) -> None:
    path = collab.write_notebook("nb.ipynb", ["x = 'base'", "y = 0"])
    client = await collab.open_notebook("nb.ipynb")
    source = client.document.ycells[0]["source"]
    del source[5:9]
    source.insert(5, "ours")
    await everyone_holds(collab, "nb.ipynb", [client], ["x = 'ours'", "y = 0"])

    rewrite_notebook(path, ["x = 'theirs'", "y = 0"], ["cell-0", "cell-1"])

    def both_texts_kept() -> bool:
        first = cell_sources(client.document)[0]
        return "ours" in first and "theirs" in first

    await wait_until(both_texts_kept, 5, "both sides' texts in cell-0")

    def conflict_named() -> bool:
        events = session_events.matching("INFO", "overwrite")
        return any("cell-0" in event.get("msg", "") for event in events)

    await wait_until(conflict_named, 5, "a session event naming the cell")
    assert not session_events.has("WARNING")  # the front end's dialog says "two views"
    assert cell_sources(client.document)[1] == "y = 0"
    assert len(client.document.ycells) == 2
    server = cell_sources(await collab.server_notebook("nb.ipynb"))
    assert server == cell_sources(client.document)


@pytest.mark.ycollab(save_delay=0.1, max_save_delay=0.5, poll_interval=POLL)
async def test_touching_an_open_file_sends_nothing_and_saves_nothing(
    collab: Collab, session_events: SessionEvents
) -> None:
    notebook = collab.write_notebook("nb.ipynb", ["a = 1"])
    text = collab.write_bytes("t.txt", b"abc\n")
    writes = collab.watch_writes()
    clients = [await collab.open_notebook("nb.ipynb"), await collab.open_notebook("nb.ipynb")]
    readers = [await collab.open_text("t.txt")]
    everyone: list[CollabClient[Any]] = [*clients, *readers]
    frames_before = [len(client.received.frames) for client in everyone]
    events_before = len(session_events.events)

    for path in (notebook, text):
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))

    def nothing_happened() -> bool:
        return (
            not any(
                changes_since(client, index)
                for client, index in zip(everyone, frames_before, strict=True)
            )
            and writes.count("nb.ipynb") == 0
            and writes.count("t.txt") == 0
            and len(session_events.events) == events_before
        )

    await assert_stays(nothing_happened, 3 * POLL + 0.2, "a touch sent an update or saved")
    assert cell_sources(clients[0].document) == ["a = 1"]
    assert readers[0].document.get() == "abc\n"


@pytest.mark.ycollab(**UNSAVED)
async def test_the_document_before_a_merge_stays_recoverable_from_the_log_kept_aside(
    collab: Collab,
) -> None:
    path = collab.write_bytes("t.txt", b"one\ntwo\n")
    alice = await collab.open_text("t.txt")
    source_of(alice).insert(0, "unsaved ")

    async def server_has_edit() -> bool:
        return await collab.server_text("t.txt") == "unsaved one\ntwo\n"

    await wait_until(server_has_edit, 5, "the server to hold the edit")
    path.write_text("one\ntwo\nthree\n")

    async def merged() -> bool:
        return await collab.server_text("t.txt") == "unsaved one\ntwo\nthree\n"

    await wait_until(merged, 5, "the merge")
    log_dir = collab.extension.manager.settings.log_dir
    (kept,) = list(log_dir.glob("*.before-*.ylog"))
    assert latest_content(parse_log(kept.read_bytes())) == "unsaved one\ntwo\n"


@pytest.mark.ycollab(save_delay=60, max_save_delay=120, poll_interval=3600)
async def test_a_change_on_disk_just_before_a_save_is_merged_not_overwritten(
    collab: Collab,
) -> None:
    """No poll comes between the outside change and the save: the save looks first."""
    path = collab.write_notebook("nb.ipynb", ["a = 1", "b = 2"])
    alice = await collab.open_notebook("nb.ipynb")
    append(alice.document.ycells[0]["source"], "  # alice")
    await everyone_holds(collab, "nb.ipynb", [alice], ["a = 1  # alice", "b = 2"])
    rewrite_notebook(path, ["a = 1", "b = 20"], ["cell-0", "cell-1"])

    assert (await alice.save(1))["status"] == "success"

    assert sources_on_disk(path) == ["a = 1  # alice", "b = 20"]
    await everyone_holds(collab, "nb.ipynb", [alice], ["a = 1  # alice", "b = 20"])


@pytest.mark.ycollab(save_delay=60, max_save_delay=120, poll_interval=3600)
async def test_a_change_on_disk_while_a_save_renders_is_merged_and_saved_again(
    collab: Collab, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = collab.write_notebook("nb.ipynb", ["a = 1", "b = 2"])
    alice = await collab.open_notebook("nb.ipynb")
    append(alice.document.ycells[0]["source"], "  # alice")
    await everyone_holds(collab, "nb.ipynb", [alice], ["a = 1  # alice", "b = 2"])

    def first_only(render: int) -> str | None:  # after the save's look at the file
        return "b = 20" if render == 1 else None

    renders = rewrite_while_rendering(collab, monkeypatch, path, first_only)

    assert (await alice.save(1))["status"] == "success"

    assert sources_on_disk(path) == ["a = 1  # alice", "b = 20"]
    assert len(renders) == 2  # rendered again with the change merged in
    await everyone_holds(collab, "nb.ipynb", [alice], ["a = 1  # alice", "b = 20"])


@pytest.mark.ycollab(save_delay=60, max_save_delay=120, poll_interval=3600)
async def test_a_file_that_changes_during_every_save_is_never_written_over(
    collab: Collab, monkeypatch: pytest.MonkeyPatch, expected_errors: list[str]
) -> None:
    expected_errors.append("kept changing while it was being saved")  # the session event
    path = collab.write_notebook("nb.ipynb", ["a = 1", "b = 0"])
    alice = await collab.open_notebook("nb.ipynb")
    append(alice.document.ycells[0]["source"], "  # alice")
    renders = rewrite_while_rendering(collab, monkeypatch, path, lambda n: f"b = {n}")

    assert (await alice.save(1))["status"] == "failed"  # tried again later, like any failure

    assert sources_on_disk(path) == ["a = 1", f"b = {len(renders)}"]  # theirs, untouched
    await everyone_holds(collab, "nb.ipynb", [alice], ["a = 1  # alice", "b = 4"])


@pytest.mark.ycollab(save_delay=60, max_save_delay=120, poll_interval=0)
async def test_with_polling_off_a_save_still_looks_and_nothing_polls_after_it(
    collab: Collab, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = collab.write_notebook("nb.ipynb", ["a = 1", "b = 2"])
    alice = await collab.open_notebook("nb.ipynb")
    files = collab.extension.manager.files
    stat, looks = files.stat, []

    async def counting(*args: Any, **kwargs: Any) -> Any:
        looks.append(args)
        return await stat(*args, **kwargs)

    monkeypatch.setattr(files, "stat", counting)
    append(alice.document.ycells[0]["source"], "  # alice")
    rewrite_notebook(path, ["a = 1", "b = 20"], ["cell-0", "cell-1"])

    assert (await alice.save(1))["status"] == "success"

    assert sources_on_disk(path) == ["a = 1  # alice", "b = 20"]
    seen = len(looks)  # the save's own looks, before and just before writing
    await assert_stays(lambda: len(looks) == seen, 0.5, "no poll after the save")


@pytest.mark.also_other_managers
@pytest.mark.ycollab(**UNSAVED)
async def test_a_change_made_right_after_our_save_is_merged_not_written_over(
    collab: Collab,
) -> None:
    """Another program writing the file right after our save (here a post-save hook, the
    narrowest such moment: inside the save call) must not pass for our own write: a browser
    trial lost such changes 8 times in 8 through a non-stock manager (jupytext's)."""
    path = collab.write_bytes("hooked.txt", b"abc\n")
    client = await collab.open_text("hooked.txt")
    source = client.ydoc.get("source", type=Text)
    stamped: list[str] = []

    def stamp_once(*, os_path: str, **_: Any) -> None:
        if not stamped:
            stamped.append(os_path)
            with open(os_path, "a", encoding="utf-8") as file:
                file.write("# stamped after the save\n")

    collab.saving_manager.register_post_save_hook(stamp_once)
    source.insert(0, ">")
    assert (await client.save(1))["status"] == "success"
    assert stamped, "the hook ran"

    await client.wait_for(lambda: "# stamped" in str(source), 10, "the change in the room")
    source.insert(len(str(source)), "end\n")
    assert (await client.save(2))["status"] == "success"
    assert path.read_text() == ">abc\n# stamped after the save\nend\n"


@pytest.mark.fast_path_only(
    reason="through a contents manager, what it wrote is known by the model its save returns, "
    "from its own look at the path after the write (README.md, 'How it works')"
)
@pytest.mark.ycollab(**UNSAVED)
async def test_a_change_made_as_our_write_ends_is_merged_not_written_over(
    collab: Collab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another program replaces the file (by rename, as editors and git do) the moment our
    write of it ends, before the server looks at what it wrote: what it records as its own
    write must be that write, not the file then at the path (found by a randomized run)."""
    path = collab.write_bytes("raced.txt", b"abc\n")
    client = await collab.open_text("raced.txt")
    source = client.ydoc.get("source", type=Text)
    manager, raced = collab.saving_manager, []
    writing = manager.atomic_writing

    @contextlib.contextmanager
    def then_replaced(os_path: str, *args: Any, **kwargs: Any) -> Iterator[Any]:
        with writing(os_path, *args, **kwargs) as file:
            yield file
        if not raced:
            raced.append(os_path)
            replacement = Path(os_path).with_name(".raced.tmp")
            replacement.write_text(Path(os_path).read_text() + "# written as ours ended\n")
            os.replace(replacement, os_path)

    monkeypatch.setattr(manager, "atomic_writing", then_replaced)
    source.insert(0, ">")
    assert (await client.save(1))["status"] == "success"
    assert raced, "the other program wrote"

    await client.wait_for(lambda: "# written as" in str(source), 10, "the change in the room")
    source.insert(len(str(source)), "end\n")
    assert (await client.save(2))["status"] == "success"
    assert path.read_text() == ">abc\n# written as ours ended\nend\n"


#: A notebook as ``git merge`` leaves it when both sides changed it: not JSON.
CONFLICTED = b'<<<<<<< HEAD\n{"cells": []}\n=======\n{"cells": [1]}\n>>>>>>> theirs\n'


@pytest.mark.parametrize("expected_errors", [[r"^\s*To access the server", r"(?i)sav\w* .*fail"]])
@pytest.mark.ycollab(save_delay=0.1, max_save_delay=0.5, poll_interval=POLL)
async def test_a_notebook_left_unreadable_is_not_written_over_and_is_merged_once_readable(
    collab: Collab, session_events: SessionEvents, expected_errors: list[str]
) -> None:
    """A ``git merge`` leaves conflict markers in a notebook open in the room: nothing can be
    merged. The room says so once, keeps its content and the edits that follow, and writes
    nothing over the file (Ctrl-S answers ``failed``); once the conflict is resolved, the file
    is merged and saved. Before, the room's saves stopped for good at the first look at the
    file (no reply to Ctrl-S, nothing saved after the conflict was resolved)."""
    path = collab.write_notebook("nb.ipynb", ["a = 1"])
    client = await collab.open_notebook("nb.ipynb")
    path.write_bytes(CONFLICTED)
    said = lambda: session_events.matching("ERROR", "overwrite")  # noqa: E731
    await wait_until(lambda: len(said()) == 1, 10, "the room to say it cannot read the file")
    assert "Unreadable Notebook" in said()[0]["msg"]

    append(client.document.ycells[0]["source"], "0")
    assert (await client.save(1))["status"] == "failed"
    await assert_stays(lambda: path.read_bytes() == CONFLICTED, 3 * POLL, "written over")
    assert len(said()) == 1, "said once, not at each look"

    nbformat.write(make_notebook(["a = 1", "b = 2"]), path)  # the conflict resolved
    await wait_until(lambda: cell_sources(client.document) == ["a = 10", "b = 2"], 10, "merged")
    await wait_until(lambda: sources_on_disk(path) == ["a = 10", "b = 2"], 10, "saved")
    assert (await client.save(2))["status"] == "success"
