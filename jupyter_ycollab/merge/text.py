"""Small text differences, applied to a pycrdt ``Text`` as character operations (pure).

A difference is a list of edits ``(start, end, inserted)`` in character offsets of the old
string, sorted and separated by unchanged text. Lines are compared first, then characters inside
changed blocks of lines, so a megabyte file with a few changes stays fast; big or mostly
rewritten blocks are replaced whole, which is still correct, only coarser.
"""

from __future__ import annotations

from difflib import SequenceMatcher
from itertools import accumulate
from typing import Any

from pycrdt import Doc, Text

Edit = tuple[int, int, str]

#: Blocks of changed lines longer than this (in characters) are not compared per character:
#: the character matcher is quadratic in the worst case.
CHAR_DIFF_LIMIT = 4000


def diff(old: str, new: str) -> list[Edit]:
    """The edits that turn ``old`` into ``new``."""
    if old == new:
        return []
    head = _common_prefix(old, new)
    tail = _common_prefix(old[head:][::-1], new[head:][::-1])
    old_lines = old[head : len(old) - tail].splitlines(keepends=True)
    new_lines = new[head : len(new) - tail].splitlines(keepends=True)
    old_at = list(accumulate(map(len, old_lines), initial=head))  # where each line starts
    edits: list[Edit] = []
    matcher = SequenceMatcher(None, old_lines, new_lines)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        before, after = "".join(old_lines[i1:i2]), "".join(new_lines[j1:j2])
        edits.extend(_block_edits(old_at[i1], before, after))
    return edits


def _block_edits(start: int, before: str, after: str) -> list[Edit]:
    """Character edits inside one changed block of lines, or one edit for a big block."""
    if not before or not after or max(len(before), len(after)) > CHAR_DIFF_LIMIT:
        return [(start, start + len(before), after)]
    matcher = SequenceMatcher(None, before, after, autojunk=False)
    kept = sum(size for _, _, size in matcher.get_matching_blocks())
    if 2 * kept < len(before):  # mostly rewritten: one edit reads better and applies faster
        return [(start, start + len(before), after)]
    return [
        (start + i1, start + i2, after[j1:j2])
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def _common_prefix(a: str, b: str) -> int:
    """Length of the common prefix, by bisection on slices (C-speed compares, no char loop)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        mid = (low + high + 1) // 2
        if a[low:mid] == b[low:mid]:
            low = mid
        else:
            high = mid - 1
    return low


def apply(text: Text, old: str, edits: list[Edit]) -> None:
    """Apply ``edits`` of ``old`` (what ``text`` holds) to ``text``.

    pycrdt counts ``Text`` positions in UTF-8 bytes, so character offsets are converted; the edits
    run from the end so that earlier offsets stay valid.
    """
    byte_edits: list[tuple[int, int, str]] = []
    char_at = byte_at = 0
    for start, end, inserted in edits:
        byte_at += len(old[char_at:start].encode())
        byte_end = byte_at + len(old[start:end].encode())
        byte_edits.append((byte_at, byte_end, inserted))
        char_at, byte_at = end, byte_end
    for start, end, inserted in reversed(byte_edits):
        if end > start:
            del text[start:end]
        if inserted:
            text.insert(start, inserted)


def clash(ours: list[Edit], theirs: list[Edit]) -> bool:
    """Whether two differences of one text touch the same span, so their merge is a guess.

    That is: ranges that overlap, an insertion strictly inside a range the other side replaced,
    or insertions by both sides at one place (the CRDT keeps both, in an order of its choosing).
    Pure deletions that only meet at an end are independent.
    """
    i = j = 0
    while i < len(ours) and j < len(theirs):
        if _edits_clash(ours[i], theirs[j]):
            return True
        if (ours[i][1], ours[i][0]) <= (theirs[j][1], theirs[j][0]):
            i += 1
        else:
            j += 1
    return False


def _edits_clash(a: Edit, b: Edit) -> bool:
    low, high = max(a[0], b[0]), min(a[1], b[1])
    if low != high:
        return low < high
    return bool(a[2] and b[2]) or a[0] < low < a[1] or b[0] < low < b[1]


def their_own_edits(ours: list[Edit], theirs: list[Edit]) -> list[Edit]:
    """Their edits minus ours (both of the base): a change made on both sides is applied once.

    (The CRDT would otherwise keep both copies of the same insertion, e.g. when the file was
    restored from the room's own log.)
    """
    ours_made = set(ours)
    return [edit for edit in theirs if edit not in ours_made]


def merge_strings(base: str, ours: list[Edit], theirs: list[Edit]) -> str:
    """Three-way merge of the string ``base`` and both sides' edits of it, as a live merge does.

    Used where one side no longer holds the base's items (a cell our side re-created).
    """
    start: Doc[Any] = Doc(client_id=1)
    start.get("t", type=Text).insert(0, base)
    base_update = start.get_update()
    sides: list[Doc[Any]] = []
    for client_id, edits in ((2, ours), (3, theirs)):
        side: Doc[Any] = Doc(client_id=client_id)
        side.apply_update(base_update)
        apply(side.get("t", type=Text), base, edits)
        sides.append(side)
    sides[0].apply_update(sides[1].get_update(sides[0].get_state()))
    return str(sides[0].get("t", type=Text))


def merge_into(text: Text, held: str, base: str, ours: str, theirs: str) -> bool:
    """Bring ``text`` (holding ``held``) to the merge of ``theirs`` into ``ours``; True on a clash.

    On a fork of the base ``held`` is the base and the disk's edits are replayed as they are, so
    the CRDT merges them with ours. A text that holds ours without the base's items (a cell our
    side re-created) gets the merge computed by ``merge_strings``, written as small edits.
    """
    our_edits = diff(base, ours)
    their_edits = their_own_edits(our_edits, diff(base, theirs))
    if not their_edits:
        return False
    if held == base:
        apply(text, held, their_edits)
    else:
        apply(text, held, diff(held, merge_strings(base, our_edits, their_edits)))
    return clash(our_edits, their_edits)
