"""Scenario 4: a change on disk merges with both users' unsaved edits."""

from __future__ import annotations

import pytest

from conftest import NewUser
from documents import TestFolder


@pytest.mark.reference_bug("the file on disk overwrites unsaved edits (PROTOCOL.md 7.5)")
@pytest.mark.usefixtures("autosave_off")
def test_disk_change_merges_with_unsaved_edits(folder: TestFolder, new_user: NewUser) -> None:
    path = folder.write_text("merge.txt", "alpha\nbravo\ncharlie\n")
    alice, bob = new_user("A"), new_user("B")
    alice.open_text(path, workspace=alice.workspace)
    bob.open_text(path, workspace=bob.workspace)

    alice.type_in_editor(["Control+Home", "End"], " by A")
    bob.type_in_editor(["Control+End", "ArrowUp", "End"], " by B")
    edited = "alpha by A\nbravo\ncharlie by B\n"
    alice.expect_text(edited)
    bob.expect_text(edited)
    alice.expect_dirty(True)
    assert folder.read_text("merge.txt") == "alpha\nbravo\ncharlie\n", "saved despite autosave off"

    folder.write_text("merge.txt", "alpha\nbravo from disk\ncharlie\n")
    merged = "alpha by A\nbravo from disk\ncharlie by B\n"
    alice.expect_text(merged)
    bob.expect_text(merged)
