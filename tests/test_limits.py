"""Configurable limits: awareness state size, peers per room, rooms per server."""

from __future__ import annotations

import pytest
from jupyter_ydoc import YNotebook
from pycrdt import Doc, create_awareness_message
from tornado.httpclient import HTTPClientError
from traitlets import TraitError

from jupyter_ycollab.app import YCollabApp

from .client import encode_awareness_update, wait_until
from .harness import Collab


@pytest.fixture
def expected_errors(expected_errors: list[str]) -> list[str]:
    """jupyter_server logs every 5xx answer, with the request's headers, at ERROR level."""
    return [*expected_errors, r"^503 (GET|PUT) ", r'^\{\s*"Host"']


@pytest.mark.ycollab(max_awareness_state=1024)
async def test_an_awareness_state_over_the_limit_closes_its_peer_with_1009(
    collab: Collab,
) -> None:
    collab.write_notebook("nb.ipynb", ["x"])
    alice = await collab.open_notebook("nb.ipynb")
    mallory = await collab.open_notebook("nb.ipynb")
    mallory.set_awareness({"user": {"name": "m" * 2000}})
    await mallory.wait_closed(5)
    assert mallory.close_code == 1009
    small = await collab.open_notebook("nb.ipynb")
    small.set_awareness({"user": {"name": "s" * 500}})
    await alice.wait_for(lambda: small.client_id in alice.awareness_states, 5, "small state")
    assert mallory.client_id not in alice.awareness_states


async def test_too_many_awareness_client_ids_on_one_connection_close_it_with_1009(
    collab: Collab,
) -> None:
    collab.write_notebook("nb.ipynb", ["x"])
    alice = await collab.open_notebook("nb.ipynb")
    mallory = await collab.open_notebook("nb.ipynb")
    entries = [(client_id, 0, {"n": client_id}) for client_id in range(1000, 1009)]
    mallory.send(create_awareness_message(encode_awareness_update(entries)))
    await mallory.wait_closed(5)
    assert mallory.close_code == 1009
    assert not any(1000 <= client_id < 1009 for client_id in alice.awareness_states)


@pytest.mark.ycollab(max_peers_per_room=2)
async def test_a_full_room_refuses_one_more_peer_with_503_until_one_leaves(
    collab: Collab,
) -> None:
    collab.write_notebook("nb.ipynb", ["x"])
    session = await collab.put_session("nb.ipynb")
    first = await collab.open_notebook("nb.ipynb")
    await collab.open_notebook("nb.ipynb")
    room = collab.rooms[collab.room_id(session)]
    third = collab.session_client(session, YNotebook(Doc()))
    with pytest.raises(HTTPClientError) as refused:
        await third.connect()
    assert refused.value.code == 503
    assert len(room.peers) == 2
    await first.close()
    await wait_until(lambda: len(room.peers) == 1, 5, "the first peer to leave")
    await third.sync()


@pytest.mark.ycollab(max_rooms=1)
async def test_one_room_too_many_is_refused_and_not_created(collab: Collab) -> None:
    collab.write_notebook("a.ipynb", ["a"])
    collab.write_notebook("b.ipynb", ["b"])
    await collab.open_notebook("a.ipynb")
    with pytest.raises(HTTPClientError) as refused:
        await collab.put_session("b.ipynb")
    assert refused.value.code == 503
    file_id = collab.serverapp.web_app.settings["file_id_manager"].index("b.ipynb")
    client = collab.client(YNotebook(Doc()), collab.room_url(f"json:notebook:{file_id}"))
    with pytest.raises(HTTPClientError) as refused:
        await client.connect()
    assert refused.value.code == 503
    assert len(collab.document_rooms) == 1


@pytest.mark.ycollab(max_rooms=1)
async def test_a_room_opened_while_the_limit_was_reached_closes_with_1013(
    collab: Collab,
) -> None:
    """The check after the upgrade: a room opened between the client's upgrade and its join."""
    collab.write_notebook("a.ipynb", ["a"])
    collab.write_notebook("b.ipynb", ["b"])
    session = await collab.put_session("b.ipynb")
    room_b = collab.room_id(session)
    await wait_until(lambda: room_b not in collab.rooms, 5, "b's unjoined room to be freed")
    client = collab.session_client(session, YNotebook(Doc()))
    manager = collab.extension.manager
    opened = False
    original = manager.open

    async def open_a_first(room_id: str) -> object:
        nonlocal opened
        if not opened:  # another user opens a.ipynb while this client upgrades
            opened = True
            await original(collab.room_id(await collab.put_session("a.ipynb")))
        return await original(room_id)

    manager.open = open_a_first
    await client.connect()
    await client.wait_closed(5)
    assert client.close_code == 1013
    assert room_b not in collab.rooms


@pytest.mark.parametrize(
    "setting",
    [
        {"max_rooms": 0},
        {"max_peers_per_room": 0},
        {"max_awareness_state": 10},
        {"max_readonly_message_size": 10},
        {"max_server_buffer": 10},
        {"peer_stall_timeout": 0},
    ],
)
def test_limits_are_validated(setting: dict[str, float]) -> None:
    with pytest.raises(TraitError):
        YCollabApp(**setting)
