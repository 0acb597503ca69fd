"""The direct writer builds the same CRDT items as pycrdt's public API (pure).

Same items, not same bytes (pycrdt encodes plain dict values in hash order): equal state
vectors and content, and an edit made on one build lands in the same place on the other. An
edit names the items it follows, so a build whose items differed would misplace it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pycrdt import Array, Doc, Map, Text, get_state

from jupyter_ycollab.codec import yplan
from jupyter_ycollab.codec.building import build_base
from jupyter_ycollab.codec.content import read_content
from jupyter_ycollab.codec.kinds import DocumentKind

NOTEBOOK = DocumentKind.parse("json", "notebook")


def _notebook(cells: int) -> dict[str, Any]:
    def cell(index: int) -> dict[str, Any]:
        if index % 3 == 1:
            return {"cell_type": "markdown", "id": f"m{index}", "source": "", "metadata": {}}
        outputs = [
            {"output_type": "stream", "name": "stdout", "text": f"out {index}\n"},
            {"output_type": "display_data", "data": {"text/plain": "x"}, "metadata": {}},
        ]
        return {
            "cell_type": "code",
            "id": f"c{index}",
            "source": f"x = {index}\nprint(x)\n",
            "metadata": {"tags": ["t"], "collapsed": index % 2 == 0, "n": {"deep": [1, None]}},
            "execution_count": index,
            "outputs": outputs if index % 3 == 0 else [],
        }

    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3"}, "language_info": {"name": "python"}},
        "cells": [cell(index) for index in range(cells)],
    }


def _build(content: dict[str, Any], *, direct: bool, monkeypatch: pytest.MonkeyPatch) -> bytes:
    with monkeypatch.context() as patched:
        patched.setattr(yplan, "direct_writes", lambda: direct)
        return build_base(NOTEBOOK, content)


def _doc(update: bytes) -> Doc[Any]:
    doc: Doc[Any] = Doc()
    doc.apply_update(update)
    return doc


def _cell(doc: Doc[Any], index: int) -> Map[Any]:
    cell: Map[Any] = doc.get("cells", type=Array)[index]
    return cell


_EDITS: list[Callable[[Doc[Any]], None]] = [
    lambda doc: _cell(doc, 0)["source"].insert(4, "first"),
    lambda doc: _cell(doc, 5)["source"].insert(0, "middle "),
    lambda doc: _cell(doc, 4)["source"].insert(0, "empty markdown"),
    lambda doc: _cell(doc, 11)["source"].insert(len(str(_cell(doc, 11)["source"])), "end"),
    lambda doc: _cell(doc, 6)["outputs"][0]["text"].insert(3, " stream"),
    lambda doc: _cell(doc, 3)["metadata"].__setitem__("tags", ["changed"]),
    lambda doc: doc.get("cells", type=Array).insert(7, Map({"source": Text("new")})),
    lambda doc: doc.get("cells", type=Array).__delitem__(2),
    lambda doc: doc.get("meta", type=Map)["metadata"].__setitem__("added", 1),
]


def test_this_pycrdt_takes_the_direct_way() -> None:
    assert yplan.direct_writes()


@pytest.mark.parametrize("cells", [0, 1, 12])
def test_both_writers_build_the_same_items(cells: int, monkeypatch: pytest.MonkeyPatch) -> None:
    content = _notebook(cells)
    direct = _build(content, direct=True, monkeypatch=monkeypatch)
    public = _build(content, direct=False, monkeypatch=monkeypatch)
    assert get_state(direct) == get_state(public)
    assert read_content(NOTEBOOK, _doc(direct)) == read_content(NOTEBOOK, _doc(public))
    assert len(direct) == len(public)


@pytest.mark.parametrize("edit", range(len(_EDITS)))
@pytest.mark.parametrize("edited_first", ["direct", "public"])
def test_an_edit_of_one_build_lands_in_place_on_the_other(
    edit: int, edited_first: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = _notebook(12)
    builds = {
        "direct": _build(content, direct=True, monkeypatch=monkeypatch),
        "public": _build(content, direct=False, monkeypatch=monkeypatch),
    }
    edited = _doc(builds[edited_first])
    other = _doc(builds["public" if edited_first == "direct" else "direct"])
    before = edited.get_state()
    _EDITS[edit](edited)
    other.apply_update(edited.get_update(before))
    assert read_content(NOTEBOOK, other) == read_content(NOTEBOOK, edited)
    unedited = read_content(NOTEBOOK, _doc(builds[edited_first]))
    assert read_content(NOTEBOOK, other) != unedited  # the edit did change something
