"""A document's file as the room last knew it (its path, state, line ending, whether it is gone),
and the changes made to it outside the room: looked for, and merged three ways.

Apart from the save worker (saving.py), which writes the file and asks this first what changed
in it, and the loader (loader.py), which reads it first. The merge keeps both sides: what
changed in the file since the base, and the room's live edits (merge/threeway.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from pycrdt import Doc, Map

from .. import metrics
from ..codec.content import split_newlines
from ..codec.kinds import DocumentKind
from ..codec.listeners import UpdateListeners
from ..codec.origins import Origin
from ..errors import LoadFailed, NotFound
from ..events import Action, Events, Level
from ..history.history import History
from ..merge.threeway import merged_into_copy
from .files import Files, FileState
from .render import SaveAttempt, holds_and_digest, state_held
from .state import write_state

#: How many of the room's last steps a file back after it was gone is compared with: the page
#: that made it again sent it one look (``poll_interval``) ago at most.
STEPS_BACK = 200


class FileWatch:
    def __init__(
        self,
        file_id: str,
        kind: DocumentKind,
        doc: Doc[Any],
        history: History,
        *,
        files: Files,
        events: Events,
    ) -> None:
        self.file_id = file_id
        self.kind = kind
        self.path = ""
        self.state: FileState | None = None  # the file as we last loaded, saved or looked at it
        self.newline = "\n"  # the file's line ending, put back when saving
        self.gone = False  # the file disappeared while the room was open
        self.unreadable: str | None = None  # why the file's last change could not be read
        self.attempt: SaveAttempt | None = None  # the last save, if it failed while writing
        self.saving_elsewhere: str | None = None  # a save a writer began, unrecorded (dead?)
        self.doc = doc
        self.history = history
        self.files = files
        self._events = events
        #: Where the other servers of a cluster say the file is (cluster/names.py).
        self.path_elsewhere: Callable[[], Awaitable[str | None]] = _nowhere
        #: Hears the file go and come back (``gone``): the document tells its pages and the
        #: other servers (document.py).
        self.gone_changed: Callable[[], None] = lambda: None

    def path_now(self) -> str:
        """Where this server's file ids say the file is now; ``NotFound`` if they lost it."""
        return self.files.path_of(self.file_id)

    def known_state(self) -> FileState:
        assert self.state is not None, "the file is read or stat-ed before this"
        return self.state

    async def read(self) -> Any:
        """The file's content (text with LF line endings), remembering its state."""
        raw, self.state = await self.files.read(self.path, self.kind)
        content, self.newline = split_newlines(self.kind, raw)
        return content

    async def unchanged(self) -> bool:
        """Whether the file is as the last look (or save) left it: at the same path (renamed
        through Jupyter, it is looked at again there), and its stat did not move."""
        if self.path_now() != self.path:
            return False
        now = await self.files.stat(self.path, self.kind)
        return self.state is None or now.stamp == self.state.stamp

    async def catch_up(self) -> bool:
        """Stat the file (at its current path), read and hash it if its size or mtime moved, and
        merge what changed; True if it is back after it was gone or unreadable. The caller holds
        the save lock. A change that cannot be read (conflict markers, a newer model) raises
        ``LoadFailed``, said once: never written over (saves fail), tried again at each look."""
        seen = self.state
        try:
            back = await self._catch_up()
        except LoadFailed as error:
            self.state = seen
            if str(error) != self.unreadable:
                self.unreadable = str(error)
                msg = f"{error}: the room keeps its content and saves nothing over the file"
                self.tell("ERROR", "overwrite", msg)
            raise
        readable_again, self.unreadable = self.unreadable is not None, None
        return back or readable_again

    async def _catch_up(self) -> bool:
        try:
            path, self.path = self.path, self.path_now()
            if self.path != path:  # renamed through Jupyter: the front end renames every tab
                write_state(self.doc, path=self.path)
            now = await self.files.stat(self.path, self.kind)
            if self.state is not None and now.stamp == self.state.stamp:
                return False
            raw, now = await self.files.read(self.path, self.kind)
        except NotFound:
            if await self._renamed_elsewhere() or await self._made_again_here():
                return await self._catch_up()
            self.mark_gone()
            return False
        back, self.gone = self.gone, False  # restored, or recreated by someone: save to it again
        if back:  # said, after the ERROR that it was gone
            self.tell("INFO", msg="the file is back")
            self.gone_changed()
        # Not looked at yet (a server that joined, or took over writing): the base's hash.
        known = self.state.hash if self.state is not None else self.history.base_hash
        changed = known is None or now.hash != known
        first_look, self.state = self.state is None, now  # a touch only moves the stat
        if changed or first_look:
            content, self.newline = split_newlines(self.kind, raw)
        attempt, self.attempt = self.attempt, None
        begun = self.saving_elsewhere if first_look else None  # by a writer that died?
        self.saving_elsewhere = None
        if changed and attempt is not None and (await self.holds(attempt.snapshot, content))[0]:
            self.history.saved(attempt.snapshot, attempt.mark, now.hash, attempt.digest)
        elif changed and first_look and self._saved_from_doc(now.hash):
            await self._adopt(content, now)
        elif changed and not await self._ours_after_all(content, now, begun, back):
            await self.merge(content)
        if changed:
            write_state(self.doc, hash=now.hash)
        return back

    async def holds(self, state: bytes, content: Any) -> tuple[bool, str]:
        """Whether the file, read as ``content``, holds ``state`` as a save writes it, and its
        digest. A file that holds what a failed save was writing is the base, not a change to
        merge (merged, our own edits would be applied again to the later ones)."""
        job = (self.kind, state, content, self.newline, self.files.keeps_cell_ids)
        return await asyncio.to_thread(holds_and_digest, *job)

    def tell(self, level: Level, action: Action | None = None, msg: str = "") -> None:
        """A session event about this document's file."""
        self._events.session(level, self.history.room_id, self.path, action, msg)

    def base_is_last_save(self) -> bool:
        """Whether the base is what a writer of this document saved last (a server that does
        not write the file keeps the base it joined with, until it takes over)."""
        return self._saved_from_doc(self.history.base_hash)

    def _saved_from_doc(self, file_hash: str | None) -> bool:
        """Whether the file holds what a writer of this document last saved or merged: the
        ``hash`` it set in the ``state``, which travels with the content to every server."""
        return file_hash is not None and self.doc.get("state", type=Map).get("hash") == file_hash

    async def _ours_after_all(
        self, content: Any, now: FileState, begun: str | None, back: bool
    ) -> bool:
        """Whether a changed file holds what the room had, and is no change to merge: a save a
        writer that died began (``begun``), or, ``back`` after it was gone, a copy of the room
        a page sent (JupyterLab's Ctrl-S of a file it cannot find): the latest state of the
        room that the file holds becomes the base, and the edits since are saved next."""
        if begun is not None:
            return await self._adopt(content, now, begun)
        if not back:
            return False
        log, ids = await self.history.read(), self.files.keeps_cell_ids
        steps = [log.checkpoint, *log.updates]
        job = (self.kind, steps, content, self.newline, ids, STEPS_BACK)
        held = await asyncio.to_thread(state_held, *job)
        if held is not None:
            self.history.take_base(held[0], now.hash, held[1])
        return held is not None

    async def _adopt(self, content: Any, now: FileState, digest_begun: str | None = None) -> bool:
        """The file holds a save of this document newer than the base (another server's
        record of it, older or lost with Redis): the ``Doc`` has it all, nothing to merge
        (merged again, it would be doubled). The base takes the file's hash and digest; and
        the ``Doc`` itself when its content is the file's, else the next save makes it so.
        ``digest_begun``: only if the file's digest is that of a save a dead writer began
        (its ``hash`` never came); False otherwise, and nothing is taken."""
        ours = self.doc.get_update()
        same, digest = await self.holds(ours, content)
        if digest_begun is not None and digest != digest_begun:
            return False
        self.history.take_base(ours if same else self.history.base_update, now.hash, digest)
        return True

    async def merge(self, theirs: Any, base: bytes | None = None) -> None:
        """Apply what changed in the file since ``base`` (the base if None); keep the live edits.

        Worked out in a thread, on a copy of the live ``Doc`` (a 10,000-cell notebook takes
        0.4 s): the merge is CRDT operations, so what peers write meanwhile merges with it as
        any concurrent edit does. The caller holds the save lock: the base stays as it is."""
        state, ids_kept = self.known_state(), self.files.keeps_cell_ids
        job = (self.kind, base or self.history.base_update, self.doc.get_update(), theirs)
        merge = await asyncio.to_thread(merged_into_copy, *job, ids_kept)
        await self.history.set_aside()  # the document just before, recoverable
        UpdateListeners.of(self.doc).apply(merge.update, Origin.DISK)
        self.history.rebase(merge.base_update, state.hash)
        metrics.current.merged(len(merge.conflicts))
        self.tell("INFO", "overwrite", "merged the file's changes")
        for place in merge.conflicts:
            msg = f"both the file and the room changed {place}: both versions kept"
            self.tell("INFO", "overwrite", msg)

    async def _renamed_elsewhere(self) -> bool:
        """Whether the file was renamed through another server of a cluster (its file ids saw
        it, ours did not): ours learn it, as from a rename made here, and find it there. A path
        they hold already is a deleted file's (a file cannot be renamed over another)."""
        path = await self.path_elsewhere()
        if path is None or path == self.path or not await self.files.exists(path):
            return False
        self.files.ids.delete(path)
        self.files.ids.move(self.path, path)
        try:
            return self.path_now() == path  # then the next look is there, or the file is gone
        except NotFound:
            return False

    async def _made_again_here(self) -> bool:
        """Whether the file, deleted through Jupyter (its id with it), was made again at its
        path, as by a page's Ctrl-S (JupyterLab uploads a file it cannot find). The room
        follows it under its new id, as it does when the id stays (deleted outside Jupyter)."""
        ids = self.files.ids
        if ids.get_path(self.file_id) is not None or not await self.files.exists(self.path):
            return False  # gone from where its id says (outside Jupyter), or not made again
        self.file_id = ids.index(self.path) or self.file_id
        return ids.get_path(self.file_id) == self.path

    def mark_gone(self) -> None:
        """Deleted (or moved outside Jupyter): keep the content, say so once, never recreate it."""
        if not self.gone:
            self.gone = True
            msg = "the file was deleted (or moved outside Jupyter): the room keeps its content, "
            msg += "and saves wait for the file to come back"
            self.tell("ERROR", msg=msg)
            self.gone_changed()


async def _nowhere() -> None:
    return None
