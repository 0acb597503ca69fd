"""Scenario 4: a change on disk merges with both users' unsaved edits; a deleted file stays
deleted."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import pytest
from packaging.version import Version
from playwright.sync_api import expect

from conftest import NewUser
from documents import TestFolder
from pages import SYNC_TIMEOUT, LabPage, expect_each_shows, expect_no_dialog, open_for_each
from waiting import wait_until


@pytest.mark.reference_bug("the file on disk overwrites unsaved edits (docs/protocol.md 10.5)")
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


SESSION_EVENTS = "https://schema.jupyter.org/jupyter_collaboration/session/v1"


def record_session_events(user: LabPage) -> None:
    """Subscribe the page to the server's event stream, as the front end does, keeping the
    session events it receives (``window.sessionEvents``)."""
    user.page.evaluate(
        """([url, schema]) => new Promise((ready) => {
            window.sessionEvents = [];
            const socket = new WebSocket(url);
            socket.onmessage = (message) => {
                const event = JSON.parse(message.data);
                if (event.schema_id === schema) window.sessionEvents.push(event);
            };
            socket.onopen = () => ready(null);
        })""",
        [f"{user.base_url.replace('http', 'ws', 1)}/api/events/subscribe", SESSION_EVENTS],
    )


def received_events(user: LabPage) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = user.page.evaluate("() => window.sessionEvents")
    return events


def test_a_file_deleted_outside_jupyter_is_not_recreated_and_brings_no_wrong_dialog(
    folder: TestFolder, new_user: NewUser
) -> None:
    """The front end answers any WARNING session event with a dialog, in every window, saying
    the file was opened in two different views: a deleted file must not trigger it (ours
    reports it at ERROR level, in the log console)."""
    path = folder.write_text("gone.txt", "alpha\n")
    # In a folder of its own: Bob's file browser lists it, not the one gone.txt leaves. A
    # listing that runs as a file goes is refused by jupyter_server (404, "Directory not
    # found": its own race, a dialog that is no collaboration's).
    other = folder.write_text("elsewhere/other.txt", "unrelated\n")
    alice, bob = new_user("A"), new_user("B")
    alice.open_text(path, workspace=alice.workspace)
    bob.open_text(other, workspace=bob.workspace)
    record_session_events(bob)

    (folder.disk / "gone.txt").unlink()
    gone = wait_until(
        lambda: [e for e in received_events(bob) if "deleted" in e.get("msg", "")],
        timeout=10,
        what="the session event telling that the file is gone",
    )

    assert gone[0]["level"] != "WARNING", gone
    for _ in range(10):  # the front end's own event stream delivers it at the same moment
        alice.page.wait_for_timeout(100)
        expect_no_dialog(alice, bob)
    alice.type_in_editor(["Control+End"], "typed after the deletion")
    alice.expect_text("alpha\ntyped after the deletion")
    assert not (folder.disk / "gone.txt").exists(), "a save recreated the deleted file"


FRONT_END = version("jupyter-docprovider")
NOTICE = ".jp-CollaborationExternalChangeNotice"


NEEDS_3_1 = pytest.mark.skipif(
    Version(FRONT_END) < Version("3.1.0a0"),
    reason=f"jupyter-docprovider {FRONT_END}: 3.1 shows what this test looks for",
)


@NEEDS_3_1
@pytest.mark.reference_bug("no notice: it reloads the file, and cannot reload a deleted one")
def test_a_file_deleted_while_open_shows_a_notice_until_save_to_original_file_brings_it_back(
    folder: TestFolder, new_user: NewUser
) -> None:
    """jupyter-docprovider 3.1 shows the server's "external-change" status as a notice over the
    document (docs/protocol.md, section 5). Its "Save to original file" writes the page's
    content, what was typed since the file went included, and the room saves to it again."""
    path = folder.write_notebook("plan.ipynb", ["first = 1"])
    alice, bob = new_user("A"), new_user("B")
    open_for_each(path, alice, bob)
    (folder.disk / "plan.ipynb").unlink()
    for user in (alice, bob):
        user.wait_until(
            lambda user=user: f'"{path}" was deleted' in " ".join(notices(user)),
            what=f"{user.label}'s notice",
            timeout=SYNC_TIMEOUT,
        )
    alice.append_to_cell(0, "  # typed while it was gone")
    bob.expect_cells(["first = 1  # typed while it was gone"])

    alice.page.locator(NOTICE).get_by_role("button", name="Save to original file").click()
    alice.wait_notebook_ready()  # the front end opens the file again, as a new tab
    folder.expect_notebook("plan.ipynb", ["first = 1  # typed while it was gone"])
    for user in (alice, bob):
        user.wait_until(lambda user=user: not notices(user), what="no notice", timeout=SYNC_TIMEOUT)
    bob.append_to_cell(0, ", and after")
    expected = ["first = 1  # typed while it was gone, and after"]
    expect_each_shows(expected, alice, bob)
    folder.expect_notebook("plan.ipynb", expected)


def notices(user: LabPage) -> list[str]:
    texts: list[str] = user.page.locator(NOTICE).all_inner_texts()
    return texts


CONFLICTED = '{\n<<<<<<< HEAD\n "cells": [],\n=======\n "cells": [{}],\n>>>>>>> theirs\n}\n'


@NEEDS_3_1
def test_ctrl_s_over_a_change_that_cannot_be_read_says_why_and_writes_nothing(
    folder: TestFolder, new_user: NewUser
) -> None:
    """A change on disk that cannot be read (a git merge left conflict markers) is never written
    over, even at "Overwrite": the save fails, and its reply's "message" says why, which
    jupyter-docprovider 3.1 shows (3.0 says "Saving failed"). Once the file can be read, it is
    merged with what was typed, and saved."""
    path = folder.write_notebook("plan.ipynb", ["first = 1"])
    alice = new_user("A")
    alice.open_notebook(path, workspace=alice.workspace)
    folder.write_text("plan.ipynb", CONFLICTED)
    alice.append_to_cell(0, "  # typed")
    alice.save()
    changed = alice.dialogs().filter(has_text="File Changed")  # JupyterLab's own check
    changed.get_by_role("button", name="Overwrite").click(timeout=SYNC_TIMEOUT * 1000)

    failed = alice.dialogs().filter(has_text="File Save Error for plan.ipynb")
    expect(failed).to_contain_text(f"cannot read '{path}'", timeout=SYNC_TIMEOUT * 1000)
    failed.get_by_role("button", name="Close").click()
    assert folder.read_text("plan.ipynb") == CONFLICTED

    folder.write_notebook("plan.ipynb", ["first = 1", "resolved = 2"])
    folder.expect_notebook("plan.ipynb", ["first = 1  # typed", "resolved = 2"])
    alice.expect_cells(["first = 1  # typed", "resolved = 2"])
    expect_no_dialog(alice)
