"""jupyter-mcp-server (Datalayer's MCP server, through which agents such as Claude Code work in
notebooks) running as a server extension beside jupyter_ycollab: the real package, with
jupyter-server-nbmodel and a real ipykernel kernel for execution.

It finds jupyter-collaboration's server as the ``jupyter_server_ydoc`` extension point (our
stand-in, compat/standin.py), takes a notebook's room from ``ywebsocket_server.get_room`` and
edits its ``_document`` (compat/rooms.py): what an agent does lands in the document users have
open, not in the file behind their backs. The tests call its tools through the HTTP route it
documents as the short form of MCP's ``tools/call`` (``POST /mcp/tools/call``).

Each test has a server process of its own: jupyter-mcp-server keeps its state (the server it
serves, the notebooks it is using, their kernels) in module globals, which a second server in
the same process would find pointing at the first.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_ydoc import YNotebook
from tornado.httpclient import AsyncHTTPClient

from .client import CollabClient, wait_until
from .harness import Variant, append, cell_sources, make_notebook, read_notebook, sources_on_disk
from .process import JupyterProcess
from .servers import notebook_peer
from .test_nbmodel import KERNEL_TIMEOUT, ran_to_its_end_on_disk, stream_text, waiting_cell

pytestmark = pytest.mark.usefixtures("zmq_contexts_closed")

EXTENSIONS = {
    "jupyter_server_nbmodel": True,  # what jupyter-mcp-server executes cells with
    "jupyter_mcp_server": True,
}
SETTINGS = {"save_delay": 0.1, "max_save_delay": 1.0, "cleanup_delay": 0.5, "poll_interval": 0.2}


class AgentServer:
    """A Jupyter server with jupyter-mcp-server, its folder, and the agent's tool calls."""

    def __init__(self, server: JupyterProcess) -> None:
        self.server = server
        self.root = server.root
        self.peers: list[CollabClient[YNotebook]] = []

    def write_notebook(self, name: str, sources: list[str]) -> Path:
        path = self.root / name
        path.write_text(nbformat.writes(make_notebook(sources)))
        return path

    async def open_notebook(self, name: str) -> CollabClient[YNotebook]:
        """A user's page with the notebook open, synced."""
        session = await self.server.put_session(name, "json", "notebook")
        peer = notebook_peer(self.server, session)
        self.peers.append(peer)
        await peer.sync()
        return peer

    async def call_tool(self, tool: str, **arguments: Any) -> str:
        """Run one of the agent's tools; the text it answers the agent with."""
        response = await AsyncHTTPClient().fetch(
            f"{self.server.base_url}/mcp/tools/call",
            method="POST",
            headers=self.server.headers,
            body=json.dumps({"tool_name": tool, "arguments": arguments}),
            request_timeout=KERNEL_TIMEOUT,
        )
        answer: dict[str, Any] = json.loads(response.body)
        assert answer["success"], f"{tool}: {answer}"
        return "\n".join(part["text"] for part in answer["result"]["content"] if "text" in part)

    async def use_notebook(self, name: str, **arguments: Any) -> str:
        """Make ``name`` the notebook the agent's next calls work on."""
        return await self.call_tool(
            "use_notebook", notebook_name=name, notebook_path=name, **arguments
        )

    async def no_room_open(self) -> bool:
        """Whether the server has no document room open (its status route)."""
        response = await AsyncHTTPClient().fetch(
            f"{self.server.base_url}/api/collaboration/status", headers=self.server.headers
        )
        return json.loads(response.body)["rooms"] == []


@pytest.fixture
async def start_agent(
    tmp_path: Path, variant: Variant
) -> AsyncIterator[Callable[..., Awaitable[AgentServer]]]:
    """Starts the test's server: its variant's way to the file, jupyter-mcp-server, and
    ``SETTINGS`` with any the test overrides."""
    assert variant.manager is None, "a subprocess server imports no class from the tests"
    started: list[AgentServer] = []

    async def start(**overrides: Any) -> AgentServer:
        settings = {**SETTINGS, **overrides}
        if not variant.fast_path:
            settings["fast_path"] = False
        (tmp_path / "root").mkdir()
        server = JupyterProcess(tmp_path / "home", tmp_path / "root", EXTENSIONS, settings)
        started.append(AgentServer(server))
        server.start()
        await server.wait_ready()
        return started[-1]

    yield start
    for agent in started:
        for peer in agent.peers:
            await peer.close()
        agent.server.kill()


