"""Notebook cells as a save needs them (a digest, the text in the file, the bytes the signature
hashes), each made once and remembered for the next save (nbwrite.py puts them together).

Why remember: nbformat's writer and the signature are pure Python, 0.3-0.4 s for 10,000 cells,
paid again on every save although a save usually changes one cell. A remembered cell is found
by its id and taken when it equals the cell to write: comparing is a ``memcmp`` of its strings,
where serialising each cell to use as a key took ~1 ms per MB (a notebook of 20 images of 1 MB
paid ~25 ms for keys alone, and its cells did not fit the budget, so they were never taken).

Why lazily: a digest (does a save change the file?) needs only the cell's canonical JSON; its
text is made when a save writes it, and the bytes the signature hashes only for a notebook whose
code cells are all trusted. A base's digest, computed ahead of the first save, stays cheap.
"""

from __future__ import annotations

import functools
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

import nbformat
from nbformat import NotebookNode
from nbformat.sign import NotebookNotary, yield_everything
from nbformat.v4.nbjson import BytesEncoder
from nbformat.v4.rwbase import split_lines, strip_transient

from ..codec.digest import sized_cell_digest

JSON_OPTIONS: dict[str, Any] = {
    "cls": BytesEncoder,
    "indent": 1,
    "sort_keys": True,
    "separators": (",", ": "),
    "ensure_ascii": False,
}
_MEMORY_BYTES = 128 * 1024 * 1024


class WrittenCell:
    """One cell: its digest now, its text and signed bytes when first asked for."""

    __slots__ = ("_signed", "_text", "_trusted", "digest", "size", "source")

    def __init__(self, source: dict[str, Any]) -> None:
        self.source = source  # the cell as the document gave it: an equal cell is written alike
        self.digest, size = sized_cell_digest(source)  # the codec's digest, remembered
        self.size = 3 * size  # what it keeps alive, about: source, text, signed bytes
        self._text: bytes | None = None
        self._trusted: bool | None = None
        self._signed: bytes | None = None

    @property
    def text(self) -> bytes:
        """As the file holds it: UTF-8, indented as a cell of the notebook."""
        if self._text is None:
            node = nbformat.from_dict(self.source)  # type: ignore[no-untyped-call]
            alone = NotebookNode(metadata=NotebookNode(), cells=[node])  # type: ignore[no-untyped-call]
            strip_transient(split_lines(alone))  # type: ignore[no-untyped-call]
            text = json.dumps(node, **JSON_OPTIONS).replace("\n", "\n  ")  # two levels deeper
            self._text = text.encode()
        return self._text

    @property
    def trusted(self) -> bool:
        """What the notary's ``check_cells`` says of it."""
        if self._trusted is None:
            node = nbformat.from_dict(self.source)  # type: ignore[no-untyped-call]
            cells = NotebookNode(nbformat=4, cells=[node])  # type: ignore[no-untyped-call]
            self._trusted = bool(_checker().check_cells(cells))  # type: ignore[no-untyped-call]
        return self._trusted

    def signed(self) -> bytes:
        """What the signature hashes of it (after check_cells dropped a code cell's flag)."""
        if self._signed is None:
            node = nbformat.from_dict(self.source)  # type: ignore[no-untyped-call]
            if node.get("cell_type") == "code":
                node.get("metadata", {}).pop("trusted", None)
            self._signed = b"".join(yield_everything(node))  # type: ignore[no-untyped-call]
        return self._signed


class Remembered(Protocol):
    """What a memory keeps: the value it was made from, and about how many bytes it holds."""

    @property
    def source(self) -> Any: ...

    @property
    def size(self) -> int: ...


_T = TypeVar("_T", bound=Remembered)


class Memory(Generic[_T]):
    """Parts already written, by key, least recently used first, within a byte budget."""

    def __init__(self, budget: int) -> None:
        self._parts: OrderedDict[str, _T] = OrderedDict()
        self._size = 0
        self._budget = budget
        self._lock = threading.Lock()  # saves of small documents run in worker threads

    def recall(self, key: str, source: Any, make: Callable[[Any], _T], *, remember: bool) -> _T:
        """The part remembered under ``key`` for a value equal to ``source``, or ``make(source)``,
        remembered unless told not to (nothing may change a remembered source afterwards)."""
        with self._lock:
            known = self._parts.get(key)
            if known is not None and known.source == source:
                self._parts.move_to_end(key)
                return known
        made = make(source)
        if remember:
            self.put(key, made)
        return made

    def put(self, key: str, part: _T) -> None:
        with self._lock:
            old = self._parts.pop(key, None)
            if old is not None:
                self._size -= old.size
            self._parts[key] = part
            self._size += part.size
            while self._size > self._budget and self._parts:
                _, old = self._parts.popitem(last=False)
                self._size -= old.size


_memory: Memory[WrittenCell] = Memory(_MEMORY_BYTES)


def written_cell(cell: dict[str, Any], index: int, *, remember: bool) -> WrittenCell:
    """The remembered cell equal to ``cell``, or a new one (``Memory.recall``)."""
    key = cell.get("id")
    key = key if isinstance(key, str) else f"#{index}"  # before nbformat 4.5: by position
    return _memory.recall(key, cell, WrittenCell, remember=remember)


@functools.lru_cache(maxsize=1)
def _checker() -> NotebookNotary:
    """A notary for ``check_cells`` only, which depends on no secret and no database."""
    return NotebookNotary(secret=b"check_cells only", algorithm="sha256")  # type: ignore[no-untyped-call]
