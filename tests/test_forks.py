"""Forks (docs/protocol.md section 2): create, list, edit apart, keep in step, delete with or
without merging back, events, errors, and no fork outliving its root."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jupyter_server.serverapp import ServerApp
from jupyter_ydoc import YNotebook
from pycrdt import Doc

from jupyter_ycollab.errors import BadRequest

from .client import CollabClient, wait_until
from .harness import Collab, append, cell_sources, sources_on_disk
from .servers import SessionEvents

FORK_SCHEMA = "https://schema.jupyter.org/jupyter_collaboration/fork/v1"


@pytest.fixture
def fork_events(jp_serverapp: ServerApp) -> SessionEvents:
    recorder = SessionEvents()
    jp_serverapp.event_logger.add_listener(schema_id=FORK_SCHEMA, listener=recorder)
    return recorder


async def put_fork(collab: Collab, root_id: str, **body: Any) -> dict[str, Any]:
    response = await collab.fetch(
        "api", "collaboration", "fork", root_id, method="PUT", body=json.dumps(body)
    )
    assert response.code == 201
    created: dict[str, Any] = json.loads(response.body)
    return created


async def fork_request(
    collab: Collab, method: str, room_id: str, query: str = "", body: str | None = None
) -> tuple[int, Any]:
    """The status and JSON body of a fork request, with the query string written as is."""
    return await collab.request(method, f"fork/{room_id}", query, body)


def room_sources(collab: Collab, room_id: str) -> list[str]:
    """Cell sources of a room's live document, as the server holds it."""
    return cell_sources(YNotebook(collab.rooms[room_id].doc))


async def fork_client(collab: Collab, created: dict[str, Any]) -> CollabClient[YNotebook]:
    url = collab.room_url(created["fork_roomid"], f"sessionId={created['sessionId']}")
    client = collab.client(YNotebook(Doc()), url)
    await client.sync()
    return client


async def test_a_fork_is_edited_apart_and_merged_back_on_delete(
    collab: Collab, fork_events: SessionEvents
) -> None:
    path = collab.write_notebook("nb.ipynb", ["a = 1"])
    alice = await collab.open_notebook("nb.ipynb")
    (root_id,) = collab.document_rooms
    created = await put_fork(collab, root_id, title="try", description="an idea")
    assert created["fork_info"] == {
        "root_roomid": root_id,
        "synchronize": False,
        "title": "try",
        "description": "an idea",
    }
    bob = await fork_client(collab, created)
    assert cell_sources(bob.document) == ["a = 1"]

    append(bob.document.ycells[0]["source"], "  # in the fork")
    alice.document.ycells[0]["source"].insert(0, "b = 0; ")  # the root goes on meanwhile
    fork_id = created["fork_roomid"]
    await wait_until(
        lambda: room_sources(collab, fork_id) == ["a = 1  # in the fork"], 5, "the fork's edit"
    )
    await wait_until(lambda: room_sources(collab, root_id) == ["b = 0; a = 1"], 5, "alice's edit")
    assert await fork_request(collab, "GET", root_id) == (
        200,
        {created["fork_roomid"]: created["fork_info"]},
    )

    status, _ = await fork_request(collab, "DELETE", created["fork_roomid"], "merge=true")

    assert status == 200
    merged = ["b = 0; a = 1  # in the fork"]
    await alice.wait_for(lambda: cell_sources(alice.document) == merged, 5, "the merge")
    await wait_until(lambda: sources_on_disk(path) == merged, 10, "the merge saved")
    await bob.wait_closed(5)
    assert bob.close_code == 4404
    assert created["fork_roomid"] not in collab.rooms
    assert [(event["action"], event["fork_roomid"]) for event in fork_events.events] == [
        ("create", created["fork_roomid"]),
        ("delete", created["fork_roomid"]),
    ]
    assert fork_events.events[0]["fork_info"] == created["fork_info"]


async def test_a_synchronized_fork_follows_its_root(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["a"])
    alice = await collab.open_notebook("nb.ipynb")
    (root_id,) = collab.document_rooms
    bob = await fork_client(collab, await put_fork(collab, root_id, synchronize=True))

    append(alice.document.ycells[0]["source"], "b")

    await bob.wait_for(lambda: cell_sources(bob.document) == ["ab"], 5, "the root's edit")


