"""Server-side execution with jupyter-server-nbmodel and a real ipykernel kernel, and an agent
editing through jupyter-nbmodel-client, against jupyter_ycollab: the real packages, no mocks."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_nbmodel_client import NbModelClient, get_jupyter_notebook_websocket_url
from jupyter_server_nbmodel.log import get_logger
from jupyter_ydoc import YNotebook

from .client import CollabClient, wait_until
from .harness import (
    Collab,
    append,
    cell_sources,
    notebook_on_disk,
    sources_on_disk,
)

pytestmark = pytest.mark.usefixtures("zmq_contexts_closed")

EXTENSIONS = {
    "jupyter_ycollab": True,
    "jupyter_server_fileid": True,
    "jupyter_server_nbmodel": True,
}
# A kernel starts, connects and runs within seconds; on a busy 2-core runner, give it time.
KERNEL_TIMEOUT = 60.0


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """conftest's server (both contents paths), with jupyter_server_nbmodel enabled."""
    jp_server_config["ServerApp"]["jpserver_extensions"] = EXTENSIONS
    return jp_server_config


@pytest.fixture
async def kernel_id(collab: Collab) -> AsyncIterator[str]:
    """A python3 (ipykernel) kernel started through the REST API, as the front end does."""
    response = await collab.fetch(
        "api", "kernels", method="POST", body=json.dumps({"name": "python3"})
    )
    kernel: dict[str, Any] = json.loads(response.body)
    yield kernel["id"]
    await collab.fetch("api", "kernels", kernel["id"], method="DELETE")


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def nbmodel_log() -> Iterator[Records]:
    """What jupyter_server_nbmodel logs (it says there whether outputs reached the document)."""
    logger = get_logger()
    records = Records()
    logger.addHandler(records)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    yield records
    logger.removeHandler(records)
    logger.setLevel(level)


def waiting_cell(go: Path) -> str:
    """Code that prints, then runs until ``go`` exists, then prints again: "still running" is
    a fact the test controls, not a race against the clock."""
    return (
        "import os, time\n"
        "print('started', flush=True)\n"
        f"while not os.path.exists({str(go)!r}):\n"
        "    time.sleep(0.02)\n"
        "print('finished', flush=True)\n"
    )


def stream_text(cell: dict[str, Any]) -> str:
    """The stdout the cell's outputs show (a stream's text is a string or a list of lines)."""
    text = ""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            value = output["text"]
            text += value if isinstance(value, str) else "".join(value)
    return text


async def shift_enter(
    collab: Collab, kernel_id: str, runner: CollabClient[YNotebook], path: str, index: int = 0
) -> None:
    """Run a cell on the server: what the nbmodel front end sends when ``runner`` presses
    Shift-Enter in it (for each cell, all at once, when it runs them all)."""
    (room_id,) = collab.document_rooms
    cell = runner.document.get_cell(index)
    body = {
        "code": cell["source"],
        "metadata": {"cell_id": cell["id"], "document_id": room_id, "document_path": path},
    }
    response = await collab.fetch(
        "api", "kernels", kernel_id, "execute", method="POST", body=json.dumps(body)
    )
    assert response.code == 202


def ran_to_its_end(cell: dict[str, Any]) -> bool:
    """Whether the waiting cell's outputs and execution count are those of its whole run."""
    return cell["execution_count"] == 1 and stream_text(cell) == "started\nfinished\n"


@pytest.mark.also_other_managers
async def test_outputs_stream_into_the_document_and_survive_the_runner_leaving(
    collab: Collab, kernel_id: str, nbmodel_log: Records
) -> None:
    go = collab.root.parent / "go"
    path = collab.write_notebook("run.ipynb", [waiting_cell(go)])
    runner = await collab.open_notebook("run.ipynb")
    watcher = await collab.open_notebook("run.ipynb")
    await shift_enter(collab, kernel_id, runner, "run.ipynb")

    def watcher_cell() -> dict[str, Any]:
        return watcher.document.get_cell(0)

    await watcher.wait_for(
        lambda: stream_text(watcher_cell()) == "started\n",
        KERNEL_TIMEOUT,
        "the first output to reach the other user while the cell runs",
    )
    assert watcher_cell()["execution_count"] is None  # it is still running

    await runner.drop()  # the runner closes the tab mid-run
    go.touch()

    await watcher.wait_for(
        lambda: ran_to_its_end(watcher_cell()), KERNEL_TIMEOUT, "the final output and count"
    )
    await wait_until(lambda: ran_to_its_end_on_disk(path), 10, "the outputs in the file")
    assert any("written to shared document=True" in message for message in nbmodel_log.messages)
    assert not any("Outputs won't be written" in message for message in nbmodel_log.messages)


