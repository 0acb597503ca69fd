"""A document snapshot -> what a save writes, for local files the file's bytes too (signed, and
hashed as the contents manager hashes them), with the notebook's cells remembered from one save
to the next (nbwrite.py). Pure and picklable: it runs in a worker thread, or for big documents in
the render process (process.py), so that the event loop never waits for it.

Why the bytes are made here for local files: the contents manager's ``save`` converts the model
(``nbformat.from_dict``) and signs it on the event loop, then deep-copies and validates it before
writing (a 10,000-cell notebook: ~0.1 s on the loop, ~0.45 s in all). Here the same nbformat
functions run on a notebook that nothing else holds (no deep copy), and the schema check is the
update guard's job (rooms/guard.py): nbformat only logs an invalid notebook and writes it anyway.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import threading
from dataclasses import dataclass
from typing import Any

from nbformat.sign import NotebookNotary

from ..codec.content import ids_kept, ids_made_anew, read_content
from ..codec.digest import digest_of
from ..codec.kinds import DocumentKind
from ..codec.updates import replayed
from ..document.render import Rendered, RenderJob, base_digest_of, snapshot_of
from .nbwrite import WrittenNotebook, notebook_bytes


@dataclass(frozen=True)
class Signing:
    """What signing a notebook takes: the contents manager's notary secret and algorithm."""

    secret: bytes
    algorithm: str


@dataclass(frozen=True)
class FastJob(RenderJob):
    digest_only: bool = False  # no content back (a content model is slow to pickle)
    #: Make the file's bytes (a local file written directly) instead of a contents model.
    to_bytes: bool = False
    signing: Signing | None = None
    hash_algorithm: str = "sha256"
    remember: bool = True  # keep the cells written for the next save (nbwrite.py)


@dataclass(frozen=True)
class RenderedBytes(Rendered):
    """A render whose content changed, as the file's bytes (``content`` is None)."""

    data: bytes = b""
    file_hash: str | None = None  # of ``data``, as the contents manager computes it
    signature: str | None = None  # a notebook whose code cells are all trusted is signed
    trusted: bool = True


def render(job: FastJob) -> Rendered:
    doc = replayed(job.parts)
    content = read_content(job.kind, doc, job.newline)
    # Cells are remembered only where nobody else gets the content (a contents manager's
    # pre-save hook may change it in place).
    written = _written(job.kind, content, job.remember and (job.to_bytes or job.digest_only))
    digest = _digest(content, written)
    if job.digest_only:
        return Rendered(snapshot_of(job, doc), digest)
    base_digest = base_digest_of(job, lambda base: _digest(base, _written(job.kind, base, False)))
    if digest == base_digest:
        return Rendered(snapshot_of(job, doc), digest, base_digest, content)
    if job.kind.file_type == "notebook" and not ids_kept(content):  # made anew in the room first
        snapshot = snapshot_of(job, doc)  # before ``ids_made_anew`` changes ``doc``
        new_ids = ids_made_anew(job.kind, doc, content)
        return Rendered(snapshot, digest, base_digest, content, new_ids)
    if not job.to_bytes:
        return Rendered(snapshot_of(job, doc), digest, base_digest, content)
    signature, trusted = None, True
    if job.kind.file_type == "notebook":
        try:
            data, signature, trusted = _notebook_bytes(job, content, written)
        except (KeyError, AttributeError, TypeError, ValueError):
            # Not a notebook nbformat can sign and write (only possible without the update
            # guard): the contents manager's save decides, as it would without this path.
            return Rendered(snapshot_of(job, doc), digest, base_digest, content)
    elif not isinstance(content, str):  # a custom document type: its contents manager saves it
        return Rendered(snapshot_of(job, doc), digest, base_digest, content)
    elif job.kind.file_format == "base64":
        data = base64.b64decode(content)
    else:
        data = content.encode("utf-8")
    hashing = Hashing(job.hash_algorithm, data)  # beside encoding the merged state
    snapshot = snapshot_of(job, doc)
    file_hash = hashing.result()
    written_file = (data, file_hash, signature, trusted)
    return RenderedBytes(snapshot, digest, base_digest, None, None, *written_file)  # no content


def _written(kind: DocumentKind, content: Any, remember: bool) -> WrittenNotebook | None:
    """An nbformat 4 notebook cell by cell (nbwrite.py); None for anything else."""
    if kind.file_type != "notebook" or not isinstance(content, dict):
        return None
    if content.get("nbformat") != 4:
        return None
    try:
        return WrittenNotebook(content, remember=remember)
    except (KeyError, AttributeError, TypeError, ValueError):  # not a notebook nbformat writes
        return None


def _digest(content: Any, written: WrittenNotebook | None) -> str:
    """The codec's digest of the content: a notebook's from its cells' remembered digests (the
    whole notebook is not serialised again)."""
    return digest_of(content) if written is None else written.digest


def _notebook_bytes(
    job: FastJob, content: Any, written: WrittenNotebook | None
) -> tuple[bytes, str | None, bool]:
    notary = None if job.signing is None else notary_of(job.signing)
    if written is None or notary is None:
        return notebook_bytes(content, notary, remember=job.remember)
    return written.data(), written.signature(notary), written.trusted


@functools.lru_cache(maxsize=4)
def notary_of(signing: Signing) -> NotebookNotary:
    return NotebookNotary(secret=signing.secret, algorithm=signing.algorithm)  # type: ignore[no-untyped-call]


class Hashing:
    """``hashlib.new(algorithm, data).hexdigest()``, started now, ready at ``result()``: for big
    data in a thread of its own, beside other work (hashlib lets go of the GIL while it hashes).
    Reading a 20 MB notebook hashes it while parsing it and building its base (read.py),
    rendering one hashes the file's bytes while encoding the document's merged state; ~10 ms of
    each.
    """

    _MIN_BYTES = 1 << 20  # below this, a thread costs more than it saves

    def __init__(self, algorithm: str, data: bytes) -> None:
        self._hash = hashlib.new(algorithm)
        self._thread: threading.Thread | None = None
        if len(data) < self._MIN_BYTES:
            self._hash.update(data)
        else:
            self._thread = threading.Thread(target=self._hash.update, args=(data,), daemon=True)
            self._thread.start()

    def result(self) -> str:
        if self._thread is not None:
            self._thread.join()
        return self._hash.hexdigest()
