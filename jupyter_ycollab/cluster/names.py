"""Which shared room serves a path, when files are renamed through Jupyter (docs/cluster.md).

A room is named by the path its file had when it was first shared (keys.py), and keeps that
name when the file is renamed: its servers go on with it where they are. So its state records
the path its file has now (``path``, written by a server whose file ids saw the rename; the
writer's may not have, and reads it there), and:

- the new path leads to it by an alias, ``{the new path's name}:alias`` (its prefix), which
  its writer keeps alive as it keeps the room's other keys;
- a path whose room now holds another path (a new file took the old name) gets a room of its
  own, under a fresh name, by the same alias.

Opening a path follows its alias, or takes its own name, and checks the path the room records:
in one script, so that two servers opening a new file at once pick the same fresh name.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

from ..codec.kinds import DocumentKind
from ..errors import NotFound
from .keys import RoomKeys, as_text

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from ..document.document import Document

# KEYS: the path's alias, the path's own name. ARGV: path, a fresh name, alias ttl (ms). The
# state of the room named ``name`` is ``name .. ':state'`` (keys.py).
_RESOLVE = """
local name = redis.call('GET', KEYS[1]) or KEYS[2]
local at = redis.call('HGET', name .. ':state', 'path')
if not at or at == ARGV[1] then return name end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return ARGV[2]
"""

# KEYS: the room's state, the new path's alias. ARGV: the new path, the room's name, alias ttl
# (ms). Not a room gone from Redis: a state of its path alone would pass for one.
_RENAMED = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'path', ARGV[1])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return 1
"""

# KEYS: an alias. ARGV: the room's name, ttl (ms). Not one that leads to another room now; one
# that is gone (Redis came back empty) is made again.
_KEEP = """
local name = redis.call('GET', KEYS[1])
if name and name ~= ARGV[1] then return 0 end
return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
"""


@dataclass(frozen=True)
class Names:
    """The names of one kind of document's rooms (format and type) in one namespace."""

    redis: Redis
    namespace: str
    kind: DocumentKind
    alias_ms: int  # the idle expiry: an alias lives as long as its room

    def own(self, path: str) -> RoomKeys:
        """The room ``path`` names unless an alias leads elsewhere."""
        return RoomKeys.of(self.namespace, self.kind.file_format, self.kind.file_type, path)

    async def room_of(self, path: str) -> RoomPath:
        """The room that serves ``path`` now."""
        own = self.own(path)
        fresh = f"{own.prefix}:{uuid.uuid4().hex}"
        name = await self.redis.eval(_RESOLVE, 2, own.alias, own.prefix, path, fresh, self.alias_ms)
        return RoomPath(self, RoomKeys(as_text(name)), path)


class RoomPath:
    """One shared room, and the path of its file as the room records it."""

    def __init__(self, names: Names, keys: RoomKeys, path: str) -> None:
        self.names = names
        self.keys = keys
        self.path = path

    async def follow(self, document: Document | None) -> None:
        """Where our file ids say the file is (renamed here, or learnt by our writer's look)."""
        try:
            path = document.file.path_now() if document is not None else self.path
        except NotFound:  # gone for our file ids: the writer's look says what became of it
            return
        await self.moved_to(path)

    async def moved_to(self, path: str) -> None:
        """The file is at ``path`` now: record it, for a writer whose file ids did not see the
        rename, and lead ``path`` to the room. Not when Redis no longer holds the room."""
        if path == self.path:
            return
        alias, args = self.names.own(path).alias, (path, self.keys.prefix, self.names.alias_ms)
        if await self.names.redis.eval(_RENAMED, 2, self.keys.state, alias, *args):
            self.path = path

    async def recorded(self) -> str | None:
        """Where the room records its file now; None if Redis does not answer (the file is
        then taken for gone, until the next look)."""
        try:
            path = await self.names.redis.hget(self.keys.state, "path")
        except (RedisError, OSError):
            return None
        return None if path is None else as_text(path)

    async def keep(self) -> None:
        """Keep the alias that leads the room's path to it (with the room's expiry)."""
        own = self.names.own(self.path)
        if own != self.keys:
            await self.names.redis.eval(_KEEP, 1, own.alias, self.keys.prefix, self.names.alias_ms)
