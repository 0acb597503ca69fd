"""What servers that carry edits from an old history into the cluster's (reconcile.py) share in
Redis: whose turn it is (one at a time), and the state of the old history carried so far."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from .lease import DELETE_IF_VALUE

if TYPE_CHECKING:
    from .store import RoomStore

#: Seconds a server's turn lasts at most, should it die carrying.
TURN = 30.0


class Carrying:
    """One room's carry-over, as seen by the server of ``store``."""

    def __init__(self, store: RoomStore, lineage: str) -> None:
        self._redis, self._server = store.redis, store.server_id
        self._turn, self._carried = store.keys.carrying, store.keys.carried(lineage)
        self._delete_if_ours = store.redis.register_script(DELETE_IF_VALUE)

    async def take_turn(self) -> bool:
        """Be the one server carrying edits into the room, for ``TURN`` at most."""
        ms = round(TURN * 1000)
        return bool(await self._redis.set(self._turn, self._server, nx=True, px=ms))

    async def end_turn(self) -> None:
        """End our turn (never another server's, should ours have expired)."""
        await self._delete_if_ours(keys=[self._turn], args=[self._server])

    async def carried(self) -> bytes | None:
        """The state of the old history carried into the room so far, if any."""
        return cast("bytes | None", await self._redis.get(self._carried))

    async def record(self, state: bytes, seconds: float) -> None:
        """``state`` is carried in all, as long as the room may stay idle (``seconds``)."""
        await self._redis.set(self._carried, state, px=max(1, round(seconds * 1000)))
