"""Each variant of the suite (conftest.py) runs the way to the file it names: ``[fast]`` and
``[sync]`` (the stock managers) hold the fast path's files object and write the file itself;
every other variant saves through the contents manager's own ``save``, and ``[contents]`` (the
fast path switched off) holds the plain files object, so that nothing of the fast path can step
in."""

from __future__ import annotations

from typing import Any

import pytest

from .client import wait_until
from .harness import Collab, Variant, append, sources_on_disk


def count_saves(collab: Collab, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the server's contents manager is asked to save from now on, counted in its
    class: a ``save`` replaced on the instance would make the fast path step aside."""
    manager_class = type(collab.serverapp.web_app.settings["contents_manager"])
    save, saved = manager_class.save, []

    def counting(self: Any, model: dict[str, Any], path: str) -> Any:
        saved.append(path)
        return save(self, model, path)

    monkeypatch.setattr(manager_class, "save", counting)
    return saved


def fast_files() -> type:
    """The fast path's files class, imported when asked: it lands with the ``fast_path``
    switch, and until then only the test that asks fails, not the suite's collection."""
    from jupyter_ycollab.fastpath.files import FastFiles

    return FastFiles


@pytest.mark.also_other_managers
@pytest.mark.also_jupytext
@pytest.mark.ycollab(save_delay=60, max_save_delay=120)
async def test_each_variant_reaches_the_file_the_way_it_names(
    collab: Collab, variant: Variant, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = collab.write_notebook("nb.ipynb", ["a = 1"])
    client = await collab.open_notebook("nb.ipynb")
    saved = count_saves(collab, monkeypatch)

    append(client.document.ycells[0]["source"], "0")
    assert (await client.save(1))["status"] == "success"
    await wait_until(lambda: sources_on_disk(path) == ["a = 10"], 5, "the save on disk")

    if variant.name in ("fast", "sync"):  # the stock managers, asynchronous and not
        assert saved == [], "the fast path writes the file itself"
        assert isinstance(collab.extension.manager.files, fast_files())
    else:
        assert saved == ["nb.ipynb"], f"{variant.name}: through the contents manager's save"
    if variant.name == "contents":
        files = collab.extension.manager.files
        assert not isinstance(files, fast_files()), "fast_path = False keeps the fast path out"
