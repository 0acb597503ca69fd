"""Scenario 1: two users co-edit one notebook."""

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
