"""A deployment's connect-time check (``CollabHooks.check_connection``) refuses a document: the
user sees its message in one "Document error" dialog. JupyterLab's front end reconnects every
100 ms until the user answers that dialog, and queued one more for each refusal (30 in 6 s);
the same request is now refused before the upgrade for a moment (web/refusals.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from conftest import NewUser
from documents import TestFolder
from lab_server import OURS, LabServer
from pages import LOAD_TIMEOUT

#: The front end's reconnects pile dialogs up over this many seconds unless something stops them.
WATCHED = 6.0


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """A server of its own, whose hooks refuse documents named ``refused*``
    (jupyter_server_test_config.py)."""
    server = LabServer(home=tmp_path_factory.mktemp("lab-refused"))
    server.extra_env["YCOLLAB_UI_REFUSE"] = "1"
    server.start()
    if server.collaboration != OURS:
        server.stop()
        pytest.skip("a hook of jupyter_ycollab's")
    yield server
    server.stop()


def test_a_refused_document_shows_its_reason_in_one_dialog(
    folder: TestFolder, new_user: NewUser
) -> None:
    path = folder.write_notebook("refused.ipynb", ["x = 1"])
    user = new_user("A")
    user.goto(path, workspace=user.workspace)
    dialog = user.dialogs().first
    expect(dialog).to_contain_text("Document error", timeout=LOAD_TIMEOUT * 1000)
    user.pause(WATCHED)  # the user reads it: the front end goes on reconnecting meanwhile
    assert user.dialog_texts() == ["Document error\nYou have too many documents open\nOk"]
    refusals = [line for line in user.log if "Document provider closed" in line]
    assert len(refusals) == 1, f"refused, and a dialog queued, {len(refusals)} times"
    dialog.get_by_role("button", name="Ok").click()
    # The front end's own timer queued this one meanwhile; its Retry asks the server again.
    loading = user.dialogs().filter(has_text="taking some time to load")
    loading.get_by_role("button", name="Cancel").click()
    expect(user.dialogs()).to_have_count(0, timeout=LOAD_TIMEOUT * 1000)
    assert user.cell_editors().count() == 0, "a refused document showed its cells"
