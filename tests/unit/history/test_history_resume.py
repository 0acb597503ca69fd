"""A history resumed from a log too big to reuse starts a compact log whose base is the
checkpoint (history/history.py, ``History.open``): nothing it records afterwards may count the
old log's saved updates again, or recovery would take edits never saved for what the file holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pycrdt import Doc, Text

from jupyter_ycollab.codec.updates import replayed
from jupyter_ycollab.history.history import History
from jupyter_ycollab.settings import Settings

ROOM = "text:file:abc"


def text_of(updates: list[bytes]) -> str:
    return str(replayed(updates).get("source", type=Text))


async def write_log_saved_then_edited(settings: Settings) -> None:
    """A log whose file holds "a" (saved, with no digest: as logs were written before digests
    were recorded) and whose document then became "ab" (unsaved)."""
    doc: Doc[Any] = Doc()
    source = doc.get("source", type=Text)
    history = History(ROOM, settings)
    history.begin(doc.get_update(), "hash0")
    await history.open(doc)
    source.insert(0, "a")
    assert history._log is not None
    history._log.mark_saved("hash-a", history.mark()[1], None)
    source.insert(1, "b")
    await history.close()


async def test_a_digest_logged_after_a_compacting_reopen_keeps_unsaved_edits_unsaved(
    tmp_path: Path,
) -> None:
    await write_log_saved_then_edited(Settings(log_dir=tmp_path, log_commit_delay=0.01))
    # A bound under the log's size: the reopen rewrites it compact instead of appending.
    settings = Settings(log_dir=tmp_path, log_commit_delay=0.01, log_max_bytes=1)
    history = History(ROOM, settings)
    recovered = await history.recover()
    assert recovered is not None and recovered.saved_seq == 1 and recovered.saved_digest is None
    assert text_of(recovered.base_updates()) == "a"
    history.resume(recovered)
    doc = replayed([recovered.checkpoint, *recovered.updates])
    await history.open(doc)
    history.digested(history.base_update, "sha256:of-a")  # the base's digest, found later
    await history.close()

    again = await History(ROOM, settings).recover()
    assert again is not None
    assert text_of(again.base_updates()) == "a"  # what the file holds, not "ab"
    assert text_of([again.checkpoint, *again.updates]) == "ab"
