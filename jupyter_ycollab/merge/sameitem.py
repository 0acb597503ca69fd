"""Where the live document holds one item of the base: the same CRDT item, not an equal value.

A merge changes a fork of the base (threeway.py); its changes reach an item of the live
document only if that item is the base's own. One the room re-created (a cell moved or
re-typed, a chat message moved) holds the same value in a new item, which the fork's changes
never reach. A sticky index names the item it sits on, so it tells the two apart.
"""

from __future__ import annotations

from typing import Any

from pycrdt import Array, Assoc, StickyIndex


def live_index(array: Array[Any], index: int, live: Array[Any]) -> int | None:
    """The place in ``live`` of ``array[index]``'s own item, ``array`` being the base (or a
    fork of it) and ``live`` the same root of the live document; None if the room deleted it."""
    mark = array.sticky_index(index, Assoc.AFTER).encode()
    at: int = StickyIndex.decode(mark, live).get_index()  # the next item's place, if gone
    if at < len(live) and live.sticky_index(at, Assoc.AFTER).encode() == mark:
        return at
    return None
