"""The notebook half of the three-way merge: cells matched by id (pure; driven by threeway.py).

``replay`` runs on a fork of the base: it changes cells in place (fields, metadata per key,
source per character), deletes the cells the disk deleted and inserts the new ones, so that the
CRDT merges all of it with the live edits. ``repair`` then runs on a copy of the live document
with the replay applied, for what items cannot express: Yjs arrays have no move, so a cell the
disk moved is re-created at its place with its merged content; a cell our side re-created
(moved, re-typed) does not hold the base's items, so the disk's change to it is merged again
into the new map; a cell our side deleted and the disk changed comes back as the disk has it.
What is inside a cell (and the notebook's metadata) is merged entry by entry by entries.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from pycrdt import Array, Doc, Map

from ..codec.building import new_cell, notebook_meta, with_cell_id
from ..codec.content import normalise_cell, plain
from .cellids import adopt_base_ids
from .entries import merge_entries
from .sameitem import live_index


@dataclass
class _Cells:
    """One side's cells: ids in order (with any duplicates), the first cell and index per id."""

    ids: list[str] = field(default_factory=list)
    by_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    at: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, cells: list[dict[str, Any]]) -> _Cells:
        side = cls()
        for index, cell in enumerate(cells):
            normalise_cell(cell)
            _drop_trust(cell)
            cell_id = str(cell.get("id"))
            side.ids.append(cell_id)
            side.by_id.setdefault(cell_id, cell)
            side.at.setdefault(cell_id, index)
        return side


@dataclass
class Plan:
    """What the replay did and left to the repair; ``conflicts`` is what the caller reports."""

    base: _Cells
    ours: _Cells
    theirs: _Cells
    moved: set[str]  # cells the disk moved (ours did not)
    edited: list[str] = field(default_factory=list)  # changed on disk, re-created by ours
    deleted: list[str] = field(default_factory=list)  # deleted on the fork
    orphans: list[str] = field(default_factory=list)  # deleted by ours, changed on disk
    conflicts: list[str] = field(default_factory=list)

    @property
    def needs_repair(self) -> bool:
        return bool(self.moved or self.edited or self.deleted or self.orphans)

    def ordered_conflicts(self) -> list[str]:
        """Each conflict once, in the file's cell order, then the base's, then ours."""
        rank: dict[str, int] = {}
        for key in [*self.theirs.ids, *self.base.ids, *self.ours.ids]:
            rank.setdefault(key, len(rank))
        return sorted(set(self.conflicts), key=lambda key: rank.get(key, -1))


def replay(fork: Doc[Any], ours: Doc[Any], theirs: dict[str, Any], *, ids_kept: bool) -> Plan:
    """Replay the base-to-disk difference on ``fork`` (the base) as small operations.
    ``ids_kept``: whether the file keeps its cells' ids (cellids.py matches the new ones)."""
    base_meta, base = _read_doc(fork)
    our_meta, mine = _read_doc(ours)
    disk_cells = [_disk_cell(cell, index) for index, cell in enumerate(theirs.get("cells", []))]
    adopt_base_ids(disk_cells, base.ids, base.by_id, alike=not ids_kept)
    disk_meta, disk = notebook_meta(theirs), _Cells.of(disk_cells)
    disk_moved, our_moved = _moved(base.ids, disk.ids), _moved(base.ids, mine.ids)
    plan = Plan(base, mine, disk, moved=disk_moved - our_moved)
    # moved on both sides to different places: ours wins
    plan.conflicts.extend(i for i in disk_moved & our_moved if _after(i, mine) != _after(i, disk))
    if merge_entries(fork.get("meta", type=Map), base_meta, base_meta, our_meta, disk_meta):
        plan.conflicts.append("metadata")
    cells = fork.get("cells", type=Array)
    _edit_cells(cells, plan, ours.get("cells", type=Array))
    _delete_cells(cells, plan)
    _insert_cells(cells, plan, disk_moved)
    return plan


def _drop_trust(cell: dict[str, Any]) -> None:
    """Cells compare without ``trusted``: no file holds it; read, it says whether the file is
    signed, which a file changed elsewhere is not (that is no change to any of its cells)."""
    metadata = cell.get("metadata")
    if isinstance(metadata, dict) and "trusted" in metadata:
        cell["metadata"] = {key: value for key, value in metadata.items() if key != "trusted"}


def _read_doc(doc: Doc[Any]) -> tuple[dict[str, Any], _Cells]:
    return plain(doc.get("meta", type=Map)), _Cells.of(plain(doc.get("cells", type=Array)))


def _disk_cell(cell: dict[str, Any], index: int) -> dict[str, Any]:
    """A file's cell shaped as a load stores it, so that unchanged cells compare equal."""
    cell = dict(with_cell_id(cell, index))
    if isinstance(cell.get("source"), list):
        cell["source"] = "".join(cell["source"])
    cell.setdefault("metadata", {})
    if cell.get("cell_type") == "code":
        cell.setdefault("outputs", [])
    return cell


