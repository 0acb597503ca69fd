"""The ``fast_path`` option: on (the default), a stock contents manager's local notebooks are
read and written directly (fastpath/); off, rooms read them through the manager's ``get`` and
save them through its ``save``, as they do with every other manager (document/files.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import nbformat
import pytest

from jupyter_ycollab.document.files import Files
from jupyter_ycollab.fastpath.files import FastFiles

from .harness import Collab, append, cell_sources, read_notebook, sources_on_disk
from .test_save import contents_hash

# Each test sets ``fast_path`` itself: the suite's variants (conftest.py) would only repeat them.
pytestmark = pytest.mark.fast_path_only(reason="each test chooses the fast_path switch itself")


class ManagerCalls:
    """Counts the contents manager's ``get`` (with content) and ``save`` of one path, spied on
    its class: a stock manager stays a stock one (the fast path checks its class's methods)."""

    def __init__(self, collab: Collab, monkeypatch: pytest.MonkeyPatch, path: str) -> None:
        self.gets: list[str] = []
        self.saves: list[str] = []
        cls = type(collab.serverapp.contents_manager)
        get, save = cls.get, cls.save

        async def counted_get(cm: Any, api_path: str, content: bool = True, **kw: Any) -> Any:
            if api_path == path and content:
                self.gets.append(api_path)
            return await get(cm, api_path, content=content, **kw)

        async def counted_save(cm: Any, model: dict[str, Any], api_path: str) -> Any:
            if api_path == path:
                self.saves.append(api_path)
            return await save(cm, model, api_path)

        monkeypatch.setattr(cls, "get", counted_get)
        monkeypatch.setattr(cls, "save", counted_save)


async def _edit_and_save(collab: Collab, name: str) -> Path:
    path = collab.write_notebook(name, ["a = 1", "b = 2"])
    client = await collab.open_notebook(name)
    append(client.document.ycells[1]["source"], "0")
    client.document.dirty = True
    reply = await client.save(1)
    assert reply["status"] == "success"
    assert sources_on_disk(path) == ["a = 1", "b = 20"]
    state = client.document.ystate
    await client.wait_for(lambda: state.get("hash") == _hash_of(path), 5, "the saved file's hash")
    assert state["hash"] == await contents_hash(collab, name)
    return path


def _hash_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.ycollab(save_delay=60, max_save_delay=120, fast_path=False)
async def test_off_a_stock_notebook_is_read_with_get_and_saved_with_save(
    collab: Collab, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = collab.extension.manager.files
    assert type(files) is Files and not isinstance(files, FastFiles)
    calls = ManagerCalls(collab, monkeypatch, "nb.ipynb")

    await _edit_and_save(collab, "nb.ipynb")

    assert calls.gets == ["nb.ipynb"]  # the load
    assert calls.saves == ["nb.ipynb"]


@pytest.mark.ycollab(save_delay=60, max_save_delay=120)
async def test_on_a_stock_notebook_is_read_and_written_directly(
    collab: Collab, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(collab.extension.manager.files, FastFiles)
    calls = ManagerCalls(collab, monkeypatch, "nb.ipynb")

    await _edit_and_save(collab, "nb.ipynb")

    assert calls.gets == [] and calls.saves == []


@pytest.mark.ycollab(save_delay=60, max_save_delay=120, fast_path=False)
async def test_off_the_file_is_what_the_contents_manager_writes(collab: Collab) -> None:
    """Saved through ``save``: signed (trusted on reopen) and with a first checkpoint."""
    path = await _edit_and_save(collab, "signed.ipynb")
    cm = collab.serverapp.contents_manager
    assert cm.notary.check_signature(nbformat.read(path, as_version=4))
    assert await cm.list_checkpoints("signed.ipynb")
    assert cell_sources(read_notebook(path)) == ["a = 1", "b = 20"]
