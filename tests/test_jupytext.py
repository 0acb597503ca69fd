"""jupytext: its server extension replaces the contents manager after ours loads, and rooms must
read and save through the replacement: a percent-format ``.py`` opens, co-edits and saves as a
notebook written back in its own format; a paired notebook's ``.py`` follows every save; a
change made to the ``.py`` outside reaches the room; and with both files of a pair open, what
jupytext writes to one when the other is saved is merged with the unsaved edits there, not
written over them (jupytext/jupytext#1648, reported against jupyter-collaboration).

These tests run only as ``[jupytext]`` (conftest.py), whose server enables jupytext's extension
exactly as its ``jupyter_server_config.d`` file does in production (pytest-jupyter's isolated
config paths do not read that file, so the other variants run the stock manager); the harness
checks that jupytext's manager serves. Behaviour tests elsewhere marked ``also_jupytext`` run
under it too, on ``.ipynb`` files.
"""

from __future__ import annotations

import json
from pathlib import Path

import jupytext
import nbformat
import pytest
from jupyter_core.utils import ensure_async
from pycrdt import Text

from .client import wait_until
from .harness import Collab, append, cell_sources, everyone_holds, make_notebook

pytestmark = pytest.mark.jupytext_only

UNSAVED = {"save_delay": 60.0, "max_save_delay": 120.0}
SCRIPT = "# %%\na = 1\n\n# %%\nb = 2\n"
PAIRED = {"jupytext": {"formats": "ipynb,py:percent"}}


def script_cells(path: Path) -> list[str] | None:
    """Cell sources of a percent script on disk, or None while it is being rewritten."""
    return cells_of(path.read_text())


def cells_of(text: str) -> list[str] | None:
    """Cell sources of a percent script, or None for an empty one."""
    if not text.strip():
        return None
    return cell_sources(jupytext.reads(text, fmt="py:percent"))


def is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def write_paired(collab: Collab, name: str, sources: list[str]) -> tuple[Path, Path]:
    """A paired notebook as jupytext leaves it: the ``.ipynb``, then its ``.py`` (newer)."""
    notebook = make_notebook(sources)
    notebook.metadata.update(PAIRED)
    ipynb = collab.root / f"{name}.ipynb"
    nbformat.write(notebook, ipynb)
    script = collab.root / f"{name}.py"
    script.write_text(jupytext.writes(notebook, fmt="py:percent"))
    return ipynb, script


async def test_a_percent_script_opens_as_a_notebook_and_is_co_edited(
    collab: Collab,
) -> None:
    path = collab.write_bytes("s.py", SCRIPT.encode())
    alice = await collab.open_notebook("s.py")
    bob = await collab.open_notebook("s.py")
    assert cell_sources(alice.document) == ["a = 1", "b = 2"]

    append(alice.document.ycells[0]["source"], "  # alice")
    append(bob.document.ycells[1]["source"], "  # bob")

    expected = ["a = 1  # alice", "b = 2  # bob"]
    await everyone_holds(collab, "s.py", [alice, bob], expected)
    await wait_until(lambda: script_cells(path) == expected, 5, "both edits in the script")
    text = path.read_text()
    assert text == "# %%\na = 1  # alice\n\n# %%\nb = 2  # bob\n"
    assert not is_json(text)


@pytest.mark.ycollab(**UNSAVED)
async def test_ctrl_s_saves_a_script_notebook_in_its_format(collab: Collab) -> None:
    path = collab.write_bytes("s.py", SCRIPT.encode())
    client = await collab.open_notebook("s.py")
    hash_before = client.document.ystate.get("hash")
    append(client.document.ycells[1]["source"], "0")
    client.document.dirty = True

    reply = await client.save(5)

    assert reply == {"type": "save", "responseTo": 5, "status": "success"}
    assert path.read_text() == "# %%\na = 1\n\n# %%\nb = 20\n"
    state = client.document.ystate
    await client.wait_for(lambda: state.get("hash") != hash_before, 5, "a new hash")
    manager = collab.serverapp.web_app.settings["contents_manager"]
    model = await manager.get("s.py", content=False, require_hash=True)
    assert state["hash"] == model["hash"]


