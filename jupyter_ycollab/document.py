"""One file <-> one room ``Doc``: load it, save it (debounced, one save at a time), watch it.

The save worker is the only writer of the file. It snapshots the document's content, skips the
write when the content equals what the file last held, and marks ``state.dirty = false`` and the
new ``state.hash`` after every real save (that is how the front end learns a save happened).
Edits that arrive while a save runs start a new burst and so schedule the next save.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
from collections.abc import Callable
from typing import Any

from pycrdt import Doc
from tornado.web import HTTPError

from .content import DocumentKind, build_base, read_content, replace_content, split_newlines
from .errors import CollabError, NotFound
from .events import Events
from .files import Files, FileState
from .savepolicy import SavePolicy
from .settings import Settings

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
        self.session_id = ""
        self._files = files
        self._events = events
        self._settings = settings
        self._policy = SavePolicy(settings.save_delay, settings.max_save_delay)
        self._file: FileState | None = None  # the file as we last loaded or saved it
        self._saved_content: Any = None  # its content as the document renders it
        self._base = b""
        self._newline = "\n"  # the file's line ending, put back when saving
        self._replies: list[SaveReply] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._failures = 0
        self._worker: asyncio.Task[None] | None = None
        self._ignore_changes = False
        self._save_lock = asyncio.Lock()
        self._saving = False
        #: Whether the peers want autosave (set by the room from their awareness states).
        self.wants_autosave: Callable[[], bool] = lambda: True

    # -- loading -------------------------------------------------------------------------------

    async def load(self) -> None:
        """Fill the room's ``Doc`` from the file, then start saving."""
        self.path = self._files.path_of(self.file_id)
        content, self._file = await self._files.read(self.path, self.kind)
        content, self._newline = split_newlines(self.kind, content)
        self._base = build_base(self.kind, content)
        self.session_id = hashlib.sha256(self._base).hexdigest()[:32]
        self._ignore_changes = True
        try:
            self.doc.apply_update(self._base)
        finally:
            self._ignore_changes = False
        self._write_state(path=self.path, hash=self._file.hash)
        self.shared.observe(self._on_change)
        self._worker = asyncio.create_task(self._run(), name=f"document {self.room_id}")
        self._events.session("INFO", self.room_id, self.path, "load")

    def _write_state(self, **values: Any) -> None:
        state = self.shared.ystate
        with self.doc.transaction():
            for key, value in values.items():
                if value is not None and state.get(key) != value:
                    state[key] = value

    def _on_change(self, topic: str, _event: Any) -> None:
        if topic != "state" and not self._ignore_changes:
            self._policy.changed(asyncio.get_running_loop().time())
            self._wake.set()

    # -- saving --------------------------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        """True while some change has not reached the file (a save in progress counts)."""
        return self._policy.pending or self._saving

    def request_save(self, reply: SaveReply) -> None:
        """Save now (after any save in progress); ``reply`` gets success, skipped or failed."""
        self._replies.append(reply)
        self._wake.set()

    async def _run(self) -> None:
        """The document's one worker: saves when due, looks at the file every poll interval."""
        loop = asyncio.get_running_loop()
        poll = self._settings.poll_interval
        next_poll = loop.time() + poll if poll else math.inf
        while not self._closing:
            now = loop.time()
            due = self._policy.due_at()
            if due is not None and not self.wants_autosave():
                due = max(
                    due, now + _AUTOSAVE_RECHECK
                )  # peers turned autosave off: look again later
            if self._replies or (due is not None and due <= now):
                await self.save()
            elif next_poll <= now:
                await self._look_at_file()
                next_poll = loop.time() + poll
            else:
                self._wake.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), min(due or math.inf, next_poll) - now)

    async def save(self) -> str:
        """Write the document to its file if its content changed, one save at a time."""
        async with self._save_lock:
            replies, self._replies = self._replies, []
            ticket = self._policy.take()
            self._saving = True
            try:
                status = await self._write()
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
        content = read_content(self.kind, self.doc, self._newline)
        if content == self._last_saved_content():
            self._write_state(dirty=False)
            return "skipped"
        self.path = self._files.path_of(self.file_id)
        self._file = await self._files.write(self.path, self.kind, content)
        self._saved_content = content
        self._write_state(path=self.path, dirty=False, hash=self._file.hash)
        self._events.session("INFO", self.room_id, self.path, "save")
        return "success"

    def _last_saved_content(self) -> Any:
        if self._saved_content is None:  # rendered lazily: most rooms are never saved
            base_doc: Doc[Any] = Doc()
            base_doc.apply_update(self._base)
            self._saved_content = read_content(self.kind, base_doc, self._newline)
            self._base = b""
        return self._saved_content

    def _failed(self, ticket: float | None, error: Exception) -> None:
        self._failures += 1
        delay = min(self._settings.save_delay * 2**self._failures, _MAX_RETRY_DELAY)
        self._policy.give_back(ticket, asyncio.get_running_loop().time() + delay)
        log.warning("Saving %s failed (retry in %.1f s): %s", self.path, delay, error)
        self._events.session("ERROR", self.room_id, self.path, "save", f"save failed: {error}")

    # -- changes made outside the room -----------------------------------------------------------

    async def _look_at_file(self) -> None:
        """Stat the file; read and hash it only when its size or mtime moved."""
        async with self._save_lock:
            try:
                self.path = self._files.path_of(self.file_id)
                now = await self._files.stat(self.path, self.kind)
                if self._file is not None and now.same_stat(self._file):
                    return
                content, now = await self._files.read(self.path, self.kind)
            except NotFound:
                return  # deleted or moved outside Jupyter: keep the room and its content
            if self._file is not None and now.hash == self._file.hash:
                self._file = now  # touched, not changed
                return
            self._file = now
            self._take_outside_change(content, now)

    def _take_outside_change(self, content: Any, now: FileState) -> None:
        if self.dirty:
            # Until the three-way merge lands, unsaved collaborative edits win; say so loudly.
            msg = "the file changed on disk while the document has unsaved edits; they win"
            self._events.session("WARNING", self.room_id, self.path, "overwrite", msg)
            return
        content, self._newline = split_newlines(self.kind, content)
        self._ignore_changes = True
        try:
            replace_content(self.kind, self.shared, content)
        finally:
            self._ignore_changes = False
        self._saved_content = read_content(self.kind, self.doc, self._newline)
        self._write_state(hash=now.hash)
        self._events.session("INFO", self.room_id, self.path, "overwrite", "reloaded from disk")

    # -- lifecycle -----------------------------------------------------------------------------

    async def close(self) -> None:
        """Stop the worker after any save in progress, then flush what is still unsaved."""
        self._closing = True
        self._wake.set()
        if self._worker is not None:
            await self._worker
        if self._policy.pending or self._replies:
            await self.save()
