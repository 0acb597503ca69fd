"""Scenario: Notebook 7 (PyPI ``notebook``) and JupyterLab users co-edit one notebook, on the
same server: Notebook 7 loads the same collaboration front end as JupyterLab."""

from __future__ import annotations

import pytest

from conftest import NewUser
from documents import TestFolder
from lab_server import REFERENCE, LabServer

NOTEBOOK_LOADED = "notebook | extension was successfully loaded"


def test_a_notebook_7_user_and_a_jupyterlab_user_edit_one_notebook(
    lab_server: LabServer, folder: TestFolder, new_user: NewUser
) -> None:
    if NOTEBOOK_LOADED not in lab_server.log_since(0):
        if lab_server.collaboration == REFERENCE:
            pytest.skip("Notebook 7 is not installed beside the reference server")
        raise AssertionError("Notebook 7 (the test extra `notebook`) is not serving")
    path = folder.write_notebook("shared.ipynb", ["first = 1", "second = 2"])
    alice, bob = new_user("A"), new_user("B")
    alice.open_in_notebook_app(path)
    bob.open_notebook(path, workspace=bob.workspace)
    alice.expect_cells(["first = 1", "second = 2"])
    assert any(s.is_live and s.is_document_room for s in alice.sockets), "no collaboration room"

    alice.append_to_cell(0, "  # typed in Notebook 7")
    bob.expect_cells(["first = 1  # typed in Notebook 7", "second = 2"])

    bob.add_cell_below(1, "third = 3  # added in Lab")
    expected = ["first = 1  # typed in Notebook 7", "second = 2", "third = 3  # added in Lab"]
    alice.expect_cells(expected)

    folder.expect_notebook("shared.ipynb", expected)
