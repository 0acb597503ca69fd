"""Scenarios with jupytext's server extension enabled, as it is wherever jupytext is installed:
two users co-edit a script (a percent-format ``.py``) opened as a notebook; and a paired
notebook is open in one page while its script is open in an editor in another."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from conftest import NewUser
from documents import TestFolder, notebook_json
from lab_server import LabServer
from pages import SYNC_TIMEOUT, LabPage, expect_no_dialog

SCRIPT = "# %%\nfirst = 1\n\n# %%\nsecond = 2\n"


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """A server of its own, with jupytext's contents manager (the other tests run without it,
    see jupyter_server_test_config.py)."""
    pytest.importorskip("jupytext", reason="jupytext is not installed")
    server = LabServer(home=tmp_path_factory.mktemp("lab-jupytext"))
    server.extra_env["YCOLLAB_UI_JUPYTEXT"] = "1"
    server.start()
    yield server
    server.stop()


def test_two_users_edit_a_script_opened_as_a_notebook(
    lab_server: LabServer, folder: TestFolder, new_user: NewUser
) -> None:
    assert "[Jupytext Server Extension]" in lab_server.log_since(0), "jupytext is not serving"
    path = folder.write_text("script.py", SCRIPT)
    alice, bob = new_user("A"), new_user("B")
    alice.open_with_notebook_factory(path, workspace=alice.workspace)
    bob.open_with_notebook_factory(path, workspace=bob.workspace)
    bob.expect_cells(["first = 1", "second = 2"])

    alice.append_to_cell(0, "  # typed by A")
    bob.expect_cells(["first = 1  # typed by A", "second = 2"])

    bob.append_to_cell(1, "  # typed by B")
    expected = ["first = 1  # typed by A", "second = 2  # typed by B"]
    alice.expect_cells(expected)

    folder.expect_text(
        "script.py", "# %%\nfirst = 1  # typed by A\n\n# %%\nsecond = 2  # typed by B\n"
    )


def write_pair(folder: TestFolder) -> tuple[str, str]:
    """A paired notebook as jupytext leaves it (its script the newer): both paths."""
    import jupytext
    import nbformat

    notebook = notebook_json(["first = 1", "second = 2"])
    notebook["metadata"]["jupytext"] = {"formats": "ipynb,py:percent"}
    ipynb = folder.write_text("pair.ipynb", json.dumps(notebook, indent=1) + "\n")
    text = jupytext.writes(nbformat.from_dict(notebook), fmt="py:percent")
    return ipynb, folder.write_text("pair.py", text)


def save_answers(user: LabPage) -> list[str]:
    return [reply["status"] for reply in user.save_replies()]


@pytest.mark.usefixtures("autosave_off")
@pytest.mark.reference_bug('jupytext/jupytext#1447: Ctrl-S of the notebook shows "File Changed"')
def test_a_pair_open_as_notebook_and_script_keeps_both_users_edits(
    folder: TestFolder, new_user: NewUser
) -> None:
    """Saving the notebook makes jupytext rewrite its script; saving the script makes jupytext
    read the notebook's inputs from it. Neither may take what was typed in the other page and
    not saved yet; and Ctrl-S in either page must save, not show "File Changed" (JupyterLab
    first compares the file's hash with the room's ``state.hash``). With the reference, the
    notebook's Ctrl-S shows it (jupytext/jupytext#1447)."""
    ipynb, script = write_pair(folder)
    alice, bob = new_user("A"), new_user("B")
    alice.open_notebook(ipynb, workspace=alice.workspace)
    bob.open_text(script, workspace=bob.workspace)
    bob.type_in_editor(["Control+End"], "# typed by B")
    alice.append_to_cell(0, "  # typed by A")

    alice.save()
    alice.wait_for_value(
        lambda: save_answers(alice), ["success"], what="save", timeout=SYNC_TIMEOUT
    )
    alices_save = folder.read_text("pair.py")  # jupytext wrote it as it saved the notebook
    assert "# typed by A" in alices_save and "# typed by B" not in alices_save
    both = alices_save + "# typed by B"
    bob.expect_text(both)

    bob.wait_until(bob.knows_the_files_hash, what="B to know the hash", timeout=SYNC_TIMEOUT)
    bob.save()
    bob.wait_for_value(lambda: save_answers(bob), ["success"], what="save", timeout=SYNC_TIMEOUT)
    assert folder.read_text("pair.py") == both
    alice.expect_cells(["first = 1  # typed by A", "second = 2\n# typed by B"])
    expect_no_dialog(alice, bob)
