"""File > Revert to Checkpoint: the checkpoint restored through Jupyter's contents API becomes the
document for every peer, unsaved edits dropped, as a revert is meant to (web/checkpoints.py)."""

from __future__ import annotations

import json

import pytest
from pycrdt import Text

from jupyter_ycollab.history.records import parse_log
from jupyter_ycollab.logtools import latest_content

from .client import wait_until
from .harness import Collab, append, cell_sources, sources_on_disk

UNSAVED = {"save_delay": 60.0, "max_save_delay": 120.0}


async def server_has(collab: Collab, path: str, text: str) -> bool:
    return await collab.server_text(path) == text


async def make_checkpoint(collab: Collab, path: str) -> str:
    """What JupyterLab asks after a Ctrl-S (and at the first open of a file with none)."""
    response = await collab.fetch("api", "contents", path, "checkpoints", method="POST", body="")
    return str(json.loads(response.body)["id"])


async def restore(collab: Collab, path: str, checkpoint: str) -> None:
    """What File > Revert to Checkpoint asks, before it reloads the document."""
    url = ("api", "contents", path, "checkpoints", checkpoint)
    response = await collab.fetch(*url, method="POST", body="")
    assert response.code == 204


@pytest.mark.also_jupytext
@pytest.mark.also_other_managers
@pytest.mark.parametrize("checkpoint_is", ["the-last-save", "older-than-the-last-save"])
@pytest.mark.ycollab(**UNSAVED)
async def test_a_restored_checkpoint_is_what_every_peer_then_has(
    collab: Collab, checkpoint_is: str
) -> None:
    path = collab.write_notebook("nb.ipynb", ["a = 1", "b = 2"])
    alice = await collab.open_notebook("nb.ipynb")
    bob = await collab.open_notebook("nb.ipynb")
    checkpoint = await make_checkpoint(collab, "nb.ipynb")
    if checkpoint_is == "older-than-the-last-save":
        append(alice.document.ycells[0]["source"], "0")
        assert (await alice.save(1))["status"] == "success"
        assert sources_on_disk(path) == ["a = 10", "b = 2"]
    append(bob.document.ycells[1]["source"], "0")  # unsaved, to be dropped
    await alice.wait_for(lambda: cell_sources(alice.document)[1] == "b = 20", 5, "bob's edit")
    alice.document.dirty = True  # as the front end marks its unsaved edits

    await restore(collab, "nb.ipynb", checkpoint)

    for peer in (alice, bob):
        await peer.wait_for(lambda p=peer: cell_sources(p.document) == ["a = 1", "b = 2"], 5)
        await peer.wait_for(lambda p=peer: p.document.dirty is False, 5, "the mark cleared")
    assert sources_on_disk(path) == ["a = 1", "b = 2"]
    assert cell_sources(await collab.server_notebook("nb.ipynb")) == ["a = 1", "b = 2"]


@pytest.mark.also_other_managers
@pytest.mark.ycollab(**UNSAVED)
async def test_a_restored_checkpoint_of_a_text_file_is_its_text_again(collab: Collab) -> None:
    """The edit the revert dropped stays recoverable from the log set aside, as before a
    merge (``jupyter ycollab`` reads it), also when typed just before."""
    path = collab.write_bytes("notes.txt", b"one\r\ntwo\r\n")
    alice = await collab.open_text("notes.txt")
    checkpoint = await make_checkpoint(collab, "notes.txt")
    source = alice.ydoc.get("source", type=Text)
    source.insert(len(str(source)), "three\n")  # unsaved, to be dropped
    await wait_until(lambda: server_has(collab, "notes.txt", "one\ntwo\nthree\n"), 5, "the edit")

    await restore(collab, "notes.txt", checkpoint)

    await alice.wait_for(lambda: str(source) == "one\ntwo\n", 5, "the checkpoint's text")
    assert path.read_bytes() == b"one\r\ntwo\r\n"
    (kept,) = collab.extension.manager.settings.log_dir.glob("*.before-*.ylog")
    assert latest_content(parse_log(kept.read_bytes())) == "one\ntwo\nthree\n"
