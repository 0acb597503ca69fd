"""The save worker: one task per document, the only writer of its file.

It saves when the save policy says so (each save is writing.py's: skipped when the content would
not change, then ``state.dirty = false`` and the new ``state.hash``, which is how the front end
learns a save happened), answers Ctrl-S, retries failed saves, and looks at the file every
``poll_interval`` for changes made outside the room, which the file watch (watch.py) merges
three ways. A save looks at the file first too: an outside change is never written over, not even
one that cannot be read (a save fails until it can be). When servers share the document
(sharing.py), only the one that writes the file does either; on the others a save only makes
sure the edits reached the cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable

from tornado.web import HTTPError

from .. import metrics
from ..errors import CollabError, LoadFailed, NotFound
from ..settings import Settings
from .savepolicy import SavePolicy
from .sharing import SaveReply, Sharing
from .snapshots import Snapshots
from .state import write_state
from .watch import FileWatch
from .writing import FileWriter, NotTheWriter

_AUTOSAVE_RECHECK = 1.0
#: Seconds before a server that could not hand its edits to the cluster tries again.
_SHARE_RETRY = 1.0


class SaveWorker:
    def __init__(
        self, file: FileWatch, *, settings: Settings, wants_autosave: Callable[[], bool]
    ) -> None:
        """``wants_autosave`` tells whether the peers want autosave (their awareness states)."""
        self._file = file
        self._settings = settings
        self._wants_autosave = wants_autosave
        self._policy = SavePolicy(settings.save_delay, settings.max_save_delay)
        self._replies: list[SaveReply] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._worker: asyncio.Task[None] | None = None
        self._writer = FileWriter(file, self._marked_unsaved)
        self._save_lock = asyncio.Lock()
        self._saving = False
        self._edited = False  # edited while open here: the file may lack it
        self._take_file = False  # asked by another server, for the worker (``request_take_file``)

    def start(self, snapshots: Snapshots, sharing: Sharing) -> None:
        """Start saving the loaded document, whose state ``snapshots`` keeps."""
        self._writer.sharing, self._writer.snapshots = sharing, snapshots
        name = f"document {self._file.history.room_id}"
        self._worker = asyncio.create_task(self._run(), name=name)

    @property
    def sharing(self) -> Sharing:
        """How the document is shared with other servers (``Alone`` until it is loaded)."""
        return self._writer.sharing

    @property
    def dirty(self) -> bool:
        """True while some change has not reached the file (a save in progress counts)."""
        return self._policy.pending or self._saving

    def request_save(self, reply: SaveReply) -> None:
        """Save now (after any save in progress); see ``Document.request_save``."""
        self._replies.append(reply)
        self._wake.set()

    def request_take_file(self) -> None:
        """``take_file`` in the worker, at its next turn: a server that does not write the file
        restored a checkpoint (cluster/saves.py). Owned and awaited as every save is."""
        self._take_file = True
        self._wake.set()

    def keep_dirty_mark(self) -> None:
        """Mark the document dirty (``state.dirty``) again if someone else cleared it."""
        if self._marked_unsaved():
            write_state(self._file.doc, dirty=True)

    def _marked_unsaved(self) -> bool:
        """Whether ``state.dirty`` must say so: the document has edits no save took. Only where
        it is nothing but that mark: jupyterlab-chat's YChat takes no message for new while
        its chat is dirty."""
        return self._policy.pending and self._file.kind.dirty_is_a_mark

    def changed(self) -> None:
        """The document was edited: save it when the policy says."""
        self._policy.changed(asyncio.get_running_loop().time())
        self._edited = True
        self._wake.set()
        # Beside the worker, not in it: saves must not wait.
        self._writer.preparation.changed(self._file.newline)

    async def _run(self) -> None:
        """Save when due; look at the file every poll interval; sleep otherwise."""
        loop = asyncio.get_running_loop()
        poll = self._settings.poll_interval
        next_poll = loop.time() + poll if poll else math.inf  # 0: never (a save still looks)
        while not self._closing:
            now = loop.time()
            due = self._policy.due_at()
            if due is not None and not self._wants_autosave():
                due = max(due, now + _AUTOSAVE_RECHECK)  # autosave is off: only look again
            if self._take_file:
                self._take_file = False
                await self.take_file()
            elif self._replies or (due is not None and due <= now):
                await self.save()
                next_poll = max(next_poll, loop.time() + poll)  # a save looks at the file first
            elif next_poll <= now:
                if self.sharing.writes_file():
                    async with self._save_lock:
                        with contextlib.suppress(LoadFailed):  # said; no save writes over it
                            if await self._file.catch_up():  # the file is back: save to it again
                                self._policy.retry_now()
                next_poll = loop.time() + poll
            else:
                self._wake.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), min(due or math.inf, next_poll) - now)

    async def save(self) -> str:
        """Write the document to its file if its content changed, one save at a time: answers
        ``success``, ``skipped`` (the file already held it) or ``failed``."""
        if not self.sharing.writes_file():
            return await self._leave_to_writer()
        async with self._save_lock:
            replies, self._replies = self._replies, []
            ticket = self._policy.take()
            self._saving, started, reason = True, metrics.clock(), ""
            try:
                status = await self._writer.write()
                if replies and status == "success":  # asked for: signed when it answers
                    await self._file.files.flush()
            except NotTheWriter:
                self._policy.give_back(ticket, retry_at=0.0)  # the next round leaves it
                self._replies[:0] = replies
                return "skipped"  # not this server's save: the replies wait for the next round
            except NotFound as error:  # deleted: keep the edits till the poll (or a retry)
                status, reason = "failed", str(error)
                self._file.mark_gone()
                if self._settings.poll_interval:
                    self._policy.give_back(ticket, retry_at=math.inf)
                else:
                    self._policy.failed(ticket, asyncio.get_running_loop().time())
            except (CollabError, HTTPError, OSError, ValueError, RuntimeError) as error:
                status, reason = "failed", _why(error)
                self._failed(ticket, reason)
            else:
                self._policy.failures = 0
            finally:
                self._saving = False
        self._count(status, started, ticket)
        for reply in replies:
            reply("failed" if status == "failed" else "success", reason)
        return status

    def _count(self, status: str, started: float, ticket: float | None) -> None:
        """The save in the metrics: its answer, time, lag behind the first change, bytes."""
        written, state = status == "success", self._file.state
        lag = asyncio.get_running_loop().time() - ticket if written and ticket is not None else None
        metrics.current.saved(status, started, lag, state.size if written and state else None)

    async def _leave_to_writer(self) -> str:
        """Another server writes the file: make sure it has our edits (they are safe in our
        log meanwhile), and let it answer Ctrl-S."""
        replies, self._replies = self._replies, []
        for reply in replies:
            self.sharing.forward_save(reply)
        ticket = self._policy.take()
        if await self.sharing.flush():
            return "skipped"
        self._policy.give_back(ticket, retry_at=asyncio.get_running_loop().time() + _SHARE_RETRY)
        return "failed"

    async def take_file(self) -> None:
        """Make the document what its file holds now, what was not saved dropped (document.py
        says when): merged over the live document itself, the file is all that is left. The
        save after finds nothing to write, and clears the unsaved mark and the pending save."""
        async with self._save_lock:
            with contextlib.suppress(LoadFailed, NotFound):  # the next look says what it is
                await self._file.merge(await self._file.read(), base=self._file.doc.get_update())
                write_state(self._file.doc, hash=self._file.known_state().hash)
        await self.save()

    def _failed(self, ticket: float | None, reason: str) -> None:
        delay = self._policy.failed(ticket, asyncio.get_running_loop().time())
        msg = f"save failed (retry in {delay:.1f} s): {reason}"  # logged too, as a warning
        self._file.tell("ERROR", "save", msg)

    async def close(self) -> None:
        """Stop the worker after any save in progress, then save what is unsaved. Another
        server's file is saved by its writer first (which may die meanwhile: then by us)."""
        if self._edited and not self.sharing.writes_file():
            await self.sharing.settle()  # the worker still runs: it saves if we take over
        self._closing = True
        self._wake.set()
        if self._worker is not None:
            await self._worker
        await self._writer.preparation.close()
        if self._policy.pending or self._replies:
            await self.save()


def _why(error: Exception) -> str:
    """What the user is told of a failed save: an HTTP error's message without its status."""
    if isinstance(error, HTTPError) and error.log_message:
        return error.log_message % error.args if error.args else error.log_message
    return str(error)