def ran_to_its_end_on_disk(path: Path) -> bool:
    notebook = notebook_on_disk(path)
    return notebook is not None and ran_to_its_end(notebook["cells"][0])


async def run_and_leave(collab: Collab, kernel_id: str, name: str, more: list[str]) -> Path:
    """A notebook of a waiting cell and ``more`` cells, all run on the server by its only
    user, who closes the tab while the first runs; its room closes; then the first goes on."""
    go = collab.root.parent / "go"
    path = collab.write_notebook(name, [waiting_cell(go), *more])
    runner = await collab.open_notebook(name)
    (room_id,) = collab.document_rooms
    for index in range(1 + len(more)):  # "Run all": each cell's request sent at once
        await shift_enter(collab, kernel_id, runner, name, index)
    await runner.wait_for(
        lambda: stream_text(runner.document.get_cell(0)) == "started\n",
        KERNEL_TIMEOUT,
        "the first output",
    )
    await runner.drop()
    await collab.room_closed(room_id)
    go.touch()
    return path


async def test_a_cell_that_ends_after_its_room_closed_still_reaches_the_file(
    collab: Collab, kernel_id: str
) -> None:
    """The only user closes the tab mid-run and the room closes (``cleanup_delay``) before the
    cell ends: what jupyter-server-nbmodel writes then, to the document it holds, is carried
    into the room opened again for it, and saved (docs/protocol.md 10.14; the reference loses
    it)."""
    path = await run_and_leave(collab, kernel_id, "alone.ipynb", [])
    await wait_until(lambda: ran_to_its_end_on_disk(path), KERNEL_TIMEOUT, "the file")
    later = await collab.open_notebook("alone.ipynb")
    assert ran_to_its_end(later.document.get_cell(0))


async def test_cells_queued_to_run_after_their_room_closed_still_reach_the_file(
    collab: Collab, kernel_id: str
) -> None:
    """Run all, then the only user closes the tab: the second cell starts after the room
    closed, when jupyter-server-nbmodel asks for the live document again. The room is opened
    for it, so its outputs reach the file (docs/protocol.md 10.14)."""
    path = await run_and_leave(collab, kernel_id, "all.ipynb", ["print('second', flush=True)"])

    def second_on_disk() -> bool:
        notebook = notebook_on_disk(path)
        if notebook is None:
            return False
        cell = notebook["cells"][1]
        return cell["execution_count"] == 2 and stream_text(cell) == "second\n"

    await wait_until(second_on_disk, KERNEL_TIMEOUT, "the second cell's output in the file")
    assert ran_to_its_end_on_disk(path)


@pytest.mark.also_other_managers
async def test_an_agent_on_nbmodel_client_and_a_user_edit_one_notebook(collab: Collab) -> None:
    path = collab.write_notebook("shared.ipynb", ["x = 1"])
    user = await collab.open_notebook("shared.ipynb")
    server_url = f"http://127.0.0.1:{collab.port}{collab.base_url}"
    # The helper asks for a session with a blocking HTTP client: not on the server's loop.
    ws_url = await asyncio.to_thread(
        get_jupyter_notebook_websocket_url, server_url, "shared.ipynb", collab.token
    )

    async with NbModelClient(ws_url, username="agent") as agent:
        assert agent.synced
        agent.add_code_cell("y = 2  # from the agent")
        append(user.document.ycells[0]["source"], "  # from the user")
        both = ["x = 1  # from the user", "y = 2  # from the agent"]
        await user.wait_for(lambda: cell_sources(user.document) == both, 10, "the agent's cell")
        await wait_until(
            lambda: [agent.get_cell_source(i) for i in range(len(agent))] == both,
            10,
            "the user's edit at the agent",
        )

    await wait_until(lambda: sources_on_disk(path) == both, 10, "both edits in the file")
