"""A notebook made new in JupyterLab (the launcher, File > New) has no cells in its file. Its
room loads it with one empty code cell, as jupyter_ydoc loads it: JupyterLab's collaborative
notebook adds no cell of its own, so without it a new notebook showed nothing to type in.
Opening it writes nothing; what is typed in that cell is saved, and found once on reopening."""

from __future__ import annotations

import json

import pytest

from .client import wait_until
from .harness import Collab, append, cell_sources, sources_on_disk

pytestmark = pytest.mark.ycollab(save_delay=0.2, max_save_delay=2.0, cleanup_delay=0.5)


async def new_notebook(collab: Collab) -> str:
    """A notebook made as JupyterLab's launcher makes one (``POST /api/contents``): its path."""
    body = json.dumps({"type": "notebook"})
    response = await collab.fetch("api", "contents", method="POST", body=body)
    path: str = json.loads(response.body)["path"]
    assert json.loads((collab.root / path).read_text())["cells"] == []
    return path


@pytest.mark.also_other_managers
async def test_a_new_notebook_opens_with_one_empty_code_cell_and_opening_it_writes_nothing(
    collab: Collab,
) -> None:
    path = await new_notebook(collab)
    data = (collab.root / path).read_bytes()
    writes = collab.watch_writes()
    alice = await collab.open_notebook(path)
    bob = await collab.open_notebook(path)

    for client in (alice, bob):
        (cell,) = client.document.get()["cells"]
        assert (cell["cell_type"], cell["source"], cell["outputs"]) == ("code", "", [])
    assert alice.document.get() == bob.document.get()

    (room_id,) = collab.document_rooms
    alice.document.ystate["document_id"] = room_id  # as the front end writes after its sync
    await alice.close()
    await bob.close()
    await collab.room_closed(room_id)
    assert (collab.root / path).read_bytes() == data
    assert writes.count(path) == 0


@pytest.mark.also_jupytext
@pytest.mark.also_other_managers
async def test_what_is_typed_in_a_new_notebooks_cell_is_saved_and_found_once_on_reopening(
    collab: Collab,
) -> None:
    path = await new_notebook(collab)
    alice = await collab.open_notebook(path)
    bob = await collab.open_notebook(path)

    append(alice.document.ycells[0]["source"], "x = 1")

    await bob.wait_for(lambda: cell_sources(bob.document) == ["x = 1"])
    await wait_until(lambda: sources_on_disk(collab.root / path) == ["x = 1"], 10, "the save")
    (room_id,) = collab.document_rooms
    await alice.close()
    await bob.close()
    await collab.room_closed(room_id)
    again = await collab.open_notebook(path)
    assert cell_sources(again.document) == ["x = 1"]
