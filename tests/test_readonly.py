"""Read-only peers: they open documents, receive everything and share awareness, but never edit."""

from __future__ import annotations

from typing import Any

import pytest
from jupyter_ydoc import YNotebook
from pycrdt import Doc

from .authorizers import READ_ONLY, HeaderAuthorizer
from .harness import Collab, append, cell_sources, control_saves_three_times


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    jp_server_config["ServerApp"]["authorizer_class"] = HeaderAuthorizer
    return jp_server_config


async def test_a_read_only_user_can_open_a_session(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["x"])
    session = await collab.put_session("nb.ipynb", headers=dict(READ_ONLY))
    assert session["fileId"]


async def test_a_read_only_peer_receives_edits_and_shares_awareness_but_cannot_edit(
    collab: Collab,
) -> None:
    collab.write_notebook("nb.ipynb", ["x = 1"])
    session = await collab.put_session("nb.ipynb")
    writer = await collab.open_notebook("nb.ipynb")
    url = collab.room_url(collab.room_id(session), f"sessionId={session['sessionId']}")
    reader = collab.client(YNotebook(Doc()), url, {**collab.auth_headers, **READ_ONLY})
    await reader.sync()
    assert cell_sources(reader.document) == ["x = 1"]

    append(writer.document.ycells[0]["source"], "0")
    await reader.wait_for(lambda: cell_sources(reader.document) == ["x = 10"], 5, "the edit")

    append(reader.document.ycells[0]["source"], "# vandal")
    reader.set_awareness({"user": {"name": "reader"}})
    # The server handles a peer's frames in order: once the awareness sent after the edit has
    # arrived, the edit was refused or relayed already. Refusing must not disconnect the peer:
    # a read-only front end answers the server's step1 with a step2 and would never stay.
    await writer.wait_for(
        lambda: reader.client_id in writer.awareness_states, 5, "the reader's awareness"
    )
    assert reader.connected
    assert cell_sources(writer.document) == ["x = 10"]
    assert cell_sources(await collab.server_notebook("nb.ipynb")) == ["x = 10"]


async def test_read_only_users_may_look_at_forks_but_not_make_delete_or_restore_them(
    collab: Collab,
) -> None:
    collab.write_notebook("nb.ipynb", ["x = 1"])
    await collab.open_notebook("nb.ipynb")
    (root_id,) = collab.document_rooms
    status, created = await collab.request("PUT", f"fork/{root_id}", body="{}")
    assert status == 201
    fork_id = created["fork_roomid"]

    async def as_reader(method: str, route: str, query: str = "") -> int:
        body = "{}" if method == "PUT" else None
        status, _ = await collab.request(method, route, query, body, headers=dict(READ_ONLY))
        return status

    assert await as_reader("GET", f"fork/{root_id}") == 200
    assert await as_reader("PUT", f"fork/{root_id}") == 403
    assert await as_reader("DELETE", f"fork/{fork_id}", "merge=true") == 403
    assert await as_reader("GET", "timeline/nb.ipynb", "format=json&&type=notebook") == 200
    (timeline_id,) = set(collab.extension.manager.forks) - {fork_id}
    restore = f"action=restore&&steps=0&&forkRoom={timeline_id}"
    assert await as_reader("PUT", f"undo_redo/{root_id}", restore) == 403
    assert set(collab.extension.manager.forks) == {fork_id, timeline_id}  # nothing went


@pytest.mark.ycollab(save_delay=0.1, max_save_delay=0.3)
async def test_a_read_only_page_does_not_turn_autosave_back_on(collab: Collab) -> None:
    """Its front end states its user's own "Autosave Documents" setting (true by default), but
    it may not save: the editors, who turned autosave off, keep their edits unsaved."""
    path = collab.write_notebook("manual.ipynb", ["a = 1"])
    before = path.read_bytes()
    writes = collab.watch_writes()
    alice = await collab.open_notebook("manual.ipynb")
    alice.set_awareness({"user": {"name": "Alice"}, "autosave": False})  # before the edit
    session = await collab.put_session("manual.ipynb", headers=dict(READ_ONLY))
    reader = collab.session_client(session, YNotebook(Doc()), {**collab.auth_headers, **READ_ONLY})
    await reader.sync()
    reader.set_awareness({"user": {"name": "Reader"}, "autosave": True})
    await alice.wait_for(lambda: reader.client_id in alice.awareness_states, 5, "the reader")

    append(alice.document.ycells[0]["source"], "2")
    await control_saves_three_times(collab, writes)
    assert path.read_bytes() == before and writes.count("manual.ipynb") == 0
