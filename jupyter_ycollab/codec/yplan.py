"""New shared types described as plain data, and two ways to write them into a ``Doc`` that make
the same items in the same order: pycrdt's public API, or straight through its Rust objects.

Why: pycrdt integrates every new shared type in Python (a transaction object, type checks and a
method lookup for each value). Building a 10,000-cell notebook took ~0.23 s that way and ~0.04 s
through the Rust objects, most of a cold open. Those objects are pycrdt's private layer, so the
direct writer runs only where they look as expected (``direct_writes``), and the tests check that
both writers make the same bytes: a load must build the same items whichever one ran.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pycrdt import Array, Doc, Map, Text


@dataclass(frozen=True, slots=True)
class NewText:
    text: str


@dataclass(frozen=True, slots=True)
class NewMap:
    entries: dict[str, Any]  # plain values, or New* for nested shared types


@dataclass(frozen=True, slots=True)
class NewArray:
    items: list[Any]


_RUST_METHODS = ("insert", "insert_map_prelim", "insert_array_prelim", "insert_text_prelim")


@functools.cache
def direct_writes() -> bool:
    """Whether this pycrdt exposes the Rust objects the direct writer uses (checked once, on a
    throwaway ``Doc``)."""
    doc: Doc[Any] = Doc()
    with doc.transaction() as txn:
        rust_txn, root = getattr(txn, "_txn", None), getattr(doc, "_doc", None)
        if rust_txn is None or root is None or not hasattr(root, "get_or_insert_map"):
            return False
        probe = root.get_or_insert_map(rust_txn, "probe")
    return all(hasattr(probe, name) for name in _RUST_METHODS)


def set_entries(doc: Doc[Any], root: str, entries: dict[str, Any], *, direct: bool) -> None:
    """``doc[root][key] = value`` for each entry, in order (call inside a transaction)."""
    if direct:
        rust_doc, txn = _rust(doc)
        _put_entries(txn, rust_doc.get_or_insert_map(txn, root), entries)
        return
    target = doc.get(root, type=Map)
    for key, value in entries.items():
        target[key] = prelim(value)


def insert_each_at_head(doc: Doc[Any], root: str, values: Iterable[Any], *, direct: bool) -> None:
    """``doc[root].insert(0, value)`` for each value, in order (call inside a transaction)."""
    if direct:
        rust_doc, txn = _rust(doc)
        target = rust_doc.get_or_insert_array(txn, root)
        for value in values:
            _put(txn, target, 0, value)
        return
    array = doc.get(root, type=Array)
    for value in values:
        array.insert(0, prelim(value))


def _rust(doc: Doc[Any]) -> tuple[Any, Any]:
    """The Rust document under ``doc`` and its current Rust transaction."""
    return doc._doc, doc.transaction()._txn


def prelim(value: Any) -> Any:
    """The pycrdt preliminary type of a plan value (plain values stay as they are)."""
    if isinstance(value, NewText):
        return Text(value.text)
    if isinstance(value, NewMap):
        return Map({key: prelim(item) for key, item in value.entries.items()})
    if isinstance(value, NewArray):
        return Array([prelim(item) for item in value.items])
    return value


# The direct writer calls, for each value, what pycrdt's ``_set`` and ``_init`` call: an insert
# of the plain value, or an insert of an empty shared type followed by its contents (an empty
# string is inserted too, as pycrdt does). Plain values, most of a notebook, take the short way.


def _put(txn: Any, target: Any, where: str | int, value: Any) -> None:
    kind = type(value)
    if kind is NewText:
        target.insert_text_prelim(txn, where).insert(txn, 0, value.text)
    elif kind is NewMap:
        _put_entries(txn, target.insert_map_prelim(txn, where), value.entries)
    elif kind is NewArray:
        array = target.insert_array_prelim(txn, where)
        for index, item in enumerate(value.items):
            _put(txn, array, index, item)
    else:
        target.insert(txn, where, value)


def _put_entries(txn: Any, target: Any, entries: dict[str, Any]) -> None:
    for key, value in entries.items():
        if type(value) in _PLANNED:
            _put(txn, target, key, value)
        else:
            target.insert(txn, key, value)


_PLANNED = frozenset((NewText, NewMap, NewArray))
