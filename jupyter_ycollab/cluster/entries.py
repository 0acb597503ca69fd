"""A room's stream as values: one entry, made from the fields Redis gives, and the room's folded
state with the entries read after it, replayed without those no server of ours wrote.

The stream's fields are two: ``SERVER``, and the entry's kind naming its payload.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from pycrdt import get_state

log = logging.getLogger(__name__)

SERVER = b"s"  # the field naming the server that accepted an entry; the other field is its kind


@dataclass(frozen=True)
class Entry:
    """One stream entry."""

    id: bytes  # the stream id, e.g. b"1700000000000-0"
    server: str  # who accepted it (field b"s")
    kind: str  # "u" a Yjs update, "a" an awareness update, "c" a control message
    payload: bytes


@dataclass(frozen=True)
class SharedState:
    """The room's folded state: ``snapshot`` holds every stream entry up to ``at``; read with
    the entries after it (``RoomStore.current``), the whole room."""

    snapshot: bytes
    at: bytes
    lineage: str  # the session id every server of the room shares
    entries: tuple[Entry, ...] = ()

    @property
    def updates(self) -> list[bytes]:
        """The snapshot, then the document updates after it: the whole document, replayed. One
        that does not decode is left out: it would stop every server that joins the room (the
        stream's reader skips it too, cluster.py)."""
        updates = (entry for entry in self.entries if entry.kind == "u" and _decodes(entry))
        return [self.snapshot, *(entry.payload for entry in updates)]

    @property
    def end(self) -> bytes:
        """The id of the last entry read with it: where reading the stream goes on from."""
        return self.entries[-1].id if self.entries else self.at


def entry_of(entry_id: bytes, fields: Mapping[bytes, bytes]) -> Entry:
    """An entry from its fields; one we cannot read gets kind "" (callers skip unknown kinds,
    but still see its id, so that a reader moves past it)."""
    others = [(key, value) for key, value in fields.items() if key != SERVER]
    kind, payload = others[0] if len(others) == 1 else (b"", b"")
    server = fields.get(SERVER, b"")
    return Entry(entry_id, server.decode(errors="replace"), kind.decode(errors="replace"), payload)


def _decodes(entry: Entry) -> bool:
    """Whether an update entry decodes (1 us for a keystroke's, 0.5 ms a megabyte's); one that
    does not, which no server of ours wrote, is logged."""
    try:
        get_state(entry.payload)
    except ValueError:
        log.error("Stream entry %r from %s is no Yjs update: left out", entry.id, entry.server)
        return False
    return True
