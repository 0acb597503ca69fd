"""Three-way merge of a document whose class rooms do not know the shapes of (JupyterCAD's
models, chats, any class a package adds to the ``jupyter_ydoc`` group), root by root.

The file is laid out by the class itself, in a scratch ``Doc``; then what changed from the base
is applied to each root as the few CRDT operations it takes, so that what the file did not
change keeps its items, and with them the room's edits inside them (replacing the whole
document, as the class's ``set`` does, would drop those edits and recreate every item):

- a map: entry by entry (entries.py); where the room changed an entry too, its value is kept;
- an array: items matched (difflib) by their ``id`` or ``name`` entry, else by value; removed
  ones deleted unless the room changed them (kept, as a notebook's cells are: a conflict), new
  ones inserted as the file has them, and an item the file changed in place, a map on both
  sides, merged entry by entry with the room's copy of it (not one of another ``id`` or
  ``name`` put in its place: that is another object, it takes nothing of the old one);
- a text: per character (text.py).

Yjs arrays have no move, so an object the file moved is deleted and its file's copy inserted
at its new place: what the room changed inside the old copy would go with it. ``Merge.redo``
makes those changes again in the new copy, after the next base is taken (which holds the
file's copy as the file has it, so that the next merge still tells the room's changes apart).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from pycrdt import Array, Doc, Map, Text

from ..codec.kinds import DocumentKind, fill
from .entries import MISSING, merge_entries
from .sameitem import live_index
from .text import merge_into

Opcode = tuple[str, int, int, int, int]  # difflib's: what, base start and end, file start and end


#: Per object the file moved, by its identity (``_identity``): its base value and the room's.
Moved = dict[str, tuple[Any, Any]]


@dataclass
class Merge:
    """The roots both sides changed (the room's change was kept), and the objects moved."""

    conflicts: list[str] = field(default_factory=list)
    moved: list[tuple[str, Array[Any], Moved]] = field(default_factory=list)

    def redo(self) -> None:
        """Make again in each moved object's new copy what the room changed in the old one;
        one the room deleted goes."""
        for root, array, moved in self.moved:
            changed = {identity: sides for identity, sides in moved.items() if sides[1] != sides[0]}
            if not changed:
                continue
            places = {id_: at for at, id_ in enumerate(_identities(array.to_py() or []))}
            for identity in sorted(changed, key=places.__getitem__, reverse=True):  # from the end
                (base, ours), copy = changed[identity], array[places[identity]]
                if ours is MISSING:
                    del array[places[identity]]
                elif isinstance(copy, Map) and isinstance(ours, dict):
                    clash = _redo_entries(copy, base, ours, copy.to_py())
                    if clash and root not in self.conflicts:
                        self.conflicts.append(root)


def merge_roots(kind: DocumentKind, fork: Doc[Any], ours: Doc[Any], theirs: Any) -> Merge:
    """Apply to ``fork`` (holding the base) what the content ``theirs`` changed, root by root,
    leaving what ``ours`` (the live ``Doc``) changed since."""
    laid_out: Doc[Any] = Doc()
    fill(kind.wrap(laid_out), theirs)
    merge = Merge()
    for name in sorted(set(laid_out.keys()) - {"state"}):  # the server's values: not the file's
        file_root = laid_out[name]
        root, live = fork.get(name, type=type(file_root)), ours.get(name, type=type(file_root))
        if isinstance(root, Array):
            conflict, moved = _merge_items(root, live, file_root)
            merge.moved.append((name, root, moved))
        else:
            conflict = _merge_root(root, live, file_root)
        if conflict:
            merge.conflicts.append(name)
    return merge


def _merge_root(root: Any, live: Any, file_root: Any) -> bool:
    """Merge one root but an array; True on a conflict (both changed it, the room's is kept)."""
    if isinstance(root, Map):
        base = root.to_py() or {}
        return merge_entries(root, base, base, live.to_py() or {}, file_root.to_py() or {})
    if isinstance(root, Text):
        text = str(root)
        return merge_into(root, text, text, str(live), str(file_root))
    return bool(root.to_py() != file_root.to_py())  # a type we cannot merge: kept, and said


def _merge_items(array: Array[Any], live: Array[Any], file_array: Array[Any]) -> tuple[bool, Moved]:
    """Turn ``array``'s items into ``file_array``'s with the fewest deletions and insertions;
    True when the room changed what the file changed too (the room's is kept): a key of an
    item changed in place, or an item the file removed (kept, as a notebook's cells are)."""
    base_items, file_items = array.to_py() or [], file_array.to_py() or []
    base_ids, file_ids = _identities(base_items), _identities(file_items)
    opcodes = SequenceMatcher(None, base_ids, file_ids, autojunk=False).get_opcodes()
    replaced: list[Opcode] = [op for op in opcodes if not _in_place(op, base_ids, file_ids)]
    moved = {
        base_ids[index]: (base_items[index], _live_copy(array, index, live))
        for index in _moved(base_ids, file_ids, replaced)
    }
    conflict = False
    for opcode in reversed(opcodes):  # indexes hold
        _, start, end, file_start, file_end = opcode
        if opcode not in replaced:
            pairs = zip(range(start, end), range(file_start, file_end), strict=True)
            for index, file_index in pairs:
                if base_items[index] != file_items[file_index]:
                    conflict |= _merge_item(array, index, live, file_array[file_index])
            continue
        kept = {  # the room changed them: kept, as a notebook's cells are
            index
            for index in range(start, end)
            if base_ids[index] not in moved
            and _live_copy(array, index, live) not in (MISSING, base_items[index])
        }
        if kept:
            for index in reversed(range(start, end)):
                if index not in kept:
                    del array[index]
        else:
            del array[start:end]  # the usual case, in one deletion
        conflict |= bool(kept)
        for offset, file_index in enumerate(range(file_start, file_end)):
            array.insert(start + len(kept) + offset, _copied(file_array[file_index]))
    return conflict, moved


def _in_place(opcode: Opcode, base_ids: list[str], file_ids: list[str]) -> bool:
    """Whether the items of ``opcode`` (difflib's) are merged one for one, each in its place:
    one object on both sides, or as many values (no ``id`` or ``name``) changed in place."""
    tag, start, end, file_start, file_end = opcode
    if tag != "replace" or end - start != file_end - file_start:
        return tag == "equal"
    named = ("id=", "name=")  # another name is another object: it takes nothing of the old
    return not any(i.startswith(named) for i in base_ids[start:end] + file_ids[file_start:file_end])


def _moved(base_ids: list[str], file_ids: list[str], replaced: list[Opcode]) -> list[int]:
    """Where the base has the objects, one of their identity on each side, that the file
    deletes at one place and inserts at another."""
    single = {i for i, n in Counter(base_ids + file_ids).items() if n == 2}
    inserted = {file_ids[at] for _, _, _, start, end in replaced for at in range(start, end)}
    removed = (index for _, start, end, _, _ in replaced for index in range(start, end))
    return [index for index in removed if base_ids[index] in single and base_ids[index] in inserted]


def _merge_item(array: Array[Any], index: int, live: Array[Any], file_item: Any) -> bool:
    """Make ``array[index]`` the file's ``file_item``, which differs: a map on both sides merged
    entry by entry with the room's copy of it (True on a conflict), anything else replaced."""
    held, theirs = _plain(array[index]), _plain(file_item)
    if isinstance(array[index], Map) and isinstance(theirs, dict):
        ours = _live_copy(array, index, live)
        return merge_entries(array[index], held, held, held if ours is MISSING else ours, theirs)
    del array[index]
    array.insert(index, _copied(file_item))
    return False


def _identities(items: list[Any]) -> list[str]:
    return [_identity(item) for item in items]


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
    """What the live array holds in ``array[index]``'s item; ``MISSING`` if the room deleted
    it (sameitem.py)."""
    at = live_index(array, index, live)
    return MISSING if at is None else _plain(live[at])


def _redo_entries(ymap: Map[Any], base: Any, ours: Any, theirs: Any) -> bool:
    """Bring ``ymap``, holding ``theirs``, to the merge of ``ours`` into it: each entry the room
    changed from ``base`` takes the room's value (a text merged per character, a map entry by
    entry); True where the file changed it too."""
    conflict = False
    for key in {**base, **ours}:
        was, mine, held = (side.get(key, MISSING) for side in (base, ours, theirs))
        if mine in (was, held):
            continue
        current = ymap.get(key)
        if isinstance(current, Map) and all(isinstance(v, dict) for v in (was, mine, held)):
            conflict |= _redo_entries(current, was, mine, held)
        elif isinstance(current, Text) and all(isinstance(v, str) for v in (was, mine, held)):
            conflict |= merge_into(current, held, was, held, mine)  # the room's side as theirs
        else:
            conflict |= held != was
            if mine is MISSING:
                del ymap[key]
            else:
                ymap[key] = mine
    return conflict


def _copied(value: Any) -> Any:
    """A new value shaped as ``value`` (shared maps, arrays and texts stay shared)."""
    if isinstance(value, Map):
        return Map({key: _copied(item) for key, item in value.items()})
    if isinstance(value, Array):
        return Array([_copied(item) for item in value])
    if isinstance(value, Text):
        return Text(str(value))
    return value
