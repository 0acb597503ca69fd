"""The jupyter_events schemas the collaboration front end listens to, and helpers to emit them.

The schema ids and fields are the ones JupyterLab's collaboration UI knows (docs/protocol.md
section 8).
Its log console shows every session event with its level and message. A WARNING also opens a
dialog in every JupyterLab window on the server, whatever it has open, and that dialog's text is
fixed: "The file ... has been opened with two different views". So WARNING is for that case
alone (rooms/manager.py); a deleted file is an ERROR (its edits are no longer saved), a merge
conflict an INFO (both versions are kept).
"""

from __future__ import annotations

import logging
from typing import Any, Literal, get_args

from jupyter_events import EventLogger

SESSION = "https://schema.jupyter.org/jupyter_collaboration/session/v1"
AWARENESS = "https://schema.jupyter.org/jupyter_collaboration/awareness/v1"
FORK = "https://schema.jupyter.org/jupyter_collaboration/fork/v1"

Level = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
Action = Literal["initialize", "load", "save", "overwrite", "clean"]

#: The message of a session event that has none of its own, as jupyter-collaboration words it:
#: the front end's log console shows it, and listeners may match it (``ROOM_INITIALIZED``).
_MESSAGES: dict[str, str] = {"save": "Content saved.", "clean": "Room deleted."}
#: jupyter-ai's router before 0.1 takes a chat room for open only on ``action == "initialize"``
#: with exactly this message (and indexes ``msg``, so it must be there).
ROOM_INITIALIZED = "Room initialized"


def _schema(
    schema_id: str, title: str, properties: dict[str, Any], required: list[str]
) -> dict[str, Any]:
    return {
        "$id": schema_id,
        "version": "1",
        "title": title,
        "personal-data": True,
        "description": f"{title}, emitted by jupyter_ycollab.",
        "type": "object",
        "required": required,
        "properties": properties,
    }


_STRING = {"type": "string"}
SCHEMAS = [
    _schema(
        SESSION,
        "Collaborative document session",
        {
            "level": {"enum": list(get_args(Level))},
            "room": _STRING,
            "path": _STRING,
            "action": {"enum": list(get_args(Action))},
            "msg": _STRING,
        },
        ["level", "room", "path"],
    ),
    _schema(
        AWARENESS,
        "Collaborative room awareness",
        {
            "roomid": _STRING,
            "username": _STRING,
            "action": {"enum": ["join", "leave"]},
            "msg": _STRING,
        },
        ["roomid"],
    ),
    _schema(
        FORK,
        "Collaborative document fork",
        {
            "fork_roomid": _STRING,
            "fork_info": {"type": "object"},
            "username": _STRING,
            "action": {"enum": ["create", "delete"]},
        },
        ["fork_roomid", "action"],
    ),
]


class Events:
    """Emits our events on the server's event bus, and mirrors them to the log."""

    def __init__(self, event_logger: EventLogger | None, log: logging.Logger) -> None:
        self._bus = event_logger
        self._log = log
        if event_logger is not None:
            for schema in SCHEMAS:
                if schema["$id"] not in event_logger.schemas.schema_ids:
                    event_logger.register_event_schema(schema)

    def session(
        self, level: Level, room: str, path: str, action: Action | None = None, msg: str = ""
    ) -> None:
        """Emit a session event and log it at its level, but at most a warning (it is about one
        document, not the server: a failed save is retried, a deleted file waits), and a save
        that went well at DEBUG (a line per autosave of every room; the event still has INFO),
        as is a room's ``initialize``, which follows its ``load`` line."""
        data: dict[str, Any] = {"level": level, "room": room, "path": path}
        if action:
            data["action"] = action
        msg = msg or _MESSAGES.get(action or "", "")
        if msg:
            data["msg"] = msg
        quiet = level == "INFO" and action in ("save", "initialize")  # "load" said it opened
        log_level = logging.DEBUG if quiet else min(logging.getLevelName(level), logging.WARNING)
        said = " ".join(part for part in (action, msg) if part)
        said = msg if action and msg.startswith(action) else said  # "save save failed": once
        self._log.log(log_level, "%s %s: %s", room, path, said)
        self._emit(SESSION, data)

    def room_initialized(self, room_id: str, path: str) -> None:
        """A document room is loaded, initialised by the deployment's hooks and findable
        (``jupyter_server_ydoc``'s ``get_document(room_id=..., copy=False)``): other extensions
        attach to it now. jupyterlab-chat's ChatManager (which jupyter-ai 3 listens to) opens
        a chat on this event alone; the room id tells it the type (``text:chat:<file id>``)."""
        self.session("INFO", room_id, path, "initialize", ROOM_INITIALIZED)

    def awareness(self, room_id: str, username: str, action: Literal["join", "leave"]) -> None:
        self._emit(AWARENESS, {"roomid": room_id, "username": username, "action": action})

    def fork(
        self, fork_id: str, info: dict[str, Any], username: str, action: Literal["create", "delete"]
    ) -> None:
        data = {"fork_roomid": fork_id, "fork_info": info, "username": username, "action": action}
        self._emit(FORK, data)

    def _emit(self, schema_id: str, data: dict[str, Any]) -> None:
        if self._bus is not None:
            self._bus.emit(schema_id=schema_id, data=data)
