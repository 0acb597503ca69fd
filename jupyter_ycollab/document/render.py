"""A document snapshot -> what a save writes: its content, its digest, and for local files the
file's bytes. Pure and picklable: it runs in a worker thread, or for big documents in the render
process (fastpath/process.py), so that the event loop never waits for it.

Why the bytes are made here for local files: the contents manager's ``save`` converts the model
(``nbformat.from_dict``) and signs it on the event loop, then deep-copies and validates it before
writing (a 10,000-cell notebook: ~0.1 s on the loop, ~0.45 s in all). Here the same nbformat
functions run on a notebook that nothing else holds (no deep copy), and the schema check is the
update guard's job (rooms/guard.py): nbformat only logs an invalid notebook and writes it anyway.
"""

from __future__ import annotations

import base64
import functools
from dataclasses import dataclass
from typing import Any

from nbformat.sign import NotebookNotary
from pycrdt import Doc

from ..codec.content import DocumentKind, digest_of, read_content
from ..codec.updates import replayed
from ..fastpath.hashing import Hashing
from ..fastpath.nbwrite import WrittenNotebook, notebook_bytes


@dataclass(frozen=True)
class Signing:
    """What signing a notebook takes: the contents manager's notary secret and algorithm."""

    secret: bytes
    algorithm: str


@dataclass(frozen=True)
class RenderJob:
    kind: DocumentKind
    #: The document's full state: updates to apply in order to an empty ``Doc`` (snapshots.py).
    parts: tuple[bytes, ...]
    newline: str = "\n"
    #: The state the file holds, when its digest is not known yet (it is rendered lazily).
    base: bytes | None = None
    saved_digest: str | None = None
    #: Make the file's bytes (a local file written directly) instead of a contents model.
    to_bytes: bool = False
    signing: Signing | None = None
    hash_algorithm: str = "sha256"
    digest_only: bool = False  # no content back (a content model is slow to pickle)
    remember: bool = True  # keep the cells written for the next save (fastpath/nbwrite.py)


@dataclass(frozen=True)
class Rendered:
    snapshot: bytes  # the parts merged: the document's full state as one update
    digest: str
    base_digest: str | None = None
    content: Any = None  # for the contents manager's save (``to_bytes`` false)
    data: bytes | None = None  # the file's bytes (``to_bytes`` true and the content changed)
    file_hash: str | None = None  # of ``data``, as the contents manager computes it
    signature: str | None = None  # a notebook whose code cells are all trusted is signed
    trusted: bool = True

    @property
    def unchanged(self) -> bool:
        """The file already holds this content: nothing to write."""
        return self.digest == self.base_digest


def content_of(kind: DocumentKind, update: bytes, newline: str = "\n") -> Any:
    """The file content of the state ``update``, as a contents model holds it."""
    return read_content(kind, replayed([update]), newline)


def render(job: RenderJob) -> Rendered:
    doc = replayed(job.parts)
    content = read_content(job.kind, doc, job.newline)
    # Cells are remembered only where nobody else gets the content (a contents manager's
    # pre-save hook may change it in place).
    written = _written(job.kind, content, job.remember and (job.to_bytes or job.digest_only))
    digest = _digest(content, written)
    if job.digest_only:
        return Rendered(_snapshot(job, doc), digest)
    base_digest = job.saved_digest
    if job.base is not None:
        base_content = content_of(job.kind, job.base, job.newline)
        base_digest = _digest(base_content, _written(job.kind, base_content, False))
    if not job.to_bytes or digest == base_digest:
        return Rendered(_snapshot(job, doc), digest, base_digest, content=content)
    signature, trusted = None, True
    if job.kind.file_type == "notebook":
        try:
            data, signature, trusted = _notebook_bytes(job, content, written)
        except (KeyError, AttributeError, TypeError, ValueError):
            # Not a notebook nbformat can sign and write (only possible without the update
            # guard): the contents manager's save decides, as it would without this path.
            return Rendered(_snapshot(job, doc), digest, base_digest, content=content)
    elif not isinstance(content, str):  # a custom document type: its contents manager saves it
        return Rendered(_snapshot(job, doc), digest, base_digest, content=content)
    elif job.kind.file_format == "base64":
        data = base64.b64decode(content)
    else:
        data = content.encode("utf-8")
    hashing = Hashing(job.hash_algorithm, data)  # beside encoding the merged state
    snapshot = _snapshot(job, doc)
    return Rendered(snapshot, digest, base_digest, None, data, hashing.result(), signature, trusted)


def _snapshot(job: RenderJob, doc: Doc[Any]) -> bytes:
    """The job's parts merged into one update (a single part is its own)."""
    return job.parts[0] if len(job.parts) == 1 else doc.get_update()


def _written(kind: DocumentKind, content: Any, remember: bool) -> WrittenNotebook | None:
    """An nbformat 4 notebook cell by cell (fastpath/nbwrite.py); None for anything else."""
    if kind.file_type != "notebook" or not isinstance(content, dict):
        return None
    if content.get("nbformat") != 4:
        return None
    try:
        return WrittenNotebook(content, remember=remember)
    except (KeyError, AttributeError, TypeError, ValueError):  # not a notebook nbformat writes
        return None


def _digest(content: Any, written: WrittenNotebook | None) -> str:
    """The content's fingerprint: a notebook's from its cells' (remembered: the whole notebook
    is not serialised again), anything else's from its JSON."""
    return digest_of(content) if written is None else written.digest


def _notebook_bytes(
    job: RenderJob, content: Any, written: WrittenNotebook | None
) -> tuple[bytes, str | None, bool]:
    notary = None if job.signing is None else notary_of(job.signing)
    if written is None or notary is None:
        return notebook_bytes(content, notary, remember=job.remember)
    return written.data(), written.signature(notary), written.trusted


@functools.lru_cache(maxsize=4)
def notary_of(signing: Signing) -> NotebookNotary:
    return NotebookNotary(secret=signing.secret, algorithm=signing.algorithm)  # type: ignore[no-untyped-call]
