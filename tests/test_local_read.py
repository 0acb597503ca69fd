"""Local notebooks read directly (fastpath/read.py) give exactly the base the contents manager's
path gives (same CRDT items, same lineage, same trust marks), and anything unusual goes through
the contents manager."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import nbformat
import pytest
from pycrdt import Doc, get_state

from jupyter_ycollab.codec.building import build_base
from jupyter_ycollab.codec.content import read_content
from jupyter_ycollab.codec.kinds import DocumentKind
from jupyter_ycollab.fastpath.jobthread import URGENT

from .client import wait_until
from .harness import Collab, make_notebook
from .unit.document.test_render import _rich_notebook

pytestmark = pytest.mark.fast_path_only(
    reason="direct reads of local notebooks are the fast path's own (fastpath/read.py)"
)

NOTEBOOK = DocumentKind.parse("json", "notebook")
HTML = {"output_type": "display_data", "data": {"text/html": "<b>hi</b>"}, "metadata": {}}


def assert_same_items(ours: bytes, theirs: bytes) -> None:
    """Same content in the same CRDT items (clocks of the load's client id). Not byte equality:
    pycrdt encodes plain dict values in hash order."""
    assert get_state(ours) == get_state(theirs)
    assert read_content(NOTEBOOK, _doc(ours)) == read_content(NOTEBOOK, _doc(theirs))


def _doc(update: bytes) -> Doc[Any]:
    doc: Doc[Any] = Doc()
    doc.apply_update(update)
    return doc


def _with_html(minor: int = 5) -> Any:
    notebook = make_notebook(["x = 1", "y = 2"], minor=minor)
    notebook.cells[0].outputs = [nbformat.from_dict(HTML)]
    return notebook


@pytest.mark.parametrize(("signed", "minor"), [(True, 5), (False, 5), (True, 4), (False, 4)])
async def test_the_base_is_the_contents_managers(collab: Collab, signed: bool, minor: int) -> None:
    notebook = _with_html(minor)
    if signed:
        collab.serverapp.contents_manager.notary.sign(notebook)
    nbformat.write(notebook, collab.root / "nb.ipynb")
    files = collab.extension.manager.files

    direct = await files.read_base("nb.ipynb", NOTEBOOK)
    content, state = await files.read("nb.ipynb", NOTEBOOK)  # the contents manager's path

    assert direct is not None, "a local notebook is read directly"
    assert content["cells"][0]["metadata"]["trusted"] is signed
    assert_same_items(direct[0], build_base(NOTEBOOK, content))
    assert direct[1].hash == state.hash


async def test_a_rich_notebook_reads_as_through_the_contents_manager(collab: Collab) -> None:
    """Multi-line sources, outputs and attachments (written as lists of lines), transient
    metadata, and a file that kept a ``trusted`` flag."""
    content = _rich_notebook()
    content["metadata"]["orig_nbformat"] = 3
    content["cells"][1]["metadata"]["trusted"] = True
    nbformat.write(nbformat.from_dict(content), collab.root / "rich.ipynb")
    files = collab.extension.manager.files

    direct = await files.read_base("rich.ipynb", NOTEBOOK)
    through_cm, _ = await files.read("rich.ipynb", NOTEBOOK)

    assert direct is not None
    assert_same_items(direct[0], build_base(NOTEBOOK, through_cm))


@pytest.mark.parametrize(
    "data",
    [b"{not json", b'{"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": []}'],
)
async def test_anything_unusual_goes_through_the_contents_manager(
    collab: Collab, data: bytes
) -> None:
    collab.write_bytes("odd.ipynb", data)
    assert await collab.extension.manager.files.read_base("odd.ipynb", NOTEBOOK) is None


async def test_a_big_notebook_is_read_in_the_render_process(collab: Collab) -> None:
    files = collab.extension.manager.files
    files.render_process_min_bytes = 0
    await files.renderer.start()  # the process is used for reading once it runs
    await wait_until(lambda: files.renderer.ready, 30, "the render process to start")
    collab.write_notebook("big.ipynb", ["a", "b"])
    client = await collab.open_notebook("big.ipynb")
    assert [str(cell["source"]) for cell in client.document.ycells] == ["a", "b"]


async def test_an_open_does_not_wait_for_the_render_process(collab: Collab) -> None:
    """A job of another room is running there: the file is read in a thread instead."""
    files = collab.extension.manager.files
    files.render_process_min_bytes = 0
    await files.renderer.start()
    await wait_until(lambda: files.renderer.ready, 30, "the render process to start")
    release = threading.Event()
    blocker = asyncio.ensure_future(files.renderer._jobs.run(URGENT, lambda: release.wait(60)))
    await wait_until(lambda: files.renderer.busy, 10, "the render process to be busy")
    collab.write_notebook("big.ipynb", ["a", "b"])
    try:
        client = await collab.open_notebook("big.ipynb")
        assert [str(cell["source"]) for cell in client.document.ycells] == ["a", "b"]
        assert not blocker.done()
    finally:
        release.set()
        await blocker


@pytest.mark.parametrize("name", ["nb.ipynb", "notes.txt"])
async def test_a_local_files_hash_is_the_contents_managers_without_its_get(
    collab: Collab, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """Reopening a room from its log compares the file's hash: read in chunks in a thread, not
    through ``get`` (which reads the whole file, then hashes it on the event loop)."""
    if name.endswith(".ipynb"):
        collab.write_notebook(name, ["a" * 3_000_000, "b"])
        kind = NOTEBOOK
    else:
        collab.write_bytes(name, b"one\r\ntwo\r\n" * 500_000)
        kind = DocumentKind.parse("text", "file")
    cm = collab.serverapp.contents_manager
    expected = (await cm.get(name, content=False, require_hash=True))["hash"]

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the contents manager hashed the file")

    monkeypatch.setattr(cm, "_get_hash", refused)
    state = await collab.extension.manager.files.stat(name, kind, with_hash=True)
    assert state.hash == expected
