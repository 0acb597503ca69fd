"""Deployment hooks (hooks.py) on a real server with real websocket clients: room naming, the
connect-time check, document initialisers, join and leave notifications, sending to a room or a
peer; the README's example (tests/example_hooks.py) runs here, and a broken hook costs only its
own connection."""

from __future__ import annotations

import asyncio
import gc
import json
import weakref
from pathlib import Path
from typing import Any

import pytest
from jupyter_ydoc import YNotebook, YUnicode
from pycrdt import Doc
from traitlets import TraitError

from jupyter_ycollab.app import YCollabApp
from jupyter_ycollab.errors import HookFailed, NotFound, Refused
from jupyter_ycollab.hooks import CollabHooks
from jupyter_ycollab.rooms.ids import GLOBAL_AWARENESS
from jupyter_ycollab.rooms.peer import Peer
from jupyter_ycollab.rooms.room import Room
from jupyter_ycollab.web import refusals
from jupyter_ycollab.web.websocket import RoomHandler

from .client import CollabClient, wait_until
from .example_hooks import MAX_DOCUMENTS_PER_USER, TEMPLATES, TeamHooks
from .harness import Collab, append, cell_sources, refusal

README = Path(__file__).parent.parent / "README.md"
TEAM = pytest.mark.ycollab(hooks_class="tests.example_hooks.TeamHooks")  # as a config names it


async def unopened_session(collab: Collab, path: str, *kind: str) -> dict[str, Any]:
    """A session for ``path`` whose room (opened by the PUT) has been freed again."""
    session = await collab.put_session(path, *kind)
    room_id = collab.room_id(session)
    await wait_until(lambda: room_id not in collab.rooms, 5, "the unjoined room to be freed")
    return session


async def connect_as(collab: Collab, headers: dict[str, str], path: str) -> CollabClient[Any]:
    session = await collab.put_session(path)
    url = collab.room_url(collab.room_id(session), f"sessionId={session['sessionId']}")
    return collab.client(YNotebook(Doc()), url, headers)


def hook_failures(records: Any, hook: str) -> int:
    return sum(f"hook {hook} failed" in record.getMessage() for record in records)


# -- the README example ------------------------------------------------------------------------


def test_the_readme_example_is_the_tested_file() -> None:
    source = (Path(__file__).parent / "example_hooks.py").read_text()
    assert f"```python\n{source}```" in README.read_text(), "README and example_hooks.py differ"


@TEAM
async def test_an_alias_names_the_room_of_its_file(collab: Collab) -> None:
    collab.write_bytes("notes/standup.md", b"- shipped hooks\n")
    session = await collab.put_session("notes/standup.md", "text", "file")
    room_id = collab.room_id(session)
    bot = collab.client(
        YUnicode(Doc()), collab.room_url("alias:standup", f"sessionId={session['sessionId']}")
    )
    await bot.sync()
    alice = collab.session_client(session, YUnicode(Doc()))
    await alice.sync()

    assert collab.document_rooms == [room_id]  # one room, under the file's id
    assert len(collab.rooms[room_id].peers) == 2
    append(bot.document._ysource, "- tested them\n")
    expected = "- shipped hooks\n- tested them\n"
    await alice.wait_for(lambda: alice.document.get() == expected, 5, "the bot's edit")
    unknown = collab.client(YUnicode(Doc()), collab.room_url("alias:nothing"))
    assert await refusal(unknown) == ("http", 404)


@TEAM
async def test_a_quota_refuses_with_a_dialog_and_allocates_nothing(
    collab: Collab, monkeypatch: pytest.MonkeyPatch
) -> None:
    for index in range(MAX_DOCUMENTS_PER_USER + 1):
        collab.write_notebook(f"nb{index}.ipynb", [f"x = {index}"])
    headers = {**collab.auth_headers, "Cookie": await collab.login_cookie()}  # one user
    clients = [
        await connect_as(collab, headers, f"nb{index}.ipynb")
        for index in range(MAX_DOCUMENTS_PER_USER)
    ]
    for client in clients:
        await client.sync()
    session = await unopened_session(collab, f"nb{MAX_DOCUMENTS_PER_USER}.ipynb")
    room_id = collab.room_id(session)
    url = collab.room_url(room_id, f"sessionId={session['sessionId']}")
    late = collab.client(YNotebook(Doc()), url, headers)
    someone_else = collab.client(YNotebook(Doc()), url)  # a new anonymous user: no quota used

    assert await refusal(late) == ("close", 1003)
    assert room_id not in collab.rooms
    reason = json.loads(late.close_reason or "")
    assert reason == {
        "reason": "initialization_error",  # the front end's "Document error" dialog
        "reloadable": False,
        "errorReason": f"{MAX_DOCUMENTS_PER_USER} documents open: close one first",
    }
    awareness = collab.client(YNotebook(Doc()), collab.room_url(GLOBAL_AWARENESS), headers)
    await awareness.sync()  # the global awareness room is not a document: not counted
    await someone_else.sync()

    # JupyterLab comes back 100 ms after that close: refused again, before the upgrade and the
    # hook, so that the user gets one dialog (web/refusals.py); weighed anew after a moment.
    await clients[0].close()
    assert await refusal(late) == ("http", 403)
    monkeypatch.setattr(refusals, "REPEAT_WINDOW", 0.0)
    await late.reconnect()
    assert len(collab.rooms[room_id].peers) == 2


