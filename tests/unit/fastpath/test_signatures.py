"""The signature batch against a real notary and SQLite file: what nbformat's
``store_signature`` does (insert, refresh ``last_seen``, cull), in one transaction; a store that
is not an SQLite file is written at once."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from nbformat.sign import MemorySignatureStore, NotebookNotary

from jupyter_ycollab.fastpath.signatures import SignatureBatch


def _contents_manager(tmp_path: Path) -> Any:
    notary = NotebookNotary(db_file=str(tmp_path / "nbsignatures.db"), secret=b"secret")
    return SimpleNamespace(notary=notary, log=logging.getLogger("test"))


def _rows(cm: Any) -> dict[str, str]:
    """signature -> last_seen, read with a connection of our own."""
    db = sqlite3.connect(cm.notary.store.db_file)
    try:
        return dict(db.execute("SELECT signature, last_seen FROM nbsignatures").fetchall())
    finally:
        db.close()


async def test_new_signatures_are_inserted_and_known_ones_refreshed(tmp_path: Path) -> None:
    cm = _contents_manager(tmp_path)
    cm.notary.store.store_signature("old", cm.notary.algorithm)
    before = _rows(cm)["old"]
    batch = SignatureBatch(cm, delay=60)

    batch.add("old")
    batch.add("new")
    batch.add("new")  # saved twice in the window: one row
    assert set(_rows(cm)) == {"old"}
    await batch.flush()

    rows = _rows(cm)
    assert set(rows) == {"old", "new"}
    assert rows["old"] > before
    assert cm.notary.store.check_signature("new", cm.notary.algorithm)


async def test_past_the_cache_size_the_oldest_are_culled(tmp_path: Path) -> None:
    cm = _contents_manager(tmp_path)
    cm.notary.store.cache_size = 4
    for name in ("a", "b", "c", "d"):
        cm.notary.store.store_signature(name, cm.notary.algorithm)
    batch = SignatureBatch(cm, delay=60)

    batch.add("e")
    await batch.flush()

    assert set(_rows(cm)) == {"c", "d", "e"}  # the newest 75 % of the cache size


async def test_a_store_in_memory_is_written_at_once(tmp_path: Path) -> None:
    cm = _contents_manager(tmp_path)
    cm.notary.store = MemorySignatureStore()
    batch = SignatureBatch(cm, delay=60)

    batch.add("now")

    assert batch.pending == 0
    assert cm.notary.store.check_signature("now", cm.notary.algorithm)
