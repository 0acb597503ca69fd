"""Whole-process behaviour of `jupyter server` with the extension: shutdown, startup refusal,
deterministic loading across processes."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_ydoc import YNotebook
from pycrdt import Doc
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from .client import CollabClient
from .harness import append, cell_sources, make_notebook, read_notebook, sources_on_disk
from .process import JupyterProcess

ROOMS = 200
EDIT = "  # edited"


@pytest.fixture
def processes() -> Iterator[list[JupyterProcess]]:
    started: list[JupyterProcess] = []
    yield started
    for process in started:
        process.kill()


def write_notebooks(root: Path, count: int) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = root / f"nb_{index:03}.ipynb"
        nbformat.write(make_notebook([f"x = {index}"]), path)
        paths.append(path)
    return paths


async def open_and_edit(server: JupyterProcess, path: Path) -> list[CollabClient[YNotebook]]:
    """One writer makes an unsaved edit; an observer proves the server applied it."""
    session = await server.put_session(path.name, "json", "notebook")
    writer = CollabClient(YNotebook(Doc()), server.room_url(session), server.headers)
    await writer.sync()
    append(writer.document.ycells[0]["source"], EDIT)
    observer = CollabClient(YNotebook(Doc()), server.room_url(session), server.headers)
    await observer.sync()
    await observer.wait_for(
        lambda: cell_sources(observer.document)[0].endswith(EDIT), 10, "the edit"
    )
    return [writer, observer]


@pytest.mark.alone
async def test_sigterm_saves_200_dirty_rooms_and_exits_quickly(
    tmp_path: Path, processes: list[JupyterProcess]
) -> None:
    paths = write_notebooks(tmp_path / "root", ROOMS)
    server = JupyterProcess(
        tmp_path / "home",
        tmp_path / "root",
        ycollab={"save_delay": 600.0, "max_save_delay": 1200.0, "cleanup_delay": 600.0},
    )
    processes.append(server)
    server.start()
    await server.wait_ready()

    limit = asyncio.Semaphore(20)

    async def one_room(path: Path) -> list[CollabClient[YNotebook]]:
        async with limit:
            return await open_and_edit(server, path)

    clients = await asyncio.gather(*(one_room(path) for path in paths))
    unsaved = [p for p in paths if cell_sources(read_notebook(p))[0].endswith(EDIT)]
    assert not unsaved, f"{len(unsaved)} files saved before SIGTERM: save_delay ignored"

    elapsed = await server.terminate(timeout=30)

    assert elapsed < 10, f"SIGTERM took {elapsed:.1f} s to stop the server"
    lost = [p.name for p in paths if not cell_sources(read_notebook(p))[0].endswith(EDIT)]
    assert not lost, f"{len(lost)} of {ROOMS} edits lost at shutdown, e.g. {lost[:5]}"
    for pair in clients:
        for client in pair:
            await client.wait_closed(10)


async def test_refuses_to_start_alongside_jupyter_server_ydoc(
    tmp_path: Path, processes: list[JupyterProcess]
) -> None:
    # A stand-in for jupyter_server_ydoc, so both extensions really are installed and enabled.
    stub = tmp_path / "stub" / "jupyter_server_ydoc"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text(
        "def _jupyter_server_extension_points():\n"
        "    return [{'module': 'jupyter_server_ydoc'}]\n\n"
        "def _load_jupyter_server_extension(serverapp):\n"
        "    serverapp.web_app.settings.setdefault('jupyter_server_ydoc_stub', True)\n"
    )
    (tmp_path / "root").mkdir()
    server = JupyterProcess(
        tmp_path / "home",
        tmp_path / "root",
        extensions={"jupyter_server_ydoc": True},
        pythonpath=[tmp_path / "stub"],
    )
    processes.append(server)
    server.start()

    code = await server.wait_exit(30)

    log = server.log()
    assert code != 0, f"server exited with 0:\n{log}"
    both = [
        line
        for line in log.splitlines()
        if "jupyter_server_ydoc" in line and "jupyter_ycollab" in line
    ]
    assert both, f"no message names both extensions:\n{log}"


@pytest.mark.parametrize(
    ("value", "reason"),
    [("soon", "expected a float, not the str 'soon'"), (-1, "save_delay must be >= 0, not -1")],
)
async def test_an_invalid_option_turns_collaboration_off_and_says_why(
    tmp_path: Path, processes: list[JupyterProcess], value: object, reason: str
) -> None:
    """jupyter_server runs on when an extension fails to link, and loads it all the same: the
    log says which option is wrong and that collaboration is off, nothing of ours half-starts,
    and the server stops cleanly."""
    (tmp_path / "root").mkdir()
    server = JupyterProcess(tmp_path / "home", tmp_path / "root", ycollab={"save_delay": value})
    processes.append(server)
    server.start()
    await server.wait_ready()

    with pytest.raises(HTTPClientError) as refused:
        await server.put_session("nb.ipynb", "json", "notebook")
    await server.terminate(timeout=30)

    log = server.log()
    assert refused.value.code == 404, log  # no route of ours: the front end cannot half-open
    assert reason in log
    assert "collaboration is off: linking failed" in log
    assert "AttributeError" not in log, log  # what linking left unset, used anyway
    assert "Saved and closed" not in log, log  # no room manager was made, so none stops
    assert server.returncode == 0, log


async def page_config(server: JupyterProcess) -> dict[str, Any]:
    """The page config JupyterLab's page gets (what its collaboration front end reads)."""
    response = await AsyncHTTPClient().fetch(f"{server.base_url}/lab", headers=server.headers)
    html = response.body.decode()
    start = html.index(">", html.index('id="jupyter-config-data"')) + 1
    config: dict[str, Any] = json.loads(html[start : html.index("</script>", start)])
    return config


