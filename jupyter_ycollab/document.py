"""One file <-> one room ``Doc``: load it (or recover it), save it, merge outside changes in.

One worker task per document is the only writer of its file: it saves when the save policy says
so (skipping writes that would not change the content, then marking ``state.dirty = false`` and
the new ``state.hash``, which is how the front end learns a save happened), and looks at the file
every ``poll_interval`` for changes made outside the room, which it merges three ways.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable, Iterator
from typing import Any

from pycrdt import Doc
from tornado.web import HTTPError

from .content import DocumentKind, build_base, digest_of, split_newlines
from .errors import CollabError, NotFound
from .events import Events
from .files import Files, FileState
from .history import History
from .merge import three_way_merge
from .render import RenderJob, content_of
from .savepolicy import SavePolicy
from .settings import Settings
from .snapshots import Snapshots
from .updatelog import LogContents

log = logging.getLogger(__name__)

SaveReply = Callable[[str], None]
_MAX_RETRY_DELAY = 60.0
_AUTOSAVE_RECHECK = 1.0


class Document:
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
        self.shared = kind.wrap(doc)  # the jupyter_ydoc view; it holds our observer
        self.path = ""
        self.history = History(room_id, settings)
        self._files = files
        self._events = events
        self._settings = settings
        self._policy = SavePolicy(settings.save_delay, settings.max_save_delay)
        self._file: FileState | None = None  # the file as we last loaded or saved it
        self._saved_digest: str | None = None  # of its content; from the base when first needed
        self._newline = "\n"  # the file's line ending, put back when saving
        self._replies: list[SaveReply] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._failures = 0
        self._worker: asyncio.Task[None] | None = None
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

    # -- loading -------------------------------------------------------------------------------

    async def load(self) -> None:
        """Fill the room's ``Doc``: from the update log when there is one, else from the file."""
        self.path = self._files.path_of(self.file_id)
        self.history.file_path = self.path
        recovered = await self.history.recover()
        if recovered is None:
            base = await self._read_base()
            self.history.begin(base, self._file_state().hash)
            with self._quietly():
                self.doc.apply_update(base)
        else:
            await self._resume(recovered)
        await self.history.open(self.doc)
        head = self.history.base_update if recovered is None else self.doc.get_update()
        self._snapshots = Snapshots(self.doc, head)
        await self._files.prepare(len(head))
        self._write_state(path=self.path, hash=self._file_state().hash)
        self.shared.observe(self._on_change)
        self._worker = asyncio.create_task(self._run(), name=f"document {self.room_id}")
        self._events.session("INFO", self.room_id, self.path, "load")

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

    def _file_state(self) -> FileState:
        assert self._file is not None, "the file is read or stat-ed before this"
        return self._file

    async def _resume(self, recovered: LogContents) -> None:
        """Rebuild the room from its log, merging the file in if it changed while we were down.

        A notebook whose file still has the hash the log recorded is not even parsed: the log
        holds everything (reopening after a restart costs a hash and a replay).
        """
        with self._quietly():
            for update in [recovered.checkpoint, *recovered.updates]:
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
        elif len(recovered.updates) > recovered.saved_seq:
            self._changed()  # edits logged after the last save: write them to the file

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
        state = self.shared.ystate
        with self.doc.transaction():
            for key, value in values.items():
                if value is not None and state.get(key) != value:
                    state[key] = value

    def _on_change(self, topic: str, _event: Any) -> None:
        if topic != "state" and not self._quiet:
            self._changed()

    def _changed(self) -> None:
        self._policy.changed(asyncio.get_running_loop().time())
        self._wake.set()

    # -- the worker ----------------------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        """True while some change has not reached the file (a save in progress counts)."""
        return self._policy.pending or self._saving

    def request_save(self, reply: SaveReply) -> None:
        """Save now (after any save in progress); ``reply`` gets success, skipped or failed."""
        self._replies.append(reply)
        self._wake.set()

    async def _run(self) -> None:
        """Save when due; look at the file every poll interval; sleep otherwise."""
        await self._digest_big_base()
        loop = asyncio.get_running_loop()
        poll = self._settings.poll_interval
        next_poll = loop.time() + poll if poll else math.inf
        while not self._closing:
            now = loop.time()
            due = self._policy.due_at()
            if due is not None and not self.wants_autosave():
                due = max(due, now + _AUTOSAVE_RECHECK)  # autosave is off: only look again
            if self._replies or (due is not None and due <= now):
                await self.save()
            elif next_poll <= now:
                await self._look_at_file()
                next_poll = loop.time() + poll
            else:
                self._wake.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), min(due or math.inf, next_poll) - now)

    async def _digest_big_base(self) -> None:
        """A big document's base digest, rendered apart now rather than in its first save."""
        base = self.history.base_update
        if self._saved_digest is None and self._files.renders_apart(len(base)):
            job = RenderJob(self.kind, (base,), self._newline, digest_only=True)
            digest = (await self._files.render(job)).digest
            if self._saved_digest is None and self.history.base_update is base:
                self._saved_digest = digest

    # -- saving --------------------------------------------------------------------------------

    async def save(self) -> str:
        """Write the document to its file if its content changed, one save at a time."""
        async with self._save_lock:
            replies, self._replies = self._replies, []
            ticket = self._policy.take()
            self._saving = True
            try:
                status = await self._write()
            except NotFound:
                status = "failed"  # deleted: keep the edits, wait for the file to come back
                self._file_gone()
                self._policy.give_back(ticket, retry_at=math.inf)
            except (CollabError, HTTPError, OSError, ValueError, RuntimeError) as error:
                status = "failed"
                self._failed(ticket, error)
            else:
                self._failures = 0
            finally:
                self._saving = False
        for reply in replies:
            reply(status)
        return status

    async def _write(self) -> str:
        # The state is taken on the loop without encoding it (snapshots.py), and rendered off it.
        assert self._snapshots is not None, "saves start once the document is loaded"
        parts, mark = self._snapshots.take(), self.history.mark()
        base = self.history.base_update if self._saved_digest is None else None
        job = self._files.render_job(
            self.kind, parts, newline=self._newline, base=base, saved_digest=self._saved_digest
        )
        rendered = await self._files.render(job)
        self._snapshots.merged(parts, rendered.snapshot)
        self._saved_digest = rendered.base_digest  # rendered lazily: most rooms are never saved
        if rendered.unchanged:
            self._write_state(dirty=False)
            return "skipped"
        self.path = self._files.path_of(self.file_id)
        if self._gone and not await self._files.exists(self.path):
            raise NotFound(f"{self.path} was deleted: not recreating it")
        await self.history.saving(mark)
        self._file = await self._files.write_rendered(self.path, self.kind, rendered)
        self._saved_digest = rendered.digest
        self.history.file_path = self.path
        self.history.saved(rendered.snapshot, mark, self._file.hash)
        self._write_state(path=self.path, dirty=False, hash=self._file.hash)
        self._events.session("INFO", self.room_id, self.path, "save")
        return "success"

    def _failed(self, ticket: float | None, error: Exception) -> None:
        self._failures += 1
        delay = min(self._settings.save_delay * 2**self._failures, _MAX_RETRY_DELAY)
        self._policy.give_back(ticket, asyncio.get_running_loop().time() + delay)
        log.warning("Saving %s failed (retry in %.1f s): %s", self.path, delay, error)
        self._events.session("ERROR", self.room_id, self.path, "save", f"save failed: {error}")

    # -- changes made outside the room ---------------------------------------------------------

    async def _look_at_file(self) -> None:
        """Stat the file; read and hash it only when its size or mtime moved."""
        async with self._save_lock:
            try:
                self.path = self._files.path_of(self.file_id)
                now = await self._files.stat(self.path, self.kind)
                if self._file is not None and now.same_stat(self._file):
                    return
                raw, now = await self._files.read(self.path, self.kind)
            except NotFound:
                self._file_gone()
                return
            if self._gone:  # back (restored, or recreated by someone): save to it again
                self._gone = False
                self._policy.retry_now()
            changed = self._file is None or now.hash != self._file.hash
            self._file = now  # a touch only moves the stat
            if changed:
                content, self._newline = split_newlines(self.kind, raw)
                self._merge_outside_change(content)
                self._saved_digest = None  # the new base's, computed when the next save needs it
                self._write_state(hash=now.hash)

    def _file_gone(self) -> None:
        """Deleted (or moved outside Jupyter): keep the content, say so once, never recreate it."""
        if not self._gone:
            self._gone = True
            msg = "the file was deleted or moved outside Jupyter; the room keeps its content"
            self._events.session("WARNING", self.room_id, self.path, msg=msg)

    def _merge_outside_change(self, theirs: Any) -> None:
        """Apply what changed in the file since the base; keep the live edits too."""
        assert self._file is not None
        merge = three_way_merge(self.kind, self.history.base_update, self.doc, theirs)
        with self._quietly():
            self.doc.apply_update(merge.update)
        self.history.rebase(merge.base_update, self._file.hash)
        self._events.session(
            "INFO", self.room_id, self.path, "overwrite", "merged the file's changes"
        )
        for place in merge.conflicts:
            msg = f"both the file and the room changed {place}: both versions kept"
            self._events.session("WARNING", self.room_id, self.path, "overwrite", msg)

    # -- lifecycle -----------------------------------------------------------------------------

    async def close(self) -> None:
        """Stop the worker after any save in progress, flush what is unsaved, close the log."""
        self._closing = True
        self._wake.set()
        if self._worker is not None:
            await self._worker
        if self._policy.pending or self._replies:
            await self.save()
        if self._snapshots is not None:
            self._snapshots.close()
        # A deleted file's log goes with its room, unless it still holds unsaved edits.
        await self.history.close(discard=self._gone and not self.dirty)
