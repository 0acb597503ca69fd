"""Three-way merge of a file changed outside Jupyter into its live room (pure).

base = the room's ``Doc`` at the last load or save, kept as an update; theirs = the file now;
ours = the live ``Doc``. The base-to-theirs difference is replayed as small CRDT operations on a
fork of the base. The fork shares the base's items with the live document's history, so Yjs
merges the two as concurrent edits: both sides' insertions are kept, text typed inside a span
the other side deleted survives, nothing typed is lost.

Values that cannot be merged (a map entry, a cell's outputs, a blob) changed differently on both
sides keep ours, the people typing now, and are reported as conflicts, as are text edits that
touch the same span. Notebooks take a second pass on a copy of the live document (see
``notebook.py``). Text goes through ``text.py``, the classes of other packages (JupyterCAD's
models, chats) through ``structure.py``. ``carried_over`` moves edits between two copies of one
file with no history in common, by the same merge.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from jupyter_ydoc import YBlob, YNotebook, YUnicode
from pycrdt import Doc, Map, Text, TransactionEvent, merge_updates

from ..codec.building import loaded_cells
from ..codec.content import read_content
from ..codec.kinds import DocumentKind
from ..codec.updates import EMPTY_UPDATE, merged_update, replayed
from . import notebook
from .entries import merge_entries
from .structure import merge_roots
from .text import merge_into


@dataclass(frozen=True)
class MergeResult:
    """The update to apply to the live ``Doc``, and where both sides changed the same thing.

    ``conflicts`` names cell ids for notebooks ("metadata" for the notebook's own metadata) and
    "source" for text and blobs. ``base_update`` is the base for the next merge until the next
    save: the base with the file's changes replayed, which the live ``Doc`` descends from once
    ``update`` is applied. It holds the file's content except where ours was kept (conflicts,
    cells we edited and the file deleted, cells the file moved); a later merge sees those as
    differences again and resolves them the same way, so they are reported again.
    """

    update: bytes
    conflicts: list[str]
    base_update: bytes


def three_way_merge(
    kind: DocumentKind, base_update: bytes, ours: Doc[Any], theirs: Any, *, ids_kept: bool = True
) -> MergeResult:
    """Merge ``theirs`` (content as the contents manager returns it) into the live ``ours``.

    ``base_update`` must be a state the live ``Doc`` descends from. Text must already have LF
    line endings (``content.split_newlines``). Work happens on copies: ``ours`` is only read,
    and the update is ``EMPTY_UPDATE`` when the file equals the base. ``ids_kept`` False: the
    notebook's cell ids are not its file's (a jupytext script's are new at each read), so a
    cell with an id new to the base may be a base cell (cellids.py).
    """
    fork = replayed([base_update])  # a random client id: its items never collide with ours
    if kind.ydoc_class is YNotebook:
        return _merge_notebook(fork, ours, theirs, ids_kept)
    if kind.ydoc_class is not YBlob and not issubclass(kind.ydoc_class, YUnicode):
        return _merge_structure(kind, fork, ours, theirs)  # a class whose shapes we do not know
    updates: list[bytes] = []
    with _recorded(fork, updates):
        if kind.ydoc_class is YBlob:  # one entry, ``bytes``: merged whole (entries.py)
            source, mine = fork.get("source", type=Map), ours.get("source", type=Map)
            base, file = {"bytes": source.get("bytes")}, base64.b64decode(theirs or "")
            clash = merge_entries(source, base, base, {"bytes": mine.get("bytes")}, {"bytes": file})
        else:
            text, our_text = fork.get("source", type=Text), str(ours.get("source", type=Text))
            held = str(text)
            clash = merge_into(text, held, held, our_text, theirs or "")
    return MergeResult(_combined(updates), ["source"] if clash else [], fork.get_update())


def merged_into_copy(
    kind: DocumentKind, base_update: bytes, ours: bytes, theirs: Any, ids_kept: bool
) -> MergeResult:
    """``three_way_merge`` against a copy of the live ``Doc`` (its state ``ours``), which a
    thread may read while the loop goes on changing the room's own."""
    return three_way_merge(kind, base_update, replayed([ours]), theirs, ids_kept=ids_kept)


def carried_over(
    kind: DocumentKind,
    base_update: bytes,
    ours: Doc[Any],
    target: Doc[Any],
    *,
    ids_kept: bool,
    carried: bytes | None = None,
) -> bytes:
    """The update, in ``target``'s history, that brings into it what ``ours`` changed since
    ``base_update``: for two copies of one file that share no CRDT history (another server
    loaded the file while Redis came back empty: cluster/reconcile.py).

    ``target`` may have changed since the base too, and the base is in our history only. So
    ``target``'s content is merged into a copy of ours first, as an outside change; then the
    merged content is replayed on ``target`` as the difference from its own state. Both are
    only read; ``EMPTY_UPDATE`` when ``target`` already holds everything ours changed.

    ``carried``: a state of our history that another copy carried into ``target`` already. It
    is merged into both the base and our copy (a CRDT union), so that what both copies hold,
    the same items, is no change of ours: only what ours alone holds is carried.
    """
    if carried is not None:
        base_update = merged_update([base_update, carried])
        ours = replayed([ours.get_update(), carried])
    first = three_way_merge(kind, base_update, ours, read_content(kind, target), ids_kept=ids_kept)
    merged = read_content(kind, replayed([ours.get_update(), first.update]))
    return three_way_merge(kind, target.get_update(), target, merged, ids_kept=ids_kept).update


def _merge_notebook(fork: Doc[Any], ours: Doc[Any], theirs: Any, ids_kept: bool) -> MergeResult:
    """Replay on a fork of the base, then repair on a copy of the live document if needed."""
    theirs = {**theirs, "cells": loaded_cells(theirs)}  # as a load reads it, as the base was
    updates: list[bytes] = []
    with _recorded(fork, updates):
        plan = notebook.replay(fork, ours, theirs, ids_kept=ids_kept)
    next_base = fork.get_update()
    if plan.needs_repair:
        merged = replayed([ours.get_update(), _combined(updates)])
        with _recorded(merged, updates):
            notebook.repair(merged, plan)
    return MergeResult(_combined(updates), plan.ordered_conflicts(), next_base)


def _merge_structure(
    kind: DocumentKind, fork: Doc[Any], ours: Doc[Any], theirs: Any
) -> MergeResult:
    """Merge root by root; then, past the next base, redo the room's changes in the objects the
    file moved (structure.py)."""
    updates: list[bytes] = []
    with _recorded(fork, updates):
        merge = merge_roots(kind, fork, ours, theirs)
    next_base = fork.get_update()
    with _recorded(fork, updates):
        merge.redo()
    return MergeResult(_combined(updates), merge.conflicts, next_base)


@contextmanager
def _recorded(doc: Doc[Any], updates: list[bytes]) -> Iterator[None]:
    """Run one transaction on ``doc`` and keep its own update (not the history's delete set)."""

    def keep(event: TransactionEvent) -> None:
        updates.append(event.update)

    subscription = doc.observe(keep)
    try:
        with doc.transaction():
            yield
    finally:
        doc.unobserve(subscription)


def _combined(updates: list[bytes]) -> bytes:
    return merge_updates(*updates) if updates else EMPTY_UPDATE
