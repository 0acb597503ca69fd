"""One file <-> one room ``Doc``, first half: the state, and filling the ``Doc`` from the file or
from the update log (recovery after a restart or a crash, with the file merged in if it changed
meanwhile). The worker that saves and watches the file is the second half (document.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from jupyter_ydoc.ybasedoc import YBaseDoc
from pycrdt import Doc, Map

from ..codec.content import DocumentKind, build_base, digest_of, split_newlines
from ..events import Events
from ..history.history import History
from ..history.records import LogContents
from ..merge.threeway import three_way_merge
from ..settings import Settings
from .files import Files, FileState
from .render import content_of
from .savepolicy import SavePolicy
from .snapshots import Snapshots

SaveReply = Callable[[str], None]


class LoadedDocument:
    """A room's document and its file: state, loading and recovery (the worker: document.py)."""

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
    ) -> None:
        self.room_id = room_id
        self.file_id = file_id
        self.kind = kind
        self.doc = doc
        self._shared: YBaseDoc | None = None  # made once the Doc is loaded (``load``)
        self.path = ""
        self.history = History(room_id, settings)
        self._files = files
        self._events = events
        self._settings = settings
        self._policy = SavePolicy(settings.save_delay, settings.max_save_delay)
        self._file: FileState | None = None  # the file as we last loaded or saved it
        self._newline = "\n"  # the file's line ending, put back when saving
        self._replies: list[SaveReply] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._failures = 0
        self._worker: asyncio.Task[None] | None = None
        self._preparation = files.save_preparation(kind, self.history)  # for saves (document.py)
        self._snapshots: Snapshots | None = None  # from the end of the load on
        self._quiet = False
        self._gone = False  # the file disappeared while the room was open
        self._save_lock = asyncio.Lock()
        self._saving = False
        #: Whether the peers want autosave (set by the room from their awareness states).
        self.wants_autosave: Callable[[], bool] = lambda: True

    @property
    def session_id(self) -> str:
        return self.history.lineage

    @property
    def shared(self) -> YBaseDoc:
        """The room's jupyter_ydoc view of its ``Doc``; it holds our observer."""
        assert self._shared is not None, "the document is loaded"
        return self._shared

    # -- loading -------------------------------------------------------------------------------

    async def load(self) -> None:
        """Fill the room's ``Doc``: from the update log when there is one, else from the file.

        Nothing observes the ``Doc`` while it is filled: the jupyter_ydoc view is made after,
        and the log records from then on. A view may observe its document and change it in
        answer (jupyterlab-chat's YChat re-times and moves messages it takes for new ones):
        it must see the document loaded, never the log replayed update by update, as if its
        old content arrived again.
        """
        self.path = self._files.path_of(self.file_id)
        self.history.file_path = self.path
        recovered = await self.history.recover()
        if recovered is None:
            state = [await self._begin_from_file()]
            source = "Content loaded from disk."
        else:
            state = await self._resume(recovered)
            source = "Content loaded from the update log."
        await self.history.open(self.doc)
        self._snapshots = Snapshots(self.doc, state)  # encoded when first needed
        # Made once the history records: what the view writes as it is made (YChat sets
        # ``state.dirty``) is logged like any change, so the log still rebuilds the Doc.
        self._shared = self.kind.wrap(self.doc)
        self._write_state(path=self.path, hash=self._file_state().hash)
        self.shared.observe(self._on_change)
        self._start()
        self._events.session("INFO", self.room_id, self.path, "load", source)

    async def _begin_from_file(self) -> bytes:
        """Build the room from its file and return its full state, the server's ``state``
        values included: encoded once, it is the log's first checkpoint and the first peer's
        step 2, and a room reopened from that log holds it as one update (nothing to encode)."""
        built = await self._read_base()
        with self._quietly():
            self.doc.apply_update(built)
        self._write_state(path=self.path, hash=self._file_state().hash)
        full = self.doc.get_update()
        self.history.begin(full, self._file_state().hash, built=built)
        return full

    async def _read_base(self) -> bytes:
        """The base built from the file, read directly when the file is a local notebook."""
        direct = await self._files.read_base(self.path, self.kind)
        if direct is not None:
            base, self._file = direct
            return base
        return await asyncio.to_thread(build_base, self.kind, await self._read_file())

    async def _read_file(self) -> Any:
        """The file's content (text with LF line endings), remembering its state."""
        raw, self._file = await self._files.read(self.path, self.kind)
        content, self._newline = split_newlines(self.kind, raw)
        return content

    def full_state(self) -> bytes:
        """The document's full state as one update (encoded only if it changed since the last
        time: every new peer of an idle room gets the same bytes)."""
        assert self._snapshots is not None, "the document is loaded"
        return self._snapshots.full_state()

    def _file_state(self) -> FileState:
        assert self._file is not None, "the file is read or stat-ed before this"
        return self._file

    async def _resume(self, recovered: LogContents) -> list[bytes]:
        """Rebuild the room from its log, merging the file in if it changed while we were down;
        return the updates that make up the document's state.

        A notebook whose file still has the hash the log recorded is not even parsed: the log
        holds everything (reopening after a restart costs a hash and a replay). The replay is
        update by update into a ``Doc`` nothing observes yet (``load``): the same CRDT history
        as one merged update, without the merge (+50-100 ms for 10,000 cells).
        """
        state = [recovered.checkpoint, *recovered.updates]
        with self._quietly():
            for update in state:
                self.doc.apply_update(update)
        self.history.resume(recovered)
        content = None
        if self.kind.file_type == "notebook":
            self._file = await self._files.stat(self.path, self.kind, with_hash=True)
        else:
            content = await self._read_file()  # cheap for text, and it tells the line endings
        if self._file_state().hash != recovered.saved_hash:
            if content is None:
                content = await self._read_file()
            await self._take_file_after_crash(recovered, content)
            self._changed()  # a save compares with what the file holds, and skips if equal
            return [self.doc.get_update()]  # the file's changes may have been merged in
        if len(recovered.updates) > recovered.saved_seq:
            self._changed()  # edits logged after the last save: write them to the file
        return state

    async def _take_file_after_crash(self, recovered: LogContents, content: Any) -> None:
        """The file is not what the log last recorded: our own interrupted save, or a change."""
        assert self._file is not None
        interrupted = self.history.interrupted_save(recovered)
        if interrupted is not None:
            file_base = await asyncio.to_thread(build_base, self.kind, content)
            ours, theirs = await asyncio.to_thread(
                lambda: [
                    digest_of(content_of(self.kind, update, self._newline))
                    for update in (interrupted, file_base)
                ]
            )
            if ours == theirs:  # the save had written the file: nothing to merge
                self.history.take_base(interrupted, self._file.hash)
                return
        self._merge_outside_change(content)

    @contextlib.contextmanager
    def _quietly(self) -> Iterator[None]:
        """Changes made here are not edits to save (loading, or taking the file's content)."""
        self._quiet = True
        try:
            yield
        finally:
            self._quiet = False

    def _write_state(self, **values: Any) -> None:
        """Set the server's own ``state`` values (path, dirty, hash): the front end's signals,
        which a recovered room sets again, so their log record is unhurried."""
        state = self.doc.get("state", type=Map)  # also before the view exists (loading)
        with self.history.unhurried(), self.doc.transaction():
            for key, value in values.items():
                if value is not None and state.get(key) != value:
                    state[key] = value

    def _on_change(self, topic: str, _event: Any) -> None:
        if topic != "state" and not self._quiet:
            self._changed()

    def _changed(self) -> None:
        self._policy.changed(asyncio.get_running_loop().time())
        self._wake.set()

    def _merge_outside_change(self, theirs: Any) -> None:
        """Apply what changed in the file since the base; keep the live edits too."""
        assert self._file is not None
        ids_kept = self._files.keeps_cell_ids  # not a jupytext script's: new at each read
        merge = three_way_merge(
            self.kind, self.history.base_update, self.doc, theirs, ids_kept=ids_kept
        )
        with self._quietly():
            self.doc.apply_update(merge.update)
        self.history.rebase(merge.base_update, self._file.hash)
        self._events.session(
            "INFO", self.room_id, self.path, "overwrite", "merged the file's changes"
        )
        for place in merge.conflicts:
            msg = f"both the file and the room changed {place}: both versions kept"
            self._events.session("INFO", self.room_id, self.path, "overwrite", msg)

    def _start(self) -> None:
        """Start what keeps the loaded document and its file in step (document.py)."""
        raise NotImplementedError
