"""Edits carried from one copy of a file to another copy with no CRDT history in common (pure).

Both copies are built from the same file independently, as two servers build them (each with its
own client ids); each then gets its own edits. The carried update, applied to the target, must
give it both sides' edits, each once.
"""

from __future__ import annotations

from typing import Any

from pycrdt import Array, Doc, Map, Text

from jupyter_ycollab.codec.building import build_base, new_cell
from jupyter_ycollab.codec.content import read_content
from jupyter_ycollab.codec.kinds import DocumentKind
from jupyter_ycollab.codec.updates import EMPTY_UPDATE, replayed
from jupyter_ycollab.merge.threeway import carried_over

NOTEBOOK = DocumentKind.parse("json", "notebook")
TEXT = DocumentKind.parse("text", "file")


def _copies(kind: DocumentKind, content: Any) -> tuple[bytes, Doc[Any], Doc[Any]]:
    """Our base and our copy, and the other copy: the same content, built twice."""
    base = build_base(kind, content)
    return base, replayed([base]), replayed([build_base(kind, content)])


def _carry(kind: DocumentKind, base: bytes, ours: Doc[Any], target: Doc[Any], **kw: Any) -> Any:
    update = carried_over(kind, base, ours, target, ids_kept=kw.get("ids_kept", True))
    target.apply_update(update)
    return read_content(kind, target)


def _cell(cell_id: str, source: str) -> dict[str, Any]:
    return {"id": cell_id, "cell_type": "code", "source": source, "metadata": {}, "outputs": []}


def _notebook(*cells: dict[str, Any]) -> dict[str, Any]:
    cells_ = [{**cell, "execution_count": None} for cell in cells]
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells_}


def _append(cells: Array[Any], index: int, text: str) -> None:
    source = cells[index]["source"]
    source.insert(len(source), text)


def _sources(content: dict[str, Any]) -> list[str]:
    return [cell["source"] for cell in content["cells"]]


def test_text_edits_on_both_copies_are_each_kept_once() -> None:
    base, ours, target = _copies(TEXT, "one\ntwo\nthree\n")
    ours.get("source", type=Text).insert(0, "A ")  # at the very start: no left neighbour
    ours.get("source", type=Text).insert(len("A one\ntwo\n"), "ours\n")
    target.get("source", type=Text).insert(len("one\ntwo\nthree\n"), "theirs\n")
    assert _carry(TEXT, base, ours, target) == "A one\ntwo\nours\nthree\ntheirs\n"


def test_a_deletion_on_our_copy_is_carried() -> None:
    base, ours, target = _copies(TEXT, "keep\ndrop\nkeep\n")
    del ours.get("source", type=Text)[len("keep\n") : len("keep\ndrop\n")]
    target.get("source", type=Text).insert(0, "new\n")
    assert _carry(TEXT, base, ours, target) == "new\nkeep\nkeep\n"


def test_nothing_changed_on_our_copy_carries_nothing() -> None:
    base, ours, target = _copies(TEXT, "same\n")
    target.get("source", type=Text).insert(0, "theirs ")
    assert carried_over(TEXT, base, ours, target, ids_kept=True) == EMPTY_UPDATE


def test_notebook_cells_added_and_edited_on_both_copies() -> None:
    content = _notebook(_cell("a", "x = 1"), _cell("b", "y = 2"))
    base, ours, target = _copies(NOTEBOOK, content)
    cells = ours.get("cells", type=Array)
    _append(cells, 0, "  # ours")
    cells.append(new_cell(_cell("c", "z = 3")))
    _append(target.get("cells", type=Array), 1, "  # theirs")
    merged = _carry(NOTEBOOK, base, ours, target)
    assert _sources(merged) == ["x = 1  # ours", "y = 2  # theirs", "z = 3"]
    assert [cell["id"] for cell in merged["cells"]] == ["a", "b", "c"]


def test_notebook_cell_ids_made_anew_by_each_read() -> None:
    """A jupytext script's cells get new ids at each read: matched by content instead."""
    base = build_base(NOTEBOOK, _notebook(_cell("a1", "x = 1"), _cell("b1", "y = 2")))
    ours = replayed([base])
    target = replayed([build_base(NOTEBOOK, _notebook(_cell("a2", "x = 1"), _cell("b2", "y = 2")))])
    _append(ours.get("cells", type=Array), 1, "  # ours")
    _append(target.get("cells", type=Array), 0, "  # theirs")
    merged = _carry(NOTEBOOK, base, ours, target, ids_kept=False)
    assert _sources(merged) == ["x = 1  # theirs", "y = 2  # ours"]


def test_notebook_metadata_set_on_our_copy_is_carried() -> None:
    base, ours, target = _copies(NOTEBOOK, _notebook(_cell("a", "x")))
    ours.get("meta", type=Map)["metadata"] = {"kernelspec": {"name": "python3"}}
    merged = _carry(NOTEBOOK, base, ours, target)
    assert merged["metadata"].get("kernelspec") == {"name": "python3"}


def test_carrying_again_what_was_carried_changes_nothing() -> None:
    """A publication whose reply was lost is tried again: the target holds the edits already."""
    for kind, content in ((TEXT, "one\ntwo\n"), (NOTEBOOK, _notebook(_cell("a", "x = 1")))):
        base, ours, target = _copies(kind, content)
        if kind is TEXT:
            ours.get("source", type=Text).insert(0, "ours ")
        else:
            _append(ours.get("cells", type=Array), 0, "  # ours")
            ours.get("cells", type=Array).append(new_cell(_cell("b", "y = 2")))
        once = _carry(kind, base, ours, target)
        assert _carry(kind, base, ours, target) == once


def _append_text(doc: Doc[Any], text: str) -> None:
    source = doc.get("source", type=Text)
    source.insert(len(str(source)), text)


def test_what_two_copies_of_one_history_hold_is_carried_once() -> None:
    """Two servers held the old history (the same items), a third loaded the file anew. The
    writer carries first; the other then merges the state it carried into its own base and
    copy: what both held lands once, what each alone held lands, and what was saved after the
    other's base (it joined before the save) is not carried a second time."""
    joined = build_base(TEXT, "one\n")  # the other's base: it joined then
    writer = replayed([joined])
    _append_text(writer, "saved\n")
    saved = writer.get_update()  # the writer's base: the file holds it
    _append_text(writer, "both\n")
    other = replayed([writer.get_update()])  # the same items, synced
    _append_text(writer, "writer alone\n")
    _append_text(other, "other alone\n")
    target = replayed([build_base(TEXT, "one\nsaved\n")])  # the new history, from the file

    _carry(TEXT, saved, writer, target)
    carried = writer.get_update()
    update = carried_over(TEXT, joined, other, target, ids_kept=True, carried=carried)
    target.apply_update(update)

    lines = read_content(TEXT, target).splitlines()
    assert sorted(lines) == sorted(["one", "saved", "both", "writer alone", "other alone"])
    assert carried_over(TEXT, joined, other, target, ids_kept=True, carried=carried) == EMPTY_UPDATE
