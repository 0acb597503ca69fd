"""Yjs updates as values: the two empty ones, and a document rebuilt from a list of updates.

Rebuilding a ``Doc`` from updates is how every copy is made (a fork, a timeline, a save's render,
the command line's reading of a log, an interrupted save found after a crash): one helper, so that
a copy is always a fresh ``Doc`` with a random client id, filled update by update in order.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pycrdt import Doc

#: The update of an empty transaction (and a peer's answer when it has nothing new): no structs,
#: an empty delete set.
EMPTY_UPDATE = b"\x00\x00"
#: The state vector of an empty document.
EMPTY_STATE = b"\x00"


def refused_by_pycrdt(error: BaseException) -> bool:
    """Whether ``error`` is pycrdt refusing bytes a peer sent: a ``ValueError`` or
    ``RuntimeError``, or a panic of its Rust core, which a few malformed updates still cause
    (tests/test_fuzz.py found one). pyo3 raises a panic as ``PanicException``, a
    ``BaseException`` that no module exports by name; the ``Doc`` stays usable after it."""
    return isinstance(error, ValueError | RuntimeError) or type(error).__name__ == "PanicException"


def replayed(updates: Iterable[bytes]) -> Doc[Any]:
    """A fresh ``Doc`` holding ``updates``, applied in order."""
    doc: Doc[Any] = Doc()
    for update in updates:
        doc.apply_update(update)
    return doc


def merged_update(updates: Iterable[bytes]) -> bytes:
    """One update holding all of ``updates`` (a full state when they start from empty)."""
    return replayed(updates).get_update()


def copy_of(doc: Doc[Any]) -> Doc[Any]:
    """A fresh ``Doc`` holding what ``doc`` holds now (a fork, a private copy to edit)."""
    return replayed([doc.get_update()])
