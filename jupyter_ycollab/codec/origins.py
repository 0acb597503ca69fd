"""Where a change to a room's ``Doc`` came from: the one value its listeners (listeners.py) read
to treat it, instead of a flag per listener.

- A peer's update (``FromPeer``) reaches every other peer, never its sender again.
- What the server loads (``LOAD``) or takes from the file (``DISK``) is not an edit to save.
- The server's own ``state`` values (``SERVER_STATE``: path, dirty, hash) are no edit either, and
  recovery can do without them: the log writes them without hurry (history/logfile.py).
- What another server accepted (``CLUSTER``, cluster/) is an edit to save, by the one server that
  writes the file; it is never sent back to the cluster.
- What server-side code writes (``SERVER_API``: api.py, compat/, a fork following its root, a
  timeline's restore) is an edit every peer hears. So is a change nobody named: a deployment's
  initialiser or observer writing to the document directly.

Why not pycrdt's transaction origin (``Doc.transaction(origin=...)``): in the pycrdt we support
(0.14) a ``Doc``'s update observers get only the origin's hash (the value sits in a private
table), and a transaction nested in one with another origin raises, so server code applying an
update inside its own transaction would fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeAlias, TypeVar

P = TypeVar("P")


class Origin(Enum):
    """The server's own writes."""

    LOAD = "load"
    DISK = "disk"
    SERVER_STATE = "server state"
    SERVER_API = "server api"
    CLUSTER = "cluster"


@dataclass(frozen=True)
class FromPeer(Generic[P]):
    """An update a peer sent (rooms/peer.py's ``Peer``; the codec does not know the type)."""

    peer: P


TransactionOrigin: TypeAlias = Origin | FromPeer[Any]

#: Changes that are no edit to save: the document does not become dirty.
NOT_EDITS = frozenset({Origin.LOAD, Origin.DISK, Origin.SERVER_STATE})

#: Changes a server made: the only ones that may change the server's own ``state`` values (the
#: file's hash and path; document/document.py ``keep_server_state`` puts back the others').
SERVER_WRITES = NOT_EDITS | {Origin.CLUSTER}
