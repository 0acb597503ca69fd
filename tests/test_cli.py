"""`jupyter ycollab list / export / restore` on the logs a SIGKILLed server left behind."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
from pycrdt import Text

from jupyter_ycollab.logtools import unsaved

from .client import CollabClient, wait_until
from .harness import append, cell_sources, make_notebook, read_notebook, sources_on_disk
from .servers import (
    ServerSeries,
    assert_stays,
    disconnected,
    log_name,
    notebook_peer,
    room_id,
    run_tool,
    successor,
    text_peer,
)

UNSAVED = {"save_delay": 60.0, "max_save_delay": 120.0, "log_commit_delay": 0.1}


@pytest.fixture
def series(tmp_path: Path) -> Iterator[ServerSeries]:
    made = ServerSeries(tmp_path / "home", tmp_path / "root", UNSAVED)
    yield made
    made.kill_all()


@dataclass
class Scene:
    """What the killed server left: the sessions of its documents and their last clients."""

    notebook: dict[str, Any]
    text: dict[str, Any]
    saved: dict[str, Any]
    clients: list[CollabClient[Any]]


async def listing(series: ServerSeries, *command: str) -> set[tuple[str, ...]]:
    run = await run_tool("--log-dir", str(series.log_dir), "list", command=command or None)
    assert run.code == 0, run.stderr
    return {tuple(line.split("\t")) for line in run.stdout.splitlines() if line.strip()}


def listed(*sessions: dict[str, Any]) -> set[tuple[str, ...]]:
    paths = {"json": "nb.ipynb", "text": "notes/t.txt"}
    return {(room_id(s), paths[s["format"]], log_name(s)) for s in sessions}


async def kill_with_unsaved_edits(series: ServerSeries) -> Scene:
    """A notebook and a text file with unsaved edits, a notebook whose edit was saved; SIGKILL."""
    nbformat.write(make_notebook(["a = 1", "b = 2"]), series.root / "nb.ipynb")
    (series.root / "notes").mkdir()
    (series.root / "notes" / "t.txt").write_text("one\ntwo\n")
    nbformat.write(make_notebook(["s = 1"]), series.root / "saved.ipynb")
    server = await series.start()
    scene = Scene(
        await server.put_session("nb.ipynb", "json", "notebook"),
        await server.put_session("notes/t.txt", "text", "file"),
        await server.put_session("saved.ipynb", "json", "notebook"),
        [],
    )
    notebook, saved = notebook_peer(server, scene.notebook), notebook_peer(server, scene.saved)
    text = text_peer(server, scene.text)
    scene.clients = [notebook, text, saved]
    for client in scene.clients:
        await client.sync()
    append(saved.document.ycells[0]["source"], "0")
    assert (await saved.save(1))["status"] == "success"
    append(notebook.document.ycells[1]["source"], "  # unsaved")
    text.ydoc.get("source", type=Text).insert(0, "unsaved ")

    expected = listed(scene.notebook, scene.text)
    await wait_until(lambda: has_listing(series, expected), 15, "the logs to list the edits")
    await series.sigkill()
    return scene


def has_listing(series: ServerSeries, expected: set[tuple[str, ...]]) -> bool:
    """Polled in this process, through what ``list`` prints (a process of the command takes
    about a second to start)."""
    return series.log_dir.exists() and set(unsaved(series.log_dir)) == expected


async def test_list_names_the_documents_whose_files_lack_logged_edits(
    series: ServerSeries,
) -> None:
    scene = await kill_with_unsaved_edits(series)

    expected = listed(scene.notebook, scene.text)
    assert await listing(series) == expected
    assert await listing(series, "jupyter", "ycollab") == expected


async def test_export_writes_the_last_known_content_with_the_unsaved_edits(
    series: ServerSeries, tmp_path: Path
) -> None:
    scene = await kill_with_unsaved_edits(series)
    log_dir = str(series.log_dir)

    out = tmp_path / "exported.ipynb"
    run = await run_tool("--log-dir", log_dir, "export", room_id(scene.notebook), "-o", str(out))
    assert run.code == 0, run.stderr
    exported = read_notebook(out)
    nbformat.validate(exported)
    assert cell_sources(exported) == ["a = 1", "b = 2  # unsaved"]

    run = await run_tool("--log-dir", log_dir, "export", room_id(scene.text), "-o", "-")
    assert run.code == 0, run.stderr
    assert run.stdout == "unsaved one\ntwo\n"
    run = await run_tool("--log-dir", log_dir, "export", log_name(scene.text))
    assert run.stdout == "unsaved one\ntwo\n", "a log file name is not accepted as ROOM"


async def test_restore_writes_the_unsaved_edits_to_the_file_and_a_restart_keeps_them_once(
    series: ServerSeries,
) -> None:
    scene = await kill_with_unsaved_edits(series)
    root, log_dir = str(series.root), str(series.log_dir)

    run = await run_tool(
        "--log-dir", log_dir, "restore", room_id(scene.notebook), "--root-dir", root
    )
    assert run.code == 0, run.stderr
    assert sources_on_disk(series.root / "nb.ipynb") == ["a = 1", "b = 2  # unsaved"]
    restored = series.root / "notes" / "t-restored.txt"
    run = await run_tool(
        "--log-dir", log_dir, "restore", room_id(scene.text), "--root-dir", root,
        "--to", "notes/t-restored.txt",
    )  # fmt: skip
    assert run.code == 0, run.stderr
    assert restored.read_text() == "unsaved one\ntwo\n"
    assert (series.root / "notes" / "t.txt").read_text() == "one\ntwo\n"

    # The restored file equals what the log holds: the restarted server takes it as is.
    server = await series.start()
    again = await server.put_session("nb.ipynb", "json", "notebook")
    assert again["sessionId"] == scene.notebook["sessionId"]
    reader = notebook_peer(server, again)
    await reader.sync()
    assert cell_sources(reader.document) == ["a = 1", "b = 2  # unsaved"]
    await disconnected(scene.clients[0])
    writer = successor(scene.clients[0], server.room_url(scene.notebook))
    await writer.sync()
    assert writer.close_code is None
    assert cell_sources(writer.document) == ["a = 1", "b = 2  # unsaved"]
    await assert_stays(
        lambda: cell_sources(reader.document) == ["a = 1", "b = 2  # unsaved"],
        0.5,
        "the reconnecting client duplicated its edit",
    )
    await writer.close()
    await reader.close()
    await series.stop()
