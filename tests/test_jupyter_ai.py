"""jupyter-ai 3 through our rooms: its server extensions (jupyter_ai_router, which follows the chats
jupyterlab-chat's ChatManager opens, and jupyter_ai_persona_manager) attach to a chat we serve,
and a persona answers there.

The persona is a local one (``.jupyter/personas/`` in the served folder, where jupyter-ai loads a
user's own), so no model and no network are needed; it streams its answer in pieces, as
Jupyternaut streams a model's.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Doc, Map

from .client import CollabClient, wait_until
from .harness import Collab
from .test_chat import CHAT, FORMAT, TYPE, ChatInitialiser, FrontEndChat, file_bodies

EXTENSIONS = {
    "jupyter_ycollab": True,
    "jupyter_server_fileid": True,
    "jupyterlab_chat": True,
    "jupyter_ai_router": True,
    "jupyter_ai_persona_manager": True,
}

PERSONA = """
from jupyter_ai_persona_manager import BasePersona, PersonaDefaults


class EchoPersona(BasePersona):
    @property
    def defaults(self):
        return PersonaDefaults(name="Echo", description="echoes", avatar_path="", system_prompt="")

    async def process_message(self, message):
        async def pieces():
            for word in ("echo:", *message.body.split()):
                yield word + " "

        await self.stream_message(pieces())
"""
#: jupyter-ai's id for the persona above (from its module and class names).
ECHO = "jupyter-ai-personas::echo_persona::EchoPersona"

#: A persona that streams a first piece, then waits for the file ``{go}`` before the last one:
#: "still answering" is a fact the test controls.
SLOW_PERSONA = """
import asyncio, os
from jupyter_ai_persona_manager import BasePersona, PersonaDefaults


class SlowPersona(BasePersona):
    @property
    def defaults(self):
        return PersonaDefaults(name="Slow", description="slow", avatar_path="", system_prompt="")

    async def process_message(self, message):
        async def pieces():
            yield "thinking "
            while not os.path.exists({go!r}):
                await asyncio.sleep(0.02)
            yield "done"

        await self.stream_message(pieces())
"""
SLOW = "jupyter-ai-personas::slow_persona::SlowPersona"


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """conftest's server (both contents paths), with jupyterlab-chat's and jupyter-ai's
    server extensions."""
    jp_server_config["ServerApp"]["jpserver_extensions"] = EXTENSIONS
    return jp_server_config


@pytest.fixture
def expected_errors(expected_errors: list[str]) -> list[str]:
    # Before it loads local personas, jupyter-ai says it found none among its installed ones
    # (they need CLIs this machine lacks).
    return [*expected_errors, r"Jupyter AI has no AI personas available"]


@pytest.fixture
def persona(jp_root_dir: Path) -> None:
    folder = jp_root_dir / ".jupyter" / "personas"
    folder.mkdir(parents=True)
    (folder / "echo_persona.py").write_text(PERSONA)
    (folder / "slow_persona.py").write_text(SLOW_PERSONA.format(go=str(jp_root_dir.parent / "go")))


def answer(client: CollabClient[FrontEndChat]) -> dict[str, Any] | None:
    """The persona's message as the page holds it, once streamed to its end."""
    for message in client.document.get():
        if message["sender"] == ECHO and message["body"].endswith("there "):
            return message
    return None


@pytest.mark.parametrize(
    "hooks",
    [None, pytest.param(ChatInitialiser, marks=pytest.mark.ycollab(hooks_class=ChatInitialiser))],
    ids=["default-hooks", "with-initialiser"],
)
@pytest.mark.usefixtures("persona")
async def test_a_jupyter_ai_persona_answers_the_first_message_in_a_chat_just_opened(
    collab: Collab, hooks: type | None
) -> None:
    """Before: the room's chat stayed marked as loading (``state.dirty``, which YChat sets as
    it is made) until its first save, so neither YChat nor jupyter-ai took the first message
    for new: no answer, and the message kept the browser's clock."""
    path = collab.write_bytes(CHAT, b"")  # a new chat, as the front end makes it: no id yet
    session = await collab.put_session(CHAT, FORMAT, TYPE)
    ann = collab.session_client(session, FrontEndChat(Doc()))
    await ann.sync()
    assert ann.document.ystate.get("dirty") is False  # the chat is loaded: nothing unsaved
    # The page mints an id of its own for a clean chat that has none: it must find the one
    # jupyter-ai knows the chat by (its persona list is sent for that id), in its first sync.
    chat_id = ann.ydoc.get("metadata", type=Map).get("id")
    assert chat_id is not None, "the page would mint an id the server's chat does not have"
    await wait_until(lambda: chat_id in personas_by_chat(collab), 10, "the personas made")
    assert list(personas_by_chat(collab)) == [chat_id]
    ann.document.send("ann", "hello there", time.time(), metadata={"to_persona": ECHO})
    await ann.wait_for(lambda: answer(ann) is not None, 20, "the persona's answer")

    (question, reply) = ann.document.get()
    assert reply["body"] == "echo: hello there " and reply["sender"] == ECHO
    assert question["body"] == "hello there" and question["raw_time"] is False  # server time
    assert question["time"] <= reply["time"]
    await ann.wait_for(lambda: file_bodies(path) == ["hello there", reply["body"]], 10, "saved")
    if hooks is not None:
        assert collab.extension.hooks.initialised
    assert ann.ydoc.get("metadata", type=Map).get("id") == chat_id


def personas_by_chat(collab: Collab) -> dict[str, Any]:
    """jupyter-ai's persona managers, by the id of the chat each serves."""
    managers: dict[str, Any] = collab.serverapp.web_app.settings["jupyter-ai"]["persona-managers"]
    return managers


@pytest.mark.usefixtures("persona")
async def test_an_answer_that_ends_after_the_chat_closed_is_kept_whole(collab: Collab) -> None:
    """Ann asks and closes the chat; its room closes (``cleanup_delay``) while the persona is
    still answering. The rest of the answer, written to the chat jupyter-ai holds, is carried
    into the room opened again for it, and saved (docs/protocol.md 10.14)."""
    path = collab.write_bytes(CHAT, b"")
    session = await collab.put_session(CHAT, FORMAT, TYPE)
    ann = collab.session_client(session, FrontEndChat(Doc()))
    await ann.sync()
    chat_id = ann.ydoc.get("metadata", type=Map).get("id")
    await wait_until(lambda: chat_id in personas_by_chat(collab), 10, "the personas made")
    ann.document.send("ann", "take your time", time.time(), metadata={"to_persona": SLOW})
    await ann.wait_for(
        lambda: [m["body"] for m in ann.document.get()] == ["take your time", "thinking "],
        20,
        "the answer to begin",
    )

    await ann.drop()
    await collab.room_closed(collab.room_id(session))
    (collab.root.parent / "go").touch()

    whole = ["take your time", "thinking done"]
    await wait_until(lambda: file_bodies(path) == whole, 20, "the whole answer in the file")
