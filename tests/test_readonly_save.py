"""Read-only peers: a save request gets ``failed``, the refusal of their edits is logged once."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from jupyter_ydoc import YNotebook
from pycrdt import Doc

from .authorizers import READ_ONLY, HeaderAuthorizer
from .harness import Collab, append, cell_sources


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    jp_server_config["ServerApp"]["authorizer_class"] = HeaderAuthorizer
    return jp_server_config


async def test_a_read_only_save_request_fails_and_refusals_are_logged_once(
    collab: Collab, caplog: pytest.LogCaptureFixture
) -> None:
    collab.write_notebook("nb.ipynb", ["x = 1"])
    session = await collab.put_session("nb.ipynb")
    writer = await collab.open_notebook("nb.ipynb")
    url = collab.room_url(collab.room_id(session), f"sessionId={session['sessionId']}")
    reader = collab.client(YNotebook(Doc()), url, {**collab.auth_headers, **READ_ONLY})
    caplog.set_level(logging.INFO, logger="jupyter_ycollab.rooms.room")
    await reader.sync()  # its step2 answering ours is the first refused edit
    for attempt in range(3):
        append(reader.document.ycells[0]["source"], f" # vandal {attempt}")
    assert await reader.save(5) == {
        "type": "save",
        "responseTo": 5,
        "status": "failed",
        "message": "you may read this document but not save it",  # jupyter-docprovider 3.1 shows it
    }
    assert reader.connected
    refusals = [r for r in caplog.records if "ignoring edits from read-only" in r.getMessage()]
    assert len(refusals) == 1
    assert cell_sources(await collab.server_notebook("nb.ipynb")) == ["x = 1"]
    assert cell_sources(writer.document) == ["x = 1"]
