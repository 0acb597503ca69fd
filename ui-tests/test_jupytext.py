"""Scenario: two users co-edit a jupytext script (a percent-format ``.py``) opened as a notebook,
with jupytext's server extension enabled as it is wherever jupytext is installed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conftest import NewUser
from documents import TestFolder
from lab_server import LabServer

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
