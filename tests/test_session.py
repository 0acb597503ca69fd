"""Connection-time checks: the session lineage, the origin check, the frame size limit."""

from __future__ import annotations

import json

import pytest
from jupyter_ydoc import YNotebook
from pycrdt import Doc, create_update_message
from tornado.httpclient import HTTPClientError

from .harness import Collab, cell_sources, refusal


async def test_a_session_put_twice_names_the_same_lineage(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["x"])
    first = await collab.put_session("nb.ipynb")
    second = await collab.put_session("nb.ipynb")
    assert first["sessionId"] == second["sessionId"]
    assert first["fileId"] == second["fileId"]


async def test_an_unknown_session_is_closed_with_1003_before_its_state_merges(
    collab: Collab,
) -> None:
    collab.write_notebook("nb.ipynb", ["x = 1"])
    session = await collab.put_session("nb.ipynb")
    watcher = await collab.open_notebook("nb.ipynb")
    stale = YNotebook(Doc())
    stale.append_cell({"cell_type": "code", "source": "stale", "metadata": {}, "outputs": []})
    url = collab.room_url(collab.room_id(session), "sessionId=not-this-lineage")
    client = collab.client(stale, url)

    await client.connect()
    await client.wait_closed(5)

    assert client.close_code == 1003
    assert client.close_reason is not None
    reason = json.loads(client.close_reason)
    assert reason["reason"] == "unknown_session"
    assert reason["reloadable"] is True
    assert not client.synced
    assert cell_sources(await collab.server_notebook("nb.ipynb")) == ["x = 1"]
    assert cell_sources(watcher.document) == ["x = 1"]


async def test_a_stale_session_back_at_once_is_refused_before_the_upgrade(collab: Collab) -> None:
    """JupyterLab reconnects 100 ms after the 1003 close while its "Session expired" dialog
    waits for the user: each close would queue one more dialog. The same request is refused
    with 409 before the upgrade instead (web/refusals.py); the user's page reloaded with the
    current session id is let in at once."""
    collab.write_notebook("nb.ipynb", ["x = 1"])
    session = await collab.put_session("nb.ipynb")
    headers = {**collab.auth_headers, "Cookie": await collab.login_cookie()}
    room_id = collab.room_id(session)
    stale = collab.client(YNotebook(Doc()), collab.room_url(room_id, "sessionId=old"), headers)
    assert await refusal(stale) == ("close", 1003)
    assert await refusal(stale) == ("http", 409)
    current = collab.room_url(room_id, f"sessionId={session['sessionId']}")
    reloaded = collab.client(YNotebook(Doc()), current, headers)
    await reloaded.sync()
    assert cell_sources(reloaded.document) == ["x = 1"]


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [("http://evil.example.com", False), ("http://127.0.0.1:{port}", True)],
)
async def test_a_cookie_authenticated_websocket_from_another_origin_is_refused(
    collab: Collab, origin: str, allowed: bool
) -> None:
    collab.write_notebook("nb.ipynb", ["x"])
    session = await collab.put_session("nb.ipynb")
    url = collab.room_url(collab.room_id(session), f"sessionId={session['sessionId']}")
    headers = {"Cookie": await collab.login_cookie(), "Origin": origin.format(port=collab.port)}
    client = collab.client(YNotebook(Doc()), url, headers)
    if allowed:
        await client.sync()
        assert cell_sources(client.document) == ["x"]
    else:
        with pytest.raises(HTTPClientError) as error:
            await client.connect()
        assert error.value.code == 403


@pytest.mark.ycollab(max_message_size=4096)
async def test_a_frame_above_max_message_size_closes_with_1009(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["x"])
    big = await collab.open_notebook("nb.ipynb")
    other = await collab.open_notebook("nb.ipynb")
    padding = YNotebook(Doc())
    padding.append_cell({"cell_type": "raw", "source": "y" * 10_000, "metadata": {}})

    big.send(create_update_message(padding.ydoc.get_update()))
    await big.wait_closed(5)

    assert big.close_code == 1009
    assert other.connected
    assert cell_sources(await collab.server_notebook("nb.ipynb")) == ["x"]