def _moved(before: list[str], after: list[str]) -> set[str]:
    """Ids in both lists that ``after`` put in another order (outside a longest matching)."""
    common = set(before) & set(after)
    old, new = [i for i in before if i in common], [i for i in after if i in common]
    if old == new:  # the usual case, at a fraction of the matcher's cost (10,000 cells: 60 ms)
        return set()
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    kept = {new[b + k] for _, b, size in matcher.get_matching_blocks() for k in range(size)}
    return common - kept


def _after(cell_id: str, side: _Cells) -> str | None:
    """The cell just before ``cell_id`` on one side."""
    index = side.at[cell_id]
    return side.ids[index - 1] if index else None


def _edit_cells(cells: Array[Any], plan: Plan, live: Array[Any]) -> None:
    """Merge the disk's changes into each cell in place; one whose item the live document no
    longer holds (our side re-created it) is left to ``repair``, which merges it again."""
    for cell_id, theirs in plan.theirs.by_id.items():
        base = plan.base.by_id.get(cell_id)
        if base is None or base == theirs:
            continue
        ours = plan.ours.by_id.get(cell_id)
        if ours is None:  # deleted here, changed on disk: the change wins, ``repair`` restores
            plan.orphans.append(cell_id)
            plan.conflicts.append(cell_id)
            continue
        index = plan.base.at[cell_id]
        if merge_entries(cells[index], base, base, ours, theirs):
            plan.conflicts.append(cell_id)
        if live_index(cells, index, live) is None:
            plan.edited.append(cell_id)


def _delete_cells(cells: Array[Any], plan: Plan) -> None:
    """Delete what the disk deleted, from the end; a cell we edited stays (the edit wins)."""
    for cell_id in reversed(plan.base.by_id):
        if cell_id in plan.theirs.by_id:
            continue
        ours = plan.ours.by_id.get(cell_id)
        if ours is not None and ours != plan.base.by_id[cell_id]:
            plan.conflicts.append(cell_id)
            continue
        del cells[plan.base.at[cell_id]]
        plan.deleted.append(cell_id)


def _insert_cells(cells: Array[Any], plan: Plan, disk_moved: set[str]) -> None:
    """Insert new cells after the disk's nearest earlier cell that keeps its place."""
    gone = {plan.base.at[cell_id] for cell_id in plan.deleted}
    present = [cell_id for n, cell_id in enumerate(plan.base.ids) if n not in gone]
    position = {cell_id: n for n, cell_id in reversed(list(enumerate(present)))}
    runs: list[tuple[int, list[dict[str, Any]]]] = [(0, [])]
    for cell_id, theirs in plan.theirs.by_id.items():
        if cell_id in plan.base.by_id:
            if cell_id not in disk_moved:
                runs.append((position[cell_id] + 1, []))
        elif cell_id in plan.ours.by_id:  # we added the same id: keep ours
            if plan.ours.by_id[cell_id] != theirs:
                plan.conflicts.append(cell_id)
        else:
            runs[-1][1].append(theirs)
    for index, run in reversed(runs):
        for offset, cell in enumerate(run):
            cells.insert(index + offset, new_cell(cell))


def repair(merged: Doc[Any], plan: Plan) -> None:
    """Finish on a copy of the live document holding the replay (see the module docstring)."""
    cells = merged.get("cells", type=Array)
    now = _Cells.of(plain(cells))
    for cell_id in plan.edited:
        held, ours = now.by_id.get(cell_id), plan.ours.by_id[cell_id]
        if held is not None and held == ours:  # the replay missed: ours re-created this cell
            base, theirs = plan.base.by_id[cell_id], plan.theirs.by_id[cell_id]
            merge_entries(cells[now.at[cell_id]], held, base, ours, theirs)
    copies = {now.at[cell_id] for cell_id in plan.deleted if cell_id in now.at}
    for index in sorted(copies, reverse=True):  # ours re-created them unchanged: delete them too
        del cells[index]
    ids = [cell_id for n, cell_id in enumerate(now.ids) if n not in copies]
    _move_and_restore(cells, ids, plan)


def _move_and_restore(cells: Array[Any], ids: list[str], plan: Plan) -> None:
    """Re-create moved cells (merged content) and orphans (the file's) where the file has them."""
    for cell_id in plan.theirs.by_id:
        if cell_id in plan.orphans:
            content = plan.theirs.by_id[cell_id]
        elif cell_id in plan.moved and cell_id in ids:
            index = ids.index(cell_id)
            del ids[index]
            if _place(cell_id, ids, plan.theirs.ids) == index:
                ids.insert(index, cell_id)  # already in place (a merge against a kept base)
                continue
            content = cells[index].to_py()
            del cells[index]
        else:
            continue
        target = _place(cell_id, ids, plan.theirs.ids)
        cells.insert(target, new_cell(content))
        ids.insert(target, cell_id)


def _place(cell_id: str, ids: list[str], order: list[str]) -> int:
    """Where ``cell_id`` goes in ``ids``: after the nearest cell that precedes it in ``order``."""
    present = set(ids)
    for earlier in reversed(order[: order.index(cell_id)]):
        if earlier in present:
            return ids.index(earlier) + 1
    return 0
