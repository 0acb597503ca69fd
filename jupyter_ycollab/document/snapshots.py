"""A document's full state without encoding it on the event loop: a full update (the last save's
snapshot) followed by every update the document applied since. A room whose document did not
change since its state was last encoded hands new peers that encoding, not a new one.

Why: ``Doc.get_update()`` of a 10,000-cell notebook takes 6 ms, and 20-40 ms the first time (a
fresh 6 MB buffer); a save that starts with it freezes every room for that long. The parts are
merged where the save is rendered (render.py), off the loop, which hands back the merged state
to become the new head. Updates pile up only between saves; past a bound (autosave off for a
long time) they are folded into one full update on the loop, once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from pycrdt import Doc

from ..codec.listeners import Hears, UpdateListeners
from ..codec.origins import TransactionOrigin

_MIN_FOLD_BYTES = 256 * 1024


class Snapshots:
    def __init__(self, doc: Doc[Any], parts: Sequence[bytes]) -> None:
        """Start from ``parts``: updates that give ``doc``'s state now when applied in order to
        an empty ``Doc``, the first a full state."""
        self._doc = doc
        self._parts = list(parts)
        self._pending_bytes = sum(len(part) for part in self._parts[1:])
        self._folding = False
        self._stop: Callable[[], None] | None = UpdateListeners.of(doc).listen(
            Hears.SNAPSHOTS, self._on_update
        )

    def take(self) -> tuple[bytes, ...]:
        """The document's state now, as parts to apply in order to an empty ``Doc``."""
        return tuple(self._parts)

    def full_state(self) -> bytes:
        """The document's full state as one update: the head when nothing happened since it was
        taken, else encoded now and kept as the new head (so the next caller gets it free)."""
        if self._stop is None:  # closed: the parts no longer follow the document
            return self._doc.get_update()
        if len(self._parts) != 1:
            self._parts, self._pending_bytes = [self._doc.get_update()], 0
        return self._parts[0]

    def merged(self, parts: tuple[bytes, ...], snapshot: bytes) -> None:
        """``snapshot`` holds ``parts`` (taken earlier): it replaces them as the head."""
        if tuple(self._parts[: len(parts)]) == parts:
            self._parts[: len(parts)] = [snapshot]
            self._pending_bytes = sum(len(part) for part in self._parts[1:])

    def close(self) -> None:
        if self._stop is not None:
            self._stop()
            self._stop = None

    def _on_update(self, update: bytes, _origin: TransactionOrigin) -> None:
        self._parts.append(update)
        self._pending_bytes += len(update)
        limit = max(_MIN_FOLD_BYTES, len(self._parts[0]) // 4)
        if self._pending_bytes > limit and not self._folding:
            self._folding = True  # not inside the observer: the transaction is still committing
            asyncio.get_running_loop().call_soon(self._fold)

    def _fold(self) -> None:
        self._folding = False
        if self._stop is not None:
            self.full_state()
