"""A file the server cannot read: a notebook that a merge in git left with conflict markers, a
text file that is not UTF-8. JupyterLab says so, once, and closes the tab, as it does without
collaboration; before, it showed "The document is taking some time to load" and retried."""

from __future__ import annotations

from playwright.sync_api import expect

from conftest import NewUser
from documents import TestFolder
from pages import LOAD_TIMEOUT, SYNC_TIMEOUT

#: docprovider's "The document is taking some time to load" comes this long after a failed start.
LOADING_DIALOG_AFTER = 5.0
CONFLICTED = '{\n<<<<<<< HEAD\n "cells": [],\n=======\n "cells": [{}],\n>>>>>>> theirs\n}\n'


def test_a_file_that_cannot_be_read_shows_one_load_error_and_closes_its_tab(
    folder: TestFolder, new_user: NewUser
) -> None:
    (folder.disk / "merged.ipynb").write_text(CONFLICTED)
    (folder.disk / "latin.txt").write_bytes(b"caf\xe9\n")
    user = new_user("A")
    for name in ("merged.ipynb", "latin.txt"):
        before = len(user.sockets)
        user.goto(folder.rel(name), workspace=f"{user.workspace}-{name.split('.')[1]}")
        dialog = user.dialogs().first
        expect(dialog).to_contain_text(f"File Load Error for {name}", timeout=LOAD_TIMEOUT * 1000)
        assert user.dialog_texts() == [
            f"File Load Error for {name}\nInternal server error when loading {folder.rel(name)}"
            "\nClose"
        ]
        dialog.get_by_role("button", name="Close").click()
        expect(user.tab()).to_have_count(0, timeout=SYNC_TIMEOUT * 1000)
        user.pause(LOADING_DIALOG_AFTER + 1)  # watched past it: no dialog comes back
        assert user.dialog_texts() == []
        rooms = [s for s in user.sockets[before:] if s.is_document_room]
        assert len(rooms) == 1 and rooms[0].closed, "it tried again"
    assert (folder.disk / "merged.ipynb").read_text() == CONFLICTED
