"""The trust signatures of saved notebooks, stored in the notary's SQLite file together.

Why: nbformat's ``SQLiteSignatureStore.store_signature`` commits once per call (twice when the
signature is known: ``check_signature`` refreshes it first), each commit a journal with fsyncs,
on the event loop: ~0.3 ms of CPU and ~0.8 ms of loop time per save. With 200 rooms saving
every second that was the biggest single cost of a small notebook's save. Here the signatures
of all rooms wait at most ``delay`` and go in one transaction, from a worker thread, through a
connection of our own (the store's belongs to the loop's thread), with the store's semantics:
refresh ``last_seen`` or insert, then cull the oldest quarter past ``cache_size``.

What waits is only the "this notebook's outputs are trusted" record: a crash in the window
makes those outputs show as untrusted (the safe direction). Our own reads flush first
(``flush``: files.py), so a notebook reopened right after its save is still trusted;
shutdown flushes too. A store that is not an SQLite file (in memory, custom) is written at once, as
before. When the batch cannot be written, each signature goes through the store the way the
contents manager's ``check_and_sign`` does (recreating a broken store once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from datetime import UTC, datetime
from typing import Any

from nbformat.sign import SQLiteSignatureStore

log = logging.getLogger(__name__)

#: Seconds a signature may wait for the next batch.
SIGNATURE_DELAY = 0.5

_REFRESH = "UPDATE nbsignatures SET last_seen = ? WHERE algorithm = ? AND signature = ?"
_INSERT = "INSERT INTO nbsignatures (algorithm, signature, last_seen) VALUES (?, ?, ?)"
_COUNT = "SELECT Count(*) FROM nbsignatures"
_CULL = (
    "DELETE FROM nbsignatures WHERE id IN "
    "(SELECT id FROM nbsignatures ORDER BY last_seen DESC LIMIT -1 OFFSET ?)"
)

_Pending = dict[tuple[str, str], datetime]  # (signature, algorithm) -> when it was saved


class SignatureBatch:
    """Signatures waiting to be stored in the notary's database of one contents manager."""

    def __init__(self, contents_manager: Any, delay: float = SIGNATURE_DELAY) -> None:
        self._cm = contents_manager
        self.delay = delay
        self._pending: _Pending = {}
        self._timer: asyncio.TimerHandle | None = None
        self._flushing: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        return len(self._pending)

    def add(self, signature: str) -> None:
        """Store ``signature`` (of a notebook just written) soon; at once when the store is not
        a batchable SQLite file."""
        notary = self._cm.notary
        if _database_of(notary.store) is None:
            store_now(self._cm, signature)
            return
        self._pending[(signature, str(notary.algorithm))] = datetime.now(tz=UTC)
        if self._timer is None and self._flushing is None:
            self._timer = asyncio.get_running_loop().call_later(self.delay, self._start_flush)

    def _start_flush(self) -> None:
        self._timer = None
        self._flushing = asyncio.create_task(self._flush(), name="signatures")

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, {}
                await self._write(batch)
        finally:
            self._flushing = None

    async def _write(self, batch: _Pending) -> None:
        store = self._cm.notary.store
        database = _database_of(store)
        try:
            if database is None:
                raise sqlite3.OperationalError("the signature store is no longer an SQLite file")
            await asyncio.to_thread(_store_batch, database, batch, int(store.cache_size))
        except (sqlite3.Error, OSError) as error:
            log.warning("Storing %d signatures together failed (%s); one by one", len(batch), error)
            self._store_one_by_one(batch)

    def _store_one_by_one(self, batch: _Pending) -> None:
        for signature, _algorithm in batch:
            try:
                store_now(self._cm, signature)
            except (sqlite3.Error, OSError) as error:  # the file was saved: say so, go on
                log.warning("Could not store a notebook signature (outputs untrusted): %s", error)

    async def flush(self) -> None:
        """Store every signature added so far, now (before a read, at shutdown)."""
        if self._timer is not None:
            self._timer.cancel()
            self._start_flush()
        while self._flushing is not None:
            await self._flushing
            if self._pending and self._flushing is None:
                self._start_flush()


def store_now(cm: Any, signature: str) -> None:
    """The notary's ``sign`` after its ``compute_signature``; a broken store is recreated once,
    as the contents manager's ``check_and_sign`` does."""
    notary = cm.notary
    try:
        notary.store.store_signature(signature, notary.algorithm)
    except Exception:  # sqlite's errors, the filesystem's: re-raised if recreating fails too
        cm.log.warning("Signature store is corrupted or unavailable; recreating it", exc_info=True)
        notary.store = notary.store_factory()
        notary.store.store_signature(signature, notary.algorithm)


def _database_of(store: Any) -> str | None:
    """The SQLite file of ``store``, when it is nbformat's SQLite store on a file."""
    if isinstance(store, SQLiteSignatureStore) and store.db is not None:
        database = str(store.db_file)
        return None if database == ":memory:" else database
    return None


def _store_batch(database: str, batch: _Pending, cache_size: int) -> None:
    """``store_signature`` of every signature in ``batch``, in one transaction."""
    # One transaction, committed at the end (``with db``), then the connection closed.
    with contextlib.closing(sqlite3.connect(database, timeout=10)) as db, db:
        for (signature, algorithm), seen in batch.items():
            if db.execute(_REFRESH, (seen, algorithm, signature)).rowcount == 0:
                db.execute(_INSERT, (algorithm, signature, seen))
        (count,) = db.execute(_COUNT).fetchone()
        if count > cache_size:
            db.execute(_CULL, (max(int(0.75 * cache_size), 1),))
