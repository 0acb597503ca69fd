"""Events on the server's bus (docs/protocol.md section 8), as the front end and other extensions
get them: a document's life (load, save, clean) and its peers coming and going. Fork events are
checked in test_forks.py, warnings in test_outside_changes.py and test_file_fate.py."""

from __future__ import annotations

import logging

import pytest
from jupyter_server.serverapp import ServerApp

from jupyter_ycollab.events import Events

from .client import wait_until
from .harness import Collab, append
from .servers import SessionEvents

SESSION = "https://schema.jupyter.org/jupyter_collaboration/session/v1"
AWARENESS = "https://schema.jupyter.org/jupyter_collaboration/awareness/v1"


def listen(serverapp: ServerApp, schema_id: str) -> SessionEvents:
    recorder = SessionEvents()
    serverapp.event_logger.add_listener(schema_id=schema_id, listener=recorder)
    return recorder


@pytest.mark.ycollab(cleanup_delay=0.2)
async def test_a_documents_life_and_its_peers_are_told_on_the_event_bus(
    collab: Collab, jp_serverapp: ServerApp
) -> None:
    session_events = listen(jp_serverapp, SESSION)
    awareness_events = listen(jp_serverapp, AWARENESS)
    collab.write_notebook("nb.ipynb", ["a"])

    alice = await collab.open_notebook("nb.ipynb")
    (room_id,) = collab.document_rooms
    append(alice.document.ycells[0]["source"], "b")
    await wait_until(lambda: session_events.has("INFO", "save"), 10, "the save event")
    await alice.close()
    await wait_until(lambda: session_events.has("INFO", "clean"), 10, "the clean event")

    expected = {"level": "INFO", "room": room_id, "path": "nb.ipynb"}
    actions = [event["action"] for event in session_events.events]
    assert actions == ["load", "initialize", "save", "clean"]
    messages = [event["msg"] for event in session_events.events]
    assert messages == [
        "Content loaded from disk.",
        "Room initialized",
        "Content saved.",
        "Room deleted.",
    ]
    assert all(expected.items() <= event.items() for event in session_events.events)
    await wait_until(lambda: len(awareness_events.events) == 2, 5, "join and leave")
    assert [(event["roomid"], event["action"]) for event in awareness_events.events] == [
        (room_id, "join"),
        (room_id, "leave"),
    ]
    assert awareness_events.events[0]["username"] == awareness_events.events[1]["username"] != ""


async def test_a_save_is_logged_at_debug_level_not_info(collab: Collab) -> None:
    """A line per autosave of every room would flood the server's log."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append  # type: ignore[method-assign]
    log = collab.extension.log
    log.addHandler(handler)
    level, log.level = log.level, logging.DEBUG
    try:
        collab.write_notebook("nb.ipynb", ["a"])
        alice = await collab.open_notebook("nb.ipynb")
        append(alice.document.ycells[0]["source"], "b")
        assert (await alice.save(1))["status"] == "success"
    finally:
        log.removeHandler(handler)
        log.level = level
    levels = {
        record.getMessage().split(": ", 1)[1].split()[0]: record.levelno for record in records
    }
    assert levels["load"] == logging.INFO and levels["save"] == logging.DEBUG


def test_a_session_event_is_logged_at_most_as_a_warning() -> None:
    """An ERROR session event is about one document (a deleted file, a save to retry): the
    server's log gets a warning, not an error; the event keeps its level for the front end."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    log = logging.getLogger("test.session_events")
    log.addHandler(Keep())
    log.propagate = False
    Events(None, log).session("ERROR", "room", "nb.ipynb", msg="the file was deleted")
    assert [(r.levelno, r.getMessage().split(": ", 1)[1]) for r in records] == [
        (logging.WARNING, "the file was deleted")
    ]


async def test_a_file_open_in_two_rooms_at_once_is_warned_about(
    collab: Collab, jp_serverapp: ServerApp
) -> None:
    """A notebook opened as a notebook and, in another tab, as text ("Open With > Editor"): two
    documents that each save the file. The one opened second says so, as a WARNING the front
    end shows in a dialog."""
    session_events = listen(jp_serverapp, SESSION)
    collab.write_notebook("nb.ipynb", ["a"])
    await collab.open_notebook("nb.ipynb")
    (notebook_room,) = collab.document_rooms
    await collab.open_text("nb.ipynb")
    text_room = next(room for room in collab.document_rooms if room != notebook_room)

    await wait_until(lambda: session_events.has("WARNING"), 5, "the warning")
    (warning,) = session_events.matching("WARNING")
    assert warning["room"] == text_room and warning["path"] == "nb.ipynb"
    assert warning["msg"] == (
        f"nb.ipynb is also open as {notebook_room}: saves may overwrite each other"
    )