async def test_an_autosave_of_a_paired_notebook_writes_its_script_too(
    collab: Collab,
) -> None:
    ipynb, script = write_paired(collab, "nb", ["a = 1", "b = 2"])
    client = await collab.open_notebook("nb.ipynb")

    append(client.document.ycells[1]["source"], "  # typed")

    expected = ["a = 1", "b = 2  # typed"]
    await wait_until(lambda: script_cells(script) == expected, 5, "the edit in the script")
    assert cell_sources(nbformat.read(ipynb, as_version=4)) == expected
    assert "# %%\nb = 2  # typed\n" in script.read_text()


@pytest.mark.ycollab(**UNSAVED)
async def test_a_change_to_a_paired_script_outside_reaches_the_room(
    collab: Collab,
) -> None:
    ipynb, script = write_paired(collab, "nb", ["a = 1", "b = 2", "c = 3"])
    alice = await collab.open_notebook("nb.ipynb")
    bob = await collab.open_notebook("nb.ipynb")
    append(alice.document.ycells[0]["source"], "  # alice")  # unsaved while the file changes
    await everyone_holds(collab, "nb.ipynb", [alice, bob], ["a = 1  # alice", "b = 2", "c = 3"])

    script.write_text(script.read_text().replace("b = 2", "b = 20"))

    merged = ["a = 1  # alice", "b = 20", "c = 3"]
    await everyone_holds(collab, "nb.ipynb", [alice, bob], merged)
    assert (await alice.save(1))["status"] == "success"
    assert script_cells(script) == merged
    assert cell_sources(nbformat.read(ipynb, as_version=4)) == merged


@pytest.mark.ycollab(**UNSAVED)
async def test_a_script_changed_outside_merges_cell_by_cell_without_duplicates(
    collab: Collab,
) -> None:
    path = collab.write_bytes("s.py", b"# %%\na = 1\n\n# %%\nb = 2\n\n# %%\nc = 3\n")
    client = await collab.open_notebook("s.py")
    append(client.document.ycells[0]["source"], "  # typed")
    await everyone_holds(collab, "s.py", [client], ["a = 1  # typed", "b = 2", "c = 3"])

    # jupytext gives cells new random ids at each read: the merge must still match them.
    path.write_text("# %%\na = 1\n\n# %%\nb = 2\n\n# %%\nc = 30\n\n# %%\nd = 4\n")

    merged = ["a = 1  # typed", "b = 2", "c = 30", "d = 4"]
    await everyone_holds(collab, "s.py", [client], merged)
    source: Text = client.document.ycells[0]["source"]
    assert str(source) == "a = 1  # typed"
    assert (await client.save(1))["status"] == "success"
    assert (
        path.read_text() == "# %%\na = 1  # typed\n\n# %%\nb = 2\n\n# %%\nc = 30\n\n# %%\nd = 4\n"
    )


@pytest.mark.parametrize(
    "expected_errors", [[r"^\s*To access the server", r"(?i)post-save|sav\w* .*fail"]]
)
@pytest.mark.ycollab(**UNSAVED)
async def test_a_script_save_whose_post_save_hook_failed_is_not_merged_in_again(
    collab: Collab, expected_errors: list[str]
) -> None:
    """test_file_fate's post-save hook test for a script notebook, whose cell ids are new at
    each read (the digest of what the file holds cannot match the save's by ids)."""
    path = collab.write_bytes("s.py", SCRIPT.encode())
    client = await collab.open_notebook("s.py")
    failed: list[str] = []

    def fail_once(**_: object) -> None:
        if not failed:
            failed.append("once")
            raise RuntimeError("the post-save hook broke")

    collab.serverapp.web_app.settings["contents_manager"].register_post_save_hook(fail_once)
    append(client.document.ycells[1]["source"], "0")
    assert (await client.save(1))["status"] == "failed"
    assert path.read_text() == "# %%\na = 1\n\n# %%\nb = 20\n"
    append(client.document.ycells[1]["source"], "1")
    assert (await client.save(2))["status"] == "success"
    assert path.read_text() == "# %%\na = 1\n\n# %%\nb = 201\n"


