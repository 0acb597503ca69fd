"""Rooms as extensions written for jupyter-collaboration reach into them.

Those extensions do not stop at ``get_document``: jupyter-ai-tools takes a room from
``ywebsocket_server.get_room(room_id)`` and reads its ``_document`` (the live jupyter_ydoc
document) and its ``awareness`` (a ``pycrdt.Awareness``, to see where users are and to show the
agent among them); jupyterlab-chat sets fields on ``document.awareness`` of the document
``get_document(copy=False)`` returns. Our ``Room`` keeps its awareness states itself (they are
bounded and relayed as they arrive), so these adapters give those callers the attributes and
calls they use, over our room, without widening ``Room`` for them.
"""

from __future__ import annotations

import json
import weakref
from typing import Any

from jupyter_ydoc.ybasedoc import YBaseDoc
from pycrdt import Doc

from ..document.state import view_of_loaded
from ..rooms import protocol
from ..rooms.room import Room


class RoomAwareness:
    """The part of ``pycrdt.Awareness`` those extensions call, over a room's awareness states.

    The "local" state is the server's own awareness entry, the one the keep-alive renews: a
    state set here reaches every peer of the room at once, and every newcomer with the others'
    states. ``states`` reads the peers' latest states. Not provided: ``observe`` (no
    notification of peers' changes), ``meta``, and ``apply_awareness_update`` and the other
    calls of a client that runs its own connection.
    """

    def __init__(self, room: Room) -> None:
        self._room = room

    @property
    def client_id(self) -> int:
        return self._room.awareness.server_client_id

    @property
    def states(self) -> dict[int, Any]:
        """Every live state by client id, the server's own included, as pycrdt gives them."""
        return self._room.awareness.states()

    def get_local_state(self) -> dict[str, Any] | None:
        state = self.states.get(self.client_id)
        return state if isinstance(state, dict) else None

    def set_local_state(self, state: dict[str, Any] | None) -> None:
        """Show ``state`` to every peer as the server's presence (None withdraws it)."""
        update = self._room.awareness.set_server_state(json.dumps(state))
        self._room.broadcast(protocol.encode_awareness(update))

    def set_local_state_field(self, field: str, value: Any) -> None:
        state = dict(self.get_local_state() or {})
        state[field] = value
        self.set_local_state(state)


#: The one view handed out for each open room no file backs (a fork): made at the first call.
_room_views: weakref.WeakKeyDictionary[Room, YBaseDoc] = weakref.WeakKeyDictionary()


def live_document(room: Room) -> YBaseDoc | None:
    """The jupyter_ydoc view of the room's own ``Doc`` (changes to it reach every peer and are
    saved), with the room's awareness, as jupyter-collaboration hands it out; None for the
    awareness relay, which has no document.

    Always the same view for a room: the document's own one for a file's room. A new view at
    each call would add observers to the room's ``Doc`` for as long as it lives, and some
    document classes act on what they observe (jupyterlab-chat's YChat re-times every new
    message, and marks the document dirty when made): each call would add one more.
    """
    if room.kind is None:
        return None
    if room.document is not None:
        document = room.document.shared
    elif room in _room_views:
        document = _room_views[room]
    else:
        document = _room_views[room] = view_of_loaded(room.kind, room.doc)
    # Not a pycrdt.Awareness: the room keeps the states; this is the look-alike over them.
    document.awareness = RoomAwareness(room)  # type: ignore[assignment]
    return document


class CompatRoom:
    """One room as ``ywebsocket_server.get_room()`` / ``.rooms`` hand it out: the attributes of
    jupyter-collaboration's rooms that extensions read. A view: it holds nothing of its own."""

    def __init__(self, room: Room) -> None:
        self._room = room

    @property
    def room_id(self) -> str:
        return self._room.room_id

    @property
    def ydoc(self) -> Doc[Any]:
        return self._room.doc

    @property
    def awareness(self) -> RoomAwareness:
        return RoomAwareness(self._room)

    @property
    def _document(self) -> YBaseDoc | None:
        """jupyter-collaboration's private name, which jupyter-ai-tools reads."""
        return live_document(self._room)

    def __repr__(self) -> str:
        return f"<CompatRoom {self._room.room_id}>"
