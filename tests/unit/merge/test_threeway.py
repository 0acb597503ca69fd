"""Three-way merge of an outside change into a live room: table and property tests (pure).

Each live document is built as a peer sees it: the base update, then our edits as pycrdt
operations; the merge update is applied to it and to a second replica, which must agree.
"""

from __future__ import annotations

import base64
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pycrdt import Array, Doc, Map, Text

from jupyter_ycollab.codec.building import FIRST_CELL, build_base
from jupyter_ycollab.codec.content import read_content
from jupyter_ycollab.codec.kinds import DocumentKind
from jupyter_ycollab.codec.updates import EMPTY_UPDATE, replayed
from jupyter_ycollab.merge import notebook
from jupyter_ycollab.merge import text as textmerge
from jupyter_ycollab.merge.threeway import MergeResult, three_way_merge

NOTEBOOK = DocumentKind.parse("json", "notebook")
TEXT = DocumentKind.parse("text", "file")
BLOB = DocumentKind.parse("base64", "file")
Edit = tuple[int, int, str]
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _cell(cell_id: str, source: str, **extra: Any) -> dict[str, Any]:
    cell = {"id": cell_id, "cell_type": "code", "source": source, "metadata": {}}
    cell.update({"outputs": [], "execution_count": None, **extra})
    return cell


