"""Hidden files (a name, or a folder's, starting with a dot: ``.env``, ``.git/``, ``.ssh/``):
Jupyter's contents API refuses them unless ``ContentsManager.allow_hidden``, and so does every
collaboration route, whichever way the document reaches its file. The fast path reads and
writes local files itself (fastpath/save.py ``os_path_of``): before it checked, it served a
hidden notebook to anyone who asked a session for its path."""

from __future__ import annotations

import json

import pytest

from .harness import Collab, append, cell_sources, sources_on_disk

HIDDEN = {
    "hidden-notebook": (".secret.ipynb", "notebook"),
    "in-a-hidden-folder": (".private/nb.ipynb", "notebook"),
    "text-in-a-hidden-folder": (".private/notes.txt", "file"),
}


@pytest.mark.also_jupytext
@pytest.mark.also_other_managers
@pytest.mark.parametrize(("name", "file_type"), HIDDEN.values(), ids=HIDDEN.keys())
async def test_a_hidden_file_is_refused_as_the_contents_api_refuses_it(
    collab: Collab, name: str, file_type: str
) -> None:
    if file_type == "notebook":
        path = collab.write_notebook(name, ["password = 'hunter2'"])
    else:
        path = collab.write_bytes(name, b"password = hunter2\n")
    before = path.read_bytes()
    assert (await collab.fetch("api", "contents", name, raise_error=False)).code == 404

    body = json.dumps({"format": "json" if file_type == "notebook" else "text", "type": file_type})
    status, reply = await collab.request("PUT", f"session/{name}", body=body)

    assert status == 404, reply
    assert "hunter2" not in json.dumps(reply)
    assert not collab.document_rooms
    assert collab.extension.manager.files.ids.get_id(name) is None  # as the contents API
    assert path.read_bytes() == before


async def test_with_allow_hidden_a_hidden_notebook_opens_and_saves(collab: Collab) -> None:
    collab.serverapp.contents_manager.allow_hidden = True
    path = collab.write_notebook(".private/nb.ipynb", ["a = 1"])
    alice = await collab.open_notebook(".private/nb.ipynb")
    assert cell_sources(alice.document) == ["a = 1"]

    append(alice.document.ycells[0]["source"], "2")

    assert (await alice.save(1))["status"] == "success"
    assert sources_on_disk(path) == ["a = 12"]