@TEAM
async def test_an_alias_of_a_missing_file_is_404_not_a_failure(collab: Collab) -> None:
    client = collab.client(YUnicode(Doc()), collab.room_url("alias:standup"))
    assert await refusal(client) == ("http", 404)  # room_id_for's NotFound: an answer, not a bug
    assert not collab.rooms
    with pytest.raises(NotFound):
        await collab.extension.rooms.room_id_for("notes/standup.md", "text", "file")
    collab.write_bytes("notes/standup.md", b"")
    room_id = await collab.extension.rooms.room_id_for("notes/standup.md", "text", "file")
    assert room_id.startswith("text:file:") and room_id not in collab.rooms


# -- check_connection --------------------------------------------------------------------------


class GateHooks(CollabHooks):
    """Refuses or fails as the request's query string says; counts the checks."""

    def __init__(self, app: YCollabApp) -> None:
        super().__init__(app)
        self.checks = 0

    async def room_id(self, handler: RoomHandler, requested: str) -> str:
        if requested.startswith("crash:"):
            raise RuntimeError("a bug in room_id")
        if requested.startswith("none:"):
            return None  # type: ignore[return-value]
        return requested

    async def check_connection(self, handler: RoomHandler, room_id: str) -> None:
        self.checks += 1
        code = handler.get_query_argument("refuse", "")
        if code:
            raise Refused("not today", close_code=int(code))
        if handler.get_query_argument("crash", ""):
            raise RuntimeError("a bug in check_connection")


GATE = pytest.mark.ycollab(hooks_class=GateHooks)


@GATE
@pytest.mark.parametrize("code", [4403, 1013, 4400, 1008])
async def test_a_refusal_closes_with_the_chosen_code(collab: Collab, code: int) -> None:
    collab.write_notebook("nb.ipynb", ["x"])
    session = await unopened_session(collab, "nb.ipynb")
    room_id = collab.room_id(session)
    query = f"sessionId={session['sessionId']}&refuse={code}"
    client = collab.client(YNotebook(Doc()), collab.room_url(room_id, query))
    assert await refusal(client) == ("close", code)
    assert client.close_reason == "not today"
    assert room_id not in collab.rooms


@pytest.mark.parametrize("code", [999, 1005, 1006, 1015, 2000, 3000, 5000])
def test_a_refusal_takes_only_codes_a_server_may_send(code: int) -> None:
    with pytest.raises(ValueError, match="not a close code"):
        Refused("no", close_code=code)


def test_a_refusal_reason_fits_a_close_frame() -> None:
    reason = Refused("é" * 500).close_reason()
    assert len(reason.encode()) <= 123
    assert json.loads(reason)["errorReason"].startswith("éé")


@GATE
async def test_a_check_that_raises_closes_only_its_connection(
    collab: Collab, expected_errors: list[str], error_logs: Any
) -> None:
    expected_errors.append("hook check_connection failed")
    collab.write_notebook("nb.ipynb", ["x"])
    session = await collab.put_session("nb.ipynb")
    alice = collab.session_client(session, YNotebook(Doc()))
    await alice.sync()
    url = collab.room_url(collab.room_id(session), f"sessionId={session['sessionId']}&crash=1")
    broken = collab.client(YNotebook(Doc()), url)

    assert await refusal(broken) == ("close", 4500)
    assert hook_failures(error_logs.records, "check_connection") == 1
    bob = collab.session_client(session, YNotebook(Doc()))
    await bob.sync()
    append(alice.document.ycells[0]["source"], "y")
    await bob.wait_for(lambda: cell_sources(bob.document) == ["xy"], 5, "alice's edit")


