"""The history logs every update of its Doc, the server's own ``state`` values without hurry
(history/history.py, by their origin: codec/origins.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pycrdt import Doc, Text

from jupyter_ycollab.document.state import write_state
from jupyter_ycollab.history.history import History
from jupyter_ycollab.settings import Settings


async def test_the_servers_state_values_are_logged_unhurried_and_edits_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc: Doc[Any] = Doc()
    source = doc.get("source", type=Text)
    source.insert(0, "a")
    history = History("text:file:abc", Settings(log_dir=tmp_path, log_commit_delay=0.01))
    history.begin(doc.get_update(), "hash0")
    await history.open(doc)
    log = history._log
    assert log is not None
    append = log.append_update
    hurry: list[bool] = []

    def recorded(update: bytes, *, unhurried: bool = False) -> None:
        hurry.append(unhurried)
        append(update, unhurried=unhurried)

    monkeypatch.setattr(log, "append_update", recorded)
    write_state(doc, dirty=False)
    source.insert(1, "b")
    assert hurry == [True, False]
    await history.close()
