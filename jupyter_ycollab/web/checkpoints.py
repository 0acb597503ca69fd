"""A checkpoint restored through Jupyter's contents API becomes its open document again.

File > Revert to Checkpoint posts to ``/api/contents/{path}/checkpoints/{id}``, then reloads the
document; for a shared document JupyterLab's reload asks no content (the room holds it), so the
room must take the restored file itself (document.py ``take_file``). jupyter_server emits no
event for a restore: we hear it where every finished request is logged, the Tornado setting
``log_function``, which calls the server's own logger first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jupyter_server.services.contents.handlers import ModifyCheckpointsHandler
from tornado.web import RequestHandler

from .services import Services


def follow_restored_checkpoints(web_settings: dict[str, Any], services: Services) -> None:
    """Have each open document whose checkpoint was restored take its file again."""
    log_request: Callable[[RequestHandler], None] | None = web_settings.get("log_function")

    def log_and_follow(handler: RequestHandler) -> None:
        if log_request is not None:
            log_request(handler)
        if _restored_a_checkpoint(handler):
            path = handler.path_kwargs["path"].strip("/")
            for room in list(services.manager.rooms.values()):
                if room.document is not None and room.document.path == path:
                    services.manager.spawn(room.document.take_file())

    web_settings["log_function"] = log_and_follow


def _restored_a_checkpoint(handler: RequestHandler) -> bool:
    """A ``POST`` of the checkpoints API, answered 204: the file holds the checkpoint now."""
    restore = handler.request.method == "POST" and handler.get_status() == 204
    return isinstance(handler, ModifyCheckpointsHandler) and restore
