"""Which base cell a file's cell stands for, when the file did not keep its cell ids (pure;
for the notebook merge, notebook.py).

jupytext's contents manager reads a script (``.py``, ``.md``...) as a notebook whose cells get
new random ids at every read; so does nbformat's reader, for the cells of an ``.ipynb`` that
repeat an id or lack one (nbformat 4.5 asks one per cell). Matched by id, as the merge matches
cells, such a file looks like every cell deleted and inserted anew, and a cell being edited in
the room would come back twice (the room's edit kept, the file's version inserted). Here a
file's cell whose id the base never had takes the id of the base cell it stands for: one the
file no longer has, of the same type, with the same content, else (``alike``: a manager that
never keeps ids) in the same gap between unchanged cells and alike. Only ids new to the base
are replaced, and only by ids the file lost: where a file keeps ids, a new one with other
content is another cell.
"""

from __future__ import annotations

from difflib import SequenceMatcher
from typing import Any

from ..codec.building import FIRST_CELL

Cell = dict[str, Any]

#: How alike (difflib's ratio) a changed cell must be to one of several base cells it replaced.
ALIKE = 0.5


def adopt_base_ids(
    cells: list[Cell], base_ids: list[str], base_by_id: dict[str, Cell], *, alike: bool
) -> None:
    """Give ``cells`` (the file's, in order; changed in place) the base's ids where they stand
    for base cells; ``base_ids`` is the base's cell order, ``base_by_id`` its cells."""
    disk_ids = {str(cell.get("id")) for cell in cells}
    if disk_ids <= set(base_by_id):
        return
    free = {cell_id for cell_id in base_ids if cell_id not in disk_ids}
    if not free:  # only new cells: the usual case, at no matcher's cost
        return
    olds = [base_by_id[cell_id] for cell_id in base_ids]
    matcher = SequenceMatcher(None, [_key(c) for c in olds], [_key(c) for c in cells], False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pairs = list(zip(olds[i1:i2], cells[j1:j2], strict=True))
        elif tag == "replace" and alike:
            pairs = pair_changed(olds[i1:i2], cells[j1:j2])
        else:
            continue
        for old, cell in pairs:
            old_id, fresh = str(old.get("id")), str(cell.get("id")) not in base_by_id
            fresh = fresh and cell.get("id") != FIRST_CELL["id"]  # a file with no cells
            if fresh and old_id in free and cell.get("cell_type") == old.get("cell_type"):
                cell["id"] = old_id
                free.discard(old_id)


def pair_changed(olds: list[Cell], news: list[Cell]) -> list[tuple[Cell, Cell]]:
    """Base cells and the file's cells that replaced them, paired in order: one for one when
    one replaced one; else each new cell with the most alike old one after the last paired,
    if alike enough (a cell split in two keeps its id on the more alike half)."""
    if len(olds) == len(news) == 1:
        return [(olds[0], news[0])]
    pairs, start = [], 0
    for new in news:
        scores = [
            (SequenceMatcher(None, str(old.get("source")), str(new.get("source"))).ratio(), k)
            for k, old in enumerate(olds[start:], start)
        ]
        score, k = max(scores, default=(0.0, 0), key=lambda scored: scored[0])
        if score >= ALIKE:
            pairs.append((olds[k], new))
            start = k + 1
    return pairs


def _key(cell: Cell) -> tuple[Any, Any]:
    return cell.get("cell_type"), cell.get("source")