async def test_deleting_without_merge_leaves_the_root_alone(collab: Collab) -> None:
    path = collab.write_notebook("nb.ipynb", ["a"])
    alice = await collab.open_notebook("nb.ipynb")
    (root_id,) = collab.document_rooms
    created = await put_fork(collab, root_id)
    bob = await fork_client(collab, created)
    append(bob.document.ycells[0]["source"], "-forked")
    fork_id = created["fork_roomid"]
    await wait_until(lambda: room_sources(collab, fork_id) == ["a-forked"], 5, "the fork's edit")

    assert (await fork_request(collab, "DELETE", created["fork_roomid"], "merge=false"))[0] == 200

    await bob.wait_closed(5)
    assert created["fork_roomid"] not in collab.rooms
    assert cell_sources(await collab.server_notebook("nb.ipynb")) == ["a"]
    assert cell_sources(alice.document) == ["a"] and sources_on_disk(path) == ["a"]


async def test_fork_errors_have_clear_statuses_and_change_nothing(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["a"])
    await collab.open_notebook("nb.ipynb")
    (root_id,) = collab.document_rooms
    created = await put_fork(collab, root_id)
    fork_id = created["fork_roomid"]

    assert await fork_request(collab, "PUT", "json:notebook:nope", body="{}") == (
        404,
        {"code": 404, "error": "Root room not found"},
    )
    assert await fork_request(collab, "DELETE", "no-such-fork", "merge=true") == (
        404,
        {"code": 404, "error": "Fork room not found"},
    )
    status, body = await fork_request(collab, "DELETE", fork_id)  # merge missing
    assert status == 400 and "merge" in body["error"]
    status, _ = await fork_request(collab, "DELETE", fork_id, "merge=maybe")
    assert status == 400
    for bad_body in ("[1]", "not json", '{"synchronize": "yes"}', '{"title": 3}'):
        status, _ = await fork_request(collab, "PUT", root_id, body=bad_body)
        assert status == 400, bad_body
    assert fork_id in collab.rooms  # the refused requests deleted nothing
    assert len(collab.extension.manager.forks) == 1  # and created nothing


async def test_literal_double_ampersands_in_the_query_are_accepted(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["a"])
    await collab.open_notebook("nb.ipynb")
    (root_id,) = collab.document_rooms
    fork_id = (await put_fork(collab, root_id))["fork_roomid"]

    status, _ = await fork_request(collab, "DELETE", fork_id, "&&merge=false&&")

    assert status == 200 and fork_id not in collab.rooms


@pytest.mark.ycollab(cleanup_delay=0.3)
async def test_forks_keep_their_root_open_while_used_and_go_with_it(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["a"])
    alice = await collab.open_notebook("nb.ipynb")
    (root_id,) = collab.document_rooms
    used = await put_fork(collab, root_id)
    unused = await put_fork(collab, root_id)
    bob = await fork_client(collab, used)
    await alice.close()

    # Bob still edits the fork, which will need its root to merge into: the root stays.
    append(bob.document.ycells[0]["source"], "b")
    await bob.wait_for(lambda: cell_sources(bob.document) == ["ab"], 5, "bob's edit")
    manager = collab.extension.manager
    assert root_id in collab.rooms and unused["fork_roomid"] in collab.rooms
    assert not manager._evictions.get(root_id), "evicting a root whose fork has a peer"

    await bob.close()

    await wait_until(lambda: not collab.rooms, 10, "the root and its forks to be freed")
    assert not manager.forks


@pytest.mark.ycollab(max_rooms=2)
async def test_forks_count_towards_max_rooms(collab: Collab, expected_errors: list[str]) -> None:
    # jupyter_server logs every 5xx answer, with the request's headers, at ERROR level.
    expected_errors += [r"^503 PUT ", r'^\{\s*"Host"']
    collab.write_notebook("nb.ipynb", ["a"])
    await collab.open_notebook("nb.ipynb")
    (root_id,) = collab.document_rooms
    await put_fork(collab, root_id)

    status, body = await fork_request(collab, "PUT", root_id, body="{}")

    assert status == 503 and "max_rooms" in body["error"]


async def test_server_code_can_change_a_fork_and_not_a_timeline(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["a"])
    alice = await collab.open_notebook("nb.ipynb")
    (root_id,) = collab.document_rooms
    created = await put_fork(collab, root_id)
    bob = await fork_client(collab, created)
    rooms = collab.extension.rooms

    async with rooms.transaction(created["fork_roomid"]) as notebook:
        append(notebook.ycells[0]["source"], " (suggested)")

    await bob.wait_for(lambda: cell_sources(bob.document) == ["a (suggested)"], 5, "the change")
    assert cell_sources(alice.document) == ["a"]
    status, timeline = await collab.request(
        "GET", "timeline/nb.ipynb", "format=json&&type=notebook"
    )
    assert status == 200
    with pytest.raises(BadRequest):
        await rooms.apply_update(timeline["forkRoom"], b"\x00\x00")
