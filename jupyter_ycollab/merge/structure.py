"""Three-way merge of a document whose class rooms do not know the shapes of (JupyterCAD's
models, chats, any class a package adds to the ``jupyter_ydoc`` group), root by root.

The file is laid out by the class itself, in a scratch ``Doc``; then what changed from the base
is applied to each root as the few CRDT operations it takes, so that what the file did not
change keeps its items, and with them the room's edits inside them (replacing the whole
document, as the class's ``set`` does, would drop those edits and recreate every item):

- a map: entry by entry (entries.py); where the room changed an entry too, its value is kept;
- an array: items matched (difflib) by their ``id`` or ``name`` entry, else by value; removed
  ones deleted, new ones inserted as the file has them, and an item the file changed in place,
  a map on both sides, merged entry by entry with the room's copy of it;
- a text: per character (text.py).
"""

from __future__ import annotations

import json
from difflib import SequenceMatcher
from typing import Any

from pycrdt import Array, Assoc, Doc, Map, StickyIndex, Text

from ..codec.kinds import DocumentKind, fill
from .entries import merge_entries
from .text import merge_into


def merge_roots(kind: DocumentKind, fork: Doc[Any], ours: Doc[Any], theirs: Any) -> list[str]:
    """Apply to ``fork`` (holding the base) what the content ``theirs`` changed, root by root,
    leaving what ``ours`` (the live ``Doc``) changed since; the roots both changed."""
    laid_out: Doc[Any] = Doc()
    fill(kind.wrap(laid_out), theirs)
    conflicts = []
    for name in sorted(set(laid_out.keys()) - {"state"}):  # the server's values: not the file's
        file_root = laid_out[name]
        root, live = fork.get(name, type=type(file_root)), ours.get(name, type=type(file_root))
        if _merge_root(root, live, file_root):
            conflicts.append(name)
    return conflicts


def _merge_root(root: Any, live: Any, file_root: Any) -> bool:
    """Merge one root; True on a conflict (both changed it, and the room's change was kept)."""
    if isinstance(root, Map):
        base = root.to_py() or {}
        return merge_entries(root, base, base, live.to_py() or {}, file_root.to_py() or {})
    if isinstance(root, Array):
        return _merge_items(root, live, file_root)
    if isinstance(root, Text):
        text = str(root)
        return merge_into(root, text, text, str(live), str(file_root))
    return bool(root.to_py() != file_root.to_py())  # a type we cannot merge: kept, and said


def _merge_items(array: Array[Any], live: Array[Any], file_array: Array[Any]) -> bool:
    """Turn ``array``'s items into ``file_array``'s with the fewest deletions and insertions;
    True when an item changed in place had a key the room changed too (the room's is kept)."""
    base_ids, file_ids = (
        [_identity(i) for i in side.to_py() or []] for side in (array, file_array)
    )
    matcher = SequenceMatcher(None, base_ids, file_ids, autojunk=False)
    conflict = False
    for tag, start, end, file_start, file_end in reversed(matcher.get_opcodes()):  # indexes hold
        if tag == "equal" or (tag == "replace" and end - start == file_end - file_start):
            pairs = zip(range(start, end), range(file_start, file_end), strict=True)
            for index, file_index in pairs:  # one for one: each merged in place
                conflict |= _merge_item(array, index, live, file_array[file_index])
            continue
        del array[start:end]
        for offset, file_index in enumerate(range(file_start, file_end)):
            array.insert(start + offset, _copied(file_array[file_index]))
    return conflict


def _merge_item(array: Array[Any], index: int, live: Array[Any], file_item: Any) -> bool:
    """Make ``array[index]`` the file's ``file_item``: a map on both sides merged entry by entry
    with the room's copy of it (True on a conflict), anything else replaced."""
    held, theirs = _plain(array[index]), _plain(file_item)
    if held == theirs:
        return False
    if isinstance(array[index], Map) and isinstance(theirs, dict):
        return merge_entries(array[index], held, held, _live_copy(array, index, live), theirs)
    del array[index]
    array.insert(index, _copied(file_item))
    return False


def _identity(item: Any) -> str:
    """What makes two items one: an object's ``id`` or ``name`` (chat messages have ids,
    JupyterCAD's objects names), so that one changed is merged, not replaced; else its value."""
    if isinstance(item, dict):
        for key in ("id", "name"):
            if isinstance(item.get(key), str):
                return f"{key}={item[key]}"
    return json.dumps(item, sort_keys=True, default=str)


def _plain(value: Any) -> Any:
    return value.to_py() if isinstance(value, (Map, Array, Text)) else value


def _live_copy(array: Array[Any], index: int, live: Array[Any]) -> Any:
    """What the live array holds in ``array[index]``'s item (the same CRDT item, found by a
    sticky index, which names it); the base's value if the room deleted it."""
    mark = array.sticky_index(index, Assoc.AFTER).encode()
    at = StickyIndex.decode(mark, live).get_index()  # the next item's place, if it is gone
    if at < len(live) and live.sticky_index(at, Assoc.AFTER).encode() == mark:
        return live[at].to_py()
    return array[index].to_py()


def _copied(value: Any) -> Any:
    """A new value shaped as ``value`` (shared maps, arrays and texts stay shared)."""
    if isinstance(value, Map):
        return Map({key: _copied(item) for key, item in value.items()})
    if isinstance(value, Array):
        return Array([_copied(item) for item in value])
    if isinstance(value, Text):
        return Text(str(value))
    return value
