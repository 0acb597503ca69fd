"""What the collaboration routes use, as one typed object in the Tornado settings.

app.py builds it once and puts it under ``SETTINGS_KEY``; every handler reads it from there (as
jupyter_server_fileid's handlers read their manager), so the handlers know the parts they use and
not the app that composed them. ``settings["jupyter_ycollab"]`` stays the app: other code reads
that one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..document.files import Files
from ..events import Events
from ..rooms.manager import RoomManager
from .hookcalls import HookCalls
from .refusals import Refusals

SETTINGS_KEY = "jupyter_ycollab_services"


@dataclass(frozen=True)
class Services:
    """The room manager (open, join, leave, forks, limits), the files (existence, file ids),
    the event bus, the deployment's hooks, as the server calls them, this server's id in its
    cluster (None: it shares no rooms), and the refusals a front end was just shown."""

    manager: RoomManager
    files: Files
    events: Events
    hooks: HookCalls
    server_id: str | None = None
    refusals: Refusals = field(default_factory=Refusals)
