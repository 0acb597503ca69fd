"""``GET /api/collaboration/status``: the open rooms and their peers, for admins (docs/status.md).

Thin: what it lists is rooms/status.py's. It needs ``read`` on jupyter_server's ``server``
resource, the one its own admin route (``/api/shutdown``, ``write``) uses, not ``contents``: it
shows every user's open documents, who is in them and how their saves stand, which a user allowed
to read or edit files, one at a time, has no business seeing. ``read``: it changes nothing. A
deployment's authorizer grants it to its admins (JupyterHub: the server's owner and admins hold
every scope; a user given only ``read:contents`` or ``write:contents`` gets 403).
"""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..rooms.status import server_status
from .websocket import CollabHandler


class StatusHandler(CollabHandler, APIHandler):
    auth_resource = "server"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        services = self.services
        self.finish(await server_status(services.manager.rooms.values(), services.server_id))
