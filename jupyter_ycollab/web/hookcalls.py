"""How the server calls the deployment's hooks (``jupyter_ycollab.hooks.CollabHooks``).

Apart from hooks.py, which is what deployments read and subclass: this is the server's side. It
calls a hook so that a bug in it costs one connection (closed with the server-error code 4500) or
one room's opening, logged once with its traceback, and never the server or the other peers.
The handlers call it around a peer's connection; the room manager calls it (through
``rooms.opening.RoomHooks``) around a room's opening and closing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

from jupyter_ydoc.ybasedoc import YBaseDoc

from ..document.state import view_of_loaded
from ..errors import CollabError, HookFailed
from ..rooms.peer import Peer
from ..rooms.room import Room

if TYPE_CHECKING:
    from ..hooks import CollabHooks
    from .websocket import RoomHandler

# The logger deployments know (the README names it): the hooks' failures are theirs.
log = logging.getLogger("jupyter_ycollab.hooks")


@contextlib.contextmanager
def _failures_of(
    hook: str, answers: tuple[type[Exception], ...] = (CollabError,)
) -> Iterator[None]:
    """Let the hook's answers (``CollabError``: Refused, NotFound...) through; turn anything else
    into ``HookFailed``, logged here once with its traceback."""
    try:
        yield
    except answers:
        raise
    except Exception as error:
        log.error("Collaboration hook %s failed", hook, exc_info=error)
        raise HookFailed(f"the server's {hook} hook failed") from error


class HookCalls:
    """How the server calls the deployment's hooks: never letting one raise anything but a
    ``CollabError`` (see ``_failures_of``), and keeping each document view an initialiser got
    for as long as its room is open, so the observers attached to it live that long and no
    longer (pycrdt drops an observer with its subscription, and cannot collect one that refers
    back to its room)."""

    def __init__(self, hooks: CollabHooks) -> None:
        self.hooks = hooks
        #: The rooms initialised, with the view their initialiser got. None when the deployment
        #: has none (only ``CollabHooks`` defines it): a view acts on what it observes, and a
        #: second YChat (jupyterlab-chat) would give each new message the server's time again.
        self._views: dict[Room, YBaseDoc | None] = {}
        self._initialises = sum("initialise_document" in vars(c) for c in type(hooks).__mro__) > 1

    async def name_room(self, handler: RoomHandler, requested: str) -> str:
        with _failures_of("room_id"):
            room_id = await self.hooks.room_id(handler, requested)
            if not isinstance(room_id, str):
                raise TypeError(f"room_id returned {room_id!r}, not a str")
        return room_id

    async def check_connection(self, handler: RoomHandler, room_id: str) -> None:
        with _failures_of("check_connection"):
            await self.hooks.check_connection(handler, room_id)

    async def initialise(self, room: Room) -> None:
        """Run ``initialise_document`` on a freshly loaded document room (none for others)."""
        if room.document is None:
            return
        self._views[room] = None
        if not self._initialises:
            return
        view = self._views[room] = view_of_loaded(room.document.kind, room.doc)
        try:
            with _failures_of("initialise_document"):
                await self.hooks.initialise_document(room, view)
        except BaseException:
            self.release(room)
            raise

    def release(self, room: Room) -> None:
        """The room is closed: drop the observers its initialiser attached, then tell the
        deployment (a failure is logged; the room is closed whatever the hook does)."""
        if room not in self._views:
            return  # not a document room, or released already
        view = self._views.pop(room)
        if view is not None:
            view.unobserve()
        with contextlib.suppress(HookFailed), _failures_of("on_close", answers=()):
            self.hooks.on_close(room)

    def joined(self, room: Room, peer: Peer) -> None:
        with _failures_of("on_join"):
            self.hooks.on_join(room, peer)

    def left(self, room: Room, peer: Peer) -> None:
        """Never raises: the peer is gone whatever the hook does (a failure is logged)."""
        with contextlib.suppress(HookFailed), _failures_of("on_leave", answers=()):
            self.hooks.on_leave(room, peer)
