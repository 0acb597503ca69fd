"""A page's connection drops (a laptop sleeps, a Wi-Fi drops) while the others go on: what it
typed meanwhile and what they did are both there, once, when it comes back.

The page reaches the server through ``network.Relay``, which closes its connections and refuses
new ones until the test restores the link. JupyterLab's own "Server Connection Error" is the only
dialog expected (the page dismisses it: ``pages.LabPage``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conftest import NewUser
from documents import TestFolder
from lab_server import REFERENCE, LabServer
from network import Relay, type_while_away
from pages import expect_each_shows, open_for_each

CELLS = ["a = 1", "b = 2"]
OBSERVED = 12  # seconds: 91 connection attempts over them before, 11 since


@pytest.fixture
def relay(lab_server: LabServer) -> Iterator[Relay]:
    link = Relay(lab_server.port)
    yield link
    link.stop()


def test_a_page_back_online_keeps_what_it_typed_and_gets_what_the_other_did(
    folder: TestFolder, new_user: NewUser, relay: Relay
) -> None:
    path = folder.write_notebook("away.ipynb", CELLS)
    alice, bob = new_user("A", via=relay), new_user("B")
    open_for_each(path, alice, bob)
    bob.expect_cells(CELLS)

    type_while_away(relay, alice, 0, "  # A, offline")
    bob.append_to_cell(1, "  # B")
    bob.add_cell_below(1, "c = 3  # B")
    folder.expect_notebook("away.ipynb", ["a = 1", "b = 2  # B", "c = 3  # B"])

    relay.restore()
    alice.expect_connected(True)
    expected = ["a = 1  # A, offline", "b = 2  # B", "c = 3  # B"]
    expect_each_shows(expected, alice, bob)
    folder.expect_notebook("away.ipynb", expected)


def test_a_page_back_after_its_room_closed_and_its_file_changed_keeps_every_change(
    folder: TestFolder, new_user: NewUser, relay: Relay, lab_server: LabServer
) -> None:
    """While the page is away, the other user adds a cell and leaves, the room closes, and the
    file changes on disk; the page comes back to a room opened again from the file and the
    update log. What users of jupyter-collaboration and jupyter-server-documents report after a
    laptop slept is a notebook rolled back to the sleeper's copy, or emptied
    (jupyterlab/jupyterlab#14224, jupyter-ai-contrib/jupyter-server-documents#305)."""
    if lab_server.collaboration == REFERENCE:
        pytest.skip("the reference has no status route to see its room close")
    path = folder.write_notebook("closed.ipynb", CELLS)
    alice, bob = new_user("A", via=relay), new_user("B")
    open_for_each(path, alice, bob)
    bob.expect_cells(CELLS)

    type_while_away(relay, alice, 0, "  # A, offline")
    bob.add_cell_below(1, "c = 3  # B")
    folder.expect_notebook("closed.ipynb", [*CELLS, "c = 3  # B"])
    bob.page.goto("about:blank")
    alice.wait_until(
        lambda: path not in lab_server.open_documents(), what="the room to close", timeout=60
    )
    folder.write_notebook("closed.ipynb", ["a = 1", "b = 2  # another program", "c = 3  # B"])

    relay.restore()
    alice.expect_connected(True)
    expected = ["a = 1  # A, offline", "b = 2  # another program", "c = 3  # B"]
    expect_each_shows(expected, alice)
    folder.expect_notebook("closed.ipynb", expected)


def test_a_page_back_to_its_deleted_file_waits_quietly_and_comes_in_with_its_edit_once_it_is_back(
    folder: TestFolder, new_user: NewUser, relay: Relay, lab_server: LabServer
) -> None:
    """The file is deleted while the room is closed and the page away. The front end ignores
    the close that says so (4404) once it had synced, and reconnects 100 ms after each. The
    server refuses the same request before the upgrade for a moment (web/refusals.py), so the
    client backs off. The page keeps what it typed; the file put back (git checkout), it is
    let in and its edit saved."""
    if lab_server.collaboration == REFERENCE:
        pytest.skip("the reference has no status route to see its room close")
    path = folder.write_notebook("gone.ipynb", CELLS)
    original = (folder.disk / "gone.ipynb").read_bytes()
    alice = new_user("A", via=relay)
    alice.open_notebook(path, workspace=alice.workspace)
    type_while_away(relay, alice, 0, "  # A, offline")
    alice.wait_until(
        lambda: path not in lab_server.open_documents(), what="the room to close", timeout=60
    )
    (folder.disk / "gone.ipynb").unlink()

    before = len(alice.sockets)
    relay.restore()
    alice.pause(OBSERVED)  # a rate is measured over a span of time
    attempts = [s for s in alice.sockets[before:] if s.is_document_room]
    assert len(attempts) <= 2 * OBSERVED, f"{len(attempts)} connections in {OBSERVED} s"
    assert not (folder.disk / "gone.ipynb").exists()

    (folder.disk / "gone.ipynb").write_bytes(original)
    alice.expect_connected(True)
    expected = ["a = 1  # A, offline", "b = 2"]
    alice.expect_cells(expected)
    folder.expect_notebook("gone.ipynb", expected)


def test_a_cell_both_pages_moved_apart_is_kept_twice_and_each_copy_gets_its_own_id(
    folder: TestFolder, new_user: NewUser, relay: Relay
) -> None:
    """JupyterLab moves a cell by deleting it and inserting a copy, its id included. Moved on
    both pages while one was offline, both copies stay (the CRDT's answer, as with
    jupyter-collaboration): the room gives the second one a new id before it saves, and both
    pages go on editing both copies (a change on disk then brought the cell back again)."""
    path = folder.write_notebook("moved.ipynb", CELLS)
    alice, bob = new_user("A", via=relay), new_user("B")
    open_for_each(path, alice, bob)
    bob.expect_cells(CELLS)

    relay.cut()
    alice.expect_connected(False)
    alice.move_cell_down(0)
    bob.move_cell_down(0)
    relay.restore()
    alice.expect_connected(True)
    moved = ["b = 2", "a = 1", "a = 1"]
    expect_each_shows(moved, alice, bob)
    folder.expect_notebook("moved.ipynb", moved)
    assert len(set(folder.cell_ids("moved.ipynb"))) == 3

    alice.append_to_cell(2, "  # A")
    bob.append_to_cell(1, "  # B")
    expected = ["b = 2", "a = 1  # B", "a = 1  # A"]
    expect_each_shows(expected, alice, bob)
    folder.expect_notebook("moved.ipynb", expected)
