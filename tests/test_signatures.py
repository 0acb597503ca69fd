"""Saved notebooks' trust signatures are stored in one transaction per short window
(fastpath/signatures.py), and nothing is lost or seen late through the server: a read flushes them
first, an explicit save is signed when it answers, shutdown flushes, a broken database falls
back to the notary's store."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import nbformat
import pytest
from pycrdt import Doc

from jupyter_ycollab.codec.content import read_content
from jupyter_ycollab.codec.kinds import DocumentKind

from .client import wait_until
from .harness import Collab, append, make_notebook, sources_on_disk

pytestmark = pytest.mark.fast_path_only(
    reason="the signature batch is the fast path's own (fastpath/signatures.py)"
)

NOTEBOOK = DocumentKind.parse("json", "notebook")
HTML = {"output_type": "display_data", "data": {"text/html": "<b>hi</b>"}, "metadata": {}}


def _signed_notebook(collab: Collab, name: str) -> Path:
    """A notebook with an HTML output, signed as trusted (as if run on this machine)."""
    notebook = make_notebook([f"x = {name!r}"])
    notebook.cells[0].outputs = [nbformat.from_dict(HTML)]
    collab.serverapp.contents_manager.notary.sign(notebook)
    path = collab.root / name
    nbformat.write(notebook, path)
    return path


def _in_database(collab: Collab, path: Path) -> bool:
    """Whether the notary's SQLite file holds the signature of the notebook at ``path``, read
    with a connection of our own (what another process, e.g. nbconvert, would see)."""
    notary = collab.serverapp.contents_manager.notary
    signature = notary.compute_signature(nbformat.read(path, as_version=4))
    db = sqlite3.connect(notary.store.db_file)
    try:
        query = "SELECT 1 FROM nbsignatures WHERE algorithm = ? AND signature = ?"
        return db.execute(query, (notary.algorithm, signature)).fetchone() is not None
    finally:
        db.close()


async def _autosave(collab: Collab, *names: str) -> list[Path]:
    """Open the signed notebooks ``names``, then type in each (opening reads, and a read flushes
    the batch), and wait until the autosaves wrote them."""
    paths = [_signed_notebook(collab, name) for name in names]
    clients = [await collab.open_notebook(name) for name in names]
    for client in clients:
        append(client.document.ycells[0]["source"], "2")
    for name, path in zip(names, paths, strict=True):
        await _wait_for_sources(path, [f"x = {name!r}2"])
    return paths


async def _wait_for_sources(path: Path, sources: list[str]) -> None:
    await wait_until(lambda: sources_on_disk(path) == sources, 10, f"{path.name} saved")


def _batch(collab: Collab, delay: float) -> Any:
    batch = collab.extension.manager.files.signatures
    batch.delay = delay
    return batch


async def test_autosaves_are_signed_together(collab: Collab) -> None:
    batch = _batch(collab, 60)  # longer than the test: only a flush stores them
    first, second = await _autosave(collab, "one.ipynb", "two.ipynb")

    assert (_in_database(collab, first), _in_database(collab, second)) == (False, False)
    assert batch.pending == 2

    await batch.flush()

    assert (_in_database(collab, first), _in_database(collab, second)) == (True, True)
    assert batch.pending == 0


async def test_the_batch_is_stored_after_its_delay(collab: Collab) -> None:
    _batch(collab, 0.2)
    (path,) = await _autosave(collab, "soon.ipynb")

    await wait_until(lambda: _in_database(collab, path), 10, "the signature stored")


@pytest.mark.parametrize("way", ["direct", "contents manager"])
async def test_a_notebook_saved_just_now_reads_as_trusted(collab: Collab, way: str) -> None:
    _batch(collab, 60)
    await _autosave(collab, "reread.ipynb")
    files = collab.extension.manager.files

    if way == "direct":
        read = await files.read_base("reread.ipynb", NOTEBOOK)
        assert read is not None
        doc: Doc[Any] = Doc()
        doc.apply_update(read[0])
        content = read_content(NOTEBOOK, doc)
    else:
        content, _ = await files.read("reread.ipynb", NOTEBOOK)

    assert content["cells"][0]["metadata"]["trusted"] is True


async def test_an_explicit_save_is_signed_when_it_answers(collab: Collab) -> None:
    _batch(collab, 60)
    path = _signed_notebook(collab, "asked.ipynb")
    client = await collab.open_notebook("asked.ipynb")
    append(client.document.ycells[0]["source"], "2")

    assert (await client.save(1))["status"] == "success"

    assert _in_database(collab, path)


async def test_shutdown_stores_what_waits(collab: Collab) -> None:
    _batch(collab, 60)
    (path,) = await _autosave(collab, "last.ipynb")

    await collab.extension.manager.stop()

    assert _in_database(collab, path)


async def test_a_broken_database_falls_back_to_the_notarys_store(
    collab: Collab, caplog: pytest.LogCaptureFixture
) -> None:
    batch = _batch(collab, 60)
    (path,) = await _autosave(collab, "broken.ipynb")
    notary = collab.serverapp.contents_manager.notary
    db = sqlite3.connect(notary.store.db_file)
    db.execute("DROP TABLE nbsignatures")  # our batch cannot write; the store recreates itself
    db.commit()
    db.close()

    await batch.flush()

    assert notary.check_signature(nbformat.read(path, as_version=4))
    assert "one by one" in caplog.text