@GATE
async def test_room_id_runs_before_the_upgrade(
    collab: Collab, expected_errors: list[str], error_logs: Any
) -> None:
    # Ours, with the traceback; and the server's access log, which logs every 500 with headers.
    expected_errors.extend(["hook room_id failed", r"^500 GET .*/room/", '"User-Agent"'])
    for prefix in ("crash", "none"):
        client = collab.client(YNotebook(Doc()), collab.room_url(f"{prefix}:notebook:x"))
        assert await refusal(client) == ("http", 500)
    assert hook_failures(error_logs.records, "room_id") == 2
    assert not collab.rooms
    assert collab.extension.hooks.checks == 0  # never upgraded, never checked


# -- initialise_document -----------------------------------------------------------------------


@TEAM
@pytest.mark.ycollab(cleanup_delay=0.2)
async def test_an_initialiser_fills_an_empty_file_once_and_observes(collab: Collab) -> None:
    path = collab.write_bytes("notes/standup.md", b"")
    template = TEMPLATES["notes/standup.md"]
    alice = await collab.open_text("notes/standup.md")
    assert alice.document.get() == template
    await wait_until(lambda: path.read_text() == template, 10, "the template saved")

    (room_id,) = collab.document_rooms
    hooks: TeamHooks = collab.extension.hooks
    changes = hooks.changes[room_id]
    append(alice.document._ysource, "- alice: hooks\n")
    await wait_until(lambda: hooks.changes[room_id] > changes, 5, "the observer to count it")

    room = weakref.ref(collab.rooms[room_id])
    await alice.close()
    await wait_until(lambda: room_id not in collab.rooms, 10, "the room to be evicted")

    def freed() -> bool:
        # Not at once: the eviction's task holds the room until the document has closed.
        gc.collect()
        return room() is None

    await wait_until(freed, 10, "the observer to let the closed room go", interval=0.05)
    again = await collab.open_text("notes/standup.md")  # initialised again: nothing to fill
    assert again.document.get() == template + "- alice: hooks\n"


class GatedInit(CollabHooks):
    """Counts initialisations; holds each at ``gate`` until the test opens it; stamps the
    document's state so peers can tell it ran."""

    def __init__(self, app: YCollabApp) -> None:
        super().__init__(app)
        self.gate = asyncio.Event()
        self.gate.set()
        self.calls = 0
        self.checks = 0
        self.broken = False
        self.joins = self.leaves = 0

    async def check_connection(self, handler: RoomHandler, room_id: str) -> None:
        self.checks += 1

    def on_join(self, room: Room, peer: Peer) -> None:
        self.joins += 1

    def on_leave(self, room: Room, peer: Peer) -> None:
        self.leaves += 1

    async def initialise_document(self, room: Room, document: Any) -> None:
        self.calls += 1
        await self.gate.wait()
        if self.broken:
            raise RuntimeError("the database is down")
        document.ystate["initialised"] = self.calls


async def gated_opening(collab: Collab) -> tuple[dict[str, Any], str, GatedInit]:
    """A notebook's session, its room id, and the hooks, whose initialiser waits on its gate."""
    collab.write_notebook("nb.ipynb", ["x"])
    session = await unopened_session(collab, "nb.ipynb")
    hooks: GatedInit = collab.extension.hooks
    hooks.gate.clear()
    hooks.calls = 0
    return session, collab.room_id(session), hooks


@pytest.mark.ycollab(hooks_class=GatedInit, cleanup_delay=0.2)
async def test_concurrent_openers_share_one_initialisation(collab: Collab) -> None:
    session, room_id, hooks = await gated_opening(collab)
    clients = [collab.session_client(session, YNotebook(Doc())) for _ in range(2)]
    for client in clients:
        await client.connect()
    await wait_until(lambda: hooks.checks == 2 and hooks.calls == 1, 5, "both to wait on it")
    assert room_id not in collab.rooms  # nobody has the room while it is initialised

    hooks.gate.set()
    for client in clients:
        await client.sync()
        assert client.document.ystate.get("initialised") == 1
    assert hooks.calls == 1


@pytest.mark.ycollab(hooks_class=GatedInit, cleanup_delay=1.0)
async def test_a_tab_closed_while_its_room_loads_leaves_no_room_behind(collab: Collab) -> None:
    """Tornado may learn that the connection is gone only when the room first writes to it:
    the peer made for it then leaves, and the room nobody uses is evicted (a peer that stayed
    would keep it open for good)."""
    session, room_id, hooks = await gated_opening(collab)
    client = collab.session_client(session, YNotebook(Doc()))
    await client.connect()
    await wait_until(lambda: hooks.calls == 1, 5, "the room to be initialised")

    await client.drop()  # a killed tab: no close frame
    hooks.gate.set()
    await wait_until(lambda: room_id in collab.rooms, 5, "the room loaded")
    await collab.room_closed(room_id)
    assert hooks.joins == hooks.leaves


