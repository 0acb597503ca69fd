"""The server extension: wiring, start and stop. Small on purpose; its options are options.py's."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, NoReturn

from jupyter_server.extension.application import ExtensionApp
from jupyter_server.serverapp import ServerApp

from .api import Rooms
from .cluster.options import ClusterOptions
from .compat import NAME as JUPYTER_SERVER_YDOC
from .compat import YDocCompat
from .compat.standin import register_stand_in
from .document.files import FileIds, Files
from .document.sharing import Share, alone
from .events import Events
from .fastpath.files import FastFiles
from .hooks import CollabHooks
from .memory import freeze_long_lived_objects
from .metrics.option import MetricsOption
from .options import CollabOptions
from .rooms.manager import RoomManager
from .rooms.status import census
from .serverlog import follow_server_log
from .web.checkpoints import follow_restored_checkpoints
from .web.forks import ForkHandler, TimelineHandler, UndoRedoHandler
from .web.hookcalls import HookCalls
from .web.services import SETTINGS_KEY, Services
from .web.session import SessionHandler
from .web.status import StatusHandler
from .web.websocket import RoomHandler

if TYPE_CHECKING:
    from .cluster.cluster import Cluster


class YCollabApp(ExtensionApp, CollabOptions, ClusterOptions, MetricsOption):
    """Real-time collaboration for JupyterLab: one room per document, saved to its file."""

    name = "jupyter_ycollab"
    description = __doc__

    manager: RoomManager
    hooks: CollabHooks
    hook_calls: HookCalls
    compat: YDocCompat
    cluster: Cluster | None = None

    @property
    def rooms(self) -> Rooms:
        """The open rooms by room id, and server-side changes to them (see api.py)."""
        return Rooms(self.manager)

    def _link_jupyter_server_extension(self, serverapp: ServerApp) -> None:
        """Also be found as ``jupyter_server_ydoc`` (compat/standin.py), from here: jupyter_server
        links every extension before it loads any, and jupyter_server_nbmodel, which loads before us
        (alphabetical order), looks for it while it loads. Not without file ids: collaboration
        is off then (``initialize_settings``), and the others must find it off."""
        super()._link_jupyter_server_extension(serverapp)
        self.compat = YDocCompat(self._room_manager, disable_rtc=self.disable_rtc)
        if not self._enabled(JUPYTER_SERVER_YDOC) and self._enabled("jupyter_server_fileid"):
            register_stand_in(serverapp, self.compat)

    def _room_manager(self) -> RoomManager:
        """The room manager, once ``initialize_settings`` made it (the compat object, made
        earlier, is called only later)."""
        manager: RoomManager | None = getattr(self, "manager", None)
        if manager is None:
            raise RuntimeError("jupyter_ycollab's rooms are not initialised yet")
        return manager

    def initialize_settings(self) -> None:
        assert self.serverapp is not None
        page_config = self.serverapp.web_app.settings.setdefault("page_config_data", {})
        if not hasattr(self, "compat"):  # linking raised; jupyter_server loads us all the same
            self._collaboration_off(
                page_config,
                "linking failed (the 'error linking extension' warning above says why, most "
                "often an invalid option); fix it and restart",
            )
        if not self._enabled("jupyter_server_fileid"):
            self._collaboration_off(
                page_config,
                "jupyter_server_fileid is disabled, and rooms are named by its file ids: "
                "`jupyter server extension enable jupyter_server_fileid`, and restart",
            )
        follow_server_log(self.log)
        self._refuse_to_run_beside_jupyter_server_ydoc()
        page_config.setdefault("disableRTC", self.disable_rtc)
        page_config.setdefault("serverSideExecution", self.server_side_execution)
        files = self._files()
        events = Events(self.serverapp.event_logger, self.log)
        self.hooks = self.hooks_class(self)  # before the manager: it calls them
        self._start_metrics()
        share = self._join_cluster(files)
        self.manager = RoomManager(self._core_settings(), files, events, self.hook_calls, share)
        if self.cluster is not None:
            self.cluster.retire_room = self.manager.retire
        self._export_metrics(partial(census, self.manager))
        server_id = self.cluster.server_id if self.cluster is not None else None
        services = Services(self.manager, files, events, self.hook_calls, server_id)
        self.settings[SETTINGS_KEY] = services
        follow_restored_checkpoints(self.settings, services)  # jupyter_server copies them after
        self.settings[JUPYTER_SERVER_YDOC] = self.compat

    @staticmethod
    def _collaboration_off(page_config: dict[str, Any], why: str) -> NoReturn:
        """Say why once, at start, and let JupyterLab open documents without collaboration
        (``disableRTC``), rather than fail at each one the user opens."""
        page_config["disableRTC"] = True
        raise RuntimeError(f"collaboration is off: {why}")

    def _files(self) -> Files:
        """The rooms' way to their files: with the fast path (for stock managers), or only
        through the contents manager's ``get`` and ``save``."""
        assert self.serverapp is not None
        contents = current_contents_manager(self.serverapp)  # jupytext replaces it after we load
        ids = partial(_file_id_manager, self.serverapp.web_app.settings)
        if self.fast_path:
            return FastFiles(contents, ids, render_process=self.render_process)
        return Files(contents, ids)

    def _join_cluster(self, files: Files) -> Share:
        """The hook calls, and how documents are shared: through Redis when ``redis_url`` is
        set (cluster/, imported only then: a single server needs no Redis client)."""
        settings = self._cluster_settings()
        if settings is None:
            self.hook_calls = HookCalls(self.hooks)
            return alone
        try:
            from .cluster.cluster import Cluster
            from .cluster.hooks import ClusterHookCalls
        except ImportError as error:
            raise RuntimeError(
                f"redis_url is set but {error.name} is missing: pip install jupyter_ycollab[redis]"
            ) from error
        self.cluster = Cluster(settings)
        self.hook_calls = ClusterHookCalls(self.hooks, self.cluster, files)
        self.log.info("Sharing rooms with the servers of %s", self.cluster.describe())
        return self.cluster.share

    def _enabled(self, name: str) -> bool:
        """Whether the server extension ``name`` is enabled: jupyter_server_fileid, which names
        the rooms, or the real jupyter_server_ydoc (jupyter-collaboration)."""
        assert self.serverapp is not None
        return bool(self.serverapp.jpserver_extensions.get(name))

    def _refuse_to_run_beside_jupyter_server_ydoc(self) -> None:
        if self._enabled(JUPYTER_SERVER_YDOC):
            self.log.critical(
                "jupyter_ycollab and %s (jupyter-collaboration) are both enabled; they serve the "
                "same routes. Disable one: `jupyter server extension disable %s` (or uninstall "
                "jupyter-collaboration).",
                JUPYTER_SERVER_YDOC,
                JUPYTER_SERVER_YDOC,
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
                (r"/api/collaboration/status", StatusHandler),
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
        if not hasattr(self, "manager"):  # it failed to load: nothing was started
            return
        await self.manager.stop()
        self._stop_metrics()
        if self.cluster is not None:
            await self.cluster.stop()


def current_contents_manager(serverapp: ServerApp) -> Callable[[], Any]:
    """The server's contents manager at the time of the call.

    ``web_app.settings["contents_manager"]`` first: it is the one Jupyter's own contents API
    serves, so a room's reads and saves go the way a save from the file browser goes;
    ``serverapp.contents_manager`` when the settings have none.
    """
    settings: dict[str, Any] = serverapp.web_app.settings

    def current() -> Any:
        manager = settings.get("contents_manager")
        return serverapp.contents_manager if manager is None else manager

    return current


def _file_id_manager(settings: dict[str, Any]) -> FileIds:
    """jupyter_server_fileid's manager, looked up at each use: extensions load alphabetically,
    so it is not in the settings yet when we initialize."""
    manager: FileIds | None = settings.get("file_id_manager")
    if manager is None:
        raise RuntimeError("jupyter_server_fileid is not enabled; jupyter_ycollab needs it")
    return manager