def _nb(*cells: dict[str, Any], metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": metadata or {}, "cells": list(cells)}


def _live(kind: DocumentKind, content: Any) -> tuple[bytes, Doc[Any]]:
    base_update = build_base(kind, content)
    live: Doc[Any] = Doc()
    live.apply_update(base_update)
    return base_update, live


def _merge(kind: DocumentKind, base_update: bytes, live: Doc[Any], theirs: Any) -> MergeResult:
    """Merge into ``live``; a replica that had ``live``'s state must reach the same content."""
    replica: Doc[Any] = Doc()
    replica.apply_update(live.get_update())
    result = three_way_merge(kind, base_update, live, theirs)
    live.apply_update(result.update)
    replica.apply_update(result.update)
    assert read_content(kind, replica) == read_content(kind, live)
    return result


def _edit(text: Text, edit: Edit) -> None:
    """Replace characters ``start:end`` as an editor does (pycrdt counts UTF-8 bytes)."""
    start, end, inserted = edit
    old = str(text)
    at, stop = len(old[:start].encode()), len(old[:end].encode())
    if stop > at:
        del text[at:stop]
    if inserted:
        text.insert(at, inserted)


def _ycell(live: Doc[Any], cell_id: str) -> Any:
    cells = live.get("cells", type=Array)
    return next(cell for cell in cells if cell["id"] == cell_id)


def _sources(live: Doc[Any]) -> list[tuple[str, str]]:
    return [(cell["id"], cell["source"]) for cell in read_content(NOTEBOOK, live)["cells"]]


def _apply_both(base: str, *edits: Edit) -> str:
    """The text with independent edits (base offsets) all applied; an edit made twice, once."""
    out, cursor = [], 0
    for start, end, inserted in sorted(set(edits), key=lambda edit: (edit[0], edit[1])):
        out.append(base[cursor:start] + inserted)
        cursor = max(cursor, end)
    return "".join(out) + base[cursor:]


# -- notebooks: table -----------------------------------------------------------------------------


def test_edits_on_both_sides_are_all_kept_in_order() -> None:
    base = _nb(_cell("a", "a = 1\n"), _cell("b", "b = 2\n"), _cell("d", "d = 4\n"))
    base_update, live = _live(NOTEBOOK, base)
    _edit(_ycell(live, "a")["source"], (0, 1, "alpha"))
    _edit(_ycell(live, "b")["source"], (5, 6, "\nprint(b)\n"))
    theirs = _nb(base["cells"][0], base["cells"][1], _cell("c", "c = 3\n"), _cell("d", "d = 40\n"))
    result = _merge(NOTEBOOK, base_update, live, theirs)
    assert _sources(live) == [
        ("a", "alpha = 1\n"),
        ("b", "b = 2\nprint(b)\n"),
        ("c", "c = 3\n"),
        ("d", "d = 40\n"),
    ]
    assert result.conflicts == []
    assert isinstance(_ycell(live, "c")["source"], Text)
    assert isinstance(_ycell(live, "c")["outputs"], Array)


def test_a_file_without_cell_ids_is_merged_cell_by_cell_by_content_and_place() -> None:
    # What jupytext's manager reads from a script: the same cells, new random ids at each read.
    base = _nb(_cell("a", "a = 1"), _cell("b", "b = 2"), _cell("c", "c = 3"))
    base_update, live = _live(NOTEBOOK, base)
    _edit(_ycell(live, "a")["source"], (5, 5, "  # typed"))
    theirs = _nb(_cell("x1", "a = 1"), _cell("x2", "c = 30"), _cell("x3", "d = 4"))
    result = three_way_merge(NOTEBOOK, base_update, live, theirs, ids_kept=False)
    live.apply_update(result.update)
    assert _sources(live) == [("a", "a = 1  # typed"), ("c", "c = 30"), ("x3", "d = 4")]
    assert result.conflicts == []


def test_a_file_that_keeps_cell_ids_keeps_a_new_id_with_other_content_as_a_new_cell() -> None:
    """An ``.ipynb`` whose cells repeat or lack ids is read with new ones (nbformat's repair),
    so a cell with a new id and a lost one's content in its place is that cell: b keeps the
    room's edit once. c, rewritten with a new id, is another cell, as the file says."""
    base = _nb(_cell("a", "a = 1"), _cell("b", "b = 2"), _cell("c", "c = [1, 2, 3]"))
    base_update, live = _live(NOTEBOOK, base)
    _edit(_ycell(live, "b")["source"], (5, 5, "  # ours"))
    theirs = _nb(_cell("a", "a = 1"), _cell("n1", "b = 2"), _cell("n2", "c = [1, 2, 3, 4]"))
    result = _merge(NOTEBOOK, base_update, live, theirs)
    assert _sources(live) == [("a", "a = 1"), ("b", "b = 2  # ours"), ("n2", "c = [1, 2, 3, 4]")]
    assert result.conflicts == []


def test_cell_removed_on_disk_goes_unless_we_edited_it() -> None:
    base = _nb(_cell("a", "1"), _cell("b", "2"), _cell("c", "3"))
    base_update, live = _live(NOTEBOOK, base)
    _edit(_ycell(live, "c")["source"], (1, 1, "3"))
    result = _merge(NOTEBOOK, base_update, live, _nb(base["cells"][0]))
    assert _sources(live) == [("a", "1"), ("c", "33")]
    assert result.conflicts == ["c"]


def test_cell_moved_on_disk_keeps_our_edit_in_it() -> None:
    base = _nb(_cell("a", "1"), _cell("b", "2"), _cell("c", "3"), _cell("d", "4"))
    base_update, live = _live(NOTEBOOK, base)
    _edit(_ycell(live, "d")["source"], (0, 0, "our "))
    a, b, c, d = base["cells"]
    result = _merge(NOTEBOOK, base_update, live, _nb(d, a, b, {**c, "source": "three"}))
    assert _sources(live) == [("d", "our 4"), ("a", "1"), ("b", "2"), ("c", "three")]
    assert result.conflicts == []


def test_metadata_changed_on_disk_merges_per_key() -> None:
    base = _nb(_cell("a", "x", metadata={"tags": ["t"]}), metadata={"kernelspec": {"name": "p"}})
    base_update, live = _live(NOTEBOOK, base)
    _ycell(live, "a")["metadata"]["collapsed"] = True
    theirs = _nb(
        _cell("a", "x", metadata={"tags": ["t", "u"]}),
        metadata={"kernelspec": {"name": "p"}, "jupytext": {"formats": "ipynb,py"}},
    )
    result = _merge(NOTEBOOK, base_update, live, theirs)
    content = read_content(NOTEBOOK, live)
    assert content["metadata"] == {"kernelspec": {"name": "p"}, "jupytext": {"formats": "ipynb,py"}}
    assert content["cells"][0]["metadata"] == {"tags": ["t", "u"], "collapsed": True}
    assert result.conflicts == []


def test_value_changed_on_both_sides_keeps_ours_and_is_a_conflict() -> None:
    stream = {"output_type": "stream", "name": "stdout", "text": "disk\n"}
    base_update, live = _live(NOTEBOOK, _nb(_cell("a", "x", metadata={"k": 0})))
    _ycell(live, "a")["metadata"]["k"] = 1
    theirs = _nb(_cell("a", "x", metadata={"k": 2}, outputs=[stream], execution_count=7))
    result = _merge(NOTEBOOK, base_update, live, theirs)
    cell = read_content(NOTEBOOK, live)["cells"][0]
    assert (cell["metadata"], cell["outputs"], cell["execution_count"]) == ({"k": 1}, [stream], 7)
    assert isinstance(_ycell(live, "a")["outputs"][0]["text"], Text)
    assert result.conflicts == ["a"]


def test_cell_we_deleted_but_disk_changed_comes_back() -> None:
    base = _nb(_cell("a", "1"), _cell("b", "2"), _cell("c", "3"))
    base_update, live = _live(NOTEBOOK, base)
    del live.get("cells", type=Array)[1]
    result = _merge(
        NOTEBOOK, base_update, live, _nb(*base["cells"][:1], _cell("b", "22"), base["cells"][2])
    )
    assert _sources(live) == [("a", "1"), ("b", "22"), ("c", "3")]
    assert result.conflicts == ["b"]


def test_only_a_cell_we_recreated_takes_the_second_pass_on_a_copy_of_the_live_document() -> None:
    """The second pass (``repair``) copies the whole live document, 0.2 s at 10,000 cells: a
    cell the disk changed that the live document still holds is merged by the replay alone."""
    base = _nb(_cell("a", "1"), _cell("b", "hello"))
    base_update, live = _live(NOTEBOOK, base)
    theirs = _nb(_cell("a", "1"), _cell("b", "hello world"))
    assert not notebook.replay(replayed([base_update]), live, theirs, ids_kept=True).needs_repair

    cells = live.get("cells", type=Array)
    with live.transaction():
        recreated = cells[1].to_py()
        del cells[1]
        cells.insert(1, Map({**recreated, "source": Text(recreated["source"])}))
    plan = notebook.replay(replayed([base_update]), live, theirs, ids_kept=True)
    assert plan.edited == ["b"]


def test_disk_change_reaches_a_cell_we_recreated() -> None:
    """A JupyterLab move deletes the cell's map and inserts a copy: the disk's edit follows it."""
    base = _nb(_cell("a", "1"), _cell("b", "hello"), _cell("c", "3"))
    base_update, live = _live(NOTEBOOK, base)
    cells = live.get("cells", type=Array)
    with live.transaction():
        moved = cells[1].to_py()
        del cells[1]
        cells.insert(0, Map({**moved, "source": Text("¡" + moved["source"])}))
    theirs = _nb(base["cells"][0], _cell("b", "hello world"), _cell("c", "3"))
    result = _merge(NOTEBOOK, base_update, live, theirs)
    assert _sources(live) == [("b", "¡hello world"), ("a", "1"), ("c", "3")]
    assert result.conflicts == []


def test_same_file_is_an_empty_update() -> None:
    cases = [(NOTEBOOK, _nb(_cell("a", "1"))), (TEXT, "one\ntwo\n"), (BLOB, "AAEC")]
    for kind, content in cases:
        base_update, live = _live(kind, content)
        result = three_way_merge(kind, base_update, live, content)
        assert (result.update, result.conflicts) == (EMPTY_UPDATE, [])
        assert read_content(kind, _doc(result.base_update)) == content


def _doc(update: bytes) -> Doc[Any]:
    doc: Doc[Any] = Doc()
    doc.apply_update(update)
    return doc


def test_a_second_disk_change_merges_against_the_returned_base() -> None:
    base = _nb(_cell("a", "1"), _cell("b", "2"), _cell("c", "3"), _cell("d", "4"))
    base_update, live = _live(NOTEBOOK, base)
    _edit(_ycell(live, "b")["source"], (1, 1, " ours"))
    a, _, c, d = base["cells"]
    first = _nb(d, a, c, _cell("e", "5"))  # d moved, b deleted (we edited it: kept), e new
    result = _merge(NOTEBOOK, base_update, live, first)
    assert (_sources(live), result.conflicts) == (
        [("d", "4"), ("a", "1"), ("b", "2 ours"), ("c", "3"), ("e", "5")],
        ["b"],
    )
    assert read_content(NOTEBOOK, _doc(result.base_update))["cells"][0]["id"] == "a"
    _edit(_ycell(live, "d")["source"], (0, 0, "our "))
    second = _nb(d, a, {**c, "source": "three"}, _cell("e", "5"))
    again = _merge(NOTEBOOK, result.base_update, live, second)
    assert _sources(live) == [
        ("d", "our 4"),
        ("a", "1"),
        ("b", "2 ours"),
        ("c", "three"),
        ("e", "5"),
    ]
    assert again.conflicts == ["b"]  # the file still lacks the cell we kept: said again


# -- text and blobs: table -----------------------------------------------------------------------


def test_text_edits_at_both_ends_on_each_side() -> None:
    base = "first line\nsecond line\nmiddle\nfourth line\nlast line\n"
    base_update, live = _live(TEXT, base)
    text = live.get("source", type=Text)
    _edit(text, (len(base), len(base), "ours at the end\n"))
    _edit(text, (0, 5, "1st"))
    theirs = "first line\n2nd line\nmiddle\n4th line\nlast line\n"
    result = _merge(TEXT, base_update, live, theirs)
    expected = "1st line\n2nd line\nmiddle\n4th line\nlast line\nours at the end\n"
    assert (str(text), result.conflicts) == (expected, [])


def test_text_same_word_changed_on_both_sides_keeps_both() -> None:
    base_update, live = _live(TEXT, "say hello 😀 now\n")
    text = live.get("source", type=Text)
    _edit(text, (4, 9, "bye"))
    result = _merge(TEXT, base_update, live, "say 👋 😀 now\n")
    assert str(text) in ("say bye👋 😀 now\n", "say 👋bye 😀 now\n")
    assert result.conflicts == ["source"]


def test_big_blocks_are_replaced_whole_and_still_merge() -> None:
    base = "".join(f"line {n}\n" for n in range(2000))
    theirs = base.replace("line 1", "LINE 1")
    base_update, live = _live(TEXT, base)
    _edit(live.get("source", type=Text), (0, 0, "# header\n"))
    assert _merge(TEXT, base_update, live, theirs).conflicts == []
    assert str(live.get("source", type=Text)) == "# header\n" + theirs


def test_blob_takes_the_file_unless_we_changed_it() -> None:
    base_update, live = _live(BLOB, base64.b64encode(b"\x00\x01").decode())
    new = base64.b64encode(b"\x02").decode()
    assert _merge(BLOB, base_update, live, new).conflicts == []
    assert read_content(BLOB, live) == new
    base_update, live = _live(BLOB, base64.b64encode(b"\x00\x01").decode())
    live.get("source", type=Map)["bytes"] = b"\x03"
    assert _merge(BLOB, base_update, live, new).conflicts == ["source"]
    assert live.get("source", type=Map)["bytes"] == b"\x03"


# -- properties ---------------------------------------------------------------------------------

# Base characters are unique and insertions use other characters, so that a difference has one
# alignment and "both edits applied" means one string.
BASE_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789\né😀"
INSERT_CHARS = "+-*#ñ🎉 "


@st.composite
def _base_text(draw: st.DrawFn, min_size: int = 0) -> str:
    chars = st.lists(st.sampled_from(BASE_CHARS), unique=True, min_size=min_size, max_size=24)
    return "".join(draw(chars))


@st.composite
def _text_edit(draw: st.DrawFn, base: str) -> Edit:
    start = draw(st.integers(0, len(base)))
    end = draw(st.integers(start, min(len(base), start + 4)))
    inserted = draw(st.text(alphabet=INSERT_CHARS, min_size=int(end == start), max_size=5))
    return start, end, inserted


def _clash(a: Edit, b: Edit) -> bool:
    """The spans the merge must report (written independently of ``textdiff.clash``)."""
    if a == b:
        return False  # the same change on both sides is no conflict: it is applied once
    if a[1] > b[0] and b[1] > a[0]:
        return True  # overlapping ranges
    points = [(a, b), (b, a)]
    if any(x[0] == x[1] and y[0] < x[0] < y[1] for x, y in points):
        return True  # an insertion strictly inside the other's range
    touching = a[0] in (b[0], b[1]) or b[0] in (a[0], a[1])
    return touching and bool(a[2]) and bool(b[2])


def _is_subsequence(part: str, whole: str) -> bool:
    chars = iter(whole)
    return all(char in chars for char in part)


def _keeps_both(merged: str, base: str, ours: Edit, theirs: Edit) -> None:
    deleted = set(range(ours[0], ours[1])) | set(range(theirs[0], theirs[1]))
    kept = "".join(char for n, char in enumerate(base) if n not in deleted)
    assert _is_subsequence(kept, merged)
    assert _is_subsequence(ours[2], merged) and _is_subsequence(theirs[2], merged)
    assert len(merged) == len(kept) + len(ours[2]) + len(theirs[2])


@PROPERTY
@given(st.data())
def test_text_merge_keeps_both_sides(data: st.DataObject) -> None:
    base = data.draw(_base_text(min_size=10))
    ours, theirs = data.draw(_text_edit(base)), data.draw(_text_edit(base))
    base_update, live = _live(TEXT, base)
    _edit(live.get("source", type=Text), ours)
    result = _merge(TEXT, base_update, live, _apply_both(base, theirs))
    merged = str(live.get("source", type=Text))
    event("clash" if _clash(ours, theirs) else "independent")
    if _clash(ours, theirs):
        _keeps_both(merged, base, ours, theirs)
        assert result.conflicts == ["source"]
    else:
        assert merged == _apply_both(base, ours, theirs)
        assert result.conflicts == []


@st.composite
def _maybe_edit(draw: st.DrawFn, base: str) -> Edit | None:
    return draw(st.none() | _text_edit(base))


@st.composite
def _notebook_case(draw: st.DrawFn) -> tuple[dict[str, str], dict[str, Edit | None], Any, Any]:
    """Base sources by id, our edits, the disk's edits, the disk's cell order, cells we delete."""
    sources = {f"c{n}": draw(_base_text()) for n in range(draw(st.integers(1, 5)))}
    ours = {i: draw(_maybe_edit(s)) for i, s in sources.items()}
    disk = {i: draw(_maybe_edit(s)) for i, s in sources.items()}
    untouched = [i for i in sources if ours[i] is None and disk[i] is None]
    our_deleted = (
        set(draw(st.lists(st.sampled_from(untouched), unique=True))) if untouched else set()
    )
    disk_deleted = {i for i in sources if ours[i] is None and draw(st.booleans())}
    order = draw(st.permutations([i for i in sources if i not in disk_deleted]))
    for n in range(draw(st.integers(0, 2))):
        order.insert(draw(st.integers(0, len(order))), f"new{n}")
    return sources, ours, (disk, order), our_deleted


@PROPERTY
@given(_notebook_case())
def test_notebook_merge_keeps_both_sides(case: Any) -> None:
    """Random cells; we edit and delete, the disk edits, deletes, moves and inserts cells."""
    sources, ours, (disk, order), our_deleted = case
    theirs_cells = [
        _cell(i, _apply_both(sources[i], *filter(None, [disk[i]]))) for i in order if i in sources
    ]
    by_id = {cell["id"]: cell for cell in theirs_cells}
    theirs = _nb(*(by_id.get(i, _cell(i, f"+{i}")) for i in order))  # never a base's text
    base_update, live = _live(NOTEBOOK, _nb(*(_cell(i, s) for i, s in sources.items())))
    for cell_id, edit in ours.items():
        if edit is not None:
            _edit(_ycell(live, cell_id)["source"], edit)
    for cell_id in our_deleted:
        cells = live.get("cells", type=Array)
        del cells[[cell["id"] for cell in cells].index(cell_id)]
    result = _merge(NOTEBOOK, base_update, live, theirs)

    merged = dict(_sources(live))
    if not order:  # a file with no cells is read as a load reads it: with one empty cell
        assert merged.pop(FIRST_CELL["id"]) == ""
    assert list(merged) == [i for i in order if i not in our_deleted]
    clashing = [i for i in order if ours.get(i) and disk.get(i) and _clash(ours[i], disk[i])]
    assert result.conflicts == clashing
    event(f"clashing cells: {len(clashing)}")
    event("disk moved cells" if order != sorted(order) else "disk kept the order")
    for cell_id in merged:
        edits = [e for e in (ours.get(cell_id), disk.get(cell_id)) if e is not None]
        if cell_id not in sources:
            assert merged[cell_id] == f"+{cell_id}"
        elif cell_id in clashing:
            _keeps_both(merged[cell_id], sources[cell_id], *edits)
        else:
            assert merged[cell_id] == _apply_both(sources[cell_id], *edits)


def test_cell_added_on_both_sides_with_one_id_is_kept_once() -> None:
    base_update, live = _live(NOTEBOOK, _nb(_cell("a", "1")))
    live.get("cells", type=Array).append(Map({**_cell("n", "same"), "source": Text("same")}))
    result = _merge(NOTEBOOK, base_update, live, _nb(_cell("a", "1"), _cell("n", "same")))
    assert (_sources(live), result.conflicts) == ([("a", "1"), ("n", "same")], [])


@PROPERTY
@given(st.text(alphabet="ab\n😀é", max_size=40), st.text(alphabet="ab\n😀é", max_size=40))
def test_diff_applied_to_a_text_gives_the_new_string(old: str, new: str) -> None:
    doc: Doc[Any] = Doc()
    text = doc.get("t", type=Text)
    text.insert(0, old)
    textmerge.apply(text, old, textmerge.diff(old, new))
    assert str(text) == new


def test_a_file_that_already_holds_our_edits_changes_nothing() -> None:
    """E.g. restored from the room's own log: the same insertion is not made twice."""
    base_update, live = _live(TEXT, "one\ntwo\n")
    _edit(live.get("source", type=Text), (0, 0, "unsaved "))
    result = _merge(TEXT, base_update, live, "unsaved one\ntwo\nthree\n")
    assert str(live.get("source", type=Text)) == "unsaved one\ntwo\nthree\n"
    assert result.conflicts == []


def test_a_notebook_loaded_with_no_cells_keeps_its_first_cell_until_the_file_has_some() -> None:
    """A notebook with no cells is loaded with one empty cell (codec/building.py), and a file
    read for a merge is read the same way: a change that leaves the file with no cells (its
    metadata) keeps that cell; one that gives it cells replaces it, unless the room typed in it."""
    base_update, live = _live(NOTEBOOK, _nb())
    ((first, _),) = _sources(live)
    result = _merge(NOTEBOOK, base_update, live, _nb(metadata={"tags": ["x"]}))
    assert (_sources(live), result.conflicts) == ([(first, "")], [])
    assert read_content(NOTEBOOK, live)["metadata"] == {"tags": ["x"]}

    base_update, live = _live(NOTEBOOK, _nb())
    _merge(NOTEBOOK, base_update, live, _nb(_cell("a", "1")))
    assert _sources(live) == [("a", "1")]

    base_update, live = _live(NOTEBOOK, _nb())
    _edit(_ycell(live, first)["source"], (0, 0, "typed"))
    _merge(NOTEBOOK, base_update, live, _nb(_cell("a", "1")))
    assert _sources(live) == [("a", "1"), (first, "typed")]


def test_notebook_metadata_changed_on_both_sides_keeps_ours_and_the_files_other_keys() -> None:
    """The room switched the kernel, the file too (and paired the notebook): the room's
    kernel stays, the pairing lands, and the notebook's metadata is named as a conflict."""
    base = _nb(_cell("a", "x"), metadata={"kernelspec": {"name": "p"}})
    base_update, live = _live(NOTEBOOK, base)
    live.get("meta", type=Map)["metadata"]["kernelspec"] = {"name": "r"}
    theirs = _nb(
        _cell("a", "x"), metadata={"kernelspec": {"name": "j"}, "jupytext": {"formats": "ipynb"}}
    )
    result = _merge(NOTEBOOK, base_update, live, theirs)
    expected = {"kernelspec": {"name": "r"}, "jupytext": {"formats": "ipynb"}}
    assert read_content(NOTEBOOK, live)["metadata"] == expected
    assert result.conflicts == ["metadata"]


def test_cell_added_on_both_sides_with_one_id_but_other_content_keeps_ours_once() -> None:
    base_update, live = _live(NOTEBOOK, _nb(_cell("a", "1")))
    live.get("cells", type=Array).append(Map({**_cell("n", "ours"), "source": Text("ours")}))
    result = _merge(NOTEBOOK, base_update, live, _nb(_cell("a", "1"), _cell("n", "theirs")))
    assert (_sources(live), result.conflicts) == ([("a", "1"), ("n", "ours")], ["n"])
