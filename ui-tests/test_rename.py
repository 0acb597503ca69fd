"""A rename reaches the other user: A renames the text file both have open, B's tab takes the
new name without anyone editing, and what B types then is saved under the new name.

B's file browser shows the root, not the file's folder: jupyter_server's listing of a folder
answers 404 when a file in it is renamed while it lists it (its ``_dir_model`` gets each entry
after a stat), and the file browser, which lists its folder every few seconds, then shows a
"Directory not found" dialog that would take B's click. That race is not this test's subject.
"""

from __future__ import annotations

from conftest import NewUser
from documents import TestFolder


def test_a_rename_reaches_the_other_users_tab(folder: TestFolder, new_user: NewUser) -> None:
    path = folder.write_text("draft.txt", "first line\n")
    alice, bob = new_user("A"), new_user("B")
    alice.open_text(path, workspace=alice.workspace)
    bob.open_text(path, workspace=bob.workspace)
    bob.expect_text("first line\n")
    bob.browse("")

    alice.rename(folder.rel("final.txt"))

    bob.expect_tab_named("final.txt")
    bob.type_in_editor(["Control+End"], "added by B after the rename")
    folder.expect_text("final.txt", "first line\nadded by B after the rename")
    assert not (folder.disk / "draft.txt").exists(), "a save recreated the old name"
