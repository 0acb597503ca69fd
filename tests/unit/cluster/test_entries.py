"""cluster/entries.py: a room replayed from its state and stream leaves out an update entry that
does not decode (no server of ours wrote it), and says so, rather than stop whoever joins."""

from __future__ import annotations

import pytest
from pycrdt import Doc, Text

from jupyter_ycollab.cluster.entries import Entry, SharedState


@pytest.fixture
def expected_errors(expected_errors: list[str]) -> list[str]:
    return [*expected_errors, r"Stream entry b'1-0' from intruder is no Yjs update: left out"]


def test_an_update_entry_that_does_not_decode_is_left_out_of_the_replay() -> None:
    doc: Doc = Doc()
    text = doc.get("source", type=Text)
    text += "a"
    snapshot, before = doc.get_update(), doc.get_state()
    text += "b"
    typed = doc.get_update(before)
    entries = (
        Entry(b"1-0", "intruder", "u", b"\x05\xff\xfe\x00\x01"),
        Entry(b"1-1", "s1", "u", typed),
        Entry(b"1-2", "s1", "a", b"\x05\xff"),  # not an update: never replayed
    )
    state = SharedState(snapshot, b"0-0", "lineage", entries)
    assert state.updates == [snapshot, typed]
    assert state.end == b"1-2"  # a reader still moves past it
