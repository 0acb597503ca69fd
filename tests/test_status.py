"""``GET /api/collaboration/status`` (web/status.py, rooms/status.py): what it lists of real
rooms with real peers, and who may see it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from jupyter_ydoc import YNotebook
from pycrdt import Doc

from .authorizers import SCOPES, ScopedAuthorizer
from .client import wait_until
from .harness import Collab, append

UNSAVED = {"save_delay": 60.0, "max_save_delay": 120.0, "log_commit_delay": 0.05}


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    jp_server_config["ServerApp"]["authorizer_class"] = ScopedAuthorizer
    return jp_server_config


async def status_of(collab: Collab, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    return await collab.request("GET", "status", headers=headers)


async def the_status(collab: Collab) -> dict[str, Any]:
    code, status = await status_of(collab)
    assert code == 200, status
    assert isinstance(status, dict)
    return status


@pytest.mark.ycollab(**UNSAVED)
async def test_the_status_lists_a_notebook_its_peers_and_its_saves(collab: Collab) -> None:
    collab.write_notebook("dir/nb.ipynb", ["a = 1"])
    session = await collab.put_session("dir/nb.ipynb")
    first = await collab.open_notebook("dir/nb.ipynb")
    second = collab.session_client(session, YNotebook(Doc()))
    await second.sync()
    append(first.document.ycells[0]["source"], "2")
    await second.wait_for(lambda: str(second.document.ycells[0]["source"]) == "a = 12", 5, "edit")

    status = await the_status(collab)
    (room,) = status["rooms"]
    assert room["room_id"] == collab.room_id(session)
    assert (room["path"], room["format"], room["type"]) == ("dir/nb.ipynb", "json", "notebook")
    assert (room["writers"], room["readonly"]) == (2, 0)
    assert room["dirty"] is True
    assert room["writes_file"] is True
    assert "lease_holder" not in room  # no cluster
    loaded_at = datetime.fromisoformat(room["saved_at"])
    assert status["server"] == {
        "id": None,
        "cluster": False,
        "rooms": 1,
        "forks": 0,
        "peers": 2,
        "connections": 2,
    }

    async def logged() -> bool:
        return bool((await the_status(collab))["rooms"][0]["log_bytes"] > 0)

    await wait_until(logged, 5, "the edit in the update log")
    assert (await first.save(1))["status"] == "success"

    (room,) = (await the_status(collab))["rooms"]
    assert room["dirty"] is False
    assert datetime.fromisoformat(room["saved_at"]) > loaded_at


async def test_a_read_only_peer_is_counted_apart(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["x"])
    session = await collab.put_session("nb.ipynb")
    await collab.open_notebook("nb.ipynb")
    url = collab.room_url(collab.room_id(session), f"sessionId={session['sessionId']}")
    reader = collab.client(YNotebook(Doc()), url, {**collab.auth_headers, SCOPES: "read:contents"})
    await reader.sync()

    (room,) = (await the_status(collab))["rooms"]
    assert (room["writers"], room["readonly"]) == (1, 1)


async def test_no_room_no_row(collab: Collab) -> None:
    status = await the_status(collab)
    assert status["rooms"] == []
    assert status["server"]["rooms"] == 0


@pytest.mark.parametrize(
    ("scopes", "expected"),
    [
        ("read:contents", 403),  # a read-only user
        ("read:contents write:contents", 403),  # one who edits files, no admin
        ("read:server", 200),  # the admin-level permission the route needs
    ],
)
async def test_only_users_allowed_to_read_the_server_see_the_status(
    collab: Collab, scopes: str, expected: int
) -> None:
    collab.write_notebook("nb.ipynb", ["x"])
    await collab.open_notebook("nb.ipynb")
    code, _ = await status_of(collab, {SCOPES: scopes})
    assert code == expected


async def test_an_anonymous_request_is_refused(collab: Collab) -> None:
    code, _ = await status_of(collab, {"Authorization": ""})
    assert code == 403
