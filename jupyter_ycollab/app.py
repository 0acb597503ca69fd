"""The server extension: options (traits), wiring, start and stop. Small on purpose."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Float, Int, TraitError, Type, Unicode, validate

from .api import Rooms
from .compat import YDocCompat
from .events import Events
from .files import FileIds, Files
from .forkhandlers import ForkHandler, TimelineHandler, UndoRedoHandler
from .handlers import RoomHandler, SessionHandler
from .hooks import CollabHooks, HookCalls, check_hooks_class
from .manager import RoomManager
from .memory import freeze_long_lived_objects
from .settings import Settings

_CONFLICTING_EXTENSION = "jupyter_server_ydoc"


class YCollabApp(ExtensionApp):
    """Real-time collaboration for JupyterLab: one room per document, saved to its file."""

    name = "jupyter_ycollab"
    description = __doc__

    save_delay = Float(
        1.0,
        config=True,
        help="Seconds without edits after which a changed document is saved to its file.",
    )
    max_save_delay = Float(
        10.0,
        config=True,
        help="Longest time in seconds a change waits for its save while edits keep arriving.",
    )
    cleanup_delay = Float(
        60.0,
        config=True,
        help="Seconds a room stays open after its last peer left (it is saved before it closes).",
    )
    poll_interval = Float(
        1.0,
        config=True,
        help="Seconds between checks of open files for changes made outside the room.",
    )
    keepalive_interval = Float(
        15.0,
        config=True,
        help="Seconds between the server's awareness renewals: every peer hears from the server "
        "at least this often (the front end reconnects after 30 s of silence).",
    )
    max_message_size = Int(
        512 * 1024 * 1024,
        config=True,
        help="Largest websocket frame accepted from a peer, in bytes; larger frames close the "
        "connection with code 1009.",
    )
    max_peer_buffer = Int(
        64 * 1024 * 1024,
        config=True,
        help="Bytes queued for a peer that is not reading before it is disconnected (code 1013).",
    )
    max_awareness_state = Int(
        64 * 1024,
        config=True,
        help="Largest awareness state (cursor, user, selection) one client may announce, in "
        "bytes of JSON; a larger one, or more than 8 client ids on one connection, closes that "
        "connection with code 1009.",
    )
    max_peers_per_room = Int(
        200,
        config=True,
        help="Connections one room accepts; one more is refused (HTTP 503 before the upgrade, "
        "close code 1013 after it) and the front end retries with back-off.",
    )
    max_rooms = Int(
        1000,
        config=True,
        help="Document rooms open at once (rooms waiting cleanup_delay count); opening one more "
        "is refused (session PUT 503, websocket 503 or close code 1013) and opens nothing.",
    )
    validate_updates = Bool(
        True,
        config=True,
        help="Check every edit from a peer on a copy of the document before applying it, and "
        "refuse (close code 1007) one that would break the document's schema. Costs about 10 us "
        "per keystroke, and a second copy of a document in memory while a peer that may edit it "
        "is connected.",
    )
    log_dir = Unicode(
        "",
        config=True,
        help="Folder of the update logs that keep edits not yet in their files safe across "
        "crashes (default: <jupyter data dir>/ycollab/logs). Keep it outside the served folder.",
    )
    log_commit_delay = Float(
        0.1,
        config=True,
        help="Longest time in seconds an applied edit waits before it is written durably to the "
        "update log (edits are written together, one fsync per batch).",
    )
    log_max_bytes = Int(
        16 * 1024 * 1024,
        config=True,
        help="Size in bytes past which a document's update log is compacted (or twice its "
        "compacted size, when that is larger).",
    )
    timeline_step = Float(
        1.0,
        config=True,
        help="Seconds of edits that make one version on the document timeline (the history "
        "slider); 0 makes every logged commit a version.",
    )
    render_process = Bool(
        True,
        config=True,
        help="Read and render notebooks of 64 KiB and more in a child process, so that the "
        "event loop never waits while they load or save. It costs the child's memory (about "
        "40 MB, 70 MB after saving a 10,000-cell notebook). False: worker threads, less "
        "memory, but pauses of tens of milliseconds for every peer while a big notebook is "
        "saved.",
    )
    freeze_startup_objects = Bool(
        True,
        config=True,
        help="Once the server has started, move the objects alive then (modules, classes: about "
        "240,000 in a Jupyter server) out of Python's cycle collector's reach (gc.freeze), so "
        "that its full collections stop pausing every room for tens to hundreds of "
        "milliseconds. It affects the whole server process; False leaves the collector alone.",
    )
    disable_rtc = Bool(
        False, config=True, help="Tell the front end to open documents without collaboration."
    )
    server_side_execution = Bool(
        False,
        config=True,
        help="Tell the front end that kernels' outputs are written into documents by the server.",
    )

    hooks_class = Type(
        default_value=CollabHooks,
        klass=CollabHooks,
        config=True,
        help="Subclass of jupyter_ycollab.hooks.CollabHooks (or its import path) with the "
        "deployment's hooks: how rooms are named, connect-time checks, document initialisers, "
        "join and leave notifications. See the README, 'Extending jupyter_ycollab'.",
    )

    @validate("hooks_class")
    def _valid_hooks_class(self, proposal: dict[str, Any]) -> type[CollabHooks]:
        try:
            check_hooks_class(proposal["value"])
        except TypeError as error:
            raise TraitError(f"hooks_class: {error}") from error
        cls: type[CollabHooks] = proposal["value"]
        return cls

    @validate("save_delay", "cleanup_delay", "poll_interval", "timeline_step")
    def _non_negative(self, proposal: dict[str, Any]) -> float:
        if proposal["value"] < 0:
            raise TraitError(f"{proposal['trait'].name} must be >= 0, not {proposal['value']}")
        return float(proposal["value"])

    @validate("max_peers_per_room", "max_rooms")
    def _at_least_one(self, proposal: dict[str, Any]) -> int:
        if proposal["value"] < 1:
            raise TraitError(f"{proposal['trait'].name} must be >= 1, not {proposal['value']}")
        return int(proposal["value"])

    @validate("max_save_delay", "keepalive_interval", "log_commit_delay")
    def _positive(self, proposal: dict[str, Any]) -> float:
        if proposal["value"] <= 0:
            raise TraitError(f"{proposal['trait'].name} must be > 0, not {proposal['value']}")
        return float(proposal["value"])

    @validate("max_message_size", "max_peer_buffer", "log_max_bytes", "max_awareness_state")
    def _positive_size(self, proposal: dict[str, Any]) -> int:
        if proposal["value"] < 1024:
            raise TraitError(f"{proposal['trait'].name} must be at least 1024 bytes")
        return int(proposal["value"])

    manager: RoomManager
    hooks: CollabHooks
    hook_calls: HookCalls

    @property
    def rooms(self) -> Rooms:
        """The open rooms by room id, and server-side changes to them (see api.py)."""
        return Rooms(self.manager)

    def initialize_settings(self) -> None:
        assert self.serverapp is not None
        self._refuse_to_run_beside_jupyter_server_ydoc()
        page_config = self.serverapp.web_app.settings.setdefault("page_config_data", {})
        page_config.setdefault("disableRTC", self.disable_rtc)
        page_config.setdefault("serverSideExecution", self.server_side_execution)
        files = Files(
            self.serverapp.contents_manager,
            _LazyFileIds(self.serverapp.web_app.settings),
            render_process=self.render_process,
        )
        events = Events(self.serverapp.event_logger, self.log)
        self.hooks = self.hooks_class(self)  # before the manager: it calls them
        self.hook_calls = HookCalls(self.hooks)
        self.manager = RoomManager(self._core_settings(), files, events, self.hook_calls)
        self.settings["jupyter_server_ydoc"] = YDocCompat(self.manager)

    def _core_settings(self) -> Settings:
        return Settings(
            save_delay=self.save_delay,
            max_save_delay=max(self.max_save_delay, self.save_delay),
            cleanup_delay=self.cleanup_delay,
            poll_interval=self.poll_interval,
            keepalive_interval=self.keepalive_interval,
            max_message_size=self.max_message_size,
            max_peer_buffer=self.max_peer_buffer,
            log_dir=Path(self.log_dir) if self.log_dir else Settings().log_dir,
            log_commit_delay=self.log_commit_delay,
            log_max_bytes=self.log_max_bytes,
            max_awareness_state=self.max_awareness_state,
            max_peers_per_room=self.max_peers_per_room,
            max_rooms=self.max_rooms,
            validate_updates=self.validate_updates,
            timeline_step=self.timeline_step,
        )

    def _refuse_to_run_beside_jupyter_server_ydoc(self) -> None:
        assert self.serverapp is not None
        enabled = self.serverapp.jpserver_extensions
        if enabled.get(_CONFLICTING_EXTENSION):
            self.log.critical(
                "jupyter_ycollab and %s (jupyter-collaboration) are both enabled; they serve the "
                "same routes. Disable one: `jupyter server extension disable %s` (or uninstall "
                "jupyter-collaboration).",
                _CONFLICTING_EXTENSION,
                _CONFLICTING_EXTENSION,
            )
            sys.exit(1)

    def initialize_handlers(self) -> None:
        self.handlers.extend(
            [
                (r"/api/collaboration/session/(.*)", SessionHandler),
                (r"/api/collaboration/room/(.*)", RoomHandler),
                (r"/api/collaboration/fork/(.*)", ForkHandler),
                (r"/api/collaboration/timeline/(.*)", TimelineHandler),
                (r"/api/collaboration/undo_redo/(.*)", UndoRedoHandler),
            ]
        )

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        """jupyter_server's hook for when its loop runs: every extension is loaded by then."""
        if self.freeze_startup_objects:
            count = freeze_long_lived_objects()
            self.log.debug(
                "Moved %d objects alive at start out of the cycle collector's way", count
            )

    async def stop_extension(self) -> None:
        await self.manager.stop()


class _LazyFileIds:
    """jupyter_server_fileid's manager, looked up when first needed: extensions load
    alphabetically, so it is not in the settings yet when we initialize."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self._settings = settings

    @property
    def _manager(self) -> FileIds:
        manager: FileIds | None = self._settings.get("file_id_manager")
        if manager is None:
            raise RuntimeError("jupyter_server_fileid is not enabled; jupyter_ycollab needs it")
        return manager

    def get_path(self, id: str) -> str | None:
        return self._manager.get_path(id)

    def get_id(self, path: str) -> str | None:
        return self._manager.get_id(path)

    def index(self, path: str) -> str | None:
        return self._manager.index(path)
