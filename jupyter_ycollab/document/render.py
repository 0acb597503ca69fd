"""A document snapshot -> what a save of it through the contents manager takes: its content and
its digest (and the digest of the content the file holds, to skip a save that changes nothing).
Pure and picklable: it runs in a worker thread, so that the event loop never waits for it (the
fast path renders the file's bytes too, and big documents in a process of their own:
fastpath/serialise.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pycrdt import Doc

from ..codec.building import build_base
from ..codec.content import ids_made_anew, read_content
from ..codec.digest import digest_of
from ..codec.kinds import DocumentKind
from ..codec.updates import replayed


@dataclass(frozen=True)
class RenderJob:
    kind: DocumentKind
    #: The document's full state: updates to apply in order to an empty ``Doc`` (snapshots.py).
    parts: tuple[bytes, ...]
    newline: str = "\n"
    #: The state the file holds, when its digest is not known yet (it is rendered lazily).
    base: bytes | None = None
    saved_digest: str | None = None


@dataclass(frozen=True)
class SaveAttempt:
    """A save that failed once it had begun writing (a post-save hook raised, the look after
    the write failed): the file may hold its content, our own, not an outside change."""

    snapshot: bytes
    digest: str
    mark: tuple[int, int]  # the history's, taken with the snapshot


@dataclass(frozen=True)
class Rendered:
    snapshot: bytes  # the parts merged: the document's full state as one update
    digest: str
    base_digest: str | None = None
    content: Any = None  # for the contents manager's save
    #: Cell ids to make anew in the room before it saves (codec/content.py ``ids_made_anew``).
    new_ids: bytes | None = None

    @property
    def unchanged(self) -> bool:
        """The file already holds this content: nothing to write."""
        return self.digest == self.base_digest


def content_of(kind: DocumentKind, update: bytes, newline: str = "\n") -> Any:
    """The file content of the state ``update``, as a contents model holds it."""
    return read_content(kind, replayed([update]), newline)


def holds_and_digest(
    kind: DocumentKind, state: bytes, content: Any, newline: str, ids: bool
) -> tuple[bool, str]:
    """Whether a file read as ``content`` holds ``state`` as a save writes it (cell ids aside
    when not ``ids``: a manager that makes them anew at each read, jupytext's scripts), and
    the file's digest, from the one build and export both need (10,000 cells: 0.65 s, not 1)."""
    file_digest, wanted = _file_side(kind, content, newline, ids)
    return _comparable(content_of(kind, state, newline), ids) == wanted, file_digest


def state_held(
    kind: DocumentKind, updates: list[bytes], content: Any, newline: str, ids: bool, last: int
) -> tuple[bytes, str] | None:
    """The latest state a file read as ``content`` holds (as ``holds_and_digest`` says) among
    those ``updates`` (a log's, from its checkpoint) went through in their ``last`` steps,
    and the file's digest; None if it holds none. A file made again from a page's copy of the
    room (JupyterLab's Ctrl-S of a file it cannot find) holds one: no change to merge, while
    the edits typed since the page sent it are the room's alone (merged, they went in twice)."""
    (file_digest, wanted), held = _file_side(kind, content, newline, ids), None
    for doc in _steps(updates, max(1, len(updates) - last)):
        if _comparable(read_content(kind, doc, newline), ids) == wanted:
            held = doc.get_update()
    return None if held is None else (held, file_digest)


def _steps(updates: list[bytes], first: int) -> Iterator[Doc[Any]]:
    """One ``Doc`` as the ``updates`` left it after each of their steps from ``first`` on."""
    doc = replayed(updates[:first])
    yield doc
    for update in updates[first:]:
        doc.apply_update(update)
        yield doc


def _file_side(kind: DocumentKind, content: Any, newline: str, ids: bool) -> tuple[str, str]:
    """The digest of a file read as ``content``, as the room would save it, and the one to
    compare states with (the same when cell ids count)."""
    side = content_of(kind, build_base(kind, content), newline)
    file_digest = digest_of(side)
    return file_digest, file_digest if ids else _comparable(side, ids)


def _comparable(content: Any, ids: bool) -> str:
    """The digest that tells whether two contents are one file's (cell ids aside if not ``ids``)."""
    if not ids and isinstance(content, dict) and "cells" in content:
        content = {**content, "cells": [_no_id(cell) for cell in content["cells"]]}
    return digest_of(content)


def _no_id(cell: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in cell.items() if key != "id"}


def render(job: RenderJob) -> Rendered:
    doc = replayed(job.parts)
    content = read_content(job.kind, doc, job.newline)
    digest, snapshot = digest_of(content), snapshot_of(job, doc)
    new_ids = ids_made_anew(job.kind, doc, content)  # after the snapshot: it changes ``doc``
    return Rendered(snapshot, digest, base_digest_of(job, digest_of), content, new_ids)


def snapshot_of(job: RenderJob, doc: Doc[Any]) -> bytes:
    """The job's parts merged into one update (a single part is its own)."""
    return job.parts[0] if len(job.parts) == 1 else doc.get_update()


def base_digest_of(job: RenderJob, digest: Callable[[Any], str]) -> str | None:
    """The digest of the content the file holds: known, or ``digest`` of the job's base."""
    if job.base is None:
        return job.saved_digest
    return digest(content_of(job.kind, job.base, job.newline))
