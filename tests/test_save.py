"""Saving: RAW save requests, the state map the front end watches, and the autosave policy."""

from __future__ import annotations

import time

import pytest
from jupyter_core.utils import ensure_async
from pycrdt import Text

from .client import wait_until
from .harness import Collab, append, cell_sources, control_saves_three_times, read_notebook


async def contents_hash(collab: Collab, path: str) -> str:
    contents = collab.serverapp.contents_manager
    model = await ensure_async(contents.get(path, content=False, require_hash=True))
    return str(model["hash"])


@pytest.mark.also_jupytext
@pytest.mark.also_other_managers
@pytest.mark.ycollab(save_delay=60, max_save_delay=120)
async def test_raw_save_request_saves_and_replies_success(collab: Collab) -> None:
    path = collab.write_notebook("nb.ipynb", ["a = 1"])
    writes = collab.watch_writes()
    client = await collab.open_notebook("nb.ipynb")
    append(client.document.ycells[0]["source"], "2")
    client.document.dirty = True  # the front end marks its document dirty on local edits

    reply = await client.save(42)

    assert reply == {"type": "save", "responseTo": 42, "status": "success"}
    assert cell_sources(read_notebook(path)) == ["a = 12"]
    assert writes.count("nb.ipynb") == 1


@pytest.mark.also_jupytext
@pytest.mark.also_other_managers
@pytest.mark.ycollab(save_delay=60, max_save_delay=120)
async def test_a_save_publishes_the_new_hash_and_clears_dirty(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["a = 1"])
    client = await collab.open_notebook("nb.ipynb")
    state = client.document.ystate
    hash_before = state.get("hash")
    append(client.document.ycells[0]["source"], "2")
    client.document.dirty = True

    await client.save(1)

    await client.wait_for(lambda: state.get("hash") not in (None, hash_before), 5, "a new hash")
    await client.wait_for(lambda: state.get("dirty") is False, 5, "dirty == false")
    assert state["hash"] == await contents_hash(collab, "nb.ipynb")
    assert state.get("path") == "nb.ipynb"


@pytest.mark.ycollab(save_delay=60, max_save_delay=120)
async def test_a_page_marking_itself_clean_after_its_save_leaves_the_mark_of_later_edits(
    collab: Collab,
) -> None:
    """JupyterLab sets ``dirty = false`` when its own save ends, which can be after an edit
    another page made meanwhile (ui-tests/test_save.py saw it on a loaded machine): the mark
    comes back while that edit waits for a save, and goes with the save that takes it."""
    path = collab.write_notebook("nb.ipynb", ["a = 1"])
    alice = await collab.open_notebook("nb.ipynb")
    bob = await collab.open_notebook("nb.ipynb")
    append(alice.document.ycells[0]["source"], "2")
    alice.document.dirty = True
    await alice.save(1)
    await bob.wait_for(lambda: bob.document.ystate.get("dirty") is False, 5, "the save's mark")

    append(bob.document.ycells[0]["source"], "3")
    bob.document.dirty = True
    await alice.wait_for(lambda: alice.document.dirty, 5, "bob's mark")
    alice.document.dirty = False  # her save ended only now

    await alice.wait_for(lambda: alice.document.dirty, 5, "the mark put back")
    assert cell_sources(read_notebook(path)) == ["a = 12"]
    await bob.save(2)
    assert cell_sources(read_notebook(path)) == ["a = 123"]
    for page in (alice, bob):
        await page.wait_for(lambda p=page: not p.document.dirty, 5, "the mark gone")


@pytest.mark.ycollab(save_delay=60, max_save_delay=120)
async def test_an_edit_made_while_a_save_writes_keeps_the_dirty_mark(collab: Collab) -> None:
    """The save wrote what it had before that edit: the document is not clean."""
    path = collab.write_notebook("nb.ipynb", ["a = 1"])
    client = await collab.open_notebook("nb.ipynb")
    [room] = [collab.rooms[room_id] for room_id in collab.document_rooms]
    edited: list[str] = []

    def edit_meanwhile(**_: object) -> None:
        if not edited:  # server code edits as the file is written, after its content was taken
            edited.append("3")
            append(room.document.shared.ycells[0]["source"], "3")

    collab.saving_manager.register_post_save_hook(edit_meanwhile)
    append(client.document.ycells[0]["source"], "2")
    client.document.dirty = True
    await client.save(1)  # its reply comes after the state the save wrote

    assert cell_sources(read_notebook(path)) == ["a = 12"]
    assert cell_sources(client.document) == ["a = 123"]
    assert client.document.dirty, "the edit made during the save is not in the file"
    await client.save(2)
    assert cell_sources(read_notebook(path)) == ["a = 123"]
    assert not client.document.dirty


@pytest.mark.ycollab(save_delay=60, max_save_delay=120)
async def test_raw_save_of_a_text_file_replies_to_each_request_id(collab: Collab) -> None:
    path = collab.write_bytes("a.txt", b"abc\n")
    client = await collab.open_text("a.txt")
    client.ydoc.get("source", type=Text).insert(0, ">")
    first = await client.save(7)
    second = await client.save(300)  # a save id beyond one varUint byte
    assert first["status"] == "success"
    assert second["responseTo"] == 300
    assert second["status"] == "success"  # nothing left to write is a success
    assert path.read_bytes() == b">abc\n"


