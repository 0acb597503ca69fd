"""Scenario 1: two users co-edit one notebook, also one just made new."""

from __future__ import annotations

import pytest

from conftest import NewUser
from documents import TestFolder
from pages import edit_one_notebook, expect_no_dialog


def test_two_users_edit_one_notebook(folder: TestFolder, new_user: NewUser) -> None:
    path = folder.write_notebook("shared.ipynb", ["first = 1", "second = 2"])
    alice, bob = new_user("A"), new_user("B")
    alice.open_notebook(path, workspace=alice.workspace)
    bob.open_notebook(path, workspace=bob.workspace)
    expected = edit_one_notebook(alice, bob)

    alice.expect_collaborator(bob.identity()["display_name"])
    bob.expect_collaborator(alice.identity()["display_name"])

    folder.expect_notebook("shared.ipynb", expected)


def test_a_new_notebook_shows_a_cell_to_type_in_and_both_users_get_it(
    folder: TestFolder, new_user: NewUser
) -> None:
    """File > New > Notebook makes a file with no cells; JupyterLab's collaborative notebook adds
    none of its own, so the room gives it one (its first cell was missing before)."""
    alice, bob = new_user("A"), new_user("B")
    alice.new_notebook(folder.name, workspace=alice.workspace)
    alice.expect_cells([""])
    alice.append_to_cell(0, "x = 1")

    bob.open_notebook(alice.path, workspace=bob.workspace)
    bob.expect_cells(["x = 1"])
    alice.expect_cells(["x = 1"])
    folder.expect_notebook("Untitled.ipynb", ["x = 1"])


@pytest.mark.usefixtures("autosave_off")
def test_a_new_notebook_named_at_its_first_save_saves_under_that_name_with_no_dialog(
    folder: TestFolder, new_user: NewUser
) -> None:
    """JupyterLab asks a name at the first Ctrl-S of an untitled file and renames it; with the
    reference, the next Ctrl-S showed "File Changed" (jupyter-collaboration#313). B's tab
    follows the rename, and both users' next saves go to the new name."""
    alice, bob = new_user("A"), new_user("B")
    alice.new_notebook(folder.name, workspace=alice.workspace)
    alice.append_to_cell(0, "x = 1")
    bob.open_notebook(alice.path, workspace=bob.workspace)
    bob.expect_cells(["x = 1"])

    alice.save()
    alice.name_at_first_save("analysis.ipynb")
    alice.expect_tab_named("analysis.ipynb")
    bob.expect_tab_named("analysis.ipynb")
    folder.expect_notebook("analysis.ipynb", ["x = 1"])
    assert not (folder.disk / "Untitled.ipynb").exists()

    for user, typed in ((alice, "x = 1  # A"), (bob, "x = 1  # A and B")):
        user.append_to_cell(0, typed.removeprefix(user.cell_sources()[0]))
        user.save()
        folder.expect_notebook("analysis.ipynb", [typed])
        alice.expect_dirty(False)
        bob.expect_dirty(False)
    expect_no_dialog(alice, bob)
