"""A document's history: its lineage, its base (what the file holds) and its crash-safe log.

The lineage id is the session id clients carry: it names one CRDT history of the document. A
fresh history (no log) is named after the file's hash and the builder's version (the same bytes
always build the same items), so a server that lost its logs but finds the file unchanged still
accepts its clients; the name then survives compactions and restarts, and changes only when the
history is reset. Not after the base's bytes: pycrdt encodes plain dict values in an order that
changes from process to process.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Callable
from typing import Any

from pycrdt import Doc, get_state

from ..codec.building import BUILD_VERSION
from ..codec.listeners import Hears, UpdateListeners
from ..codec.origins import Origin, TransactionOrigin
from ..codec.updates import EMPTY_UPDATE, merged_update
from ..settings import Settings
from .logfile import UpdateLog, cut_torn_tail, log_path, read_log, set_aside_before_merge
from .records import (
    CHECKPOINT,
    UPDATE,
    LogContents,
    encode_record,
    header_record,
    parse_log,
    saved_record,
    saving_record,
    time_record,
)


class History:
    def __init__(self, room_id: str, settings: Settings) -> None:
        self.room_id = room_id
        self.path = log_path(settings.log_dir, room_id)
        self._settings = settings
        self.lineage = ""
        self.file_path = ""  # kept current by the document, for the command line tools
        self._base_parts: list[bytes] = []  # updates making up the base, merged when first read
        self.base_hash: str | None = None
        self.base_digest: str | None = None  # of the base's content (codec/content.py's digest_of)
        self._base_seq = 0  # the base is the log's checkpoint plus this many of its updates
        self._unfinished_save = False  # the log holds a SAVING record with no SAVED after it
        self._saving_state: bytes | None = None  # what that save writes, if this run made it
        self.base_time = 0.0  # when the file got the base
        self._reusable: LogContents | None = None  # the log read at load, while still true
        self._began = False  # begun from a fresh base, not yet opened
        self._log: UpdateLog | None = None
        self._stop_logging: Callable[[], None] | None = None
        self._doc: Doc[Any] | None = None
        self._generation = 0  # bumped by each compaction

    async def recover(self) -> LogContents | None:
        """What the log from an earlier run holds, if there is a trustworthy one."""
        return await asyncio.to_thread(read_log, self.path)

    @property
    def base_update(self) -> bytes:
        """Full state of the document when the file was last loaded or saved."""
        if len(self._base_parts) != 1:
            self._base_parts = [merged_update(self._base_parts)]
        return self._base_parts[0]

    def take_base(
        self, base_update: bytes, file_hash: str | None, digest: str | None = None
    ) -> None:
        """The file holds ``base_update`` (just loaded or saved, merged, our own save found after
        a crash, or another server's save)."""
        self._base_parts, self.base_hash, self.base_time = [base_update], file_hash, time.time()
        self.base_digest, self._base_seq = digest, 0
        self._reusable = None  # the log on disk no longer says what the base is

    def begin(
        self, base_update: bytes, file_hash: str | None, *, built: bytes | None = None
    ) -> None:
        """A new history, from a document just ``built`` from its file (it holds
        ``base_update``: ``built`` and the server's ``state`` values, and nothing else, when
        ``open`` is called)."""
        built = base_update if built is None else built
        named_after = f"build {BUILD_VERSION}: {file_hash}".encode() if file_hash else built
        self.lineage = hashlib.sha256(named_after).hexdigest()[:32]
        self.take_base(base_update, file_hash)
        self._began = True

    def resume(self, recovered: LogContents) -> None:
        """Continue the history a log holds (the base is merged only if someone needs it)."""
        self.lineage = recovered.lineage
        self._base_parts = recovered.base_updates()
        self.base_hash, self.base_digest = recovered.saved_hash, recovered.saved_digest
        saved = self._base_seq = recovered.saved_seq
        self._unfinished_save = recovered.saving_seq is not None
        self.base_time = recovered.times[saved - 1] if saved else recovered.checkpoint_time
        self._reusable = recovered

    async def open(self, doc: Doc[Any]) -> None:
        """Start logging ``doc``, then every update it applies.

        A log resumed as it was is appended to (reopening stays cheap, and the timeline keeps
        its steps); any other start queues a compact log, ahead of every record after it.
        """
        self._doc = doc
        reusable = self._reusable
        # The bound _on_update compacts at: a log holding little more than a big checkpoint
        # is reused, not rewritten at every reopen (a 20 MB notebook: 35-110 ms of writing).
        if reusable is not None and reusable.valid_length <= max(
            self._settings.log_max_bytes, 2 * len(reusable.checkpoint)
        ):
            await asyncio.to_thread(cut_torn_tail, self.path, reusable.valid_length)
            self._compacted_size = len(reusable.checkpoint)
            self._log = UpdateLog(self.path, self._settings.log_commit_delay, reusable.valid_length)
            self._log.seq = len(reusable.updates)
        else:
            self._log = UpdateLog(self.path, self._settings.log_commit_delay, 0)
            # Written by the next commit, as a compaction is, not before the first peer gets the
            # document (a 20 MB notebook: ~50 ms of writing): until then the file holds it all.
            # A history just begun has no tail: finding that out costs ~85 ms for 10k cells.
            self.compact(tail=not self._began)
        self._reusable, self._began = None, False
        self._stop_logging = UpdateListeners.of(doc).listen(Hears.LOG, self._on_update)

    def _compact_records(
        self, doc: Doc[Any], *, tail: bool, saving: bytes | None
    ) -> tuple[list[bytes], int]:
        """A compact log's records (base, a save in flight, everything since); its updates."""
        records = [
            header_record(self.lineage, self.room_id, self.file_path),
            time_record(self.base_time),
            encode_record(CHECKPOINT, self.base_update),
            saved_record(self.base_hash, 0, self.base_digest),
        ]
        if saving is not None:  # a full state: its updates that the base holds change nothing
            records += [encode_record(UPDATE, saving), saving_record(1)]
        since = doc.get_update(get_state(saving or self.base_update)) if tail else EMPTY_UPDATE
        seq = int(saving is not None)
        if since == EMPTY_UPDATE:
            return records, seq
        return [*records, time_record(), encode_record(UPDATE, since)], seq + 1

    def _on_update(self, update: bytes, origin: TransactionOrigin) -> None:
        """Log ``update``; the server's own ``state`` values are ones recovery can do without
        (a recovered room sets them again): logged without hurry, to share the next edits'
        fsync (logfile.py)."""
        assert self._log is not None
        self._log.append_update(update, unhurried=origin is Origin.SERVER_STATE)
        limit = max(self._settings.log_max_bytes, 2 * self._compacted_size)
        if self._log.size > limit and not self._log.rewrite_requested:
            # Not inside the observer: the document is still committing its transaction.
            self._log.rewrite_requested = True
            asyncio.get_running_loop().call_soon(self._compact_as_requested)

    def _compact_as_requested(self) -> None:
        """``compact``, then never leave the request standing: commits of every log wait while
        one is (groupcommit.py), so a compaction that fails must not stop them."""
        try:
            self.compact()
        finally:
            if self._log is not None:
                self._log.rewrite_requested = False

    def mark(self) -> tuple[int, int]:
        """Where the log stands: a save takes a mark with its snapshot, to record what it holds."""
        return (self._generation, self._log.seq if self._log is not None else 0)

    async def saving(self, mark: tuple[int, int], state: bytes) -> bool:
        """Record durably that a save of ``state``, at ``mark``, begins; False: compacted since."""
        if self._log is None or mark[0] != self._generation:  # the new log cannot name it
            return self._log is None
        self._unfinished_save, self._saving_state = True, state
        self._log.mark_saving(mark[1])
        await self._log.flush()
        return True

    def saved(
        self, snapshot: bytes, mark: tuple[int, int], file_hash: str | None, digest: str
    ) -> None:
        """The file now holds ``snapshot`` (its content's digest: ``digest``): the full state
        taken, with ``mark``, as saving began."""
        self.take_base(snapshot, file_hash, digest)
        if self._log is None:
            return
        generation, seq = mark
        if generation == self._generation:
            self._base_seq, self._unfinished_save = seq, False
            self._log.mark_saved(file_hash, seq, digest)
        else:  # compacted while the save ran: the mark means nothing in the new log
            self._unfinished_save = False
            self.compact()

    def digested(self, base_update: bytes, digest: str) -> None:
        """``digest`` is the content digest of ``base_update``: kept, and logged so that a
        reopened room knows it, if that is still the base and its digest still unknown."""
        parts = self._base_parts
        if self.base_digest is not None or len(parts) != 1 or parts[0] is not base_update:
            return
        self.base_digest = digest
        # Not after a SAVING record with no SAVED: recovery must still see that save as cut short.
        if self._log is not None and not self._unfinished_save:
            self._log.mark_saved(self.base_hash, self._base_seq, digest)

    async def set_aside(self) -> None:
        """Keep the log as it is now apart, every edit so far flushed to it first: a merge is
        about to end this history (``rebase``), and the document before it stays recoverable."""
        if self._log is not None:
            with contextlib.suppress(OSError):  # said by the log: the copy is what it holds
                await self._log.flush()
            set_aside_before_merge(self.path)

    def rebase(self, base_update: bytes, file_hash: str | None) -> None:
        """The file changed outside and was merged in (its log set aside): start anew."""
        self.take_base(base_update, file_hash)
        self._unfinished_save = False  # the file was just read: no save touches it
        self.compact()

    def compact(self, *, tail: bool = True) -> None:
        """Rewrite the log as base + one update (after a save in flight, named again); with no
        ``tail``, one known to hold nothing after the base (a history just begun)."""
        if self._log is not None and self._doc is not None:
            self._generation += 1
            saving = self._saving_state if self._unfinished_save else None
            self._base_seq, self._unfinished_save = 0, saving is not None  # base: the checkpoint
            records, seq = self._compact_records(self._doc, tail=tail, saving=saving)
            self._compacted_size = sum(map(len, records))
            self._log.rewrite(records, seq=seq)

    async def read(self) -> LogContents:
        """Everything the log holds now, including edits not yet committed (the timeline)."""
        assert self._log is not None, "the history is open"
        await self._log.flush()
        return parse_log(await asyncio.to_thread(self.path.read_bytes))

    async def close(self, *, discard: bool = False) -> None:
        if self._stop_logging is not None:
            self._stop_logging()
            self._stop_logging = None
        if self._log is not None:
            await self._log.close()
        if discard:
            self.path.unlink(missing_ok=True)