@pytest.mark.ycollab(**UNSAVED)
async def test_both_files_of_a_pair_open_keep_each_others_unsaved_edits(
    collab: Collab,
) -> None:
    """jupytext/jupytext#1648: the notebook open in one tab, its ``.py`` in an editor in
    another. Saving one makes jupytext rewrite the other, or read it in place of the other: the
    other's room must merge that with what was typed in it and not saved yet, both ways."""
    ipynb, script = write_paired(collab, "nb", ["a = 1", "b = 2", "c = 3"])
    alice = await collab.open_notebook("nb.ipynb")
    bob = await collab.open_text("nb.py")
    append(alice.document.ycells[0]["source"], "  # alice")
    bob_source: Text = bob.document._ysource
    bob_source.insert(str(bob_source).index("c = 3") + len("c = 3"), "  # bob")

    async def bobs_room_holds_his_edit() -> bool:
        return "# bob" in await collab.server_text("nb.py")

    await wait_until(bobs_room_holds_his_edit, 5, "bob's edit in his room")

    assert (await alice.save(1))["status"] == "success"  # jupytext writes nb.py too

    both = ["a = 1  # alice", "b = 2", "c = 3  # bob"]
    await wait_until(lambda: cells_of(str(bob_source)) == both, 5, "bob to see both edits")
    assert script_cells(script) == ["a = 1  # alice", "b = 2", "c = 3"]
    append(alice.document.ycells[1]["source"], "  # alice again")
    await everyone_holds(collab, "nb.ipynb", [alice], [both[0], "b = 2  # alice again", "c = 3"])

    assert (await bob.save(2))["status"] == "success"  # jupytext reads nb.ipynb's inputs from it

    every_edit = ["a = 1  # alice", "b = 2  # alice again", "c = 3  # bob"]
    await everyone_holds(collab, "nb.ipynb", [alice], every_edit)
    assert (await alice.save(3))["status"] == "success"
    assert cell_sources(nbformat.read(ipynb, as_version=4)) == every_edit
    await wait_until(lambda: cells_of(str(bob_source)) == every_edit, 5, "bob to see them all")
    assert script_cells(script) == every_edit


@pytest.mark.ycollab(**UNSAVED)
async def test_a_pair_open_as_two_notebooks_keeps_each_others_unsaved_edits(
    collab: Collab,
) -> None:
    """The same with the ``.py`` opened as a notebook (jupytext's "Open as Notebook"): then a
    save of either writes both files."""
    ipynb, script = write_paired(collab, "nb", ["a = 1", "b = 2", "c = 3"])
    alice = await collab.open_notebook("nb.ipynb")
    bob = await collab.open_notebook("nb.py")
    append(alice.document.ycells[0]["source"], "  # alice")
    append(bob.document.ycells[2]["source"], "  # bob")
    await everyone_holds(collab, "nb.py", [bob], ["a = 1", "b = 2", "c = 3  # bob"])

    assert (await alice.save(1))["status"] == "success"

    both = ["a = 1  # alice", "b = 2", "c = 3  # bob"]
    await everyone_holds(collab, "nb.py", [bob], both)
    append(alice.document.ycells[1]["source"], "  # alice again")
    await everyone_holds(collab, "nb.ipynb", [alice], [both[0], "b = 2  # alice again", "c = 3"])

    assert (await bob.save(2))["status"] == "success"

    every_edit = ["a = 1  # alice", "b = 2  # alice again", "c = 3  # bob"]
    await everyone_holds(collab, "nb.ipynb", [alice], every_edit)
    assert (await alice.save(3))["status"] == "success"
    await everyone_holds(collab, "nb.py", [bob], every_edit)
    assert cell_sources(nbformat.read(ipynb, as_version=4)) == every_edit
    assert script_cells(script) == every_edit


