"""Notebooks whose file repeats a cell id, or stores none where nbformat 4.5 asks one per cell
(tools that write notebooks by hand, a merge in git, cells pasted in the JSON). Jupyter's
reader gives such cells new ids, random, at every read. A change made to the file outside
Jupyter is still merged cell by cell: no cell comes back twice, the room's unsaved edits stay,
and the room's save gives the file unique ids."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jupyter_ydoc import YNotebook

from .client import CollabClient, wait_until
from .harness import Collab, append, cell_sources, sources_on_disk

UNSAVED = {"save_delay": 60.0, "max_save_delay": 120.0, "poll_interval": 0.2}


def repeated_ids(cells: list[dict[str, Any]]) -> None:
    for cell in cells:
        cell["id"] = "same"


def no_ids(cells: list[dict[str, Any]]) -> None:
    for cell in cells:
        del cell["id"]


FLAWS: dict[str, Callable[[list[dict[str, Any]]], None]] = {
    "repeated ids": repeated_ids,
    "no ids": no_ids,
}


def write_flawed(path: Path, sources: list[str], flaw: Callable[..., None]) -> None:
    """Write a 4.5 notebook of code cells with ``flaw`` done to its cells' ids."""
    cells = [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": f"cell-{n}",
            "metadata": {},
            "outputs": [],
            "source": source,
        }
        for n, source in enumerate(sources)
    ]
    flaw(cells)
    notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(notebook, indent=1))


def room_ids(client: CollabClient[YNotebook]) -> list[str]:
    return [str(cell["id"]) for cell in client.document.ycells]


def ids_on_disk(path: Path) -> list[str | None]:
    return [cell.get("id") for cell in json.loads(path.read_text())["cells"]]


@pytest.mark.also_other_managers
@pytest.mark.ycollab(**UNSAVED)
@pytest.mark.parametrize("flaw", FLAWS.values(), ids=FLAWS.keys())
async def test_a_change_on_disk_brings_back_no_cell_and_keeps_the_unsaved_edit(
    collab: Collab, flaw: Callable[..., None]
) -> None:
    path = collab.root / "flawed.ipynb"
    write_flawed(path, ["import math", "x = math.pi", "print(x)"], flaw)
    client = await collab.open_notebook("flawed.ipynb")
    cell_ids = room_ids(client)
    assert len(set(cell_ids)) == 3, f"the room's cells share ids: {cell_ids}"
    append(client.document.ycells[1]["source"], " / 2")

    write_flawed(path, ["import math  # changed outside", "x = math.pi", "print(x)"], flaw)
    merged = ["import math  # changed outside", "x = math.pi / 2", "print(x)"]
    await wait_until(lambda: cell_sources(client.document) == merged, 10, "the merge")
    merged_ids = room_ids(client)
    assert merged_ids[1:] == cell_ids[1:], "a cell the file did not change is the same cell"
    assert len(set(merged_ids)) == 3

    assert (await client.save(1))["status"] == "success"
    assert sources_on_disk(path) == merged
    assert ids_on_disk(path) == merged_ids


def move_first_cell_to_the_end(client: CollabClient[YNotebook]) -> None:
    """JupyterLab's move: the cell deleted and a copy of it, its id too, inserted, at once."""
    document = client.document
    cell = document.get_cell(0)
    with document.ydoc.transaction():
        document.ycells.pop(0)
        document.ycells.append(document.create_ycell(cell))


@pytest.mark.also_jupytext
@pytest.mark.also_other_managers
@pytest.mark.ycollab(**UNSAVED)
async def test_a_cell_two_pages_moved_at_once_gets_a_new_id_before_the_room_saves(
    collab: Collab,
) -> None:
    """Each page's copy stays (the CRDT's answer, the same with jupyter-collaboration), so two
    cells shared an id: the file then had a repeat nbformat 4.5 calls invalid (fast path), or
    an id the room lacked (nbformat's own repair), and a change made on disk after brought a
    cell back once more, while Ctrl-S answered ``success`` with the file one cell short."""
    path = collab.write_notebook("moved.ipynb", ["a = 1", "b = 2"])
    alice = await collab.open_notebook("moved.ipynb")
    bob = await collab.open_notebook("moved.ipynb")

    move_first_cell_to_the_end(alice)
    move_first_cell_to_the_end(bob)  # before either page heard the other's
    moved = ["b = 2", "a = 1", "a = 1"]
    for page in (alice, bob):
        await wait_until(lambda p=page: cell_sources(p.document) == moved, 5, "both moves")
    assert (await alice.save(1))["status"] == "success"

    in_room = room_ids(alice)
    assert len(set(in_room)) == 3, in_room
    assert sources_on_disk(path) == moved and ids_on_disk(path) == in_room
    await wait_until(lambda: room_ids(bob) == in_room, 5, "the new id on the other page")

    notebook = json.loads(path.read_text())  # then a change on disk (git pull, a script)
    notebook["cells"][0]["source"] = "b = 3"
    path.write_text(json.dumps(notebook, indent=1))
    changed = ["b = 3", "a = 1", "a = 1"]
    await wait_until(lambda: cell_sources(alice.document) == changed, 5, "the merge")
    assert (await alice.save(2))["status"] == "success"
    assert sources_on_disk(path) == changed and ids_on_disk(path) == room_ids(alice) == in_room
