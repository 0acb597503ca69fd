"""Scenario 2: two users co-edit one text file in the editor."""

from __future__ import annotations

from conftest import NewUser
from documents import TestFolder


def test_two_users_edit_one_text_file(folder: TestFolder, new_user: NewUser) -> None:
    path = folder.write_text("notes.txt", "first line\nsecond line\n")
    alice, bob = new_user("A"), new_user("B")
    alice.open_text(path, workspace=alice.workspace)
    bob.open_text(path, workspace=bob.workspace)
    bob.expect_text("first line\nsecond line\n")

    alice.type_in_editor(["Control+Home", "End"], " typed by A")
    bob.expect_text("first line typed by A\nsecond line\n")

    bob.type_in_editor(["Control+End"], "third line added by B")
    expected = "first line typed by A\nsecond line\nthird line added by B"
    alice.expect_text(expected)
    bob.expect_text(expected)

    alice.expect_collaborator(bob.identity()["display_name"])
    bob.expect_collaborator(alice.identity()["display_name"])

    folder.expect_text("notes.txt", expected)
