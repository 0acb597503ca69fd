"""A notebook -> the bytes ``nbformat.write`` gives, the signature the contents manager's
``check_and_sign`` stores, and a digest of its content, put together from its cells' shares,
which are remembered from one save to the next (nbcells.py).

Why: a cell's text in the file depends only on the cell (nbformat indents it by a fixed two
levels), the signature is one HMAC over the cells' bytes in order, and the digest that tells
whether a save would change the file is made of the cells' digests, so a save serialises only
the cells that changed (the digest is the codec's, codec/digest.py: only its parts are
remembered here). Everything else (the notebook's metadata, its other keys) goes through
nbformat's own functions as before, and is remembered the same way: it almost never changes
between saves, and writing it (nbformat's indented JSON, which takes json's pure-Python encoder)
cost a small notebook's save more than its one changed cell.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

import nbformat
from nbformat import NotebookNode
from nbformat.sign import NotebookNotary, yield_everything
from nbformat.v4.rwbase import split_lines, strip_transient

from ..codec.digest import notebook_digest, top_digest
from .nbcells import JSON_OPTIONS, Memory, written_cell

_CELLS_KEY = '{\n "cells": []'  # sorted keys put the cells first, indented by one space
_TOPS_BYTES = 16 * 1024 * 1024


class WrittenTop:
    """A notebook's top level (all but its cells) as a save needs it: the file's text around
    the cells, what the signature hashes of it, and its digest."""

    __slots__ = ("digest", "head", "signed_after", "signed_before", "size", "source")

    def __init__(self, source: dict[str, Any]) -> None:
        self.source = source  # the top level as the document gave it: an equal one is alike
        top = nbformat.from_dict(source)  # type: ignore[no-untyped-call]
        top.metadata.pop("signature", None)  # neither signed nor written (strip_transient)
        # What the signature hashes of everything but the cells, before and after them, taken
        # before strip_transient as check_and_sign takes it (joined: one update each).
        parts: tuple[list[bytes], list[bytes]] = ([], [])
        for key in sorted([*top, "cells"]):
            part = parts[key > "cells"]
            part.append(key.encode())
            if key != "cells":
                part.extend(yield_everything(top[key]))  # type: ignore[no-untyped-call]
        self.signed_before, self.signed_after = (b"".join(part) for part in parts)
        strip_transient(NotebookNode(metadata=top.metadata, cells=[]))  # type: ignore[no-untyped-call]
        self.head = json.dumps({**top, "cells": []}, **JSON_OPTIONS)
        self.digest = top_digest(source)  # the codec's, remembered
        self.size = 3 * len(self.head)  # what it keeps alive, about: source, head, signed bytes


#: Top levels written, by the id of their notebook's first cell (a notebook has no id of its
#: own): notebooks open in different rooms have different cell ids, copies of one notebook
#: share them and mostly their top level too; a wrong guess costs what no memory costs.
_tops: Memory[WrittenTop] = Memory(_TOPS_BYTES)


def written_top(top: dict[str, Any], cells: list[Any], *, remember: bool) -> WrittenTop:
    """The remembered top level equal to ``top``, or a new one (``Memory.recall``)."""
    first = cells[0] if cells else None
    key = first.get("id") if isinstance(first, dict) else None
    key = key if isinstance(key, str) else ""
    return _tops.recall(key, top, WrittenTop, remember=remember)


class WrittenNotebook:
    """An nbformat 4 notebook as its file holds it: nbformat's bytes, cell by cell."""

    def __init__(self, content: dict[str, Any], *, remember: bool = True) -> None:
        """``content`` is not changed; its cells and top level are remembered (and so kept:
        nothing may change them afterwards) unless told not to."""
        cells = content.get("cells", [])
        top = {key: value for key, value in content.items() if key != "cells"}
        self._top = written_top(top, cells, remember=remember)
        self.cells = [
            written_cell(cell, index, remember=remember) for index, cell in enumerate(cells)
        ]

    @property
    def trusted(self) -> bool:
        return all(cell.trusted for cell in self.cells)

    @property
    def digest(self) -> str:
        """The codec's ``digest_of`` the notebook, from its parts' remembered digests."""
        return notebook_digest(self._top.digest, (cell.digest for cell in self.cells))

    def data(self) -> bytes:
        """The file's bytes: ``nbformat.writes`` of the notebook, and a final newline."""
        if not self.cells:
            return (self._top.head + "\n").encode()
        assert self._top.head.startswith(_CELLS_KEY), "sorted keys put the cells first"
        rest = self._top.head[len(_CELLS_KEY) :]
        listed = b",\n  ".join(cell.text for cell in self.cells)
        return b"".join([b'{\n "cells": [\n  ', listed, f"\n ]{rest}\n".encode()])

    def signature(self, notary: NotebookNotary) -> str | None:
        """``compute_signature`` of the notebook when every code cell is trusted, else None."""
        if not self.trusted:
            return None
        digest = hmac.new(notary.secret, self._top.signed_before, notary.digestmod)
        for cell in self.cells:
            digest.update(cell.signed())
        digest.update(self._top.signed_after)
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
