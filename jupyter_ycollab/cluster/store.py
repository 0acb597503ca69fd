"""One shared room in Redis: its stream of updates, its folded state, what its file holds.

Writes that only the lease holder may make (the state, the saved file) go through Lua scripts
that check, in the same atomic step, that ``P:lease`` still holds the writer's value
(``{server_id}:{fence}``, lease.py): a holder that lost the lease (paused, partitioned) can no
longer overwrite what its successor recorded. Not the fence alone: a Redis that came back empty
counts from 1 again, and redis-py sends a command again on a new connection, so a write sent
before it died may reach it. Everything is bytes on the wire (``decode_responses=False``);
Redis errors propagate, the caller decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from ..document.sharing import SavedFile
from .entries import SERVER, Entry, SharedState, entry_of
from .keys import RoomKeys, as_text

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.typing import KeyT, StreamIdT

# What redis-py answers with decode_responses=False (its types allow str too).
_Entries = list[tuple[bytes, dict[bytes, bytes]]]
_Hash = dict[bytes, bytes]

#: How long the stream keeps the entries a fold took in (ms): a slower reader levels instead.
KEEP_MS = 60_000

# KEYS: state, lease. ARGV: snapshot, lineage, the holder's lease value, the file's path.
_CREATE_STATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('GET', KEYS[2]) ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], 'snapshot', ARGV[1], 'at', '0-0', 'lineage', ARGV[2], 'path', ARGV[4])
return 1
"""

# KEYS: state, lease, updates. ARGV: snapshot, at, the holder's lease value, keep_ms. The trim
# point is the older of `at` and "keep_ms ago" by Redis's clock (the one stream ids come from).
# A fold never moves `at` backwards: the entries before the newer `at` may be trimmed already.
_FOLD = """
local function parse(id)
  local dash = string.find(id, '-', 1, true)
  if not dash then return tonumber(id), 0 end
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end
local function older(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  return am < bm or (am == bm and as < bs)
end
if redis.call('GET', KEYS[2]) ~= ARGV[3] then return 0 end
local at = redis.call('HGET', KEYS[1], 'at')
if not at or older(ARGV[2], at) then return 0 end
redis.call('HSET', KEYS[1], 'snapshot', ARGV[1], 'at', ARGV[2])
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - tonumber(ARGV[4])
local horizon = string.format('%.0f-0', math.max(ms, 0))
local minid = ARGV[2]
if older(horizon, minid) then minid = horizon end
redis.call('XTRIM', KEYS[3], 'MINID', minid)
return 1
"""

# KEYS: saved, lease. ARGV: update, hash, digest, fence, the holder's lease value. Refused
# unless the lease is the writer's, or from a writer older than the one that recorded it last.
_RECORD_SAVED = """
if redis.call('GET', KEYS[2]) ~= ARGV[5] then return 0 end
if tonumber(ARGV[4]) < tonumber(redis.call('HGET', KEYS[1], 'fence') or '0') then return 0 end
redis.call('HSET', KEYS[1], 'update', ARGV[1], 'hash', ARGV[2], 'digest', ARGV[3], 'fence', ARGV[4])
redis.call('HDEL', KEYS[1], 'saving')
return 1
"""

# KEYS: saved, lease. ARGV: the digest of a save about to be written, the holder's lease value.
_RECORD_SAVING = """
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'saving', ARGV[1])
return 1
"""

# KEYS: state, updates. ARGV: lineage, server field, server, kind, payload. Refused unless the
# state holds that lineage: Redis may have come back empty and another history have begun.
_PUBLISH_TO = """
if redis.call('HGET', KEYS[1], 'lineage') ~= ARGV[1] then return 0 end
redis.call('XADD', KEYS[2], '*', ARGV[2], ARGV[3], ARGV[4], ARGV[5])
return 1
"""

# KEYS: state, updates. The state and the stream after its `at`, in one step: a fold between
# two reads would have trimmed entries that the state read first does not hold.
_CURRENT = """
local state = redis.call('HMGET', KEYS[1], 'snapshot', 'at', 'lineage')
if not state[1] then return false end
return {state, redis.call('XRANGE', KEYS[2], '(' .. (state[2] or '0-0'), '+')}
"""


