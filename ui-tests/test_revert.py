"""File > Revert Notebook to Checkpoint, two users: the checkpoint's content, once, for both.

In RTC, JupyterLab's revert asks no content: the server makes the document its restored file
(web/checkpoints.py); before, the restored file was merged, and kept the unsaved edits."""

from __future__ import annotations

import pytest

from conftest import NewUser
from documents import TestFolder
from pages import LabPage, expect_no_dialog
from waiting import wait_until


def start_command(user: LabPage, command: str) -> None:
    """Run a JupyterLab command as its menu item does, without waiting for its dialogs."""
    user.page.evaluate("(id) => { window.jupyterapp.commands.execute(id); }", command)


@pytest.mark.usefixtures("autosave_off")
def test_reverting_to_the_checkpoint_shows_it_once_to_both_users(
    folder: TestFolder, new_user: NewUser
) -> None:
    path = folder.write_notebook("revert.ipynb", ["a = 1", "b = 2"])
    alice, bob = new_user("A"), new_user("B")
    alice.open_notebook(path, workspace=alice.workspace)
    bob.open_notebook(path, workspace=bob.workspace)
    alice.watch_save_states()
    alice.append_to_cell(0, "  # saved")
    bob.expect_cells(["a = 1  # saved", "b = 2"])
    alice.save()  # JupyterLab makes a checkpoint after the save
    wait_until(lambda: "checkpointed" in alice.save_states(), timeout=30, what="the checkpoint")
    checkpoint = ["a = 1  # saved", "b = 2"]
    folder.expect_notebook("revert.ipynb", checkpoint)

    bob.append_to_cell(1, "  # unsaved")
    alice.expect_cells(["a = 1  # saved", "b = 2  # unsaved"])
    start_command(alice, "docmanager:restore-checkpoint")
    dialog = alice.dialogs().first
    dialog.get_by_role("button", name="Revert").click()

    alice.expect_cells(checkpoint)
    bob.expect_cells(checkpoint)
    folder.expect_notebook("revert.ipynb", checkpoint)
    for _ in range(20):  # the room's next looks at the file (poll_interval) change nothing
        alice.page.wait_for_timeout(100)
    assert alice.cell_sources() == checkpoint and bob.cell_sources() == checkpoint
    alice.expect_dirty(False)
    bob.expect_dirty(False)
    expect_no_dialog(alice, bob)
