"""One writer per file: a lease in Redis with a fencing token (docs/cluster.md, "the lease").

The holder's value is ``{server_id}:{fence}``, where the fence is ``INCR P:fence`` at every
change of holder: what a holder records is refused once a newer fence exists, so a holder that
was paused past its ttl can never overwrite its successor's work. Locally, a lease is trusted
only for two thirds of its ttl after the last acquire or renewal that succeeded (by ``clock``,
taken *before* that round trip): a process paused longer stops believing it holds it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from .. import metrics
from .keys import RoomKeys, as_text

if TYPE_CHECKING:
    from redis.asyncio import Redis

# KEYS: lease, fence. ARGV: server_id, ttl_ms. The new fence, or 0 if someone holds it.
_ACQUIRE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local fence = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. fence, 'PX', ARGV[2])
return fence
"""

# KEYS: lease. ARGV: our value, ttl_ms. 1 if it was still ours (and is renewed).
_RENEW = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
"""

# KEYS: a key. ARGV: a value. Deletes the key only if it holds the value: never a successor's
# lease (nor another server's turn to carry edits over: carrying.py).
DELETE_IF_VALUE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
"""

TRUST = 2 / 3  # of the ttl: how long after a renewal the holder still trusts it holds the lease
#: Seconds within which a holder that stepped aside does not do so again (``step_aside``).
STEP_ASIDE_AGAIN = 60.0


class Lease:
    """Server ``server_id``'s side of the lease on one file (``keys.lease``, ``keys.fence``)."""

    def __init__(
        self,
        redis: Redis,
        keys: RoomKeys,
        server_id: str,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.server_id = server_id
        self.ttl = ttl
        self.clock = clock
        self.fence: int | None = None  # our fence while we hold it, else None
        self._renewed_at = 0.0  # by `clock`: when the last successful acquire/renew was sent
        self._aside_at = -math.inf  # by `clock`: when we last stepped aside
        self._ttl_ms = max(1, round(ttl * 1000))
        self._acquire = redis.register_script(_ACQUIRE)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(DELETE_IF_VALUE)

    @property
    def value(self) -> str:
        """What ``P:lease`` holds while we hold it (the scripts of store.py check it)."""
        return f"{self.server_id}:{self.fence}"

    async def try_acquire(self) -> bool:
        """Take the lease if it is free (a new fence), or renew it if we hold it; True if ours."""
        if self.fence is not None:
            return await self.renew()
        sent = self.clock()
        if sent - self._aside_at < 2 * self.ttl:  # stepped aside: the others first
            return False
        keys = [self.keys.lease, self.keys.fence]
        fence = int(await self._acquire(keys=keys, args=[self.server_id, self._ttl_ms]))
        if not fence:
            return False
        self.fence, self._renewed_at = fence, sent
        metrics.current.lease_changed("acquired")
        return True

    async def renew(self) -> bool:
        """Extend the lease if it is still ours; otherwise we lost it (``fence`` becomes None)."""
        if self.fence is None:
            return False
        sent = self.clock()
        if await self._renew(keys=[self.keys.lease], args=[self.value, self._ttl_ms]):
            self._renewed_at = sent
            return True
        self.fence = None
        metrics.current.lease_changed("lost")
        return False

    async def release(self) -> None:
        """Give the lease up (if still ours), so that another server takes it at once."""
        if self.fence is None:
            return
        value, self.fence = self.value, None  # no longer trusted, whatever Redis answers
        metrics.current.lease_changed("released")
        await self._release(keys=[self.keys.lease], args=[value])

    def step_aside(self) -> bool:
        """This server may not write the file: once it gave the lease up (``release``), leave
        it to the others for two terms, then take it back if it is still free. False (and
        nothing done) within ``STEP_ASIDE_AGAIN`` seconds of the last time, so that servers that
        all may not write the file do not pass it round (their saves fail)."""
        now = self.clock()
        if now - self._aside_at < STEP_ASIDE_AGAIN:
            return False
        self._aside_at = now
        return True

    def held(self) -> bool:
        """Whether we hold it, as far as we know without asking: we took or renewed it less than
        two thirds of the ttl ago."""
        return self.fence is not None and self.clock() - self._renewed_at < self.ttl * TRUST

    async def confirm(self) -> bool:
        """``held()``, and Redis says the lease is still ours (right before writing the file)."""
        if not self.held():
            return False
        value = await self.redis.get(self.keys.lease)
        if value is not None and as_text(value) == self.value:
            return True
        self.fence = None
        metrics.current.lease_changed("lost")
        return False

    async def holder(self) -> str | None:
        """The server id holding the lease now, None if it is free."""
        value = await self.redis.get(self.keys.lease)
        return None if value is None else as_text(value).rpartition(":")[0]