# Ctrl-S out of habit. The front end rejects any reply but ``success`` with the dialog "File Save
# Error: Saving already in progress" (``skipped``) or "Saving failed": a clean document, and a
# second Ctrl-S right after a first, must answer ``success``, without rewriting the file.


@pytest.mark.also_jupytext
@pytest.mark.also_other_managers
@pytest.mark.ycollab(save_delay=60, max_save_delay=120)
async def test_ctrl_s_on_a_clean_notebook_replies_success_and_writes_nothing(
    collab: Collab,
) -> None:
    path = collab.write_notebook("clean.ipynb", ["a = 1"])
    before = path.read_bytes()
    writes = collab.watch_writes()
    client = await collab.open_notebook("clean.ipynb")

    assert (await client.save(1))["status"] == "success"

    assert path.read_bytes() == before
    assert writes.count("clean.ipynb") == 0


@pytest.mark.also_other_managers
@pytest.mark.ycollab(save_delay=60, max_save_delay=120)
async def test_ctrl_s_on_a_clean_text_file_replies_success_and_writes_nothing(
    collab: Collab,
) -> None:
    path = collab.write_bytes("clean.txt", b"line one\r\nline two\r\n")
    writes = collab.watch_writes()
    client = await collab.open_text("clean.txt")

    assert (await client.save(1))["status"] == "success"

    assert path.read_bytes() == b"line one\r\nline two\r\n"
    assert writes.count("clean.txt") == 0


@pytest.mark.also_other_managers
@pytest.mark.parametrize("opener", ["notebook", "text"])
@pytest.mark.ycollab(save_delay=60, max_save_delay=120)
async def test_a_second_ctrl_s_right_after_a_first_replies_success(
    collab: Collab, opener: str
) -> None:
    """The first writes the edit; the second (sent as soon as the first is answered, and a
    third sent with it) finds nothing left to write: both are successes."""
    if opener == "notebook":
        path = collab.write_notebook("twice.ipynb", ["a = 1"])
        client = await collab.open_notebook("twice.ipynb")
        append(client.document.ycells[0]["source"], "2")
    else:
        path = collab.write_bytes("twice.ipynb", b"a = 1\n")
        client = await collab.open_text("twice.ipynb")
        client.ydoc.get("source", type=Text).insert(5, "2")

    assert (await client.save(1))["status"] == "success"
    client.request_save(2)
    client.request_save(3)
    await client.wait_for(lambda: client.save_reply(3) is not None, 10, "replies to both")

    replies = [client.save_reply(n) or {} for n in (2, 3)]
    assert [reply.get("status") for reply in replies] == ["success", "success"]
    assert b"a = 12" in path.read_bytes()


@pytest.mark.ycollab(save_delay=0.3, max_save_delay=1.0)
@pytest.mark.alone
async def test_continuous_edits_are_saved_within_max_save_delay(collab: Collab) -> None:
    path = collab.write_notebook("busy.ipynb", [""])
    writes = collab.watch_writes()
    client = await collab.open_notebook("busy.ipynb")
    source = client.document.ycells[0]["source"]
    started = time.monotonic()

    def type_and_check() -> bool:
        source.insert(len(str(source)), "x")  # one keystroke per poll, faster than save_delay
        return writes.count("busy.ipynb") > 0

    await wait_until(type_and_check, 5, "a save while edits keep arriving", interval=0.05)
    elapsed = time.monotonic() - started
    assert elapsed < 2.5, f"first save after {elapsed:.2f} s of continuous edits"
    assert cell_sources(read_notebook(path))[0].startswith("x")


@pytest.mark.also_other_managers
@pytest.mark.parametrize("saved_when", ["alice-wants-it-again", "bob-joins", "alice-leaves"])
@pytest.mark.ycollab(save_delay=0.1, max_save_delay=0.3, cleanup_delay=0.1)
async def test_autosave_waits_while_every_page_has_it_off(collab: Collab, saved_when: str) -> None:
    """A JupyterLab page says in its awareness whether its user wants autosave (the "Autosave
    Documents" setting). With every page of a room against it, an edit waits; once one page
    wants it (the setting turned on again, or another user who has it on), it is saved; and
    once the last page left (nobody is against it then, and a room saves before it closes)."""
    path = collab.write_notebook("manual.ipynb", ["a = 1"])
    before = path.read_bytes()
    writes = collab.watch_writes()
    alice = await collab.open_notebook("manual.ipynb")
    alice.set_awareness({"user": {"name": "Alice"}, "autosave": False})  # before the edit

    append(alice.document.ycells[0]["source"], "2")
    await control_saves_three_times(collab, writes)
    assert path.read_bytes() == before and writes.count("manual.ipynb") == 0

    if saved_when == "alice-wants-it-again":
        alice.set_awareness({"user": {"name": "Alice"}, "autosave": True})
    elif saved_when == "bob-joins":
        bob = await collab.open_notebook("manual.ipynb")
        bob.set_awareness({"user": {"name": "Bob"}, "autosave": True})
    else:
        await alice.close()
    await wait_until(lambda: writes.count("manual.ipynb") > 0, 10, "the edit autosaved")
    assert cell_sources(read_notebook(path)) == ["a = 12"]