@pytest.mark.ycollab(hooks_class=GatedInit, cleanup_delay=0.2)
async def test_a_failing_initialiser_fails_the_opening_with_4500(
    collab: Collab, expected_errors: list[str], error_logs: Any
) -> None:
    expected_errors.append("hook initialise_document failed")
    collab.write_notebook("nb.ipynb", ["x"])
    session = await unopened_session(collab, "nb.ipynb")
    room_id = collab.room_id(session)
    hooks: GatedInit = collab.extension.hooks
    hooks.broken = True
    client = collab.session_client(session, YNotebook(Doc()))

    assert await refusal(client) == ("close", 4500)
    assert room_id not in collab.rooms
    with pytest.raises(HookFailed):
        await collab.extension.rooms.open(room_id)
    assert hook_failures(error_logs.records, "initialise_document") == 2  # once per opening
    hooks.broken = False
    await client.reconnect()
    assert cell_sources(client.document) == ["x"]


class SelfOpeningInit(CollabHooks):
    async def initialise_document(self, room: Room, document: Any) -> None:
        async with self.rooms.transaction(room.room_id):
            pass


@pytest.mark.ycollab(hooks_class=SelfOpeningInit)
async def test_an_initialiser_that_opens_its_own_room_fails_instead_of_hanging(
    collab: Collab, expected_errors: list[str]
) -> None:
    expected_errors.append("hook initialise_document failed")
    collab.write_notebook("nb.ipynb", ["x"])
    session = await collab.put_session("nb.ipynb")  # answered: the websocket says it failed
    client = collab.session_client(session, YNotebook(Doc()))
    assert await refusal(client) == ("close", 4500)
    assert not collab.document_rooms


# -- on_join, on_leave and sending -------------------------------------------------------------


def raw_of(client: CollabClient[Any], kind: str) -> list[dict[str, Any]]:
    return [message for message in client.received.raw if message.get("type") == kind]


@TEAM
async def test_joins_are_welcomed_and_announced_and_leaves_announced(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["x"])
    alice = await collab.open_notebook("nb.ipynb")
    await alice.wait_for(lambda: bool(raw_of(alice, "welcome")), 5, "alice's welcome")
    assert raw_of(alice, "welcome") == [{"type": "welcome", "others": []}]
    (room_id,) = collab.document_rooms

    bob = await collab.open_notebook("nb.ipynb")
    alice_peer, bob_peer = collab.rooms[room_id].peers  # in the order they joined
    await bob.wait_for(lambda: bool(raw_of(bob, "welcome")), 5, "bob's welcome")
    assert raw_of(bob, "welcome") == [{"type": "welcome", "others": [alice_peer.username]}]
    await alice.wait_for(lambda: bool(raw_of(alice, "joined")), 5, "bob's arrival")
    assert raw_of(alice, "joined") == [{"type": "joined", "user": bob_peer.username}]
    assert len(raw_of(alice, "welcome")) == 1 and not raw_of(bob, "joined")

    await bob.close()
    await alice.wait_for(lambda: bool(raw_of(alice, "left")), 5, "bob's leaving")
    assert raw_of(alice, "left") == [{"type": "left", "user": bob_peer.username}]


class FlakyNotifications(CollabHooks):
    def __init__(self, app: YCollabApp) -> None:
        super().__init__(app)
        self.fail_join = self.fail_leave = False

    def on_join(self, room: Room, peer: Peer) -> None:
        if self.fail_join:
            raise RuntimeError("a bug in on_join")

    def on_leave(self, room: Room, peer: Peer) -> None:
        if self.fail_leave:
            raise RuntimeError("a bug in on_leave")


@pytest.mark.ycollab(hooks_class=FlakyNotifications)
async def test_failing_notifications_cost_only_their_own_peer(
    collab: Collab, expected_errors: list[str], error_logs: Any
) -> None:
    expected_errors.extend(["hook on_join failed", "hook on_leave failed"])
    collab.write_notebook("nb.ipynb", ["x"])
    session = await collab.put_session("nb.ipynb")
    room_id = collab.room_id(session)
    alice = await collab.open_notebook("nb.ipynb")
    hooks: FlakyNotifications = collab.extension.hooks

    hooks.fail_join = True
    bob = collab.session_client(session, YNotebook(Doc()))
    await bob.connect()
    await bob.wait_closed(5)
    assert bob.close_code == 4500
    assert hook_failures(error_logs.records, "on_join") == 1
    hooks.fail_join = False

    carol = await collab.open_notebook("nb.ipynb")
    hooks.fail_leave = True
    await carol.close()
    await wait_until(lambda: len(collab.rooms[room_id].peers) == 1, 5, "carol to leave")
    assert hook_failures(error_logs.records, "on_leave") == 1
    dave = await collab.open_notebook("nb.ipynb")
    append(alice.document.ycells[0]["source"], "y")
    await dave.wait_for(lambda: cell_sources(dave.document) == ["xy"], 5, "alice's edit")


