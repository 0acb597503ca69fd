"""Files kept in object storage: s3contents' ``S3ContentsManager`` (the contents manager most
deployments on S3 or GCS use) as the server's contents manager, over a real S3 endpoint
(tests/s3server.py). Its files are not on this disk, and its ``get`` predates
``require_hash``: it gives no hash, so the room makes one from the content (document/files.py),
and the front end still sees a new ``state.hash`` after each save.

These tests run only as ``[s3]`` (conftest.py); the harness checks that s3contents' manager
serves. Files are put in the bucket and read back from it directly, as another program would;
s3contents (through s3fs) sees such a change once it lists the folder again, which the file
browser does every few seconds: ``upload`` lists it, as the file browser would.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from .client import wait_until
from .harness import Collab, append, cell_sources, everyone_holds, make_notebook
from .s3server import S3Folder
from .servers import ServerSeries, holds, log_name, notebook_peer

pytestmark = pytest.mark.s3_only

UNSAVED = {"save_delay": 60.0, "max_save_delay": 120.0}


def notebook_bytes(sources: list[str]) -> bytes:
    return nbformat.writes(make_notebook(sources)).encode()


async def upload(collab: Collab, s3: S3Folder, name: str, data: bytes) -> None:
    """Put a file in the bucket as another program would; then the file browser lists it."""
    s3.put(name, data)
    await collab.fetch("api", "contents", "", method="GET")


def stored_cells(s3: S3Folder, name: str) -> list[str]:
    return cell_sources(nbformat.reads(s3.text(name), as_version=4))


async def test_two_users_co_edit_a_notebook_kept_in_s3(collab: Collab, s3: S3Folder) -> None:
    await upload(collab, s3, "nb.ipynb", notebook_bytes(["a = 1", "b = 2"]))
    alice = await collab.open_notebook("nb.ipynb")
    bob = await collab.open_notebook("nb.ipynb")
    assert cell_sources(alice.document) == ["a = 1", "b = 2"]

    append(alice.document.ycells[0]["source"], "  # alice")
    append(bob.document.ycells[1]["source"], "  # bob")

    expected = ["a = 1  # alice", "b = 2  # bob"]
    await everyone_holds(collab, "nb.ipynb", [alice, bob], expected)
    await wait_until(lambda: stored_cells(s3, "nb.ipynb") == expected, 5, "the autosave")
    await alice.wait_for(lambda: alice.document.ystate.get("dirty") is False, 5, "clean")
    assert isinstance(alice.document.ystate.get("hash"), str)


@pytest.mark.ycollab(**UNSAVED)
async def test_ctrl_s_saves_to_s3_and_gives_a_new_hash(collab: Collab, s3: S3Folder) -> None:
    await upload(collab, s3, "nb.ipynb", notebook_bytes(["a = 1"]))
    client = await collab.open_notebook("nb.ipynb")
    state = client.document.ystate
    hash_before = state.get("hash")
    assert isinstance(hash_before, str), "a document loaded from S3 has a hash"
    append(client.document.ycells[0]["source"], "0")
    client.document.dirty = True

    reply = await client.save(1)

    assert reply == {"type": "save", "responseTo": 1, "status": "success"}
    assert stored_cells(s3, "nb.ipynb") == ["a = 10"]
    await client.wait_for(lambda: state.get("hash") != hash_before, 5, "a new hash")
    assert state.get("dirty") is False
    assert (await client.save(2))["status"] == "success", "a clean document saves too"


@pytest.mark.ycollab(**UNSAVED)
async def test_a_change_made_in_the_bucket_reaches_the_room(collab: Collab, s3: S3Folder) -> None:
    await upload(collab, s3, "nb.ipynb", notebook_bytes(["a = 1", "b = 2", "c = 3"]))
    client = await collab.open_notebook("nb.ipynb")
    append(client.document.ycells[0]["source"], "  # typed")  # unsaved while the file changes
    await everyone_holds(collab, "nb.ipynb", [client], ["a = 1  # typed", "b = 2", "c = 3"])

    stored = nbformat.reads(s3.text("nb.ipynb"), as_version=4)
    stored.cells[1].source = "b = 20"
    await upload(collab, s3, "nb.ipynb", nbformat.writes(stored).encode())

    merged = ["a = 1  # typed", "b = 20", "c = 3"]
    await everyone_holds(collab, "nb.ipynb", [client], merged)
    assert (await client.save(1))["status"] == "success"
    assert stored_cells(s3, "nb.ipynb") == merged


async def test_a_text_file_in_s3_is_co_edited_and_saved(collab: Collab, s3: S3Folder) -> None:
    await upload(collab, s3, "notes.md", b"# Notes\n")
    alice = await collab.open_text("notes.md")
    bob = await collab.open_text("notes.md")

    append(alice.document._ysource, "alice\n")

    await bob.wait_for(lambda: bob.document.source == "# Notes\nalice\n", 5, "alice's line")
    await wait_until(lambda: s3.text("notes.md") == "# Notes\nalice\n", 5, "the autosave")


async def test_the_contents_api_and_the_room_agree_on_a_new_notebook(
    collab: Collab, s3: S3Folder
) -> None:
    """A notebook made through Jupyter (the file browser's "New notebook") opens with one empty
    cell, as a notebook with no cells loads, and saves as valid JSON."""
    body = json.dumps({"type": "notebook"})
    created = json.loads((await collab.fetch("api", "contents", method="POST", body=body)).body)
    client = await collab.open_notebook(created["path"])
    assert cell_sources(client.document) == [""]

    append(client.document.ycells[0]["source"], "x = 1")

    path = created["path"]
    await wait_until(lambda: stored_cells(s3, path) == ["x = 1"], 5, "the new cell saved")


async def test_unsaved_edits_survive_a_crash_and_merge_with_a_change_made_in_s3_meanwhile(
    s3: S3Folder, tmp_path: Path
) -> None:
    """The update log keeps edits not yet in S3; after a SIGKILL, the restarted server finds
    the file changed by someone else (its hash is not the one the log saved) and merges."""
    series = ServerSeries(tmp_path / "home", tmp_path / "root", UNSAVED | {"log_commit_delay": 0.1})
    series.config = {
        "ServerApp": {"contents_manager_class": "s3contents.S3ContentsManager"},
        "S3ContentsManager": s3.manager_config,
    }
    s3.put("nb.ipynb", notebook_bytes(["a = 1", "b = 2", "c = 3"]))
    server = await series.start()
    try:
        session = await server.put_session("nb.ipynb", "json", "notebook")
        writer = notebook_peer(server, session)
        await writer.sync()
        append(writer.document.ycells[0]["source"], "  # ours")
        log = series.log_dir / log_name(session)
        await wait_until(lambda: holds(log, b"# ours"), 10, "the edit in the update log")
        await series.sigkill()
        await writer.close()
        assert stored_cells(s3, "nb.ipynb") == ["a = 1", "b = 2", "c = 3"], "saved too early"

        s3.put("nb.ipynb", notebook_bytes(["a = 1", "b = 2", "c = 30"]))
        series.ycollab.update(save_delay=0.1, max_save_delay=0.5)
        server = await series.start()
        again = await server.put_session("nb.ipynb", "json", "notebook")
        assert again["sessionId"] == session["sessionId"], "the history was kept"
        reader = notebook_peer(server, again)
        await reader.sync()

        merged = ["a = 1  # ours", "b = 2", "c = 30"]
        assert cell_sources(reader.document) == merged
        await wait_until(lambda: stored_cells(s3, "nb.ipynb") == merged, 10, "the merge saved")
        await reader.close()
    finally:
        series.kill_all()


async def test_a_notebook_renamed_through_jupyter_keeps_its_room_and_saves_to_its_new_name(
    collab: Collab, s3: S3Folder
) -> None:
    """The file's id follows the rename (jupyter_server_fileid picks its manager for paths
    that are not on this disk), so saves go to the new name and the old one stays gone."""
    await upload(collab, s3, "nb.ipynb", notebook_bytes(["a = 1"]))
    client = await collab.open_notebook("nb.ipynb")

    body = json.dumps({"path": "renamed.ipynb"})
    await collab.fetch("api", "contents", "nb.ipynb", method="PATCH", body=body)
    await client.wait_for(lambda: client.document.ystate.get("path") == "renamed.ipynb", 5, "path")
    append(client.document.ycells[0]["source"], "  # after")

    await wait_until(lambda: stored_cells(s3, "renamed.ipynb") == ["a = 1  # after"], 5, "save")
    listing = json.loads((await collab.fetch("api", "contents", "", method="GET")).body)
    assert [entry["name"] for entry in listing["content"]] == ["renamed.ipynb"]