class RoomStore:
    """The Redis side of one shared room, as seen by server ``server_id``."""

    def __init__(self, redis: Redis, keys: RoomKeys, server_id: str) -> None:
        self.redis = redis
        self.keys = keys
        self.server_id = server_id
        self._create_state = redis.register_script(_CREATE_STATE)
        self._fold = redis.register_script(_FOLD)
        self._record_saved = redis.register_script(_RECORD_SAVED)
        self._record_saving = redis.register_script(_RECORD_SAVING)
        self._publish_to = redis.register_script(_PUBLISH_TO)
        self._current = redis.register_script(_CURRENT)

    async def publish_to(self, lineage: str, kind: str, payload: bytes) -> bool:
        """XADD one entry if the room's history is still ``lineage`` (push.py: a process that
        read the document a while ago); False if it is not, or the room is gone."""
        keys = [self.keys.state, self.keys.updates]
        args: list[bytes | str] = [lineage, SERVER, self.server_id, kind, payload]
        return bool(await self._publish_to(keys=keys, args=args))

    async def current(self) -> SharedState | None:
        """The folded state with the stream entries after it (oldest first), or None if nobody
        created it yet (or it expired). In one step, not two reads: see _CURRENT."""
        found = await self._current(keys=[self.keys.state, self.keys.updates])
        if not found:
            return None
        (snapshot, at, lineage), entries = found
        after = tuple(entry_of(entry_id, _pairs(fields)) for entry_id, fields in entries)
        return SharedState(snapshot, at or b"0-0", (lineage or b"").decode(), after)

    async def state(self) -> SharedState | None:
        """The folded state, or None if nobody created it yet (or it expired)."""
        found = cast("_Hash", await self.redis.hgetall(self.keys.state))
        if b"snapshot" not in found:
            return None
        return SharedState(found[b"snapshot"], found.get(b"at", b"0-0"), _text(found, b"lineage"))

    async def create_state(self, snapshot: bytes, lineage: str, holder: str, path: str) -> bool:
        """Create the state (at ``0-0``) of the file at ``path`` if there is none and the
        lease's value is ``holder``."""
        keys = [self.keys.state, self.keys.lease]
        return bool(await self._create_state(keys=keys, args=[snapshot, lineage, holder, path]))

    async def fold(self, snapshot: bytes, at: bytes, holder: str, keep_ms: int = KEEP_MS) -> bool:
        """Replace the snapshot by one holding the stream up to ``at``, and trim the stream to
        the last ``keep_ms`` (never past ``at``). False if the lease's value is not ``holder``,
        there is no state, or ``at`` is older than the state's."""
        keys = [self.keys.state, self.keys.lease, self.keys.updates]
        return bool(await self._fold(keys=keys, args=[snapshot, at, holder, keep_ms]))

    async def saved(self) -> SavedFile | None:
        """What the file holds as last recorded, or None if never recorded (or expired)."""
        found = cast("_Hash", await self.redis.hgetall(self.keys.saved))
        if b"update" not in found:
            return None
        hash_, digest, saving = (
            _text(found, key) or None for key in (b"hash", b"digest", b"saving")
        )
        return SavedFile(found[b"update"], hash_, digest, int(found[b"fence"]), saving)

    async def record_saved(self, saved: SavedFile, holder: str) -> bool:
        """Record a save; refused (False) if the lease's value is not ``holder``, or
        ``saved.fence`` is older than the fence of the save recorded last."""
        args: list[bytes | str | int] = [saved.update, saved.hash or "", saved.digest or ""]
        args += [saved.fence, holder]
        keys = [self.keys.saved, self.keys.lease]
        return bool(await self._record_saved(keys=keys, args=args))

    async def record_saving(self, digest: str, holder: str) -> bool:
        """Record that the writer is about to write content of ``digest`` (until its save is
        recorded); refused (False) if the lease's value is not ``holder``."""
        keys = [self.keys.saved, self.keys.lease]
        return bool(await self._record_saving(keys=keys, args=[digest, holder]))

    async def expire(self, seconds: float) -> None:
        """Let the room expire from Redis in ``seconds`` unless this is called again first
        (its writer calls it while the room is open, with the idle expiry).

        Not the lease: it keeps its own expiry (a longer one would outlive a dead holder, none
        at all would make it immortal). Not the fence either: a counter that started again at 1
        would let a writer paused past the room's expiry pass as current (one small key per
        file ever shared, for good)."""
        milliseconds = max(1, round(seconds * 1000))
        pipe = self.redis.pipeline(transaction=False)
        for key in self.keys.all():
            if key not in (self.keys.lease, self.keys.fence):
                pipe.pexpire(key, milliseconds)
        await pipe.execute()


def _text(found: Mapping[bytes, bytes], field: bytes) -> str:
    return found.get(field, b"").decode()


def _pairs(flat: list[bytes]) -> dict[bytes, bytes]:
    """An entry's fields as a script returns them: ``[field, value, field, value, ...]``."""
    return dict(zip(flat[::2], flat[1::2], strict=True))


async def read_streams(
    redis: Redis, positions: Mapping[str, bytes], block_ms: int, count: int = 1000
) -> list[tuple[str, Entry]]:
    """One ``XREAD BLOCK`` over several streams (key -> the last id seen, at least one): the
    new entries as ``(key, entry)``, in stream order per key; [] when nothing came within
    ``block_ms``."""
    streams: dict[KeyT, StreamIdT] = dict(positions.items())
    found: Any = await redis.xread(streams, count=count, block=block_ms)
    return [
        (as_text(key), entry_of(entry_id, fields))
        for key, entries in _per_stream(found)
        for entry_id, fields in entries
    ]


def _per_stream(found: Any) -> list[tuple[bytes | str, _Entries]]:
    """XREAD's answer as (key, entries): RESP2 gives [[key, entries], ...], RESP3 (through
    redis-py) {key: [entries]}, a timeout None or an empty answer."""
    if isinstance(found, dict):
        return [
            (key, value[0] if value and isinstance(value[0], list) else value)
            for key, value in found.items()
        ]
    return [(key, entries) for key, entries in found or []]
