"""A notebook -> the bytes ``nbformat.write`` gives, the signature the contents manager's
``check_and_sign`` stores, and a digest of its content, put together from its cells' shares,
which are remembered from one save to the next (nbcells.py).

Why: a cell's text in the file depends only on the cell (nbformat indents it by a fixed two
levels), the signature is one HMAC over the cells' bytes in order, and the digest that tells
whether a save would change the file is made of the cells' digests, so a save serialises only
the cells that changed. Everything else (the notebook's metadata, its other keys) goes through
nbformat's own functions as before.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import nbformat
from nbformat import NotebookNode
from nbformat.sign import NotebookNotary, yield_everything
from nbformat.v4.rwbase import split_lines, strip_transient

from .nbcells import JSON_OPTIONS, canonical_json, written_cell

_CELLS_KEY = '{\n "cells": []'  # sorted keys put the cells first, indented by one space


class WrittenNotebook:
    """An nbformat 4 notebook as its file holds it: nbformat's bytes, cell by cell."""

    def __init__(self, content: dict[str, Any], *, remember: bool = True) -> None:
        """``content`` is not changed; its cells are remembered (and so kept: nothing may change
        them afterwards) unless told not to."""
        top = nbformat.from_dict({k: v for k, v in content.items() if k != "cells"})  # type: ignore[no-untyped-call]
        cells = content.get("cells", [])
        self.cells = [
            written_cell(cell, index, remember=remember) for index, cell in enumerate(cells)
        ]
        top.metadata.pop("signature", None)  # neither signed nor written (strip_transient)
        # What the signature hashes of everything but the cells, taken before strip_transient
        # as check_and_sign takes it; None stands for the cells.
        self._signed_top: list[bytes | None] = []
        for key in sorted([*top, "cells"]):
            self._signed_top.append(key.encode())
            if key == "cells":
                self._signed_top.append(None)
            else:
                self._signed_top.extend(yield_everything(top[key]))  # type: ignore[no-untyped-call]
        strip_transient(NotebookNode(metadata=top.metadata, cells=[]))  # type: ignore[no-untyped-call]
        self._head = json.dumps({**top, "cells": []}, **JSON_OPTIONS)
        self._top_digest = hashlib.sha256(canonical_json({**top, "cells": []})).digest()

    @property
    def trusted(self) -> bool:
        return all(cell.trusted for cell in self.cells)

    @property
    def digest(self) -> str:
        """Equal for equal content, transient keys aside (a ``trusted`` flag, a signature)."""
        digest = hashlib.sha256(self._top_digest)
        for cell in self.cells:
            digest.update(cell.digest)
        return digest.hexdigest()

    def data(self) -> bytes:
        """The file's bytes: ``nbformat.writes`` of the notebook, and a final newline."""
        if not self.cells:
            return (self._head + "\n").encode()
        assert self._head.startswith(_CELLS_KEY), "sorted keys put the cells first"
        rest = self._head[len(_CELLS_KEY) :]
        listed = b",\n  ".join(cell.text for cell in self.cells)
        return b"".join([b'{\n "cells": [\n  ', listed, f"\n ]{rest}\n".encode()])

    def signature(self, notary: NotebookNotary) -> str | None:
        """``compute_signature`` of the notebook when every code cell is trusted, else None."""
        if not self.trusted:
            return None
        digest = hmac.new(notary.secret, digestmod=notary.digestmod)
        for part in self._signed_top:
            if part is not None:
                digest.update(part)
                continue
            for cell in self.cells:
                digest.update(cell.signed())
        return digest.hexdigest()


def notebook_bytes(
    content: dict[str, Any], notary: NotebookNotary | None, *, remember: bool = True
) -> tuple[bytes, str | None, bool]:
    """The file's bytes, the signature to store (when every code cell is trusted), and whether
    every code cell is trusted."""
    if content.get("nbformat") != 4 or notary is None:
        return _whole(content, notary)
    written = WrittenNotebook(content, remember=remember)
    return written.data(), written.signature(notary), written.trusted


def _whole(
    content: dict[str, Any], notary: NotebookNotary | None
) -> tuple[bytes, str | None, bool]:
    """nbformat's own functions on the whole notebook (older formats, no notary)."""
    nb = nbformat.from_dict(content)  # type: ignore[no-untyped-call]
    signature, trusted = None, True
    if notary is not None:
        trusted = bool(notary.check_cells(nb))  # type: ignore[no-untyped-call]
        if trusted:
            signature = notary.compute_signature(nb)  # type: ignore[no-untyped-call]
    if nb.get("nbformat") == 4:  # nbformat's writer without its deep copy and validation
        text = json.dumps(strip_transient(split_lines(nb)), **JSON_OPTIONS)  # type: ignore[no-untyped-call]
    else:
        text = nbformat.writes(nb, version=nbformat.NO_CONVERT)  # type: ignore[no-untyped-call]
    return (text if text.endswith("\n") else text + "\n").encode("utf-8"), signature, trusted