async def test_an_agent_edits_the_notebook_its_user_has_open(
    start_agent: Callable[..., Awaitable[AgentServer]],
) -> None:
    """The agent works in the live document: it reads the user's edits nobody saved yet, and
    its own reach the user's page at once, not at the next look at the file."""
    agent = await start_agent(save_delay=60, max_save_delay=120)  # saved by Ctrl-S only
    path = agent.write_notebook("work.ipynb", ["a = 1"])
    user = await agent.open_notebook("work.ipynb")
    teammate = await agent.open_notebook("work.ipynb")  # sees what the server has
    append(user.document.ycells[0]["source"], "0")
    await wait_until(lambda: cell_sources(teammate.document) == ["a = 10"], 10, "the edit")

    await agent.use_notebook("work.ipynb")
    inserted = await agent.call_tool(
        "insert_cell", cell_index=-1, cell_type="code", cell_source="b = 2"
    )
    assert "a = 10" in inserted, inserted  # the file still says a = 1
    await wait_until(lambda: cell_sources(user.document) == ["a = 10", "b = 2"], 10, "inserted")

    append(user.document.ycells[0]["source"], "0")
    await agent.call_tool("overwrite_cell_source", cell_index=1, cell_source="b = 3")
    await wait_until(lambda: cell_sources(user.document) == ["a = 100", "b = 3"], 10, "overwrite")
    assert sources_on_disk(path) == ["a = 1"]  # nothing wrote the file behind the room's back

    assert (await user.save(1))["status"] == "success"
    assert sources_on_disk(path) == ["a = 100", "b = 3"]


async def test_a_cell_the_agent_runs_shows_its_output_to_the_user_and_in_the_file(
    start_agent: Callable[..., Awaitable[AgentServer]],
) -> None:
    agent = await start_agent()
    path = agent.write_notebook("run.ipynb", ["x = 6 * 7", "print('answer', x)"])
    user = await agent.open_notebook("run.ipynb")

    await agent.use_notebook("run.ipynb", kernel_id="NEW")
    await agent.call_tool("execute_cell", cell_index=0, timeout=KERNEL_TIMEOUT)
    answer = await agent.call_tool("execute_cell", cell_index=1, timeout=KERNEL_TIMEOUT)
    assert "answer 42" in answer

    def users_output() -> str:
        return stream_text(user.document.get_cell(1))

    await wait_until(lambda: users_output() == "answer 42\n", KERNEL_TIMEOUT, "the output")

    def output_on_disk() -> str | None:
        with suppress(ValueError):  # the file half written: read at the next turn
            return stream_text(read_notebook(path).cells[1])
        return None

    await wait_until(lambda: output_on_disk() == "answer 42\n", 10, "the output saved")
    assert sources_on_disk(path) == ["x = 6 * 7", "print('answer', x)"]


async def test_an_agent_edits_a_notebook_nobody_has_open(
    start_agent: Callable[..., Awaitable[AgentServer]],
) -> None:
    """No page has it open: the agent's edit goes through a room opened for it, saved, and the
    room closes once nobody uses it."""
    agent = await start_agent()
    path = agent.write_notebook("alone.ipynb", ["a = 1"])

    await agent.use_notebook("alone.ipynb")
    await agent.call_tool("insert_cell", cell_index=0, cell_type="markdown", cell_source="# A")

    await wait_until(lambda: sources_on_disk(path) == ["# A", "a = 1"], 10, "saved")
    assert read_notebook(path).cells[0].cell_type == "markdown"
    await wait_until(agent.no_room_open, 10, "the room to close")


def started_on_disk(path: Path) -> bool:
    """Whether the file shows the waiting cell running (its first output saved)."""
    with suppress(ValueError):  # the file half written: read at the next turn
        return stream_text(read_notebook(path).cells[0]) == "started\n"
    return False


async def test_a_cell_an_agent_runs_in_a_notebook_nobody_has_open_reaches_the_file(
    start_agent: Callable[..., Awaitable[AgentServer]],
) -> None:
    """The room opened for the agent closes (``cleanup_delay``, nobody uses it) while the cell
    runs: its outputs and execution count, written to the document jupyter-server-nbmodel
    holds, reach the file all the same (they were lost; the reference keeps such rooms open)."""
    agent = await start_agent(cleanup_delay=2.0)
    go = agent.root.parent / "go"
    path = agent.write_notebook("train.ipynb", [waiting_cell(go)])
    await agent.use_notebook("train.ipynb", kernel_id="NEW")

    running = asyncio.create_task(
        agent.call_tool("execute_cell", cell_index=0, timeout=KERNEL_TIMEOUT)
    )
    await wait_until(lambda: started_on_disk(path), KERNEL_TIMEOUT, "the cell to start")
    await wait_until(agent.no_room_open, 10, "the room to close while the cell runs")
    go.touch()

    assert "finished" in await running
    await wait_until(lambda: ran_to_its_end_on_disk(path), 10, "the outputs in the file")
