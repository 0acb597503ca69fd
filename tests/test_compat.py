"""What other extensions and the front end read from the server: the jupyter_server_ydoc object
under ``web_app.settings["jupyter_server_ydoc"]`` and the page config."""

from __future__ import annotations

import pytest
from jupyter_server.serverapp import ServerApp
from pycrdt import Text

from .client import wait_until
from .harness import Collab, append, cell_sources, sources_on_disk

pytestmark = pytest.mark.ycollab(save_delay=60.0, max_save_delay=120.0)


async def test_get_document_by_path_returns_live_content_with_unsaved_edits(
    collab: Collab,
) -> None:
    collab.write_notebook("nb.ipynb", ["a = 1"])
    client = await collab.open_notebook("nb.ipynb")
    append(client.document.ycells[0]["source"], "2")

    async def live() -> bool:
        return cell_sources(await collab.server_notebook("nb.ipynb")) == ["a = 12"]

    await wait_until(live, 5, "the unsaved edit in get_document")


async def test_get_document_of_a_text_file_returns_live_content(collab: Collab) -> None:
    collab.write_bytes("t.txt", b"abc")
    client = await collab.open_text("t.txt")
    client.ydoc.get("source", type=Text).insert(0, ">")

    async def live() -> bool:
        return await collab.server_text("t.txt") == ">abc"

    await wait_until(live, 5, "the unsaved edit in get_document")


async def test_get_document_by_room_id_returns_live_content(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["a = 1"])
    client = await collab.open_notebook("nb.ipynb")
    (room_id,) = collab.document_rooms
    append(client.document.ycells[0]["source"], "2")

    async def live() -> bool:
        doc = await collab.compat.get_document(room_id=room_id, copy=True)
        return doc is not None and cell_sources(doc) == ["a = 12"]

    await wait_until(live, 5, "the unsaved edit in get_document(room_id=...)")


async def test_get_document_without_copy_lets_server_code_edit_the_room(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["a = 1"])
    client = await collab.open_notebook("nb.ipynb")
    doc = await collab.compat.get_document(
        path="nb.ipynb", content_type="notebook", file_format="json", copy=False
    )
    append(doc.ycells[0]["source"], "# from an agent")
    await client.wait_for(
        lambda: cell_sources(client.document) == ["a = 1# from an agent"], 5, "the edit"
    )


async def test_a_file_with_no_open_room_has_no_copy_and_its_live_document_opens_it(
    collab: Collab,
) -> None:
    """As the reference, no copy of a room that is not open; unlike it, the live document is
    given, its room opened: what server code writes to it is saved (docs/protocol.md 10.14)."""
    path = collab.write_notebook("closed.ipynb", ["a = 1"])
    where = {"path": "closed.ipynb", "content_type": "notebook", "file_format": "json"}
    assert await collab.compat.get_document(**where, copy=True) is None
    assert collab.document_rooms == []

    live = await collab.compat.get_document(**where, copy=False)
    assert live is not None and cell_sources(live) == ["a = 1"]
    append(live.ycells[0]["source"], "0")
    await wait_until(lambda: sources_on_disk(path) == ["a = 10"], 5, "the edit saved")


async def test_compat_object_lists_open_rooms(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["a = 1"])
    await collab.open_notebook("nb.ipynb")
    (room_id,) = collab.document_rooms
    assert room_id in collab.compat.ywebsocket_server.rooms


def test_page_config_tells_the_front_end_about_rtc(jp_serverapp: ServerApp) -> None:
    page_config = jp_serverapp.web_app.settings["page_config_data"]
    assert isinstance(page_config["disableRTC"], bool)
    assert isinstance(page_config["serverSideExecution"], bool)
    assert page_config["disableRTC"] is False


async def test_get_document_finds_forks_and_refuses_ids_of_no_document(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["x"])
    await collab.open_notebook("nb.ipynb")
    (room_id,) = collab.document_rooms
    status, created = await collab.request("PUT", f"fork/{room_id}", body="{}")
    assert status == 201

    fork = await collab.compat.get_document(room_id=created["fork_roomid"], copy=True)
    assert cell_sources(fork) == ["x"]
    rooms_before = set(collab.rooms)
    for nothing in ("JupyterLab:globalAwareness", "no-such-room", "json:notebook:unknown-id"):
        assert await collab.compat.get_document(room_id=nothing, create=True) is None, nothing
    assert set(collab.rooms) == rooms_before  # and no room was made for them


async def test_a_write_after_the_room_closed_and_the_server_began_to_stop_is_said_lost(
    collab: Collab, caplog: pytest.LogCaptureFixture
) -> None:
    """What server code writes to a closed room's document is carried into the room opened
    again, but a stopping server opens none: the write is said lost, the writer never fails."""
    collab.write_notebook("late.ipynb", ["a = 1"])
    where = {"path": "late.ipynb", "content_type": "notebook", "file_format": "json"}
    live = await collab.compat.get_document(**where, copy=False)
    (room_id,) = collab.document_rooms
    await collab.room_closed(room_id)
    await collab.extension.manager.stop()

    append(live.ycells[0]["source"], "0")  # raises nothing here

    def said() -> bool:
        return any(
            "edit made after its room closed is lost" in r.getMessage() for r in caplog.records
        )

    await wait_until(said, 5, "the warning")
    assert collab.document_rooms == []