@pytest.mark.parametrize(
    ("extensions", "ycollab", "reason"),
    [
        pytest.param(
            {"jupyter_server_fileid": False},
            {},
            "jupyter_server_fileid is disabled",
            id="no file ids",
        ),
        pytest.param({}, {"save_delay": "soon"}, "linking failed", id="invalid option"),
    ],
)
async def test_with_collaboration_off_jupyterlab_opens_documents_without_it(
    tmp_path: Path,
    processes: list[JupyterProcess],
    extensions: dict[str, bool],
    ycollab: dict[str, Any],
    reason: str,
) -> None:
    """A server where collaboration cannot run says why once, at start, and tells JupyterLab's
    front end (``disableRTC``), which then opens documents as it does without collaboration:
    not an error at each document the user opens. The other extensions find it off too."""
    (tmp_path / "root").mkdir()
    enabled = {"jupyterlab": True, **extensions}
    server = JupyterProcess(tmp_path / "home", tmp_path / "root", enabled, ycollab)
    processes.append(server)
    server.start()
    await server.wait_ready()

    config = await page_config(server)
    assert config["disableRTC"] is True
    # jupyter-live-content (installed here), which reloads open documents from their files
    # where collaboration is off, finds it off and stays on.
    assert config["liveContentServerDisabled"] is False
    await server.terminate(timeout=30)
    log = server.log()
    assert f"collaboration is off: {reason}" in log, log


async def load_once(
    tmp_path: Path, name: str, processes: list[JupyterProcess], fileids: Path | None
) -> tuple[bytes, Path]:
    """Start a server with a fresh home, sync a client to nb.ipynb, stop; return its update."""
    home = tmp_path / name
    if fileids is not None:  # same file id, but none of the first server's other state
        (home / "data").mkdir(parents=True)
        shutil.copy(fileids, home / "data" / fileids.name)
    server = JupyterProcess(home, tmp_path / "root", ycollab={"save_delay": 600.0})
    processes.append(server)
    server.start()
    await server.wait_ready()
    session = await server.put_session("nb.ipynb", "json", "notebook")
    client = CollabClient(YNotebook(Doc()), server.room_url(session), server.headers)
    await client.sync()
    update = client.ydoc.get_update()
    await client.close()
    await server.terminate(timeout=30)
    return update, home / "data" / "file_id_manager.db"


async def test_two_processes_load_the_same_file_into_identical_crdt_items(
    tmp_path: Path, processes: list[JupyterProcess]
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    path = root / "nb.ipynb"
    nbformat.write(make_notebook(["import os", "print(os.getcwd())", "# title"]), path)
    data = path.read_bytes()

    first, fileids = await load_once(tmp_path, "home1", processes, None)
    assert fileids.exists(), "jupyter_server_fileid's database is not where expected"
    second, _ = await load_once(tmp_path, "home2", processes, fileids)

    merged = YNotebook(Doc())
    merged.ydoc.apply_update(first)
    merged.ydoc.apply_update(second)
    assert cell_sources(merged) == ["import os", "print(os.getcwd())", "# title"]
    assert path.read_bytes() == data


async def test_a_client_reconnecting_after_a_restart_keeps_its_session_and_duplicates_nothing(
    tmp_path: Path, processes: list[JupyterProcess]
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    path = root / "nb.ipynb"
    nbformat.write(make_notebook(["a = 1", "b = 2"]), path)
    settings = {"save_delay": 0.1, "max_save_delay": 1.0}

    first = JupyterProcess(tmp_path / "home", root, ycollab=settings)
    processes.append(first)
    first.start()
    await first.wait_ready()
    session = await first.put_session("nb.ipynb", "json", "notebook")
    client = CollabClient(YNotebook(Doc()), first.room_url(session), first.headers)
    await client.sync()
    append(client.document.ycells[0]["source"], "0")
    await client.wait_for(lambda: sources_on_disk(path) == ["a = 10", "b = 2"], 10, "the save")
    await first.terminate(timeout=30)
    await client.wait_closed(10)

    second = JupyterProcess(tmp_path / "home", root, ycollab=settings)  # same state dirs
    processes.append(second)
    second.start()
    await second.wait_ready()
    again = await second.put_session("nb.ipynb", "json", "notebook")
    assert again["sessionId"] == session["sessionId"], "the lineage did not survive a restart"
    # The front end reuses its old URL and its document, with a change made while offline.
    append(client.document.ycells[1]["source"], "0")
    client.url = second.room_url(session)
    await client.reconnect()

    assert client.close_code is None, (client.close_code, client.close_reason)
    assert cell_sources(client.document) == ["a = 10", "b = 20"]
    await client.wait_for(lambda: sources_on_disk(path) == ["a = 10", "b = 20"], 10, "the save")
    fresh = CollabClient(YNotebook(Doc()), second.room_url(session), second.headers)
    await fresh.sync()
    assert cell_sources(fresh.document) == ["a = 10", "b = 20"]
    await fresh.close()
    await client.close()
