"""A notebook -> the bytes ``nbformat.write`` gives and the signature the contents manager's
``check_and_sign`` stores, remembering each cell's share of both.

Why remember: nbformat's writer is pure Python (``json.dumps`` with an indent, ``split_lines``)
and so is the signature (``yield_everything``): 0.3-0.4 s for 10,000 cells, paid again on every
save although a save usually changes one cell. A cell's text in the file depends only on the
cell (nbformat indents it by a fixed two levels), and the signature is one HMAC over the cells'
bytes in order; both are kept per cell, keyed by the cell's compact JSON. Everything else (the
notebook's metadata, the notebook's other keys, a cell nbformat cannot handle) goes through
nbformat's own functions as before.
"""

from __future__ import annotations

import hmac
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import nbformat
from nbformat import NotebookNode
from nbformat.sign import NotebookNotary, yield_everything
from nbformat.v4.nbjson import BytesEncoder
from nbformat.v4.rwbase import split_lines, strip_transient

_JSON_OPTIONS: dict[str, Any] = {
    "cls": BytesEncoder,
    "indent": 1,
    "sort_keys": True,
    "separators": (",", ": "),
    "ensure_ascii": False,
}
_CELLS_KEY = '\n "cells": []'  # a top-level key is the only one indented by one space
_MEMORY_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class _Cell:
    text: str  # as the file holds it, indented as a cell of the notebook
    signed: bytes  # what the signature hashes of it
    trusted: bool  # what the notary's check_cells says of it

    @property
    def size(self) -> int:
        return 2 * len(self.text) + len(self.signed)


class _Memory:
    """Cells already written, least recently used first, within a byte budget."""

    def __init__(self, budget: int) -> None:
        self._cells: OrderedDict[str, _Cell] = OrderedDict()
        self._size = 0
        self._budget = budget
        self._lock = threading.Lock()  # saves of small documents run in worker threads

    def get(self, key: str) -> _Cell | None:
        with self._lock:
            cell = self._cells.get(key)
            if cell is not None:
                self._cells.move_to_end(key)
            return cell

    def put(self, key: str, cell: _Cell) -> None:
        with self._lock:
            if key not in self._cells:
                self._cells[key] = cell
                self._size += len(key) + cell.size
            while self._size > self._budget and self._cells:
                old_key, old = self._cells.popitem(last=False)
                self._size -= len(old_key) + old.size


_memory = _Memory(_MEMORY_BYTES)


def notebook_bytes(
    content: dict[str, Any], notary: NotebookNotary | None, *, remember: bool = True
) -> tuple[bytes, str | None, bool]:
    """The file's bytes, the signature to store (when every code cell is trusted), and whether
    every code cell is trusted. ``content`` is not changed; its cells are remembered unless
    told not to (a big document rendered, unusually, in the server process)."""
    if content.get("nbformat") != 4 or notary is None:
        return _whole(content, notary)
    top = nbformat.from_dict({k: v for k, v in content.items() if k != "cells"})  # type: ignore[no-untyped-call]
    cells = [_cell(cell, notary, remember) for cell in content.get("cells", [])]
    trusted = all(cell.trusted for cell in cells)
    top.metadata.pop("signature", None)  # neither signed nor written (strip_transient)
    signature = _signature(top, cells, notary) if trusted else None
    strip_transient(NotebookNode(metadata=top.metadata, cells=[]))  # type: ignore[no-untyped-call]
    text = json.dumps({**top, "cells": []}, **_JSON_OPTIONS)
    if cells:
        assert text.startswith("{" + _CELLS_KEY), "sorted keys put the cells first"
        listed = "\n  " + ",\n  ".join(cell.text for cell in cells) + "\n "
        text = text.replace(_CELLS_KEY, f'\n "cells": [{listed}]', 1)
    return (text + "\n").encode("utf-8"), signature, trusted


def _cell(cell: dict[str, Any], notary: NotebookNotary, remember: bool) -> _Cell:
    key = json.dumps(cell, sort_keys=True, ensure_ascii=False)
    known = _memory.get(key)
    if known is not None:
        return known
    node = nbformat.from_dict(cell)  # type: ignore[no-untyped-call]
    # check_cells drops a code cell's transient ``trusted`` flag before the signature is taken.
    trusted = bool(notary.check_cells(NotebookNode(nbformat=4, cells=[node])))  # type: ignore[no-untyped-call]
    signed = b"".join(yield_everything(node))  # type: ignore[no-untyped-call]
    alone = NotebookNode(metadata=NotebookNode(), cells=[node])  # type: ignore[no-untyped-call]
    strip_transient(split_lines(alone))  # type: ignore[no-untyped-call]
    text = json.dumps(node, **_JSON_OPTIONS).replace("\n", "\n  ")  # two levels deeper
    written = _Cell(text, signed, trusted)
    if remember:
        _memory.put(key, written)
    return written


def _signature(top: dict[str, Any], cells: list[_Cell], notary: NotebookNotary) -> str:
    """``compute_signature``: one HMAC over ``yield_everything`` of the notebook, in its order."""
    digest = hmac.new(notary.secret, digestmod=notary.digestmod)
    for key in sorted([*top, "cells"]):
        digest.update(key.encode())
        if key == "cells":
            for cell in cells:
                digest.update(cell.signed)
        else:
            for part in yield_everything(top[key]):  # type: ignore[no-untyped-call]
                digest.update(part)
    return digest.hexdigest()


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
        text = json.dumps(strip_transient(split_lines(nb)), **_JSON_OPTIONS)  # type: ignore[no-untyped-call]
    else:
        text = nbformat.writes(nb, version=nbformat.NO_CONVERT)  # type: ignore[no-untyped-call]
    return (text if text.endswith("\n") else text + "\n").encode("utf-8"), signature, trusted
