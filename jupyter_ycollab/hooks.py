"""Deployment hooks: how rooms are named, who may connect, how documents start, who came and went.

A deployment subclasses ``CollabHooks``, overrides what it needs and names its class in
``c.YCollabApp.hooks_class``; one instance serves the whole server. The defaults change nothing.
``HookCalls`` is the server's side: it calls a hook so that a bug in it costs one connection
(closed with the server-error code 4500) or one room's opening, logged once with its
traceback, and never the server or the other peers.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

from jupyter_ydoc.ybasedoc import YBaseDoc

from .errors import CollabError, HookFailed

if TYPE_CHECKING:
    from .api import Rooms
    from .app import YCollabApp
    from .rooms.peer import Peer
    from .rooms.room import Room
    from .web.websocket import RoomHandler

log = logging.getLogger(__name__)

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


# -- calling hooks (the server's side) ---------------------------------------------------------


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
        self._views: dict[Room, YBaseDoc] = {}

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
        view = self._views[room] = room.document.kind.wrap(room.doc)
        try:
            with _failures_of("initialise_document"):
                await self.hooks.initialise_document(room, view)
        except BaseException:
            self.release(room)
            raise

    def release(self, room: Room) -> None:
        """The room is closed: drop the observers its initialiser attached, then tell the
        deployment (a failure is logged; the room is closed whatever the hook does)."""
        view = self._views.pop(room, None)
        if view is None:
            return  # not a document room, or released already
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
