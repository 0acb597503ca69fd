"""Scenario 1: two users co-edit one notebook, also one just made new."""

from __future__ import annotations

from conftest import NewUser
from documents import TestFolder
from pages import edit_one_notebook


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