async def test_send_to_a_room_or_to_one_peer(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["x"])
    alice = await collab.open_notebook("nb.ipynb")
    bob = await collab.open_notebook("nb.ipynb")
    (room_id,) = collab.document_rooms
    rooms = collab.extension.rooms
    alice_peer, bob_peer = collab.rooms[room_id].peers

    assert rooms.send(room_id, {"type": "notice", "text": "to all"}) == 2
    assert rooms.send(room_id, {"type": "notice", "text": "to bob"}, to=bob_peer) == 1
    assert rooms.send(room_id, {"type": "notice", "text": "not alice"}, exclude=alice_peer) == 1
    await bob.wait_for(lambda: len(raw_of(bob, "notice")) == 3, 5, "bob's notices")
    await alice.wait_for(lambda: len(raw_of(alice, "notice")) == 1, 5, "alice's notice")
    assert [message["text"] for message in raw_of(alice, "notice")] == ["to all"]

    await bob.close()
    await wait_until(lambda: len(collab.rooms[room_id].peers) == 1, 5, "bob to leave")
    assert rooms.send(room_id, {"type": "notice"}, to=bob_peer) == 0  # gone: nothing, no error
    assert rooms.send("json:notebook:not-open", {"type": "notice"}) == 0


# -- configuration -----------------------------------------------------------------------------


class SyncCheck(CollabHooks):
    def check_connection(self, handler: RoomHandler, room_id: str) -> None:  # type: ignore[override]
        pass


class AsyncJoin(CollabHooks):
    async def on_join(self, room: Room, peer: Peer) -> None:  # type: ignore[override]
        pass


def test_hooks_class_is_validated_at_startup() -> None:
    assert YCollabApp(hooks_class="tests.example_hooks.TeamHooks").hooks_class is TeamHooks
    with pytest.raises(TraitError, match="check_connection must be a coroutine"):
        YCollabApp(hooks_class=SyncCheck)
    with pytest.raises(TraitError, match="on_join must be a plain method"):
        YCollabApp(hooks_class=AsyncJoin)
    with pytest.raises(TraitError):
        YCollabApp(hooks_class=dict)


class Lifecycle(CollabHooks):
    """Records each document room's openings and closings, in order."""

    def __init__(self, app: YCollabApp) -> None:
        super().__init__(app)
        self.seen: list[tuple[str, str]] = []

    async def initialise_document(self, room: Room, document: Any) -> None:
        self.seen.append(("open", room.room_id))

    def on_close(self, room: Room) -> None:
        self.seen.append(("close", room.room_id))


@pytest.mark.ycollab(hooks_class=Lifecycle, cleanup_delay=0.1)
async def test_each_opening_of_a_room_is_closed_once(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["x"])
    hooks: Lifecycle = collab.extension.hooks
    for _ in range(2):
        client = await collab.open_notebook("nb.ipynb")
        await client.close()
        await wait_until(lambda: not collab.rooms, 5, "the room to be evicted")
    (room_id,) = {room_id for _, room_id in hooks.seen}
    assert hooks.seen == [("open", room_id), ("close", room_id)] * 2


class ClosingOnly(CollabHooks):
    """Hears closings and has no initialiser (the server makes no view for the default one)."""

    def __init__(self, app: YCollabApp) -> None:
        super().__init__(app)
        self.closed: list[str] = []

    def on_close(self, room: Room) -> None:
        self.closed.append(room.room_id)


@pytest.mark.ycollab(hooks_class=ClosingOnly, cleanup_delay=0.1)
async def test_each_opening_is_closed_once_without_an_initialiser(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["x"])
    hooks: ClosingOnly = collab.extension.hooks
    opened: list[str] = []
    for _ in range(2):
        client = await collab.open_notebook("nb.ipynb")
        opened.extend(collab.rooms)
        await client.close()
        await wait_until(lambda: not collab.rooms, 5, "the room to be evicted")
    assert len(opened) == 2 and hooks.closed == opened
