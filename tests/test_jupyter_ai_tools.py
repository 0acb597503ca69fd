"""jupyter-ai 3's notebook tools (jupyter-ai-tools' notebook toolkit): how its agents, Jupyternaut
and those run over ACP (Claude Code and others, through jupyter-server-mcp), read and edit
notebooks. With collaboration on, each tool takes the room's live document
(``ywebsocket_server.get_room(...)._document``, compat/rooms.py) and works in it, beside the
users who have the notebook open; the file is the room's to write. The real functions, called in
the server as the agent's tool calls run them.

Its read tools read the file itself when collaboration is on (they take it to be current), so an
agent reads a user's edit once the room saved it (``save_delay`` later), with the reference too.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from jupyter_ai_tools.toolkits import notebook as tools

from .client import CollabClient, wait_until
from .harness import Collab, append, cell_sources, sources_on_disk

#: Words the agent types, one every 0.1 s (jupyter-ai-tools' typing speed): 2 s in all; the
#: longer about 5 s, to outlast the room it began in.
LONG_LINE = "total = " + " + ".join(str(n) for n in range(10))
LONGER_LINE = "total = " + " + ".join(str(n) for n in range(25))


def agents_cursor_seen_by(user: CollabClient[Any]) -> bool:
    """Whether the user sees a cursor that is not its own (the agent's, set as it types)."""
    return any(
        state.get("cursors")
        for client_id, state in user.awareness_states.items()
        if client_id != user.client_id
    )


@pytest.mark.ycollab(save_delay=60, max_save_delay=120)  # saved by Ctrl-S only
async def test_the_agents_edits_reach_the_user_and_the_file_at_their_save(collab: Collab) -> None:
    path = collab.write_notebook("nb.ipynb", ["a = 1", "b = 2", "c = 3"])
    user = await collab.open_notebook("nb.ipynb")
    append(user.document.ycells[0]["source"], "0")  # not saved: the agent's edits keep it

    await tools.insert_cell("nb.ipynb", content="d = 4", insert_index=3)
    await tools.edit_cell("nb.ipynb", "cell-1", "b = 20")
    await tools.delete_cell("nb.ipynb", "cell-2")

    expected = ["a = 10", "b = 20", "d = 4"]
    await wait_until(lambda: cell_sources(user.document) == expected, 5, "the agent's edits")
    assert sources_on_disk(path) == ["a = 1", "b = 2", "c = 3"]  # nobody wrote it behind us
    assert (await user.save(1))["status"] == "success"
    assert sources_on_disk(path) == expected


async def test_the_user_sees_the_agent_type(collab: Collab) -> None:
    """With ``animate``, the agent types word by word and shows its cursor: the user sees the
    cell grow, not one late replacement."""
    path = collab.write_notebook("nb.ipynb", ["a = 1"])
    user = await collab.open_notebook("nb.ipynb")
    seen: set[str] = set()

    def watch() -> bool:
        seen.add(cell_sources(user.document)[0])
        return typing.done()

    typing = asyncio.create_task(tools.edit_cell("nb.ipynb", "cell-0", LONG_LINE, animate=True))
    await wait_until(watch, 10, "the agent to finish typing")
    await typing

    assert len(seen - {"a = 1", LONG_LINE}) >= 3, seen  # the words on their way
    await wait_until(lambda: cell_sources(user.document) == [LONG_LINE], 5, "the whole line")
    assert agents_cursor_seen_by(user)
    await wait_until(lambda: sources_on_disk(path) == [LONG_LINE], 5, "the line saved")


async def test_what_the_agent_types_after_its_user_left_reaches_the_file(collab: Collab) -> None:
    """The user closes the notebook while the agent is still typing: the room closes
    (``cleanup_delay``, 0.5 s here) and the agent types on into the document it holds. Those
    words are carried into the room opened again for them, and saved."""
    path = collab.write_notebook("nb.ipynb", ["a = 1"])
    user = await collab.open_notebook("nb.ipynb")
    room_id = collab.document_rooms[0]
    typing = asyncio.create_task(tools.edit_cell("nb.ipynb", "cell-0", LONGER_LINE, animate=True))
    await user.wait_for(lambda: cell_sources(user.document) != ["a = 1"], 5, "typing to begin")

    await user.close()
    await collab.room_closed(room_id)
    assert not typing.done(), "the agent stopped typing before the room closed: no test"
    await typing

    await wait_until(lambda: sources_on_disk(path) == [LONGER_LINE], 10, "the whole line saved")
