"""jupyterlab-chat through our rooms: the ``chat`` document type (YChat, from the ``jupyter_ydoc``
entry point group) in a ``.chat`` file, two users talking, the server restarted under them."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from jupyter_server.serverapp import ServerApp
from jupyter_ydoc.ybasedoc import YBaseDoc
from jupyterlab_chat.chat_manager import ChatManager
from jupyterlab_chat.ychat import YChat
from pycrdt import Array, Doc, Map

from jupyter_ycollab.hooks import CollabHooks
from jupyter_ycollab.rooms.room import Room

from .client import CollabClient, wait_until
from .harness import Collab
from .process import JupyterProcess
from .servers import SESSION_SCHEMA, ServerSeries, SessionEvents, disconnected, successor

CHAT = "talk.chat"
#: The session body and room id jupyterlab-chat's front end uses for a ``.chat`` file.
FORMAT, TYPE = "text", "chat"


class FrontEndChat(YBaseDoc):
    """The chat as jupyterlab-chat's front end holds it: the same shared types as YChat, and
    messages written the way its model writes them (the sender in ``users`` first, then one map
    pushed at the end of ``messages``, with the browser's clock as an unverified ``raw_time``).
    No observers that rewrite the document: the server's YChat does that, not the page."""

    def __init__(self, ydoc: Doc[Any]) -> None:
        super().__init__(ydoc)
        self._messages = ydoc.get("messages", type=Array)
        self._users = ydoc.get("users", type=Map)
        ydoc.get("attachments", type=Map)
        ydoc.get("metadata", type=Map)

    @property
    def version(self) -> str:
        return "1.0.0"

    def get(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self._messages.to_py() or []
        return messages

    def set(self, value: Any) -> None:
        raise NotImplementedError("the page never replaces the whole chat")

    def observe(self, callback: Callable[[str, Any], None]) -> None:
        self._subscriptions[self._messages] = self._messages.observe_deep(
            partial(callback, "messages")
        )

    def send(
        self, username: str, body: str, when: float, metadata: dict[str, Any] | None = None
    ) -> None:
        """Write a message; ``metadata`` as jupyter-ai's persona picker stamps it."""
        with self._ydoc.transaction():
            if username not in self._users:
                self._users[username] = {"username": username, "name": username, "bot": False}
            message = {
                "type": "msg",
                "id": str(uuid.uuid4()),
                "body": body,
                "time": when,
                "sender": username,
                "raw_time": True,
            }
            if metadata is not None:
                message["metadata"] = metadata
            self._messages.append(Map(message))

    def edit(self, message_id: str, body: str) -> None:
        """Change a message's text as the page does (``YChat.updateMessage``): a key of the
        message's map; a message that is no map cannot be edited there."""
        messages = list(self._messages)
        index = [message["id"] for message in messages].index(message_id)
        if not isinstance(messages[index], Map):
            raise TypeError(f"message {index} is not a map: the page cannot edit it")
        messages[index]["body"] = body

    def bodies(self) -> list[str]:
        return [message["body"] for message in self.get()]

    def shown(self) -> list[tuple[str, float]]:
        """What the page shows of each message: its text and its time."""
        return [(message["body"], message["time"]) for message in self.get()]


def chat_peer(server: JupyterProcess, session: dict[str, Any]) -> CollabClient[FrontEndChat]:
    return CollabClient(FrontEndChat(Doc()), server.room_url(session), server.headers)


def file_bodies(path: Path) -> list[str] | None:
    """The message bodies of the ``.chat`` file, or None while a save rewrites it."""
    try:
        return [message["body"] for message in json.loads(path.read_text())["messages"]]
    except (ValueError, KeyError, OSError):
        return None


async def converse(
    alice: CollabClient[FrontEndChat],
    bob: CollabClient[FrontEndChat],
    sent: list[str],
    label: str,
    turns: int,
) -> None:
    """Alice and Bob take turns; each message reaches the other before the next is written
    (a conversation), with the browser's clock of a fake but increasing kind."""
    for turn in range(turns):
        speaker, listener = (alice, bob) if turn % 2 == 0 else (bob, alice)
        body = f"{label} m{turn}"
        name = "alice" if speaker is alice else "bob"
        speaker.document.send(name, body, 1000.0 + len(sent))
        sent.append(body)
        await listener.wait_for(partial(holds, listener, body), 10, body)


def stamped(client: CollabClient[FrontEndChat]) -> bool:
    """Every message the page shows has the server's time."""
    return all(message["raw_time"] is False for message in client.document.get())


def holds(client: CollabClient[FrontEndChat], body: str) -> bool:
    return body in client.document.bodies()


@dataclass(eq=False)  # hashable by identity: the event logger keeps its listeners in a set
class ChatOpener:
    """Listens to session events as jupyterlab-chat's ChatManager does (and jupyter-ai through
    it): on ``initialize`` for a room whose id says ``chat``, it takes the room's live document
    from ``jupyter_server_ydoc`` and reads its messages, there and then."""

    settings: dict[str, Any]
    opened: list[tuple[dict[str, Any], list[str]]] = field(default_factory=list)

    async def __call__(self, logger: Any, schema_id: str, data: dict[str, Any]) -> None:
        parts = data.get("room", "").split(":")
        if len(parts) < 3 or parts[1] != "chat" or data.get("action") != "initialize":
            return
        collaboration = self.settings["jupyter_server_ydoc"]
        chat = await collaboration.get_document(room_id=data["room"], copy=False)
        assert isinstance(chat, YChat), f"not the chat: {chat!r}"
        self.opened.append((dict(data), [message.body for message in chat.get_messages()]))


class AwaitingInitialiser(CollabHooks):
    """A deployment's initialiser that awaits something real (a database, say): a listener
    told of the room during that wait would not find it."""

    async def initialise_document(self, room: Room, document: YBaseDoc) -> None:
        await asyncio.to_thread(lambda: None)


@pytest.mark.ycollab(hooks_class=AwaitingInitialiser)
async def test_an_opened_chat_room_is_announced_with_initialize_once_it_can_be_found(
    collab: Collab, jp_serverapp: ServerApp
) -> None:
    """jupyter-ai never attached to a chat on our rooms: it waits for ``initialize``."""
    opener = ChatOpener(jp_serverapp.web_app.settings)
    everything = SessionEvents()
    for listener in (opener, everything):
        jp_serverapp.event_logger.add_listener(schema_id=SESSION_SCHEMA, listener=listener)
    content = {"messages": [{"id": "1", "body": "hello", "time": 1.0, "sender": "ann"}]}
    collab.write_bytes(CHAT, json.dumps(content).encode())
    session = await collab.put_session(CHAT, FORMAT, TYPE)
    room_id = collab.room_id(session)
    ann = collab.session_client(session, FrontEndChat(Doc()))
    await ann.sync()
    await wait_until(lambda: len(opener.opened) == 1, 5, "the chat opened by the listener")

    data, bodies = opener.opened[0]
    assert data == {
        "level": "INFO",
        "room": room_id,
        "path": CHAT,
        "action": "initialize",
        "msg": "Room initialized",
    }
    assert room_id.startswith("text:chat:") and bodies == ["hello"]
    assert [event["action"] for event in everything.events] == ["load", "initialize"]
    bob = collab.session_client(session, FrontEndChat(Doc()))
    await bob.sync()  # the room is open already: no second initialize
    for client in (ann, bob):
        await client.close()
    await wait_until(lambda: everything.has("INFO", "clean"), 10, "the room closed")
    again = collab.session_client(session, FrontEndChat(Doc()))
    await again.sync()
    await wait_until(lambda: len(opener.opened) == 2, 5, "the reopened chat announced")
    assert [event["action"] for event in everything.events].count("initialize") == 2
    await again.close()


@dataclass(eq=False)
class ChatEvents:
    """A listener of jupyterlab-chat's own chat events (``opened``, ``closed``)."""

    events: list[dict[str, Any]] = field(default_factory=list)

    async def __call__(self, logger: Any, schema_id: str, data: dict[str, Any]) -> None:
        self.events.append(dict(data))

    def actions(self) -> list[str]:
        """The chat's own actions (clients connecting come from our awareness events)."""
        return [event["action"] for event in self.events if "client_id" not in event]

    def clients(self) -> list[str]:
        return [event["action"] for event in self.events if "client_id" in event]


async def test_jupyterlab_chats_chat_manager_opens_and_closes_our_chat_rooms(
    collab: Collab, jp_serverapp: ServerApp
) -> None:
    """jupyterlab-chat's ChatManager, the one jupyter-ai 3 attaches through, made as its server
    extension makes it when it finds a collaboration server (which it will find once we are
    registered as ``jupyter_server_ydoc``): our session events and ``get_document`` are all
    it uses to open a chat, follow its messages and let it go."""
    manager = ChatManager(jp_serverapp, rtc_enabled=True, start_scanner=False)
    chats = ChatEvents()
    manager.observe_chats(chats)
    content = {"messages": [{"id": "1", "body": "hello", "time": 1.0, "sender": "ann"}]}
    collab.write_bytes(CHAT, json.dumps(content).encode())
    session = await collab.put_session(CHAT, FORMAT, TYPE)
    ann = collab.session_client(session, FrontEndChat(Doc()))
    await ann.sync()
    await wait_until(lambda: chats.actions() == ["opened"], 5, "the chat opened")

    opened = chats.events[0]
    chat = manager.get(opened["chat_id"])
    assert isinstance(chat, YChat) and opened["path"] == CHAT
    assert [message.body for message in chat.get_messages()] == ["hello"]
    ann.document.send("ann", "are you there?", 2.0)
    await wait_until(lambda: len(chat.get_messages()) == 2, 5, "the message in the model")
    assert chat.get_messages()[1].body == "are you there?"
    await ann.close()
    await wait_until(lambda: chats.actions() == ["opened", "closed"], 10, "the chat closed")
    assert manager.get(opened["chat_id"]) is None
    assert chats.clients() == ["client_connected", "client_disconnected"]


class ChatInitialiser(CollabHooks):
    """A deployment's initialiser: it gets a view of its own (for a chat, a second YChat)."""

    async def initialise_document(self, room: Room, document: YBaseDoc) -> None:
        self.initialised = True


@pytest.mark.parametrize(
    "hooks",
    [None, pytest.param(ChatInitialiser, marks=pytest.mark.ycollab(hooks_class=ChatInitialiser))],
    ids=["default-hooks", "with-initialiser"],
)
async def test_a_new_message_is_given_the_servers_time_once(
    collab: Collab, hooks: type | None
) -> None:
    """The server's YChat gives each new message its time (and moves it into order). A second
    YChat over the room's document, the one made for a deployment's initialiser (for the
    default one too, before), did it again: more updates for every peer and the log."""
    path = collab.write_bytes(CHAT, b"")
    session = await collab.put_session(CHAT, FORMAT, TYPE)
    ann = collab.session_client(session, FrontEndChat(Doc()))
    await ann.sync()
    messages = collab.rooms[collab.room_id(session)].doc.get("messages", type=Array)
    timed: list[float] = []

    def on_change(events: list[Any]) -> None:
        for event in events:
            if "time" in getattr(event, "keys", {}):
                timed.append(event.keys["time"]["newValue"])

    subscription = messages.observe_deep(on_change)
    ann.document.send("ann", "hello", 1000.0)
    await ann.wait_for(lambda: ann.document.shown()[0][1] != 1000.0, 5, "the server's time")
    # The save comes after both would have run (they are scheduled at once, the save later).
    await wait_until(lambda: file_bodies(path) == ["hello"], 10, "saved")
    messages.unobserve(subscription)
    assert timed == [ann.document.shown()[0][1]]


@pytest.mark.ycollab(save_delay=60, max_save_delay=120)
async def test_a_page_marking_a_chat_clean_while_messages_wait_for_a_save_stops_no_stamping(
    collab: Collab,
) -> None:
    """A chat's ``state.dirty`` is more than the page's unsaved mark: jupyterlab-chat's YChat
    takes no message for new while it is set. So the room never sets it again on its own, as
    it does for notebooks and files (document/saving.py ``keep_dirty_mark``)."""
    collab.write_bytes(CHAT, b"")
    session = await collab.put_session(CHAT, FORMAT, TYPE)
    ann = collab.session_client(session, FrontEndChat(Doc()))
    await ann.sync()
    ann.document.send("ann", "one", 1000.0)
    await ann.wait_for(lambda: stamped(ann) and holds(ann, "one"), 5, "the first stamped")

    ann.document.dirty = False  # as JupyterLab does when a save ends
    ann.document.send("ann", "two", 1001.0)
    await ann.wait_for(lambda: stamped(ann) and holds(ann, "two"), 5, "the second stamped")
    assert ann.document.ystate.get("dirty") is False


async def test_messages_sent_at_the_same_moment_are_each_kept_once_in_the_servers_order(
    collab: Collab,
) -> None:
    """Two users press Enter at the same moment, ten times. jupyterlab-chat's YChat deleted a
    message it moved after one that arrived meanwhile, then failed to put it back (half of them
    were lost, with jupyter-collaboration too): codec/chats.py."""
    path = collab.write_bytes(CHAT, b"")
    session = await collab.put_session(CHAT, FORMAT, TYPE)
    alice = collab.session_client(session, FrontEndChat(Doc()))
    bob = collab.session_client(session, FrontEndChat(Doc()))
    for client in (alice, bob):
        await client.sync()
    sent: list[str] = []
    for turn in range(10):
        for name, client in (("alice", alice), ("bob", bob)):
            client.document.send(name, f"{name} {turn}", time.time() - 5)  # a slow clock
            sent.append(f"{name} {turn}")
        await alice.wait_for(lambda: len(alice.document.bodies()) == len(sent), 5, "both")

    await bob.wait_for(lambda: stamped(bob) and bob.document.shown() == alice.document.shown())
    shown = alice.document.shown()
    assert sorted(body for body, _ in shown) == sorted(sent)
    assert [when for _, when in shown] == sorted(when for _, when in shown)
    await wait_until(lambda: file_bodies(path) == [body for body, _ in shown], 10, "saved")
    # Server code finds each message by its id (a persona streams its answer into its own).
    chat = await collab.compat.get_document(room_id=collab.room_id(session), copy=False)
    for message in alice.document.get():
        found = chat.get_message(message["id"])
        assert found is not None and found.body == message["body"], "another message found"
    # Each stays a map, which the page edits key by key: one the server moved was a plain
    # object (``pop`` gives its value), on which the page's edits and deletions fail.
    for message in bob.document.get():
        bob.document.edit(message["id"], message["body"] + " (edited)")
    edited = sorted(f"{body} (edited)" for body in sent)
    await alice.wait_for(lambda: sorted(alice.document.bodies()) == edited, 5, "the edits")


REOPENS = 8


async def test_chat_messages_keep_their_order_and_times_when_the_room_is_rebuilt_from_its_log(
    collab: Collab,
) -> None:
    """A room rebuilt from its update log (here: evicted and reopened, as after a restart)
    shows every message once, in order, with the time it had: nothing in the room may take
    the log's old messages for new ones (YChat re-times and moves those). Each reopen gets a
    new random client id, which decides whether the old replay went wrong: many reopens make
    that near certain."""
    path = collab.write_bytes(CHAT, b"")
    session = await collab.put_session(CHAT, FORMAT, TYPE)
    room_id = collab.room_id(session)
    alice = collab.session_client(session, FrontEndChat(Doc()))
    bob = collab.session_client(session, FrontEndChat(Doc()))
    sent: list[str] = []
    for reopen in range(REOPENS):
        for client in (alice, bob):
            await (client.reconnect() if reopen else client.sync())
        await converse(alice, bob, sent, f"r{reopen}", 4)
        await wait_until(lambda: file_bodies(path) == sent, 10, "the messages saved")
        await wait_until(lambda: bob.document.shown() == alice.document.shown(), 10, "re-timed")
        shown = alice.document.shown()
        for client in (alice, bob):
            await client.close()
        await wait_until(lambda: room_id not in collab.rooms, 10, "the room evicted")
        fresh = collab.session_client(session, FrontEndChat(Doc()))
        await fresh.sync()
        # A round trip: what the room did as it opened (YChat acts a turn later) came before.
        await fresh.save(reopen)
        assert fresh.document.shown() == shown, f"reopen {reopen + 1}"
        await fresh.close()


@pytest.fixture
async def series(tmp_path: Path) -> AsyncIterator[ServerSeries]:
    made = ServerSeries(
        tmp_path / "home",
        tmp_path / "root",
        {"save_delay": 0.05, "max_save_delay": 0.2, "log_commit_delay": 0.05},
    )
    yield made
    made.kill_all()


async def reconnected(
    client: CollabClient[FrontEndChat], server: JupyterProcess, session: dict[str, Any]
) -> CollabClient[FrontEndChat]:
    """The page's connection after the server came back: same document, new socket."""
    await disconnected(client)
    again = successor(client, server.room_url(session))
    await again.sync()
    return again


@pytest.mark.timeout(120)
async def test_every_chat_message_survives_restarts_in_order_on_the_page_and_in_the_file(
    series: ServerSeries,
) -> None:
    path = series.root / CHAT
    path.write_text("")  # what the front end's "New chat" creates
    server = await series.start()
    session = await server.put_session(CHAT, FORMAT, TYPE)
    alice, bob = chat_peer(server, session), chat_peer(server, session)
    await alice.sync()
    await bob.sync()
    sent: list[str] = []
    for restart in range(2):
        await converse(alice, bob, sent, f"r{restart}", 6)
        await wait_until(lambda: file_bodies(path) == sent, 10, "the messages saved")
        await series.stop()
        server = await series.start()
        again = await server.put_session(CHAT, FORMAT, TYPE)
        assert again["sessionId"] == session["sessionId"], "a new lineage: pages would reload"
        fresh = chat_peer(server, session)
        await fresh.sync()
        assert fresh.document.bodies() == sent, f"the room after restart {restart + 1}"
        await fresh.close()
        alice = await reconnected(alice, server, session)
        bob = await reconnected(bob, server, session)
        for client in (alice, bob):
            assert client.document.bodies() == sent, f"a page after restart {restart + 1}"
        await wait_until(lambda: file_bodies(path) == sent, 10, "the file after the restart")
    await alice.close()
    await bob.close()
    await series.stop()


async def test_a_closed_chat_room_lets_go_of_its_document(collab: Collab) -> None:
    """YChat observes its own document as it is made: the room's view lets go of it when the room
    closes, or every chat ever closed stays in memory (see codec/listeners.py)."""
    collab.write_bytes(CHAT, b"{}")
    session = await collab.put_session(CHAT, FORMAT, TYPE)
    ann = collab.session_client(session, FrontEndChat(Doc()))
    await ann.sync()
    ann.document.send("ann", "hello", time.time())
    await wait_until(lambda: file_bodies(collab.root / CHAT) == ["hello"], 10, "the chat saved")
    freed = collab.freed_once_closed(collab.room_id(session))
    await ann.close()
    await collab.room_closed(collab.room_id(session))
    await wait_until(freed, 10, "the closed chat's Doc and document to be freed", interval=0.05)
