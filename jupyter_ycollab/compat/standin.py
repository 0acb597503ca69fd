"""jupyter_ycollab, found by other extensions as the ``jupyter_server_ydoc`` extension.

Why: some extensions find jupyter-collaboration's server through jupyter_server's extension
manager, not through the web app's settings. jupyter-server-nbmodel (server-side execution)
takes ``extension_manager.extension_apps["jupyter_server_ydoc"]`` while it loads and writes
outputs into the shared document through it; without it, outputs stream into the document
only through the browser that ran the cell, and are lost for everyone when that tab closes
mid-run. jupyterlab-chat and jupyter-ai-tools decide that collaboration is on only if
``extension_manager.extensions["jupyter_server_ydoc"]`` is enabled, and read ``disable_rtc``
from its app.

What it fakes: an enabled extension package named ``jupyter_server_ydoc`` with one extension
point whose app is our ``YDocCompat`` (the object also found in the settings under that name).
It is added when jupyter_ycollab links: jupyter_server links every extension before it loads
any, and loads them in alphabetical order, so jupyter_server_nbmodel loads before
jupyter_ycollab and would not see an entry added later.

What it does not: it is not jupyter-collaboration and never runs any of its code. The manager's
calls to link, load and start it do nothing (loading logs a line saying what it is); stopping
it stops nothing (our own app saves and closes the rooms). It is not added to
``ServerApp.jpserver_extensions``, so the configuration stays what the user wrote, and a real
``jupyter_server_ydoc`` the user enabled is never replaced (jupyter_ycollab then refuses to
start, see app.py). A disabled one is: the user chose us.
"""

from __future__ import annotations

import sys
from typing import Any

from jupyter_server.extension.manager import ExtensionPackage, ExtensionPoint
from jupyter_server.serverapp import ServerApp

from . import NAME, YDocCompat


def register_stand_in(serverapp: ServerApp, compat: YDocCompat) -> bool:
    """Enter ``compat`` in the extension manager as ``jupyter_server_ydoc``, unless a real
    extension of that name is enabled; return whether it was entered."""
    manager = serverapp.extension_manager
    current = manager.extensions.get(NAME)
    if current is not None and current.enabled:
        return False
    manager.extensions[NAME] = _StandInPackage(compat)
    return True


class _StandInPoint(ExtensionPoint):
    """An extension point whose app is ``compat``; linking, loading and starting do nothing."""

    def __init__(self, compat: YDocCompat) -> None:
        super().__init__()
        self._app = compat

    @property
    def linked(self) -> bool:
        return True

    @property
    def config(self) -> dict[str, Any]:
        return {}

    def link(self, serverapp: ServerApp) -> None:
        pass

    def load(self, serverapp: ServerApp) -> None:
        # In the server's log, just before its "extension was successfully loaded" line:
        # jupyter_ycollab's own loggers reach it only once jupyter_ycollab loads.
        serverapp.log.info(
            "%s | jupyter_ycollab's stand-in for extensions that look for jupyter-collaboration",
            NAME,
        )

    async def start(self, serverapp: ServerApp) -> None:
        pass


class _StandInPackage(ExtensionPackage):
    """An enabled extension package of that name that imports no module of that name."""

    def __init__(self, compat: YDocCompat) -> None:
        # enabled=False first: enabled=True would import a module of that name
        super().__init__(name=NAME, enabled=False)  # type: ignore[no-untyped-call]
        package = __name__.rpartition(".")[0]
        self.module = sys.modules[package]
        self.version = str(getattr(self.module, "__version__", ""))
        self.extension_points = {NAME: _StandInPoint(compat)}
        self.enabled = True
