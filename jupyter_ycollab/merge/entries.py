"""Three-way merge of one shared map's entries: a nested map per key, text per character
(text.py), any other value whole, the file's change applied only where ours left it alone.

Apart from notebook.py, which matches, moves, deletes and inserts whole cells: this merges what is
inside one cell (or the notebook's metadata) and knows nothing of cells or their order.
"""

from __future__ import annotations

from typing import Any

from pycrdt import Array, Map, Text

from ..codec.building import shared_output, shared_value
from .text import merge_into

MISSING: Any = object()


def merge_entries(ymap: Map[Any], held: Any, base: Any, ours: Any, theirs: Any) -> bool:
    """Three-way merge of a map's entries into ``ymap`` (holding ``held``); True on a conflict."""
    conflict = False
    for key in {**base, **theirs}:
        sides = (held.get(key), base.get(key, MISSING), ours.get(key, MISSING))
        conflict |= _merge_entry(ymap, key, *sides, theirs.get(key, MISSING))
    return conflict


def _merge_entry(ymap: Map[Any], key: str, held: Any, base: Any, ours: Any, theirs: Any) -> bool:
    current = ymap.get(key)
    if isinstance(current, Text) and all(isinstance(v, str) for v in (held, base, ours, theirs)):
        return merge_into(current, held, base, ours, theirs)
    if isinstance(current, Map) and all(isinstance(v, dict) for v in (held, base, ours, theirs)):
        return merge_entries(current, held, base, ours, theirs)
    if theirs in (base, ours):
        return False
    if ours != base:
        return True  # changed differently on both sides and cannot merge: ours wins
    if theirs is MISSING:
        del ymap[key]
    elif isinstance(current, Array) and isinstance(theirs, list):
        current.clear()  # keep the array the front end observes (outputs)
        current.extend([shared_output(item) for item in theirs])
    else:
        ymap[key] = shared_value(key, theirs)
    return False
