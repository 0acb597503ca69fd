"""How a document is shared with other servers: the seam the cluster (cluster/) plugs into, and
``Alone``, what a single server does (nothing).

A shared document may be live on another server already: then it is joined from there, never
built a second time from its file. Only one server at a time writes the file (``writes_file``);
the others only make sure their edits reached the cluster (``flush``), and forward Ctrl-S.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pycrdt import Doc

from ..codec.kinds import DocumentKind
from ..history.history import History

#: Answers one Ctrl-S: ``(status, reason)``, ``reason`` saying why a ``failed`` save failed
#: (empty otherwise), which JupyterLab's "File Save Error" shows with jupyter-docprovider 3.1.
SaveReply = Callable[[str, str], None]


@dataclass(frozen=True)
class SavedFile:
    """What the file holds, as the server that wrote it last recorded it."""

    update: bytes  # the document's full state as saved
    hash: str | None
    digest: str | None
    fence: int = 0  # the writer's fencing token (cluster/lease.py)
    #: The digest of a save its writer began after this one and did not record (it died?):
    #: the file may hold it (``Sharing.confirm_writer``).
    saving: str | None = None


@dataclass(frozen=True)
class Joined:
    """A document live on other servers: its state, its lineage, and what its file holds."""

    updates: list[bytes]  # the first a full state
    lineage: str
    saved: SavedFile | None
    #: Nobody was writing the file, so this server does from now on, and looks at the file
    #: first: it may have changed since the room was last open (deleted and made anew).
    writes: bool = False


class Sharing:
    """How a document is shared with other servers. The base is what a single server does:
    nothing to join or tell, and this server writes the file (``Alone``); the cluster's
    ``SharedRoom`` overrides each step."""

    async def join(self) -> Joined | None:
        """The document as the cluster holds it, or None: this server loads it from its file
        (and holds the right to write it)."""
        return None

    async def started_here(self, state: list[bytes], history: History) -> None:
        """This server loaded the document (``state``, its updates in order, and ``history``,
        its lineage and what the file holds): the others join it from now on."""

    def start(
        self, doc: Doc[Any], take_over: Callable[[SavedFile | None], None], *, ahead: bool
    ) -> None:
        """Share the loaded ``doc``; ``take_over`` is called when this server becomes the one
        that writes the file, with what the file holds. ``ahead``: ``doc`` may hold edits the
        cluster lacks."""

    def writes_file(self) -> bool:
        """Whether this server may save the file and merge its outside changes now."""
        return True

    async def confirm_writer(self, digest: str) -> bool:
        """Checked right before writing content of ``digest`` to the file: still this server's
        right? A writer after it, if it dies before ``saved``, tells a file holding that save
        from an outside change (whose merge would apply what the document holds again)."""
        return True

    async def saved(self, saved: SavedFile) -> None:
        """This server wrote the file."""

    async def hand_over(self) -> bool:
        """This server may not write the file (no permission, a read-only file system): whether
        another server writes it now."""
        return False

    def forward_save(self, reply: SaveReply) -> None:
        """Ctrl-S on a server that does not write the file: the writer saves, ``reply`` hears."""
        reply("failed", "no other server writes the file")  # never called alone: this one does

    def forward_take_file(self) -> None:
        """A checkpoint was restored on a server that does not write the file: the writer makes
        the file the document again (``Document.take_file``). Never called alone."""

    def file_gone(self, gone: bool) -> None:
        """This server, which writes the file and so alone looks at it, saw it go (``gone``) or
        come back: the other servers tell their pages too (``Document.heard_file_gone``)."""

    async def flush(self) -> bool:
        """Whether this server's edits reached the cluster (waits a bounded time)."""
        return True

    async def settle(self) -> None:
        """The room closes here, and this server does not write the file: wait (a bounded time)
        until a writer saved it, this server taking over if the writer is gone."""

    async def close(self) -> None:
        """The room is closing here."""


class Alone(Sharing):
    """A document no other server shares: loaded from its file, written by this server."""


#: Makes the sharing of one document, from its kind and path, once its path is known.
Share = Callable[[DocumentKind, str], Awaitable[Sharing]]


async def alone(kind: DocumentKind, path: str) -> Sharing:
    return Alone()
