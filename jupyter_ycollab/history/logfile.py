"""The update log on disk: read it (moving a damaged one aside), replace it, append to it.

Appends are buffered and written with one ``write`` + ``fsync`` at most ``commit_delay`` after they
were made (group commit), in a worker thread, off the path that relays updates to peers, together
with every other room's (groupcommit.py); each commit starts with a TIME record. A compaction
replaces the whole file atomically. The format of the records is records.py's.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from pathlib import Path

from .. import metrics
from .groupcommit import group_commit
from .records import (
    UPDATE,
    LogContents,
    UnreadableLog,
    encode_record,
    parse_log,
    saved_record,
    saving_record,
    time_record,
)

log = logging.getLogger(__name__)

#: How long records that recovery can do without may wait: a save's SAVED mark (without it,
#: recovery compares the file with the save that was cut short, and finds it written) and the
#: server's own ``state`` values. Long enough that they usually ride with the log's next commit
#: of edits instead of costing an fsync of their own: with every edit saved, a third of them.
UNHURRIED_DELAY = 2.0


#: Logs kept aside from before outside changes were merged in, per document.
_KEEP_BEFORE_MERGE = 3


def log_path(log_dir: Path, room_id: str) -> Path:
    """Where the log of ``room_id`` lives: one file per document, named after its room."""
    return log_dir / (re.sub(r"[^A-Za-z0-9_.-]", "_", room_id) + ".ylog")


def read_log(path: Path) -> LogContents | None:
    """The log at ``path``; None when there is none. A damaged log is moved aside first."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        return parse_log(data)
    except (UnreadableLog, ValueError, KeyError) as error:
        aside = path.with_name(f"{path.name}.unreadable-{int(time.time())}")
        os.replace(path, aside)
        log.warning("Moved unreadable update log %s aside to %s: %s", path, aside, error)
        return None


def write_fresh(path: Path, records: list[bytes]) -> None:
    """Replace the log at ``path`` atomically with ``records`` (durable before the rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as file:
        for record in records:  # not joined first: a checkpoint may be tens of megabytes
            file.write(record)
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def cut_torn_tail(path: Path, length: int) -> None:
    """Cut what follows the last whole record (a write the server did not finish), so that
    appends follow whole records."""
    with open(path, "r+b") as file:
        if os.fstat(file.fileno()).st_size > length:
            file.truncate(length)
            os.fsync(file.fileno())


def set_aside_before_merge(path: Path) -> None:
    """Keep the log of the history an outside change ends (the last few: the rest go).

    A second name for it, not a move: the log stays where it is until the new one, queued
    for the next commit, replaces it atomically (``write_fresh``). A crash in between then
    finds the old log, with the unsaved edits, and merges the file again; never no log."""
    if not path.exists():
        return
    aside = path.with_name(f"{path.stem}.before-{time.time_ns()}.ylog")
    try:
        os.link(path, aside)
    except OSError:  # a file system without hard links
        shutil.copyfile(path, aside)
    kept = sorted(path.parent.glob(f"{path.stem}.before-*.ylog"))
    for old in kept[:-_KEEP_BEFORE_MERGE]:
        old.unlink(missing_ok=True)


class UpdateLog:
    """The open log of one document: buffered appends, group commit, compaction."""

    def __init__(self, path: Path, commit_delay: float, size: int) -> None:
        self.path = path
        self.commit_delay = commit_delay
        self.size = size  # bytes on disk once everything buffered is written
        self.seq = 0  # updates since the checkpoint
        self._pending: list[bytes] = []
        self._rewrite: list[bytes] | None = None  # the whole log anew, written before _pending
        self._closed = False
        self._flushers = 0
        self._failure: OSError | None = None
        #: Set when a rewrite will be queued on the next turn of the loop: flushing waits for it,
        #: so the records that asked for it never grow the old file past its bound.
        self.rewrite_requested = False

    def append_update(self, update: bytes, *, unhurried: bool = False) -> None:
        self.seq += 1
        self._enqueue(encode_record(UPDATE, update), unhurried=unhurried)

    def mark_saved(self, file_hash: str | None, seq: int, digest: str | None = None) -> None:
        self._enqueue(saved_record(file_hash, seq, digest), unhurried=True)

    def mark_saving(self, seq: int) -> None:
        self._enqueue(saving_record(seq))

    def rewrite(self, records: list[bytes], seq: int) -> None:
        """Replace the whole log (compaction): ordered after everything appended so far, which
        it holds, so that none of that need touch the disk (nor grow the old file past the
        bound that asked for the rewrite)."""
        if self.size:  # not the log a room starts with (``History.open``): a compaction
            metrics.current.log_compacted()
        self.seq = seq
        self.size = sum(map(len, records))
        self.rewrite_requested = False
        self._rewrite, self._pending = records, []
        self._schedule()

    def _enqueue(self, record: bytes, *, unhurried: bool = False) -> None:
        self.size += len(record)
        self._pending.append(record)
        self._schedule(max(self.commit_delay, UNHURRIED_DELAY) if unhurried else None)

    def _schedule(self, delay: float | None = None) -> None:
        if not self._closed:
            group_commit().due(self, self.commit_delay if delay is None else delay)

    def take(self) -> tuple[list[bytes] | None, list[bytes]]:
        """The rewrite and the records waiting, handed to a commit (on the loop)."""
        batch = self._rewrite, self._pending
        self._rewrite, self._pending = None, []
        return batch

    def failed(self, error: OSError) -> None:
        """Writing the last batch failed (on the loop): its flushers get it, else it is logged."""
        if self._flushers:
            self._failure = error
        else:
            log.error("Could not write the update log %s: %s", self.path, error)

    def write(self, batch: tuple[list[bytes] | None, list[bytes]]) -> None:
        """Write ``batch`` durably (in a worker thread): the rewrite, then the records appended
        after a TIME record."""
        rewrite, records = batch
        started, written = metrics.clock(), 0
        if rewrite is not None:
            write_fresh(self.path, rewrite)
            written = sum(map(len, rewrite))
        if records:
            data = time_record() + b"".join(records)
            with open(self.path, "ab") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            written += len(data)
        if written:
            metrics.current.log_committed(written, metrics.clock() - started)

    async def flush(self) -> None:
        """Write everything appended so far, now."""
        self._flushers += 1
        try:
            await group_commit().flush(self)
        finally:
            self._flushers -= 1
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure

    async def close(self) -> None:
        await self.flush()
        self._closed = True
