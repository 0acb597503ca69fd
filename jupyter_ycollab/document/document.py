"""One file <-> one room ``Doc``: the document's state and lifecycle, made of its parts.

- the loader (loader.py) fills the ``Doc`` from the file or the update log, once;
- the history (history/) logs every update from then on, crash-safe;
- the snapshots (snapshots.py) keep its full state without encoding it on the event loop;
- the file watch (watch.py) knows the file and merges the changes made outside the room;
- the save worker (saving.py), one task, is the only writer of the file;
- its sharing (sharing.py) with other servers, when servers share it (cluster/): joined from
  them if it is live there, and written by one server at a time.

Who hears an update of the ``Doc`` in which order (this document's view first: an edit makes it
dirty) is written in one place: codec/listeners.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jupyter_ydoc.ybasedoc import YBaseDoc
from pycrdt import Doc

from ..codec.kinds import DocumentKind
from ..codec.listeners import UpdateListeners
from ..codec.origins import NOT_EDITS, SERVER_WRITES
from ..events import Events
from ..history.history import History
from ..merge.threeway import carried_over
from ..settings import Settings
from .files import Files
from .loader import Loader
from .saving import SaveWorker
from .sharing import Alone, SavedFile, SaveReply, Share, Sharing, alone
from .snapshots import Snapshots
from .state import SERVER_KEYS, view_of_loaded, write_state
from .watch import FileWatch

#: Said (session event and log line) by a server that became the one writing a shared file.
TOOK_OVER = (
    "This server writes the file from now on: the server that did left or stopped answering."
)


class Document:
    """A room's document and its file."""

    def __init__(
        self,
        room_id: str,
        file_id: str,
        kind: DocumentKind,
        doc: Doc[Any],
        *,
        files: Files,
        events: Events,
        settings: Settings,
        share: Share = alone,
    ) -> None:
        self.kind = kind
        self.history = History(room_id, settings)
        self.file = FileWatch(file_id, kind, doc, self.history, files=files, events=events)
        self.file.gone_changed = self._file_gone_changed
        #: Tells the room's pages the file went or came back (room.py).
        self.tell_pages: Callable[[], None] = lambda: None
        self._saver = SaveWorker(
            self.file, settings=settings, wants_autosave=lambda: self.wants_autosave()
        )
        self._loader = Loader(self.file)
        self._share = share
        self.sharing: Sharing = Alone()  # made once the path is known (``load``)
        self._listeners = UpdateListeners.of(doc)
        self._shared: YBaseDoc | None = None  # made once the Doc is loaded (``load``)
        self._overwritten: dict[str, Any] = {}  # the server's ``state`` values someone changed
        self._marked_clean = False  # someone else set ``state.dirty`` to false
        self._snapshots: Snapshots | None = None  # from the end of the load on
        #: Whether the peers want autosave (set by the room from their awareness states).
        self.wants_autosave: Callable[[], bool] = lambda: True

    @property
    def file_id(self) -> str:
        """The id the file has now: one deleted through Jupyter and made again has a new one
        (watch.py ``_made_again_here``)."""
        return self.file.file_id

    @property
    def path(self) -> str:
        return self.file.path

    def carried_into(
        self, target: Doc[Any], since: bytes | None = None, carried: bytes | None = None
    ) -> bytes:
        """The update, in ``target``'s history (another copy of the file, with no history in
        common: cluster/reconcile.py), that brings into it what the room changed since the
        base, or since the state ``since`` of the room's ``Doc``, less what is in the state of
        the room's history that another server ``carried`` there already (merge/threeway.py:
        what both copies hold, the same items, is carried once)."""
        base = self.history.base_update if since is None else since
        ids = self.file.files.keeps_cell_ids
        return carried_over(self.kind, base, self.file.doc, target, ids_kept=ids, carried=carried)

    @property
    def shared(self) -> YBaseDoc:
        """The room's jupyter_ydoc view of its ``Doc``; it holds our observer."""
        assert self._shared is not None, "the document is loaded"
        return self._shared

    async def load(self) -> None:
        """Fill the room's ``Doc``, then start logging, viewing and saving it.

        Nothing observes the ``Doc`` while it is filled: the jupyter_ydoc view is made after,
        and the log records from then on. A view may observe its document and change it in
        answer (jupyterlab-chat's YChat re-times and moves messages it takes for new ones):
        it must see the document loaded, never the log replayed update by update, as if its
        old content arrived again.
        """
        self.file.path = self.file.path_now()
        self.sharing = await self._share(self.kind, self.path)
        joined = await self.sharing.join()
        loaded = await (self._loader.load() if joined is None else self._loader.join(joined))
        if joined is None:  # the others join this state from now on
            await self.sharing.started_here(loaded.state, self.history)
        await self.history.open(self.file.doc)
        self._snapshots = Snapshots(self.file.doc, loaded.state)  # encoded when first needed
        # Hear every change from now on; a joined document with edits from our own log first
        # levels with the cluster (it may lack them).
        ahead = joined is not None and loaded.unsaved
        self.sharing.start(self.file.doc, self._take_over, ahead=ahead)
        # Made once the history records: what the view writes as it is made (YChat sets
        # ``state.dirty``, put back at once) is logged like any change, so the log rebuilds it.
        self._shared = view_of_loaded(self.kind, self.file.doc)
        if joined is None:  # a server that joined did not look at the file
            write_state(self.file.doc, path=self.path, hash=self.file.known_state().hash)
        self.shared.observe(self._on_change)
        if loaded.unsaved:
            self._saver.changed()
        self._saver.start(self._snapshots, self.sharing)
        self.file.tell("INFO", "load", loaded.source)

    def _take_over(self, saved: SavedFile | None) -> None:
        """This server now writes the file (its writer left or died): what the file holds is
        the base, the file is looked at again, and whatever the writer had not saved is."""
        if saved is not None:
            self.history.take_base(saved.update, saved.hash, saved.digest)
        self.file.state = None
        self.file.saving_elsewhere = saved.saving if saved is not None else None
        self._saver.changed()
        self.file.tell("INFO", msg=TOOK_OVER)

    def full_state(self) -> bytes:
        """The document's full state as one update (encoded only if it changed since the last
        time: every new peer of an idle room gets the same bytes)."""
        assert self._snapshots is not None, "the document is loaded"
        return self._snapshots.full_state()

    def _on_change(self, topic: str, event: Any) -> None:
        """The view's observer: which part changed, while the transaction commits. A change of
        the server's own ``state`` values that no server made is noted, to be put back."""
        origin = self._listeners.origin
        if topic != "state":
            if origin not in NOT_EDITS:
                self._saver.changed()
        elif origin not in SERVER_WRITES:
            for key in SERVER_KEYS.intersection(event.keys):
                self._overwritten.setdefault(key, event.keys[key].get("oldValue"))
            self._marked_clean |= event.keys.get("dirty", {}).get("newValue") is False

    def keep_server_state(self) -> None:
        """Put back the ``state`` values only servers write (the file's ``hash`` and ``path``)
        that the update just applied changed: a peer's, or server code's (api.py, a fork merged).

        Why: the next server to write a shared file trusts a file whose hash is ``state.hash``
        as a save of this document (watch.py ``_saved_from_doc``). A peer that set it to the
        hash of a change made outside Jupyter (any user may ask Jupyter for a file's hash) made
        that change the base, and the next save wrote over it. Why put back, not refuse: a
        client replays what it holds when it reconnects, a server's own writes included (the
        log writes them without hurry, a crash loses them): refused, it could never reconnect.
        The real front end writes only ``dirty``. Called by the room right after it applies an
        update, so the value never waits for another turn of the event loop. Given up: a save's
        hash only a reconnecting client still holds (its server died, Redis lost it) is put back.

        ``dirty`` set to false while edits wait for a save is put back to true: JupyterLab
        clears it when its save ends, after edits other pages made meanwhile."""
        if self._overwritten:
            old, self._overwritten = self._overwritten, {}
            write_state(self.file.doc, **old)  # a value that was not there stays (None: no hash)
        if self._marked_clean:
            self._marked_clean = False
            self._saver.keep_dirty_mark()

    @property
    def dirty(self) -> bool:
        """True while some change has not reached the file (a save in progress counts)."""
        return self._saver.dirty

    def request_save(self, reply: SaveReply) -> None:
        """Save now (after any save in progress); ``reply`` gets ``success`` once the file holds
        the document as it is (nothing to write included), ``failed`` on a real failure.

        Never ``skipped``: the front end rejects a save answered so ("Saving already in
        progress"), and Ctrl-S on a clean document is the commonest action in any editor."""
        self._saver.request_save(reply)

    def request_take_file(self) -> None:
        """``take_file`` soon, by the save worker (asked through the cluster's stream)."""
        self._saver.request_take_file()

    async def take_file(self) -> None:
        """The file is the document again, unsaved edits dropped for everyone: a checkpoint was
        restored through Jupyter (File > Revert to Checkpoint, web/checkpoints.py). JupyterLab's
        revert of a shared document asks the file's model without content, so only the room
        can carry it out; the restored file, merged as an outside change, kept those edits.
        In a cluster, the server that writes the file does, asked through the room's stream."""
        if self.sharing.writes_file():
            await self._saver.take_file()
        else:
            self.sharing.forward_take_file()

    def _file_gone_changed(self) -> None:
        self.tell_pages()
        self.sharing.file_gone(self.file.gone)

    def heard_file_gone(self, gone: bool) -> None:
        """The server that writes the file saw it go or come back (cluster/): this one's pages
        are told, now and when they join (3.1's notice of a deleted file)."""
        if gone != self.file.gone:
            self.file.gone = gone
            self.tell_pages()

    async def save(self) -> str:
        """Write the document to its file if its content changed: ``success``, ``skipped``
        (the file already held it) or ``failed``."""
        return await self._saver.save()

    async def close(self) -> None:
        """Stop the worker after any save in progress, flush what is unsaved, close the log."""
        await self._saver.close()
        await self.sharing.close()
        if self._snapshots is not None:
            self._snapshots.close()
        # A deleted file's log goes with its room, unless it still holds unsaved edits.
        await self.history.close(discard=self.file.gone and not self.dirty)
        if self._shared is not None:
            self._shared.unobserve()  # held by pycrdt's Rust side, it kept us (codec/listeners.py)
