"""A room: one pycrdt ``Doc``, its awareness, its peers. Applies what comes in, fans out the rest.

No I/O happens here: frames leave through each peer's outbox, saving is the document's job.
The room's listener of the ``Doc``'s updates (codec/listeners.py) is the only way out, so an
update reaches every other peer exactly once whether it came from a peer, from disk or from
server-side code; its origin (codec/origins.py) tells which peer sent it, not to echo it back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

from pycrdt import Doc

from .. import metrics
from ..codec.kinds import DocumentKind
from ..codec.listeners import Hears, UpdateListeners
from ..codec.origins import FromPeer, Origin, TransactionOrigin
from ..codec.updates import EMPTY_STATE, EMPTY_UPDATE, refused_by_pycrdt
from ..errors import InvalidUpdate, MissingDependencies
from ..settings import Settings
from . import protocol
from .awareness import AwarenessStates
from .guard import UpdateGuard
from .peer import Peer
from .protocol import SyncStep

if TYPE_CHECKING:
    from ..document.document import Document

log = logging.getLogger(__name__)

#: Bytes of a peer's updates kept until it answers our step 1 (``_apply_from``); past them, refused.
HELD_BYTES = 1 << 20


class Room:
    def __init__(
        self,
        room_id: str,
        doc: Doc[Any] | None = None,
        document: Document | None = None,
        session_id: str = "",
        settings: Settings | None = None,
        *,
        kind: DocumentKind | None = None,
        editable: bool = True,
    ) -> None:
        """A room with a ``document`` is backed by its file; one with only a ``kind`` holds a
        document no file backs (a fork, a timeline); one with neither is an awareness relay.
        Peers' edits are applied only if the room is ``editable`` (a timeline is not)."""
        settings = settings or Settings()
        self.room_id = room_id
        self.doc = doc if doc is not None else Doc()
        self.document = document
        self.kind = document.kind if document is not None else kind
        self.editable = editable and self.kind is not None
        self.session_id = session_id
        self.awareness = AwarenessStates(settings.max_awareness_state)
        self._guard: UpdateGuard | None = None
        if self.editable and self.kind is not None and settings.validate_updates:
            full_state = document.full_state if document is not None else None
            self._guard = UpdateGuard(self.doc, self.kind, full_state)
        if document is not None:
            document.wants_autosave = self.awareness.autosave
            document.tell_pages = lambda: self.broadcast(self._file_status())
        self.peers: dict[Peer, FromPeer[Peer]] = {}  # in join order; origins made once (0.5 us)
        self._unanswered: dict[Peer, list[bytes]] = {}  # peers yet to answer our step 1: held
        self._listeners = UpdateListeners.of(self.doc)
        self._stop_relaying: Callable[[], None] | None = self._listeners.listen(
            Hears.RELAY, self._relay
        )
        #: Hears every awareness update this room's peers make (the cluster shares them), with
        #: its user (None: the server's own) and whether they may save (``relay_awareness``).
        self.awareness_out: Callable[[bytes, str | None, bool], None] = lambda *_said: None

    def from_another_server(self) -> bool:
        """Inside an observer of ``doc`` (or of its jupyter_ydoc view): the change being made
        came from another server sharing the room (docs/cluster.md). Every server holds the
        document and hears it; code that acts on new content acts on the server it was made on."""
        return self._listeners.from_another_server()

    # -- peers ---------------------------------------------------------------------------------

    def join(self, peer: Peer) -> None:
        """Start the handshake: our state vector, then everyone's awareness."""
        self.peers[peer] = FromPeer(peer)
        self._unanswered[peer] = []
        peer.send(protocol.encode_sync(SyncStep.STEP1, self.doc.get_state()))
        peer.send(protocol.encode_awareness(self.awareness.snapshot()))
        if self.document is not None:  # each time: a page back may show a notice gone since
            peer.send(self._file_status())

    def leave(self, peer: Peer) -> None:
        """Drop a peer and tell the others its awareness states are gone."""
        self._unanswered.pop(peer, None)
        if self.peers.pop(peer, None) is not None:
            self.forget_awareness(peer)
            if self._guard is not None and all(other.readonly for other in self.peers):
                self._guard.release()  # nobody left whose edits need checking

    def forget_awareness(self, owner: Hashable) -> None:
        """Tell everyone the states ``owner`` (a peer, or another server) announced are gone."""
        removal = self.awareness.forget(owner)
        if removal is not None:
            self.broadcast(protocol.encode_awareness(removal))
            if isinstance(owner, Peer):
                self.awareness_out(removal, None, True)

    def relay_awareness(self, server: str, payload: bytes, user: str | None, saves: bool) -> None:
        """Another ``server``'s peer's awareness: kept under that server, by ``apply``'s rules."""
        if taken := self.awareness.apply(server, payload, relayed=True, saves=saves, user=user):
            self.broadcast(protocol.encode_awareness(protocol.encode_awareness_update(taken)))

    def broadcast(self, frame: bytes, exclude: Peer | None = None) -> None:
        for peer in tuple(self.peers):
            if peer is not exclude:
                peer.send(frame)

    def _file_status(self) -> bytes:
        """For jupyter-docprovider 3.1's notice of a deleted file (docs/protocol.md section 5)."""
        file = self.document.file if self.document is not None else None
        return protocol.encode_file_status(file.path if file is not None and file.gone else None)

    def renew_awareness(self) -> None:
        """Send every peer something, so idle clients do not drop the connection after 30 s."""
        if self.peers:
            self.broadcast(protocol.encode_awareness(self.awareness.renew_server_state()))

    # -- inbound -------------------------------------------------------------------------------

    def receive(self, peer: Peer, message: protocol.Message) -> None:
        """Handle one decoded message; raise a ``CollabError`` to disconnect the peer."""
        if isinstance(message, protocol.Sync):
            self._receive_sync(peer, message)
        elif isinstance(message, protocol.Awareness):
            user, saves = peer.username, not peer.readonly
            if taken := self.awareness.apply(peer, message.payload, saves=saves, user=user):
                payload = protocol.encode_awareness_update(taken)  # not what it may not say
                self.broadcast(protocol.encode_awareness(payload), exclude=peer)
                self.awareness_out(payload, user, saves)
        elif isinstance(message, protocol.QueryAwareness):
            peer.send(protocol.encode_awareness(self.awareness.snapshot()))
        elif isinstance(message, protocol.SaveRequest):
            self._receive_save_request(peer, message.save_id)
        # Other RAW messages are dropped, never relayed.

    def _receive_sync(self, peer: Peer, message: protocol.Sync) -> None:
        if message.step == SyncStep.STEP1:
            peer.send(protocol.encode_sync(SyncStep.STEP2, self._update_since(message.payload)))
        elif not self.editable:
            return  # a relay room or a timeline: nothing a peer sends is applied
        elif peer.readonly:
            if not peer.refused_edit_logged:
                peer.refused_edit_logged = True
                log.info("Room %s: ignoring edits from read-only %r", self.room_id, peer)
        else:
            self._apply_from(peer, message)

    def _apply_from(self, peer: Peer, message: protocol.Sync) -> None:
        """A peer's update, or its answer to our step 1. A front end back from a restart may type
        before it answers, building on edits it made away that only the answer brings: kept till
        then, not refused (the reconnection that would cause could meet the same race)."""
        held = self._unanswered.get(peer)
        if message.step == SyncStep.STEP2:
            self._unanswered.pop(peer, None)
        try:
            self.apply_update(message.payload, author=peer)
        except MissingDependencies:
            answer, size = message.step == SyncStep.STEP2, len(message.payload)
            if held is None or answer or sum(map(len, held)) + size > HELD_BYTES:
                raise
            held.append(message.payload)
            return
        if message.step == SyncStep.STEP2:
            for update in held or ():
                self.apply_update(update, author=peer)

    def _update_since(self, state_vector: bytes) -> bytes:
        if state_vector == EMPTY_STATE and self.document is not None:
            return self.document.full_state()  # a new client: often the same bytes as the last
        try:
            return self.doc.get_update(state_vector)
        except BaseException as error:
            if not refused_by_pycrdt(error):
                raise
            raise InvalidUpdate(f"invalid state vector: {error}") from error

    def apply_update(self, update: bytes, author: Peer | None = None) -> None:
        """Apply a Yjs update; the observer relays it to every peer but its author.

        A peer's update is checked first (guard.py): one that pycrdt rejects or that would break
        the document raises ``InvalidUpdate`` and never touches the room's ``Doc``.
        """
        if update == EMPTY_UPDATE:  # what a peer with nothing new answers our step 1 with
            return
        started = metrics.clock()
        if author is not None and self._guard is not None:
            self._guard.check(update)
        sender = None if author is None else self.peers.get(author) or FromPeer(author)
        origin = Origin.SERVER_API if sender is None else sender
        try:
            self._listeners.apply(update, origin)
        except BaseException as error:
            if not refused_by_pycrdt(error):
                raise
            raise InvalidUpdate(f"invalid update: {error}") from error
        finally:
            if self.document is not None:
                self.document.keep_server_state()  # the file's hash and path are the server's
        metrics.current.applied(len(update), started)

    def _receive_save_request(self, peer: Peer, save_id: int) -> None:
        def reply(status: str, reason: str) -> None:
            answer = {"type": "save", "responseTo": save_id, "status": status}
            peer.send(protocol.encode_raw(answer | ({"message": reason} if reason else {})))

        if self.document is None:
            reply("failed", "this room has no file to save")
        elif peer.readonly:
            reply("failed", "you may read this document but not save it")
        else:
            self.document.request_save(reply)

    # -- outbound ------------------------------------------------------------------------------

    def _relay(self, update: bytes, origin: TransactionOrigin) -> None:
        if update == EMPTY_UPDATE:  # an empty transaction: nothing to tell anyone
            return
        if self._guard is not None:
            self._guard.follow(update)
        sender = origin.peer if isinstance(origin, FromPeer) else None
        frame, peers = protocol.encode_sync(SyncStep.UPDATE, update), self.peers
        # Counted before: a peer that cannot take it more leaves the room while it is sent.
        metrics.current.relayed(len(frame), len(peers) - (sender in peers))
        self.broadcast(frame, exclude=sender)

    def close(self) -> None:
        """Stop relaying the document's updates; the room is no longer usable."""
        if self._stop_relaying is not None:
            self._stop_relaying()
            self._stop_relaying = None
        if self._guard is not None:
            self._guard.release()
            self._guard = None

    def __repr__(self) -> str:
        return f"<Room {self.room_id} peers={len(self.peers)}>"
