"""What a deployment imports to customise the server: the hooks to subclass and what they see.

A deployment subclasses ``CollabHooks``, overrides what it needs and names its class in
``c.YCollabApp.hooks_class``; one instance serves the whole server. The defaults change nothing.
Every name a deployment needs is importable from here (``__all__``, the README's list, checked by
tests/test_public_surface.py); where they live inside the package may change. How the server
calls the hooks, so that a failing one costs only its connection or its room, is
web/hookcalls.py.

``YCollabApp`` is imported when first asked for (module ``__getattr__``): app.py imports
options.py, which imports this module for ``CollabHooks``, so importing app.py here would be a
circle.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from jupyter_ydoc.ybasedoc import YBaseDoc

from .api import Rooms
from .errors import CollabError, Refused
from .rooms.ids import GLOBAL_AWARENESS
from .rooms.peer import Peer
from .rooms.room import Room
from .web.websocket import RoomHandler

if TYPE_CHECKING:
    from .app import YCollabApp

__all__ = [
    "GLOBAL_AWARENESS",
    "CollabError",
    "CollabHooks",
    "Peer",
    "Refused",
    "Room",
    "RoomHandler",
    "Rooms",
    "YCollabApp",
]


def __getattr__(name: str) -> Any:
    """``YCollabApp``, imported when first asked for (the module's docstring says why)."""
    if name == "YCollabApp":
        from .app import YCollabApp

        return YCollabApp
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_ASYNC_HOOKS = ("room_id", "check_connection", "initialise_document")
_SYNC_HOOKS = ("on_join", "on_leave", "on_close")


class CollabHooks:
    """Override any of these methods; each default is what the server does without hooks.

    Decisions (``room_id``, ``check_connection``, ``initialise_document``) are coroutines, so they
    may ask a database; notifications (``on_join``, ``on_leave``) are plain methods called on the
    event loop while the peer joins or leaves: keep them quick (sending is quick).
    """

    def __init__(self, app: YCollabApp) -> None:
        """Made once, while the extension starts: no room is open yet, nor can one be."""
        self.app = app

    @property
    def rooms(self) -> Rooms:
        """The open rooms, ``send`` to a room or a peer, and server-side changes (api.py)."""
        return self.app.rooms

    async def room_id(self, handler: RoomHandler, requested: str) -> str:
        """The room a websocket request joins; ``requested`` is the id in its URL.

        Called after authentication and authorization, before the upgrade and before anything is
        allocated; the result must be a room the server serves (a document room id, the global
        awareness room, or a room a route registered), else the request is refused (404).
        """
        return requested

    async def check_connection(self, handler: RoomHandler, room_id: str) -> None:
        """Raise ``errors.Refused`` to turn the connection away (quotas, extra authorization).

        Called after the upgrade (so the refusal is a close code the front end understands) and
        before the room is opened: a refused connection allocates no room. ``handler`` is the
        Tornado handler: ``handler.current_user``, ``handler.request``, ``handler.readonly``.
        """

    async def initialise_document(self, room: Room, document: YBaseDoc) -> None:
        """Fill or observe a document room's document, once per opening, before any peer has it.

        Called when the room's document was loaded from its update log or file; concurrent
        openers wait for this one call. ``document`` is a jupyter_ydoc view of ``room.doc``
        (yours: its ``observe`` does not replace the server's observers; what you attach to it
        is dropped when the room closes). Changes made here
        are logged and saved like any edit, and the room is reopened after each eviction or
        restart, so make them idempotent (fill when empty, stamp when missing). Change the
        document directly: ``rooms.transaction`` on this room would wait for this very call.
        """

    def on_join(self, room: Room, peer: Peer) -> None:
        """A peer joined ``room`` (after the room sent it the handshake's first message).

        ``peer.id`` (an int unique in this server process), ``peer.username`` and
        ``peer.readonly`` identify it; ``room.document is None`` for the global awareness room.
        """

    def on_leave(self, room: Room, peer: Peer) -> None:
        """A peer left ``room`` (it is no longer in ``room.peers``); called once per join."""

    def on_close(self, room: Room) -> None:
        """A document room closed (evicted after ``cleanup_delay``, or the server stopped): what
        its initialiser set up for it (connections, caches) can go. Once per opening."""


def check_hooks_class(cls: type[CollabHooks]) -> None:
    """Raise TypeError when an override is sync where the server awaits it, or the reverse: a
    mistake caught at startup instead of failing every connection."""
    for name in _ASYNC_HOOKS:
        if not inspect.iscoroutinefunction(getattr(cls, name)):
            raise TypeError(f"{cls.__qualname__}.{name} must be a coroutine (async def)")
    for name in _SYNC_HOOKS:
        if inspect.iscoroutinefunction(getattr(cls, name)):
            raise TypeError(f"{cls.__qualname__}.{name} must be a plain method (not async def)")
