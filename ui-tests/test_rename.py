"""A rename reaches the other user: A renames the text file both have open, B's tab takes the
new name without anyone editing, and what B types then is saved under the new name."""

from __future__ import annotations

from conftest import NewUser
from documents import TestFolder


def test_a_rename_reaches_the_other_users_tab(folder: TestFolder, new_user: NewUser) -> None:
    path = folder.write_text("draft.txt", "first line\n")
    alice, bob = new_user("A"), new_user("B")
    alice.open_text(path, workspace=alice.workspace)
    bob.open_text(path, workspace=bob.workspace)
    bob.expect_text("first line\n")

    alice.rename(folder.rel("final.txt"))

    bob.expect_tab_named("final.txt")
    bob.type_in_editor(["Control+End"], "added by B after the rename")
    folder.expect_text("final.txt", "first line\nadded by B after the rename")
    assert not (folder.disk / "draft.txt").exists(), "a save recreated the old name"
