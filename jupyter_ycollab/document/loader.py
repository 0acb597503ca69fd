"""Filling a room's ``Doc``: from the update log when there is one (recovery after a restart or a
crash, with the file merged in if it changed meanwhile), else from the file.

Nothing listens to the ``Doc`` while it is filled (``Document.load`` says why).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from ..codec.building import build_base
from ..codec.listeners import UpdateListeners
from ..codec.origins import Origin
from ..codec.updates import merged_update
from ..history.records import LogContents
from .sharing import Joined, SavedFile
from .state import write_state
from .watch import FileWatch


@dataclass(frozen=True)
class Loaded:
    """What a load found."""

    #: Updates that make up the document's state, in order, the first a full state.
    state: list[bytes]
    #: The document holds what its file does not (edits logged after the last save, or the
    #: file's changes merged in): to be saved.
    unsaved: bool
    #: Where the content came from, for the session event.
    source: str


class Loader:
    def __init__(self, file: FileWatch) -> None:
        self._kind = file.kind
        self._doc = file.doc
        self._listeners = UpdateListeners.of(file.doc)
        self._history = file.history
        self._file = file
        self._files = file.files

    async def load(self) -> Loaded:
        """Fill the ``Doc``, leaving the history ready to open and the file's state known."""
        self._history.file_path = self._file.path
        recovered = await self._history.recover()
        if recovered is None:
            return Loaded([await self._begin_from_file()], False, "Content loaded from disk.")
        state, unsaved = await self._resume(recovered)
        return Loaded(state, unsaved, "Content loaded from the update log.")

    async def join(self, joined: Joined) -> Loaded:
        """Fill the ``Doc`` with the state other servers hold (cluster/): never from the file,
        which would build a second history of the same content. This server's own log of the
        same history is merged in: it may hold edits the cluster lacks (accepted while Redis
        was down, then a crash), which ``unsaved`` says, to be saved and shared.

        A server that writes from the start (nobody had the room open) merges the file's
        changes in before anyone sees the document, as a load after a crash does: a file made
        anew under the name of one closed an hour ago is not shown with the old one's text."""
        for update in joined.updates:
            self._listeners.apply(update, Origin.LOAD)
        ours = await self._own_log_of(joined.lineage)
        # Their lineage, and what the file holds as they last saved it (none recorded: their
        # first state): ``History.open`` then logs the document anew from that base.
        self._history.file_path, self._history.lineage = self._file.path, joined.lineage
        saved = joined.saved or SavedFile(joined.updates[0], None, None)
        self._history.take_base(saved.update, saved.hash, saved.digest)
        source = "Content joined from the other servers."
        content = await self._changed_content(saved.hash) if joined.writes else None
        if content is not None:
            await self._file.merge(content)
            return Loaded([self._doc.get_update()], True, source)
        # A writer that died may have left edits it had not saved: the save finds out.
        return Loaded([*joined.updates, *ours], bool(ours) or joined.writes, source)

    async def _own_log_of(self, lineage: str) -> list[bytes]:
        """The updates of this server's log of ``lineage`` that add to the ``Doc``, applied."""
        recovered = await self._history.recover()
        if recovered is None or recovered.lineage != lineage:
            return []
        before = self._doc.get_state()
        updates = [recovered.checkpoint, *recovered.updates]
        for update in updates:
            self._listeners.apply(update, Origin.LOAD)  # what both hold changes nothing
        return [] if self._doc.get_state() == before else updates

    async def _begin_from_file(self) -> bytes:
        """Build the room from its file and return its full state, the server's ``state``
        values included: encoded once, it is the log's first checkpoint and the first peer's
        step 2, and a room reopened from that log holds it as one update (nothing to encode).
        Not ``dirty``: the document holds its file (the view the base was built with, YChat's,
        marks it dirty while it loads; state.py ``view_of_loaded`` says why that matters)."""
        # The base built from the file, read directly when the file is a local notebook.
        direct = await self._files.read_base(self._file.path, self._kind)
        if direct is not None:
            built, self._file.state = direct
        else:
            built = await asyncio.to_thread(build_base, self._kind, await self._file.read())
        self._listeners.apply(built, Origin.LOAD)
        file_hash = self._file.known_state().hash
        write_state(self._doc, path=self._file.path, hash=file_hash, dirty=False)
        full = self._doc.get_update()
        self._history.begin(full, file_hash, built=built)
        return full

    async def _resume(self, recovered: LogContents) -> tuple[list[bytes], bool]:
        """Rebuild the room from its log, merging the file in if it changed while we were down;
        return the updates that make up the document's state, and whether it is unsaved.

        The replay is update by update into a ``Doc`` nothing observes yet: the same CRDT
        history as one merged update, without the merge (+50-100 ms for 10,000 cells).
        """
        state = [recovered.checkpoint, *recovered.updates]
        for update in state:
            self._listeners.apply(update, Origin.LOAD)
        self._history.resume(recovered)
        content = await self._changed_content(recovered.saved_hash)
        if content is not None:
            await self._take_file_after_crash(recovered, content)
            # A save compares with what the file holds, and skips if equal.
            return [self._doc.get_update()], True  # the file's changes may have been merged in
        return state, len(recovered.updates) > recovered.saved_seq  # edits logged since a save

    async def _changed_content(self, saved_hash: str | None) -> Any | None:
        """The file's content if its hash is not ``saved_hash`` (what it held when last saved),
        else None. A notebook that still has that hash is not even parsed: the document holds
        everything (reopening after a restart costs a hash and a replay). Text is read: it is
        cheap, and it tells the line endings."""
        if self._kind.file_type == "notebook":
            self._file.state = await self._files.stat(self._file.path, self._kind, with_hash=True)
            return await self._file.read() if self._file.known_state().hash != saved_hash else None
        content = await self._file.read()
        return content if self._file.known_state().hash != saved_hash else None

    async def _take_file_after_crash(self, recovered: LogContents, content: Any) -> None:
        """The file is not what the log last recorded: our own interrupted save, or a change."""
        saving = recovered.saving_updates()  # a save the server stopped before recording
        if saving is not None:
            interrupted = merged_update(saving)
            held, _ = await self._file.holds(interrupted, content)
            if held:  # the save had written the file: nothing to merge
                self._history.take_base(interrupted, self._file.known_state().hash)
                return
        await self._file.merge(content)