async def hash_jupyterlab_checks(collab: Collab, path: str) -> str:
    """The hash JupyterLab's check before each save finds: ``GET /api/contents`` with no type."""
    response = await collab.fetch("api", "contents", path, params={"content": "0", "hash": "1"})
    model = json.loads(response.body)
    assert isinstance(model["hash"], str)
    return model["hash"]


@pytest.mark.ycollab(**UNSAVED)
async def test_a_paired_script_open_as_text_tells_the_hash_jupyterlab_checks(
    collab: Collab,
) -> None:
    """Before each Ctrl-S, JupyterLab asks the file's hash and compares it with the last one
    the room told it (``state.hash``): another shows "File Changed" (overwrite or revert).
    jupytext's hash of a paired script asked with no type is both files' together once it
    has read the notebook (the script asked as a file: its own alone), so it moves when the
    notebook is opened, or changed alone, while the script does not: the room must tell it."""
    ipynb, script = write_paired(collab, "nb", ["a = 1", "b = 2"])
    bob = await collab.open_text("nb.py")
    state = bob.document.ystate

    async def told_the_checked_hash() -> bool:
        return state.get("hash") == await hash_jupyterlab_checks(collab, "nb.py")

    await wait_until(told_the_checked_hash, 5, "the hash JupyterLab checks, at load")
    await collab.open_notebook("nb.ipynb")
    await wait_until(told_the_checked_hash, 5, "the hash, once the notebook is open")
    notebook = nbformat.read(ipynb, as_version=4)
    notebook.cells[0].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    nbformat.write(notebook, ipynb)
    await wait_until(told_the_checked_hash, 5, "the hash, once the notebook changed alone")
    bob.document._ysource += "# typed\n"
    assert (await bob.save(1))["status"] == "success"
    assert await told_the_checked_hash(), "the hash, as the save is answered"
    script.write_text(script.read_text().replace("b = 2", "b = 20"))
    await wait_until(lambda: "b = 20" in str(bob.document._ysource), 5, "the change outside")
    await wait_until(told_the_checked_hash, 5, "the hash, after a change outside")


@pytest.mark.ycollab(poll_interval=0)  # no look after the load: its read alone must be right
async def test_a_paired_script_read_while_jupytext_writes_the_pair_tells_the_hash_after(
    collab: Collab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """jupytext writes a pair's notebook, then its script; the script's hash asked with no type
    covers both. A room that looked at the script before such a save and read it after must
    not keep the hash of before as ``state.hash``, or the next Ctrl-S shows "File Changed"."""
    write_paired(collab, "nb", ["a = 1"])
    manager = collab.serverapp.web_app.settings["contents_manager"]
    notebook = await ensure_async(manager.get("nb.ipynb"))  # and jupytext knows the pair
    notebook["content"]["cells"][0]["source"] = "a = 2"
    get, saves = manager.get, [notebook]

    async def get_saving_the_pair_first(path: str, **options: object) -> dict[str, object]:
        if options.get("content") and path == "nb.py" and saves:  # the room reads the script
            await ensure_async(manager.save(saves.pop(), "nb.ipynb"))
        return await ensure_async(get(path, **options))

    monkeypatch.setattr(manager, "get", get_saving_the_pair_first)
    bob = await collab.open_text("nb.py")
    assert not saves and "a = 2" in str(bob.document._ysource), "read after the save"
    assert bob.document.ystate.get("hash") == await hash_jupyterlab_checks(collab, "nb.py")
