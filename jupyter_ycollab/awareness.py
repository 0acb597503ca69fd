"""Awareness states of one room: who is here, their cursors, their autosave wish.

The server relays awareness frames untouched and keeps the latest state of every client id, so
that a newcomer sees everyone and a departed peer's states can be removed for the others.
"""

from __future__ import annotations

import json
import random
from collections.abc import Hashable
from typing import Any

from .errors import InvalidUpdate
from .protocol import AwarenessEntry, decode_awareness_update, encode_awareness_update

_NULL = "null"


class AwarenessStates:
    def __init__(self) -> None:
        self._entries: dict[int, AwarenessEntry] = {}
        self._owners: dict[int, Hashable] = {}
        self._autosave: dict[int, bool] = {}  # each client's wish, when it states one
        self.server_client_id = random.getrandbits(32)
        self._entries[self.server_client_id] = AwarenessEntry(self.server_client_id, 0, "{}")

    def apply(self, owner: Hashable, payload: bytes) -> list[AwarenessEntry]:
        """Record an update from ``owner``; return the entries that were newer than ours."""
        accepted = []
        for entry in decode_awareness_update(payload):
            state = _parse_state(entry.state)
            if entry.client_id == self.server_client_id or not self._is_newer(entry):
                continue
            self._entries[entry.client_id] = entry
            self._owners[entry.client_id] = owner
            wish = state.get("autosave") if isinstance(state, dict) else None
            if isinstance(wish, bool):
                self._autosave[entry.client_id] = wish
            else:
                self._autosave.pop(entry.client_id, None)
            accepted.append(entry)
        return accepted

    def _is_newer(self, entry: AwarenessEntry) -> bool:
        current = self._entries.get(entry.client_id)
        if current is None or entry.clock > current.clock:
            return True
        return entry.clock == current.clock and entry.state == _NULL and current.state != _NULL

    def forget(self, owner: Hashable) -> bytes | None:
        """Mark every state ``owner`` announced as gone; return the removal update, if any."""
        gone = [client_id for client_id, who in self._owners.items() if who == owner]
        removals = []
        for client_id in gone:
            del self._owners[client_id]
            self._autosave.pop(client_id, None)
            entry = self._entries.pop(client_id)
            if entry.state != _NULL:
                removals.append(AwarenessEntry(client_id, entry.clock + 1, _NULL))
        return encode_awareness_update(removals) if removals else None

    def renew_server_state(self) -> bytes:
        """Bump the server's own (empty) state: a message every peer receives, to keep it alive."""
        entry = self._entries[self.server_client_id]
        renewed = AwarenessEntry(entry.client_id, entry.clock + 1, entry.state)
        self._entries[entry.client_id] = renewed
        return encode_awareness_update([renewed])

    def snapshot(self) -> bytes:
        """Every live state, for a peer that just joined or asked."""
        live = [entry for entry in self._entries.values() if entry.state != _NULL]
        return encode_awareness_update(live)

    def autosave(self) -> bool:
        """Autosave when a peer with a state asks for it, or when no peer refuses it."""
        wishes = self._autosave.values()
        return True in wishes or False not in wishes


def _parse_state(state: str) -> Any:
    """The state's JSON value; a state that is not JSON would break every other client."""
    try:
        return json.loads(state)
    except ValueError as error:
        raise InvalidUpdate("awareness state is not JSON") from error
