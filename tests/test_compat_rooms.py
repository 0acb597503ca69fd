"""Rooms as extensions reach into them (compat/rooms.py): jupyter-ai-tools' own functions read a
room's ``_document`` and ``awareness`` and show the agent among the users; jupyterlab-chat's
``YChat`` publishes who is writing through the live document's ``awareness``. The real packages'
functions, called as they call them in a server, against rooms browsers (protocol clients) use.
"""

from __future__ import annotations

from typing import Any

import pytest
from jupyter_ai_tools.toolkits.notebook import get_active_cell_id, get_active_notebook
from jupyter_ai_tools.utils import collaborative_tool, rtc_available
from jupyter_ydoc import YUnicode
from jupyterlab_chat.models import User
from jupyterlab_chat.ychat import WRITERS_AWARENESS_KEY, YChat
from pycrdt import Doc

from .client import QUERY_AWARENESS, CollabClient
from .harness import Collab

GLOBAL_AWARENESS = "JupyterLab:globalAwareness"
BOB = {"username": "bob", "name": "Bob", "display_name": "Bob", "initials": "B", "color": "red"}
AGENT = {"username": "agent", "name": "Agent", "display_name": "Agent"}


async def browser_in_global_awareness(collab: Collab) -> CollabClient[Any]:
    """The connection every JupyterLab window keeps to the global awareness room."""
    client = collab.client(YUnicode(Doc()), collab.room_url(GLOBAL_AWARENESS))
    await client.sync()
    return client


async def known_to_server(client: CollabClient[Any], field: str) -> None:
    """Wait until the server holds the client's state with ``field``: ask for the server's
    states (query awareness, as a y-websocket peer may) until its answer includes it."""

    def known() -> bool:
        if field in (client.awareness_states.get(client.client_id) or {}):
            return True
        client.send(bytes([QUERY_AWARENESS]))
        return False

    await client.wait_for(known, 5, f"the client's {field} at the server")


async def bob_opens_nb(collab: Collab) -> tuple[CollabClient[Any], CollabClient[Any]]:
    """Bob's window: in the global room, nb.ipynb current; in the notebook, cell-0 active."""
    collab.write_notebook("nb.ipynb", ["a = 1", "b = 2"])
    window = await browser_in_global_awareness(collab)
    notebook = await collab.open_notebook("nb.ipynb")
    window.set_awareness({"user": BOB, "current": "notebook:nb.ipynb", "documents": []})
    notebook.set_awareness({"user": BOB, "activeCellId": "cell-0"})
    await known_to_server(window, "current")
    await known_to_server(notebook, "activeCellId")
    return window, notebook


async def test_jupyter_ai_tools_reads_where_users_are(collab: Collab) -> None:
    await bob_opens_nb(collab)

    assert rtc_available()  # else its tools would drive a browser instead of the rooms
    assert await get_active_notebook("bob") == "nb.ipynb"  # the global room's awareness
    assert await get_active_cell_id("nb.ipynb", "bob") == "cell-0"  # room._document.awareness


async def test_jupyter_ai_tools_shows_the_agent_to_every_user(collab: Collab) -> None:
    window, notebook = await bob_opens_nb(collab)

    @collaborative_tool(user=AGENT)
    async def tool(file_path: str) -> str:
        return "done"

    assert await tool(file_path="nb.ipynb") == "done"

    def agent_in(client: CollabClient[Any], **fields: Any) -> bool:
        return any(
            state.get("user") == AGENT and all(state.get(k) == v for k, v in fields.items())
            for state in client.awareness_states.values()
        )

    await notebook.wait_for(lambda: agent_in(notebook), 5, "the agent in the notebook")
    await window.wait_for(lambda: agent_in(window, current="nb.ipynb"), 5, "the agent, globally")
    latecomer = await collab.open_notebook("nb.ipynb")
    await latecomer.wait_for(lambda: agent_in(latecomer), 5, "the agent, for a newcomer")


async def test_a_chat_bot_writing_shows_through_the_live_documents_awareness(
    collab: Collab,
) -> None:
    collab.write_bytes("room.chat", b"")
    session = await collab.put_session("room.chat", "text", "chat")
    reader = collab.session_client(session, YUnicode(Doc()))
    await reader.sync()
    chat = await collab.compat.get_document(room_id=collab.room_id(session), copy=False)
    assert isinstance(chat, YChat)

    bot = User(username="bot", name="Bot", display_name="Bot", bot=True)
    chat.broadcast_writing_status(bot, {"messageID": "m1"})

    def writers() -> list[Any]:
        return [
            writer
            for state in reader.awareness_states.values()
            for writer in state.get(WRITERS_AWARENESS_KEY, [])
        ]

    await reader.wait_for(lambda: len(writers()) == 1, 5, "the bot writing, at the reader")
    assert writers()[0]["user"]["username"] == "bot"
    assert writers()[0]["messageID"] == "m1"


@pytest.mark.parametrize("room_id", [GLOBAL_AWARENESS, "document"])
async def test_the_local_state_is_the_servers_own_and_survives_the_keepalive(
    collab: Collab, room_id: str
) -> None:
    """A state set through the room's awareness is the server's entry: its keep-alive renewals
    (every keepalive_interval, 0.5 s here) carry it on instead of resetting it to ``{}``."""
    window, notebook = await bob_opens_nb(collab)
    client = window if room_id == GLOBAL_AWARENESS else notebook
    if room_id == "document":
        (room_id,) = collab.document_rooms
    room = await collab.compat.ywebsocket_server.get_room(room_id)
    room.awareness.set_local_state_field("user", AGENT)
    assert room.awareness.get_local_state() == {"user": AGENT}
    own = room.awareness.client_id

    renewals = len(client.received.awareness)
    await client.wait_for(
        lambda: len(client.received.awareness) > renewals + 2, 5, "keep-alive renewals"
    )
    assert client.awareness_states[own] == {"user": AGENT}


async def test_every_extension_gets_the_rooms_one_chat_view(collab: Collab) -> None:
    """The reference hands out its room's document; a view per call would add a YChat to the
    room each time, each re-timing every new message and marking the chat dirty when made."""
    collab.write_bytes("once.chat", b"")
    session = await collab.put_session("once.chat", "text", "chat")
    reader = collab.session_client(session, YUnicode(Doc()))
    await reader.sync()
    room_id = collab.room_id(session)

    views = [await collab.compat.get_document(room_id=room_id, copy=False) for _ in range(3)]
    room = await collab.compat.ywebsocket_server.get_room(room_id)

    document = collab.rooms[room_id].document
    assert document is not None
    assert all(view is document.shared for view in [*views, room._document])
