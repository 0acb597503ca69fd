"""The digest of file content: what tells whether a save would change the file, and what the
update log records of the content a save wrote (pure; defined here once, for every path).

A notebook's digest is a digest over its parts' digests (its top level, then each cell), so
that a save which changed one cell may reuse the others' (the fast path remembers them:
fastpath/nbcells.py); any other content's is that of its text or JSON. Keys that the contents
manager adds when it reads a file and drops when it writes one (a cell's ``trusted`` flag, the
top level's signature) say nothing about the file and are left out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

#: Top-level metadata that nbformat strips when it reads or writes a notebook.
_TRANSIENT_TOP = ("orig_nbformat", "orig_nbformat_minor", "signature")


def digest_of(content: Any) -> str:
    """A fingerprint of file content, to tell whether a save would change anything without
    keeping a second copy of a big notebook in memory."""
    if isinstance(content, dict) and isinstance(content.get("cells"), list):
        top = {key: value for key, value in content.items() if key != "cells"}
        cells = (sized_cell_digest(cell)[0] for cell in content["cells"])
        return notebook_digest(top_digest(top), cells)
    data = content.encode() if isinstance(content, str) else canonical_json(content)
    return hashlib.sha256(data).hexdigest()


def notebook_digest(top: bytes, cells: Iterable[bytes]) -> str:
    """A notebook's digest from its top level's digest and its cells', in order."""
    digest = hashlib.sha256(top)
    for cell in cells:
        digest.update(cell)
    return digest.hexdigest()


def top_digest(top: dict[str, Any]) -> bytes:
    """The digest of a notebook's top level (everything but its cells)."""
    metadata = top.get("metadata")
    if isinstance(metadata, dict) and any(key in metadata for key in _TRANSIENT_TOP):
        metadata = {k: v for k, v in metadata.items() if k not in _TRANSIENT_TOP}
        top = {**top, "metadata": metadata}
    return hashlib.sha256(canonical_json({**top, "cells": []})).digest()


def sized_cell_digest(cell: Any) -> tuple[bytes, int]:
    """The digest of one cell, its ``trusted`` flag aside, and the size of the JSON it digests
    (what a cache of cells weighs them by)."""
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    if isinstance(metadata, dict) and "trusted" in metadata:
        cell = {**cell, "metadata": {k: v for k, v in metadata.items() if k != "trusted"}}
    data = canonical_json(cell)
    return hashlib.sha256(data).digest(), len(data)


def canonical_json(value: Any) -> bytes:
    """Equal for equal values, whatever their keys' order (bytes as nbformat writes them)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=_ascii).encode()


def _ascii(value: Any) -> str:
    """Bytes as nbformat's writer takes them (already base64: an image's data)."""
    if isinstance(value, bytes):
        return value.decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
