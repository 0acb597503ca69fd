"""Forks: rooms holding a copy of a document room's ``Doc``, with no file behind them.

A fork is made from an open document room (its *root*), optionally kept in step with it, edited
by its own peers, and deleted with or without merging its changes back into the root. A timeline
is a fork whose copy is the root's history (timeline.py): its peers only watch, the undo/redo
route steps through the versions, and restoring applies the version shown to the root, where it
reaches every peer as ordinary edits and is saved like any.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pycrdt import Doc

from ..codec.listeners import Hears, UpdateListeners
from ..codec.updates import copy_of
from ..errors import OUTCOMES, NotFound
from ..settings import Settings
from .room import Room
from .timeline import Timeline


@dataclass(frozen=True)
class ForkInfo:
    """What the front end shows of a fork (the field names are the wire format's)."""

    root_roomid: str
    synchronize: bool = False
    title: str = ""
    description: str = ""


class Fork:
    def __init__(
        self,
        root: Room,
        room: Room,
        info: ForkInfo,
        timeline: Timeline | None = None,
        viewer: str | None = None,
    ) -> None:
        self.root = root
        self.room = room
        self.info = info
        self.timeline = timeline
        self.viewer = viewer  # the user who asked for the timeline
        self._stop_following: Callable[[], None] | None = None
        if info.synchronize:
            listeners = UpdateListeners.of(root.doc)
            self._stop_following = listeners.listen(
                Hears.FORKS, lambda update, _origin: self.room.apply_update(update)
            )

    @property
    def fork_id(self) -> str:
        return self.room.room_id

    @classmethod
    def copy_of(cls, root: Room, info: ForkInfo, settings: Settings) -> Fork:
        """A fork holding the root's document as it is now."""
        return cls(root, _fork_room(root, copy_of(root.doc), settings), info)

    @classmethod
    async def timeline_of(cls, root: Room, settings: Settings, viewer: str) -> Fork:
        """A read-only fork holding the root's history, at its latest version."""
        assert root.document is not None and root.kind is not None, "a document room"
        history = await root.document.history.read()
        timeline = await Timeline.replay(root.kind, history, settings.timeline_step)
        room = _fork_room(root, timeline.doc, settings, editable=False)
        return cls(root, room, ForkInfo(root.room_id, title="timeline"), timeline, viewer)

    def replaces(self, other: Fork) -> bool:
        """Whether this timeline takes the place of ``other``: one of the same document for
        the same viewer, which nobody watches. A page shows one at a time, and each holds a
        copy of the whole history for ``cleanup_delay``: asked for again and again, they
        filled ``max_rooms`` and the server's memory."""
        if self.timeline is None or other.timeline is None or other.room.peers:
            return False
        return other.viewer == self.viewer and other.root is self.root

    def merge_into_root(self) -> None:
        """Apply to the root what the fork has and the root has not (its own edits, the
        version a timeline shows); the root's newer edits stay."""
        self.root.apply_update(self.room.doc.get_update(self.root.doc.get_state()))

    def close(self) -> None:
        """Stop following the root, disconnect the fork's peers and free its document."""
        if self._stop_following is not None:
            self._stop_following()
            self._stop_following = None
        gone = OUTCOMES[NotFound].close_code  # the front end stops reconnecting
        for peer in tuple(self.room.peers):
            peer.close(gone, "this fork was deleted")
        self.room.close()
        if self.timeline is not None:
            self.timeline.close()


def _fork_room(root: Room, doc: Doc[Any], settings: Settings, *, editable: bool = True) -> Room:
    return Room(
        uuid.uuid4().hex,
        doc,
        session_id=root.session_id,
        settings=settings,
        kind=root.kind,
        editable=editable,
    )
