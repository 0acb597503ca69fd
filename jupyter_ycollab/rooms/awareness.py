"""Awareness states of one room: who is here, their cursors, their autosave wish.

The server relays awareness frames untouched and keeps the latest state of every client id, so
that a newcomer sees everyone and a departed peer's states can be removed for the others.
Every state is relayed to and kept for every peer, so its size and the number of client ids one
connection may announce are bounded: a peer over either limit is disconnected.
"""

from __future__ import annotations

import json
import random
from collections.abc import Hashable
from typing import Any

from ..errors import AwarenessTooLarge, InvalidUpdate
from .protocol import AwarenessEntry, decode_awareness_update, encode_awareness_update

_NULL = "null"
#: Client ids one connection may announce: a browser tab uses one per document.
MAX_CLIENTS_PER_PEER = 8


class AwarenessStates:
    def __init__(self, max_state_bytes: int = 64 * 1024) -> None:
        self.max_state_bytes = max_state_bytes
        self.server_client_id = random.getrandbits(32)
        self._entries = {self.server_client_id: AwarenessEntry(self.server_client_id, 0, "{}")}
        self._owners: dict[int, Hashable] = {}
        self._owned: dict[Hashable, set[int]] = {}  # the inverse of _owners
        self._autosave: dict[int, bool] = {}  # each client's wish, when it states one
        self._users: dict[int, str] = {}  # the user whose connection announced it, if one did

    def apply(
        self,
        owner: Hashable,
        payload: bytes,
        *,
        relayed: bool = False,
        saves: bool = True,
        user: str | None = None,
    ) -> list[AwarenessEntry]:
        """Record an update from ``owner``; return the entries that were newer than ours.
        A ``relayed`` one comes from another server, which checked its own peer's limits and
        speaks for all its peers: no limit on its client ids. The autosave wish of an owner who
        may not save (a read-only peer, whose front end states its own setting) is not heard:
        it turned autosave back on for editors who had turned it off. A client id that another
        ``user``'s connection announced is theirs: nobody else may rename, move or remove
        their cursor for the others (the same user may: a page that reconnected). A relayed
        update names its peer's ``user`` and ``saves`` too (the cluster's stream entries say
        them), so these rules hold across servers; one with no ``user`` is a server's own (a
        departed peer's removal), taken whoever announced the client id."""
        entries = decode_awareness_update(payload)
        if not relayed:
            self._check_limits(owner, entries)
        states = [_parse_state(entry.state) for entry in entries]  # all valid, or none kept
        accepted = []
        for entry, state in zip(entries, states, strict=True):
            if entry.client_id == self.server_client_id or not self._is_newer(entry):
                continue
            if user is not None and self._users.setdefault(entry.client_id, user) != user:
                continue
            self._entries[entry.client_id] = entry
            previous = self._owners.get(entry.client_id)
            if previous is not None and previous != owner:
                self._owned[previous].discard(entry.client_id)
            self._owners[entry.client_id] = owner
            self._owned.setdefault(owner, set()).add(entry.client_id)
            wish = state.get("autosave") if isinstance(state, dict) and saves else None
            if isinstance(wish, bool):
                self._autosave[entry.client_id] = wish
            else:
                self._autosave.pop(entry.client_id, None)
            accepted.append(entry)
        return accepted

    def _check_limits(self, owner: Hashable, entries: list[AwarenessEntry]) -> None:
        """Refuse the whole update before any of it is kept or relayed."""
        for entry in entries:
            if len(entry.state.encode()) > self.max_state_bytes:
                raise AwarenessTooLarge(
                    f"awareness state of {len(entry.state.encode())} bytes is over the limit "
                    f"of {self.max_state_bytes}"
                )
        owned = self._owned.get(owner, set()).union(entry.client_id for entry in entries)
        if len(owned) > MAX_CLIENTS_PER_PEER:
            raise AwarenessTooLarge(f"more than {MAX_CLIENTS_PER_PEER} awareness client ids")

    def _is_newer(self, entry: AwarenessEntry) -> bool:
        current = self._entries.get(entry.client_id)
        if current is None or entry.clock > current.clock:
            return True
        return entry.clock == current.clock and entry.state == _NULL and current.state != _NULL

    def forget(self, owner: Hashable) -> bytes | None:
        """Mark every state ``owner`` announced as gone; return the removal update, if any."""
        gone = sorted(self._owned.pop(owner, ()))
        removals = []
        for client_id in gone:
            del self._owners[client_id]
            self._autosave.pop(client_id, None)
            self._users.pop(client_id, None)
            entry = self._entries.pop(client_id)
            if entry.state != _NULL:
                removals.append(AwarenessEntry(client_id, entry.clock + 1, _NULL))
        return encode_awareness_update(removals) if removals else None

    def renew_server_state(self) -> bytes:
        """Bump the server's own state (``{}`` unless server-side code set one): a message every
        peer receives, to keep it alive."""
        return self.set_server_state(self._entries[self.server_client_id].state)

    def set_server_state(self, state: str) -> bytes:
        """Replace the server's own state (JSON text, ``"null"`` to withdraw it), the one
        server-side code shows peers as its presence; return the update that announces it."""
        entry = self._entries[self.server_client_id]
        renewed = AwarenessEntry(entry.client_id, entry.clock + 1, state)
        self._entries[entry.client_id] = renewed
        return encode_awareness_update([renewed])

    def states(self) -> dict[int, Any]:
        """Every live state by client id, decoded, the server's own included."""
        return {
            client_id: json.loads(entry.state)
            for client_id, entry in self._entries.items()
            if entry.state != _NULL
        }

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
