"""A user Jupyter lets in but who may not read files (on JupyterHub, a token with scopes that do
not include ``read:contents``): every collaboration route refuses them with 403, the room's
websocket before anything is allocated for it (docs/protocol.md section 2)."""

from __future__ import annotations

from typing import Any

import pytest
from jupyter_ydoc import YNotebook
from pycrdt import Doc

from .authorizers import SCOPES, ScopedAuthorizer
from .client import wait_until
from .harness import Collab, refusal

NO_FILES = {SCOPES: "read:kernels execute:kernels"}  # may run code, not read files


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    jp_server_config["ServerApp"]["authorizer_class"] = ScopedAuthorizer
    return jp_server_config


async def test_a_user_who_may_not_read_files_is_refused_everywhere(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["secret = 1"])
    session = await collab.put_session("nb.ipynb")  # the server's owner
    room_id = collab.room_id(session)
    await wait_until(lambda: room_id not in collab.rooms, 5, "the unjoined room to be freed")

    assert (await collab.request("PUT", "session/nb.ipynb", body="{}", headers=NO_FILES))[0] == 403
    url = collab.room_url(room_id, f"sessionId={session['sessionId']}")
    intruder = collab.client(YNotebook(Doc()), url, {**collab.auth_headers, **NO_FILES})
    assert await refusal(intruder) == ("http", 403)
    assert room_id not in collab.rooms  # refused before the room was opened
    query = "format=json&&type=notebook"
    assert (await collab.request("GET", "timeline/nb.ipynb", query, headers=NO_FILES))[0] == 403
    assert (await collab.request("GET", f"fork/{room_id}", headers=NO_FILES))[0] == 403
    assert not collab.rooms
