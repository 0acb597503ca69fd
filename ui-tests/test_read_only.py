"""Scenario 6: a read-only user sees live edits and cannot change the document.

The reference server (jupyter-collaboration 5.0.4) fails this test: it refuses the reader's
document session (403), and would let a reader edit anyway (docs/protocol.md section 2).

The reader is a browser context with the ``ycollab-ui-role=reader`` cookie: the test server
configuration (``jupyter_server_test_config.py``) gives it an identity without ``contents:write``.
"""

from __future__ import annotations

import pytest

from conftest import NewUser
from documents import TestFolder


@pytest.mark.reference_bug(
    "readers are refused the document (403) yet could edit (docs/protocol.md 10.2)"
)
def test_read_only_user_sees_edits_but_cannot_change(folder: TestFolder, new_user: NewUser) -> None:
    path = folder.write_notebook("readonly.ipynb", ["shared = 1"])
    writer, reader = new_user("W"), new_user("R", reader=True)
    writer.open_notebook(path, workspace=writer.workspace)
    reader.open_notebook(path, workspace=reader.workspace)
    assert reader.identity()["username"].startswith("reader-")

    writer.append_to_cell(0, "  # by writer")
    reader.expect_cells(["shared = 1  # by writer"])

    # The reader types; then the writer edits again. Once the reader shows the writer's later edit
    # and the file holds it, the server has handled the reader's keystrokes, if it ever will.
    reader.type_at_end_of_cell(0, " READER")
    print("the reader shows after typing:", reader.cell_sources())  # `pytest -rP`
    writer.append_to_cell(0, " again")
    reader.wait_until(
        lambda: " again" in reader.cell_sources()[0],
        what="the reader to show the writer's second edit",
        timeout=30,
    )
    writer.expect_cells(["shared = 1  # by writer again"])
    folder.expect_notebook("readonly.ipynb", ["shared = 1  # by writer again"])

    # A fresh load shows the document as the server holds it: without the reader's text.
    reader.page.reload()
    reader.wait_notebook_ready()
    reader.expect_cells(["shared = 1  # by writer again"])
    writer.expect_cells(["shared = 1  # by writer again"])
