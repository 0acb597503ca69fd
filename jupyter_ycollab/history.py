"""A document's history: its lineage, its base (what the file holds) and its crash-safe log.

The lineage id is the session id clients carry: it names one CRDT history of the document. A
fresh history (no log) is named after its deterministic base, so a server that lost its logs but
finds the file unchanged still accepts its clients; the name then survives compactions and
restarts, and changes only when the history is reset.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import time
from pathlib import Path
from typing import Any

from pycrdt import Doc, Subscription, TransactionEvent, get_state

from .settings import Settings
from .updatelog import (
    CHECKPOINT,
    UPDATE,
    LogContents,
    UpdateLog,
    encode_record,
    header_record,
    read_log,
    saved_record,
    write_fresh,
)

log = logging.getLogger(__name__)

_KEEP_BEFORE_MERGE = 3  # logs kept aside from before outside changes were merged in


def log_path(log_dir: Path, room_id: str) -> Path:
    return log_dir / (re.sub(r"[^A-Za-z0-9_.-]", "_", room_id) + ".ylog")


def merged_update(updates: list[bytes]) -> bytes:
    """One update holding all of ``updates`` (a full state when they start from empty)."""
    doc: Doc[Any] = Doc()
    for update in updates:
        doc.apply_update(update)
    return doc.get_update()


class History:
    def __init__(self, room_id: str, settings: Settings) -> None:
        self.room_id = room_id
        self.path = log_path(settings.log_dir, room_id)
        self._settings = settings
        self.lineage = ""
        self.file_path = ""  # kept current by the document, for the command line tools
        self.base_update = b""  # full state of the document when the file was last loaded/saved
        self.base_hash: str | None = None
        self._log: UpdateLog | None = None
        self._subscription: Subscription | None = None
        self._doc: Doc[Any] | None = None
        self._generation = 0  # bumped by each compaction
        self._compaction_due = False

    async def recover(self) -> LogContents | None:
        """What the log from an earlier run holds, if there is a trustworthy one."""
        return await asyncio.to_thread(read_log, self.path)

    def begin(self, base_update: bytes, file_hash: str | None) -> None:
        """A new history, from a document just built from its file."""
        self.lineage = hashlib.sha256(base_update).hexdigest()[:32]
        self.base_update, self.base_hash = base_update, file_hash

    def resume(self, recovered: LogContents) -> None:
        self.lineage = recovered.lineage
        self.base_update = merged_update(recovered.base_updates())
        self.base_hash = recovered.saved_hash

    @staticmethod
    def interrupted_save(recovered: LogContents) -> bytes | None:
        """The state a save was writing when the server stopped before recording it, if any."""
        updates = recovered.saving_updates()
        return None if updates is None else merged_update(updates)

    def take_base(self, base_update: bytes, file_hash: str | None) -> None:
        """The file holds ``base_update`` (our own save, found after a crash)."""
        self.base_update, self.base_hash = base_update, file_hash

    async def open(self, doc: Doc[Any]) -> None:
        """Start logging ``doc``: a compact log now, then every update it applies."""
        self._doc = doc
        records = self._compact_records(doc)
        await asyncio.to_thread(write_fresh, self.path, records)
        self._compacted_size = sum(map(len, records))
        self._log = UpdateLog(self.path, self._settings.log_commit_delay, self._compacted_size)
        self._log.seq = 1
        self._subscription = doc.observe(self._on_update)

    def _compact_records(self, doc: Doc[Any]) -> list[bytes]:
        tail = doc.get_update(get_state(self.base_update))
        return [
            header_record(self.lineage, self.room_id, self.file_path),
            encode_record(CHECKPOINT, self.base_update),
            saved_record(self.base_hash, 0),
            encode_record(UPDATE, tail),
        ]

    def _on_update(self, event: TransactionEvent) -> None:
        assert self._log is not None
        self._log.append_update(event.update)
        limit = max(self._settings.log_max_bytes, 2 * self._compacted_size)
        if self._log.size > limit and not self._log.rewrite_requested:
            # Not inside the observer: the document is still committing its transaction.
            self._log.rewrite_requested = True
            asyncio.get_running_loop().call_soon(self.compact)

    def mark(self) -> tuple[int, int]:
        """Where the log stands: a save takes a mark with its snapshot, to record what it holds."""
        return (self._generation, self._log.seq if self._log is not None else 0)

    async def saving(self, mark: tuple[int, int]) -> None:
        """Record, durably, that a save of the state at ``mark`` is about to touch the file."""
        if self._log is not None and mark[0] == self._generation:
            self._log.mark_saving(mark[1])
            await self._log.flush()

    def saved(self, snapshot: bytes, mark: tuple[int, int], file_hash: str | None) -> None:
        """The file now holds ``snapshot``: the full state taken, with ``mark``, as saving began."""
        self.base_update, self.base_hash = snapshot, file_hash
        if self._log is None:
            return
        generation, seq = mark
        if generation == self._generation:
            self._log.mark_saved(file_hash, seq)
        else:  # compacted while the save ran: the mark means nothing in the new log
            self.compact()

    def rebase(self, base_update: bytes, file_hash: str | None) -> None:
        """The file changed outside and was merged in: keep the old log aside, start anew."""
        self.base_update, self.base_hash = base_update, file_hash
        if self._log is not None and self.path.exists():
            aside = self.path.with_name(f"{self.path.stem}.before-{time.time_ns()}.ylog")
            os.replace(self.path, aside)
            self._prune_before_logs()
        self.compact()

    def _prune_before_logs(self) -> None:
        kept = sorted(self.path.parent.glob(f"{self.path.stem}.before-*.ylog"))
        for old in kept[:-_KEEP_BEFORE_MERGE]:
            old.unlink(missing_ok=True)

    def compact(self) -> None:
        """Rewrite the log as base + one update: bounded, same lineage, same CRDT history."""
        if self._log is not None and self._doc is not None:
            self._generation += 1
            records = self._compact_records(self._doc)
            self._compacted_size = sum(map(len, records))
            self._log.rewrite(records, seq=1)

    async def close(self, *, discard: bool = False) -> None:
        if self._subscription is not None and self._doc is not None:
            self._doc.unobserve(self._subscription)
            self._subscription = None
        if self._log is not None:
            await self._log.close()
        if discard:
            self.path.unlink(missing_ok=True)
