"""The names of a shared room's keys in Redis, and of the cluster's other keys (docs/cluster.md).

A room is named by its file, not by a server's file id: servers on separate machines have
separate file-id databases, so only the path (with its format and type) is the same everywhere;
a room keeps the name of the path it was first shared at (names.py says how renames are found).
Every name starts with ``ycollab:{namespace}:`` so that unrelated deployments can share a Redis.
"""

from __future__ import annotations

from dataclasses import dataclass


def _root(namespace: str) -> str:
    return f"ycollab:{namespace}"


@dataclass(frozen=True)
class RoomKeys:
    """The keys of one shared room, all under ``prefix``."""

    prefix: str  # "ycollab:{namespace}:{format}:{type}:{path}"

    @classmethod
    def of(cls, namespace: str, file_format: str, file_type: str, path: str) -> RoomKeys:
        """The keys of the room of the file at API ``path`` (relative to the root dir)."""
        return cls(f"{_root(namespace)}:{file_format}:{file_type}:{path}")

    @property
    def updates(self) -> str:
        """Stream: every accepted update and awareness update, with the server that took it."""
        return f"{self.prefix}:updates"

    @property
    def state(self) -> str:
        """Hash: a full snapshot, the last stream id it holds, the lineage (session id)."""
        return f"{self.prefix}:state"

    @property
    def saved(self) -> str:
        """Hash: what the file holds (its state, hash, digest) and the fence of its writer."""
        return f"{self.prefix}:saved"

    @property
    def lease(self) -> str:
        """String ``{server}:{fence}``: the one server that writes the file, with an expiry."""
        return f"{self.prefix}:lease"

    @property
    def fence(self) -> str:
        """Counter, incremented at every change of the lease's holder: the fencing token."""
        return f"{self.prefix}:fence"

    @property
    def carrying(self) -> str:
        """String, with an expiry: the one server carrying edits into the room now."""
        return f"{self.prefix}:carrying"

    def carried(self, lineage: str) -> str:
        """String: the state of history ``lineage`` that servers carried into the room's."""
        return f"{self.prefix}:carried:{lineage}"

    @property
    def alias(self) -> str:
        """String: the name of the room that serves this path, when it is not this one (a file
        renamed to it, or made anew under it after its room's file moved away: names.py)."""
        return f"{self.prefix}:alias"

    def all(self) -> tuple[str, ...]:
        """Every key of the room."""
        return (self.updates, self.state, self.saved, self.lease, self.fence)


def server_key(namespace: str, server_id: str) -> str:
    """The key a live server keeps renewing; it expires when that server died."""
    return f"{_root(namespace)}:server:{server_id}"


def file_ids_key(namespace: str) -> str:
    """Hash: file id -> its room's name, for a room id that another server's file ids gave."""
    return f"{_root(namespace)}:fileids"


def presence_key(namespace: str) -> str:
    """Stream: the awareness of every server's global awareness room (who is online)."""
    return f"{_root(namespace)}:presence"


def as_text(value: bytes | str) -> str:
    """A name (or a value) as redis-py answers it: bytes, unless the client decodes."""
    return value.decode() if isinstance(value, bytes) else value
