"""Read a local notebook and build its room's base in one go, off the event loop: what the
contents manager's ``get`` does (nbformat's reader, the trust check), then ``build_base``.

Why: through the contents manager, a 10,000-cell notebook took ~0.6 s before the build could
start: nbformat's full schema validation (0.15 s, which only logs; the update guard checks every
edit against the same schema), the deep conversion, and the signature check on the event loop.
Here the same nbformat functions run, in the render process for big files, and the signature is
looked up in the notary's SQLite file read-only; the parent refreshes its ``last_seen`` as the
contents manager would. Anything unusual (not valid JSON, an old format or one written 4.0,
cells of nbformat 4.5 that repeat or lack an id, no signature file) returns None: the contents
manager's path handles it, recovery of a torn save included.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from nbformat import NotebookNode
from nbformat.v4.rwbase import _rejoin_mimebundle

from ..codec.building import build_base
from ..codec.content import ids_kept
from ..codec.kinds import DocumentKind
from .serialise import Hashing, Signing, notary_of


@dataclass(frozen=True)
class ReadJob:
    kind: DocumentKind
    os_path: str
    hash_algorithm: str
    signing: Signing
    signature_db: str  # the notary's SQLite file


@dataclass(frozen=True)
class NotebookRead:
    base: bytes  # the room's base, as build_base makes it from what ``get`` would return
    file_hash: str  # of the file's bytes, as the contents manager computes it
    signature: str | None  # when the notebook is trusted (its signature is in the database)


def read_notebook_file(job: ReadJob) -> NotebookRead | None:
    with open(job.os_path, "rb") as file:
        data = file.read()
    hashing = Hashing(job.hash_algorithm, data)  # beside the parse: hashlib lets go of the GIL
    try:
        nb = _notebook(json.loads(data.decode("utf-8")))
    except (ValueError, AttributeError, TypeError, RecursionError):  # not JSON, not a notebook,
        return None  # or nested deeper than Python's parser goes
    if nb is None:
        return None  # converted, repaired or refused by the contents manager's path
    notary = notary_of(job.signing)
    signature = notary.compute_signature(nb)  # type: ignore[no-untyped-call]
    trusted = _known(job.signature_db, signature, job.signing.algorithm)
    if trusted is None:
        return None
    notary.mark_cells(nb, trusted)  # type: ignore[no-untyped-call]
    base = build_base(job.kind, nb)
    return NotebookRead(base, hashing.result(), signature if trusted else None)


def _notebook(value: Any) -> NotebookNode | None:
    """What nbformat's v4 reader makes of a parsed file (``rejoin_lines``, ``strip_transient``),
    in plain dicts under a top-level ``NotebookNode``: ``from_dict`` copying every object into
    a ``NotebookNode`` takes 0.1 s for 10,000 cells, and ``build_base`` reads dicts. None for
    anything but a well-formed nbformat 4 notebook."""
    if not isinstance(value, dict) or value.get("nbformat") != 4:
        return None
    if type(value["nbformat"]) is not int or type(value.get("nbformat_minor", 0)) is not int:
        return None  # 4.0: nbformat's reader refuses a version that is not an integer
    cells, metadata = value.get("cells"), value.get("metadata")
    if not isinstance(cells, list) or not isinstance(metadata, dict):
        return None
    if not all(isinstance(cell, dict) and isinstance(cell.get("metadata"), dict) for cell in cells):
        return None
    if not ids_kept(value):
        return None  # nbformat's reader gives new ids to cells that repeat or lack one
    for key in ("orig_nbformat", "orig_nbformat_minor", "signature"):
        metadata.pop(key, None)
    for cell in cells:
        cell["metadata"].pop("trusted", None)
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
        for attachment in cell.get("attachments", {}).values():
            _rejoin_mimebundle(attachment)  # type: ignore[no-untyped-call]
        if cell.get("cell_type") == "code":
            for output in cell.get("outputs", []):
                kind = output.get("output_type", "")
                if kind in {"execute_result", "display_data"}:
                    _rejoin_mimebundle(output.get("data", {}))  # type: ignore[no-untyped-call]
                elif kind and isinstance(output.get("text", ""), list):
                    output["text"] = "".join(output["text"])
    return NotebookNode(value)  # type: ignore[no-untyped-call]


def _known(database: str, signature: str, algorithm: str) -> bool | None:
    """Whether the notary's database holds ``signature``; None when it cannot be read."""
    query = "SELECT id FROM nbsignatures WHERE algorithm = ? AND signature = ?"
    try:
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
            return db.execute(query, (algorithm, signature)).fetchone() is not None
    except sqlite3.Error:
        return None
