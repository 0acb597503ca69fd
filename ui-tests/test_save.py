"""Scenario 3: Ctrl-S saves, without an error dialog, and clears the dirty mark for everyone.

Autosave is off in both front ends, so only Ctrl-S can save and the dirty marks stay until then.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from conftest import NewUser
from documents import TestFolder
from pages import FILE_EDITOR, NOTEBOOK_EDITORS, SYNC_TIMEOUT, LabPage, expect_no_dialog


@pytest.mark.usefixtures("autosave_off")
def test_ctrl_s_saves_notebook_for_both(folder: TestFolder, new_user: NewUser) -> None:
    path = folder.write_notebook("saved.ipynb", ["value = 1"])
    alice, bob = new_user("A"), new_user("B")
    alice.open_notebook(path, workspace=alice.workspace)
    bob.open_notebook(path, workspace=bob.workspace)

    alice.append_to_cell(0, "  # A")
    bob.expect_cells(["value = 1  # A"])
    alice.expect_dirty(True)
    bob.expect_dirty(True)
    assert folder.notebook_sources("saved.ipynb") == ["value = 1"], "saved before Ctrl-S"

    alice.save()
    folder.expect_notebook("saved.ipynb", ["value = 1  # A"])
    alice.expect_dirty(False)
    bob.expect_dirty(False)
    expect_no_dialog(alice, bob)

    bob.append_to_cell(0, " and B")
    alice.expect_cells(["value = 1  # A and B"])
    bob.expect_dirty(True)
    alice.expect_dirty(True)

    bob.save()
    folder.expect_notebook("saved.ipynb", ["value = 1  # A and B"])
    bob.expect_dirty(False)
    alice.expect_dirty(False)
    expect_no_dialog(alice, bob)


@pytest.mark.usefixtures("autosave_off")
def test_ctrl_s_saves_a_big_notebook_through_the_render_process(
    folder: TestFolder, new_user: NewUser
) -> None:
    """A notebook over 64 KiB is rendered for saving in the render process, which ours starts at
    its first edit: the first Ctrl-S waits for it, and saves."""
    sources = [f"row_{index} = '{'x' * 300}'" for index in range(300)]
    path = folder.write_notebook("big.ipynb", sources)
    alice, bob = new_user("A"), new_user("B")
    alice.open_notebook(path, workspace=alice.workspace)
    bob.open_notebook(path, workspace=bob.workspace)

    alice.append_to_cell(0, "  # A")
    bob.expect_dirty(True)
    alice.save()

    expected = [sources[0] + "  # A", *sources[1:]]
    folder.expect_notebook("big.ipynb", expected)
    alice.expect_dirty(False)
    bob.expect_dirty(False)
    expect_no_dialog(alice, bob)


def _ctrl_s_on_a_clean_document(user: LabPage, editor: str) -> None:
    """Ctrl-S on a document with nothing unsaved, then again as soon as it is done (JupyterLab
    itself ignores a Ctrl-S until its save command has also made a checkpoint): each save
    completes in the front end, with no "Saving already in progress" dialog, and the server
    answered success."""
    user.watch_save_states()
    user.page.locator(editor).first.click()
    for count in (1, 2):
        user.save()
        user.wait_until(
            lambda n=count: user.save_states().count("checkpointed") == n,
            what=f"the front end to conclude save {count}",
            timeout=30,
        )
    assert user.save_states() == ["started", "completed", "checkpointed"] * 2
    assert [reply["status"] for reply in user.save_replies()] == ["success"] * 2
    expect_no_dialog(user)


def test_ctrl_s_on_a_clean_notebook_completes(folder: TestFolder, new_user: NewUser) -> None:
    """Clean as far as the user knows: choosing "No Kernel" has the front end write empty kernel
    metadata, which the first Ctrl-S (or the autosave) writes; the second finds nothing."""
    path = folder.write_notebook("clean.ipynb", ["value = 1"])
    alice = new_user("A")
    alice.open_notebook(path, workspace=alice.workspace)
    _ctrl_s_on_a_clean_document(alice, NOTEBOOK_EDITORS)
    assert folder.notebook_sources("clean.ipynb") == ["value = 1"]


def test_ctrl_s_on_a_clean_text_file_completes(folder: TestFolder, new_user: NewUser) -> None:
    path = folder.write_text("clean.txt", "first\r\nsecond\r\n")
    alice = new_user("A")
    alice.open_text(path, workspace=alice.workspace)
    _ctrl_s_on_a_clean_document(alice, FILE_EDITOR)
    assert (folder.disk / "clean.txt").read_bytes() == b"first\r\nsecond\r\n"


@pytest.mark.usefixtures("autosave_off")
def test_save_as_gives_the_copy_a_room_of_its_own_and_leaves_the_original_to_the_other_user(
    folder: TestFolder, new_user: NewUser
) -> None:
    """File > Save Notebook As: JupyterLab writes the copy through the contents API, then
    closes the original in that page (asking to save its unsaved edit) and opens the copy. The
    copy holds A's edit; B stays on the original, which A's "Save" wrote; from then on, each
    file gets only its own page's edits."""
    path = folder.write_notebook("original.ipynb", ["a = 1", "b = 2"])
    alice, bob = new_user("A"), new_user("B")
    alice.open_notebook(path, workspace=alice.workspace)
    bob.open_notebook(path, workspace=bob.workspace)
    alice.append_to_cell(0, "  # A")
    bob.expect_cells(["a = 1  # A", "b = 2"])

    alice.page.evaluate("() => { window.jupyterapp.commands.execute('docmanager:save-as'); }")
    dialog = alice.dialogs().filter(has_text="Save File As")
    dialog.locator("input").fill(f"{folder.name}/copy.ipynb")
    dialog.get_by_role("button", name="Save").click()
    folder.expect_notebook("copy.ipynb", ["a = 1  # A", "b = 2"])
    closing = alice.dialogs().filter(has_text="Save your work")
    closing.get_by_role("button", name="Save").click()
    folder.expect_notebook("original.ipynb", ["a = 1  # A", "b = 2"])
    alice.path = folder.rel("copy.ipynb")
    expect(alice.tab()).to_be_visible(timeout=SYNC_TIMEOUT * 1000)
    alice.choose_no_kernel()  # the copy opens as a notebook of its own
    tabs = alice.page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab")
    expect(tabs).to_have_text(["copy.ipynb"], timeout=SYNC_TIMEOUT * 1000)

    alice.append_to_cell(1, "  # A's copy")
    bob.append_to_cell(1, "  # B's original")
    alice.save()
    bob.save()
    folder.expect_notebook("copy.ipynb", ["a = 1  # A", "b = 2  # A's copy"])
    folder.expect_notebook("original.ipynb", ["a = 1  # A", "b = 2  # B's original"])
    alice.expect_cells(["a = 1  # A", "b = 2  # A's copy"])
    bob.expect_cells(["a = 1  # A", "b = 2  # B's original"])
    expect_no_dialog(alice, bob)
