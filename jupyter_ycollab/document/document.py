"""One file <-> one room ``Doc``, second half: save it, watch it, merge outside changes in (the
state and the load: loading.py).

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

from tornado.web import HTTPError

from ..codec.content import split_newlines
from ..errors import CollabError, NotFound
from .loading import LoadedDocument, SaveReply

log = logging.getLogger(__name__)

_MAX_RETRY_DELAY = 60.0
#: A save that finds the file changed since its last look merges the change and tries again,
#: this many times at most (then it fails, and is retried later like any failed save).
_CATCH_UP_TRIES = 5
_CHANGED_MEANWHILE = "changed meanwhile"
_AUTOSAVE_RECHECK = 1.0


class Document(LoadedDocument):
    def _start(self) -> None:
        self._worker = asyncio.create_task(self._run(), name=f"document {self.room_id}")

    def _changed(self) -> None:
        super()._changed()
        self._preparation.changed(self._newline)  # beside the worker: saves must not wait

    # -- the worker ----------------------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        """True while some change has not reached the file (a save in progress counts)."""
        return self._policy.pending or self._saving

    def request_save(self, reply: SaveReply) -> None:
        """Save now (after any save in progress); ``reply`` gets ``success`` once the file holds
        the document as it is (nothing to write included), ``failed`` on a real failure.

        Never ``skipped``: the front end rejects a save answered so ("Saving already in
        progress"), and Ctrl-S on a clean document is the commonest action in any editor."""
        self._replies.append(reply)
        self._wake.set()

    async def _run(self) -> None:
        """Save when due; look at the file every poll interval; sleep otherwise."""
        loop = asyncio.get_running_loop()
        poll = self._settings.poll_interval
        next_poll = loop.time() + poll if poll else math.inf  # 0: never (a save still looks)
        while not self._closing:
            now = loop.time()
            due = self._policy.due_at()
            if due is not None and not self.wants_autosave():
                due = max(due, now + _AUTOSAVE_RECHECK)  # autosave is off: only look again
            if self._replies or (due is not None and due <= now):
                await self.save()
                next_poll = max(next_poll, loop.time() + poll)  # a save looks at the file first
            elif next_poll <= now:
                await self._look_at_file()
                next_poll = loop.time() + poll
            else:
                self._wake.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), min(due or math.inf, next_poll) - now)

    # -- saving --------------------------------------------------------------------------------

    async def save(self) -> str:
        """Write the document to its file if its content changed, one save at a time: answers
        ``success``, ``skipped`` (the file already held it) or ``failed``."""
        async with self._save_lock:
            replies, self._replies = self._replies, []
            ticket = self._policy.take()
            self._saving = True
            try:
                status = await self._write_caught_up()
                if replies and status == "success":  # asked for: signed when it answers
                    await self._files.flush()
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
            reply("failed" if status == "failed" else "success")
        return status

    async def _write_caught_up(self) -> str:
        """Merge what changed in the file since the last look, then write it: again when it
        changed while the document was being rendered. An outside change is never written over."""
        for _ in range(_CATCH_UP_TRIES):
            await self._catch_up_with_file()
            status = await self._write()
            if status != _CHANGED_MEANWHILE:
                return status
        raise OSError(f"{self.path} kept changing while it was being saved")

    async def _write(self) -> str:
        await self._preparation.done()  # what was started ahead (a base's digest): not twice
        # The state is taken on the loop without encoding it (snapshots.py), and rendered off it.
        assert self._snapshots is not None, "saves start once the document is loaded"
        parts, mark = self._snapshots.take(), self.history.mark()
        saved_digest = self.history.base_digest
        base = self.history.base_update if saved_digest is None else None
        job = self._files.render_job(
            self.kind, parts, newline=self._newline, base=base, saved_digest=saved_digest
        )
        rendered = await self._files.render(job)
        self._snapshots.merged(parts, rendered.snapshot)
        if base is not None and rendered.base_digest is not None:
            self.history.digested(base, rendered.base_digest)  # lazily: most rooms never save
        if rendered.unchanged:
            self._write_state(dirty=False)
            return "skipped"
        if self._gone and not await self._files.exists(self.path):
            raise NotFound(f"{self.path} was deleted: not recreating it")
        await self.history.saving(mark)  # a save cut short is merged on recovery, as ever
        if not await self._file_as_known():
            return _CHANGED_MEANWHILE
        self._file = await self._files.write_rendered(self.path, self.kind, rendered)
        self.history.file_path = self.path
        self.history.saved(rendered.snapshot, mark, self._file.hash, rendered.digest)
        self._write_state(path=self.path, dirty=False, hash=self._file.hash)
        self._events.session("INFO", self.room_id, self.path, "save")
        return "success"

    async def _file_as_known(self) -> bool:
        """Whether the file is as the last look (or save) left it: its stat did not move."""
        now = await self._files.stat(self.path, self.kind)
        return self._file is None or now.same_stat(self._file)

    def _failed(self, ticket: float | None, error: Exception) -> None:
        self._failures += 1
        delay = min(self._settings.save_delay * 2**self._failures, _MAX_RETRY_DELAY)
        self._policy.give_back(ticket, asyncio.get_running_loop().time() + delay)
        log.warning("Saving %s failed (retry in %.1f s): %s", self.path, delay, error)
        self._events.session("ERROR", self.room_id, self.path, "save", f"save failed: {error}")

    # -- changes made outside the room ---------------------------------------------------------

    async def _look_at_file(self) -> None:
        async with self._save_lock:
            await self._catch_up_with_file()

    async def _catch_up_with_file(self) -> None:
        """Stat the file (at its current path); read and hash it only when its size or mtime
        moved, and merge what changed. The caller holds the save lock."""
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
            self._write_state(hash=now.hash)

    def _file_gone(self) -> None:
        """Deleted (or moved outside Jupyter): keep the content, say so once, never recreate it."""
        if not self._gone:
            self._gone = True
            msg = (
                "the file was deleted or moved outside Jupyter: the room keeps its content, "
                "and saves wait for the file to come back"
            )
            self._events.session("ERROR", self.room_id, self.path, msg=msg)

    # -- lifecycle -----------------------------------------------------------------------------

    async def close(self) -> None:
        """Stop the worker after any save in progress, flush what is unsaved, close the log."""
        self._closing = True
        self._wake.set()
        if self._worker is not None:
            await self._worker
        await self._preparation.close()
        if self._policy.pending or self._replies:
            await self.save()
        if self._snapshots is not None:
            self._snapshots.close()
        # A deleted file's log goes with its room, unless it still holds unsaved edits.
        await self.history.close(discard=self._gone and not self.dirty)
