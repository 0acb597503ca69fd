"""Scenario 5: the server restarts under two open notebooks; nothing is lost or duplicated."""

from __future__ import annotations

from conftest import NewUser
from documents import TestFolder
from lab_server import LabServer


def test_server_restart_keeps_notebook_intact(
    folder: TestFolder, new_user: NewUser, lab_server: LabServer
) -> None:
    path = folder.write_notebook("restart.ipynb", ["one = 1", "two = 2"])
    alice, bob = new_user("A"), new_user("B")
    alice.open_notebook(path, workspace=alice.workspace)
    bob.open_notebook(path, workspace=bob.workspace)

    alice.append_to_cell(0, "  # A saved")
    bob.add_cell_below(1, "three = 3  # B saved")
    saved = ["one = 1  # A saved", "two = 2", "three = 3  # B saved"]
    alice.expect_cells(saved)
    bob.expect_cells(saved)
    folder.expect_notebook("restart.ipynb", saved)

    # An edit the server has relayed (B shows it) but maybe not saved yet when it stops.
    alice.append_to_cell(1, "  # A just before")
    before = ["one = 1  # A saved", "two = 2  # A just before", "three = 3  # B saved"]
    bob.expect_cells(before)

    sockets_before = [len(alice.sockets), len(bob.sockets)]
    lab_server.restart()
    alice.recover_after_restart(sockets_before[0])
    bob.recover_after_restart(sockets_before[1])
    alice.expect_cells(before)
    bob.expect_cells(before)

    bob.append_to_cell(2, " after")
    after = ["one = 1  # A saved", "two = 2  # A just before", "three = 3  # B saved after"]
    alice.expect_cells(after)
    bob.expect_cells(after)
    folder.expect_notebook("restart.ipynb", after)
