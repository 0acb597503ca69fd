"""Saves to local files written directly (fastpath/save.py) keep what the contents manager's own
``save`` does: signatures, the first checkpoint, hooks, nbformat's bytes; a pre-save hook gets
the contents manager's path; big documents render in the render process."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest
from pycrdt import Text

from jupyter_ycollab.document.render import Rendered, RenderJob
from jupyter_ycollab.fastpath import process

from .client import wait_until
from .harness import Collab, append, cell_sources, make_notebook

pytestmark = pytest.mark.fast_path_only(
    reason="direct writes and the render process are the fast path's own (fastpath/save.py)"
)

HTML = {"output_type": "display_data", "data": {"text/html": "<b>hi</b>"}, "metadata": {}}


def _record_render_jobs(files: Any, monkeypatch: pytest.MonkeyPatch) -> list[RenderJob]:
    """The jobs ``files.render`` gets from now on, in order."""
    jobs: list[RenderJob] = []
    render = files.render

    async def recording(job: RenderJob) -> Rendered:
        jobs.append(job)
        return await render(job)

    monkeypatch.setattr(files, "render", recording)
    return jobs


def _signed_notebook(collab: Collab, name: str) -> Path:
    """A notebook with an HTML output, signed as trusted (as if run on this machine)."""
    notebook = make_notebook(["x = 1"])
    notebook.cells[0].outputs = [nbformat.from_dict(HTML)]
    collab.serverapp.contents_manager.notary.sign(notebook)
    path = collab.root / name
    nbformat.write(notebook, path)
    return path


@pytest.mark.ycollab(save_delay=60, max_save_delay=120)
async def test_a_trusted_notebook_stays_signed_and_gets_its_checkpoint(collab: Collab) -> None:
    path = _signed_notebook(collab, "signed.ipynb")
    cm = collab.serverapp.contents_manager
    saved: list[str] = []
    cm.register_post_save_hook(lambda os_path, model, contents_manager: saved.append(os_path))
    client = await collab.open_notebook("signed.ipynb")
    append(client.document.ycells[0]["source"], "2")

    assert (await client.save(1))["status"] == "success"

    on_disk = nbformat.read(path, as_version=4)
    assert cell_sources(on_disk) == ["x = 12"]
    assert cm.notary.check_signature(on_disk), "the saved notebook is no longer trusted"
    assert path.read_text() == nbformat.writes(on_disk) + "\n"  # nbformat's bytes exactly
    assert "trusted" not in on_disk.cells[0].metadata
    assert await cm.checkpoints.list_checkpoints("signed.ipynb")
    assert saved == [str(path)]


@pytest.mark.ycollab(save_delay=60, max_save_delay=120)
async def test_a_deleted_checkpoint_is_made_again_at_the_next_save(collab: Collab) -> None:
    """The checkpoint's place is remembered once made; deleting it (or its folder) after that
    must not leave the notebook without one."""
    collab.write_notebook("kept.ipynb", ["a"])
    cm = collab.serverapp.contents_manager
    client = await collab.open_notebook("kept.ipynb")
    append(client.document.ycells[0]["source"], "b")
    assert (await client.save(1))["status"] == "success"
    (first,) = await cm.checkpoints.list_checkpoints("kept.ipynb")
    checkpoint = Path(cm.checkpoints.checkpoint_path(first["id"], "kept.ipynb"))
    for save, deleted in ((2, checkpoint), (3, checkpoint.parent)):  # the file, the folder
        shutil.rmtree(deleted) if deleted.is_dir() else deleted.unlink()
        append(client.document.ycells[0]["source"], "c")
        assert (await client.save(save))["status"] == "success"
        assert checkpoint.is_file(), f"no checkpoint after {deleted.name} was deleted"
        assert "abc" in checkpoint.read_text()  # the file as saved after the deletion


@pytest.mark.parametrize("hooked", [False, True])
@pytest.mark.ycollab(save_delay=60, max_save_delay=120)
async def test_a_saves_stamp_is_the_file_as_left_after_the_save(
    collab: Collab, hooked: bool
) -> None:
    """The stamp the file poll compares with is the file's stat right after our write, before
    any post-save hook: a hook that changes the file (here: its mtime) is looked at next, not
    taken for our own write (test_outside_changes has one that changes the content)."""
    path = collab.write_notebook("stamped.ipynb", ["a"])
    if hooked:
        cm = collab.serverapp.contents_manager
        cm.register_post_save_hook(lambda os_path, **_: os.utime(os_path, ns=(1, 10**18)))
    client = await collab.open_notebook("stamped.ipynb")
    (room_id,) = collab.document_rooms
    document = collab.rooms[room_id].document
    append(client.document.ycells[0]["source"], "b")
    assert (await client.save(1))["status"] == "success"
    info = path.stat()
    assert (info.st_mtime_ns == 10**18) is hooked
    assert (
        document.file.known_state().stamp == (info.st_mtime_ns, info.st_size, info.st_ino)
    ) is not hooked


@pytest.mark.ycollab(save_delay=60, max_save_delay=120)
async def test_an_untrusted_notebook_is_saved_unsigned(collab: Collab) -> None:
    notebook = make_notebook(["x = 1"])
    notebook.cells[0].outputs = [nbformat.from_dict(HTML)]
    path = collab.root / "untrusted.ipynb"
    nbformat.write(notebook, path)
    client = await collab.open_notebook("untrusted.ipynb")
    append(client.document.ycells[0]["source"], "2")

    assert (await client.save(1))["status"] == "success"

    on_disk = nbformat.read(path, as_version=4)
    assert cell_sources(on_disk) == ["x = 12"]
    assert not collab.serverapp.contents_manager.notary.check_signature(on_disk)


@pytest.mark.ycollab(save_delay=60, max_save_delay=120)
async def test_a_pre_save_hook_gets_the_model_and_may_change_it(collab: Collab) -> None:
    path = collab.write_notebook("hooked.ipynb", ["a"])

    def stamp(model: dict[str, Any], path: str, contents_manager: Any) -> None:
        model["content"]["metadata"]["stamped"] = path

    collab.serverapp.contents_manager.register_pre_save_hook(stamp)
    client = await collab.open_notebook("hooked.ipynb")
    append(client.document.ycells[0]["source"], "b")

    assert (await client.save(1))["status"] == "success"

    on_disk = nbformat.read(path, as_version=4)
    assert cell_sources(on_disk) == ["ab"]
    assert on_disk.metadata["stamped"] == "hooked.ipynb"


@pytest.mark.ycollab(save_delay=60, max_save_delay=120)
async def test_big_documents_render_in_the_render_process(collab: Collab) -> None:
    files = collab.extension.manager.files
    files.render_process_min_bytes = 0  # every document counts as big
    await files.renderer.start()
    await wait_until(lambda: files.renderer.ready, 30, "the render process to start")
    path = collab.write_notebook("big.ipynb", ["a", "b"])
    text = collab.write_bytes("big.txt", b"one\r\ntwo\r\n")
    client = await collab.open_notebook("big.ipynb")
    append(client.document.ycells[1]["source"], "c")
    editor = await collab.open_text("big.txt")
    editor.ydoc.get("source", type=Text).insert(0, "zero\n")

    assert (await client.save(1))["status"] == "success"
    assert (await editor.save(2))["status"] == "success"

    assert cell_sources(nbformat.read(path, as_version=4)) == ["a", "bc"]
    assert text.read_bytes() == b"zero\r\none\r\ntwo\r\n"


@pytest.mark.ycollab(save_delay=60, max_save_delay=120)
async def test_a_failing_render_process_falls_back_to_a_thread(
    collab: Collab, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = collab.extension.manager.files
    files.render_process_min_bytes = 0

    async def broken(job: Any) -> Any:
        raise OSError("the render process stopped: killed")

    monkeypatch.setattr(files.renderer, "render", broken)
    path = collab.write_notebook("fallback.ipynb", ["a"])
    client = await collab.open_notebook("fallback.ipynb")
    append(client.document.ycells[0]["source"], "b")

    assert (await client.save(1))["status"] == "success"
    assert cell_sources(nbformat.read(path, as_version=4)) == ["ab"]


@pytest.mark.ycollab(save_delay=60, max_save_delay=120, render_process=False)
async def test_without_the_render_process_big_documents_use_threads(collab: Collab) -> None:
    files = collab.extension.manager.files
    files.render_process_min_bytes = 0  # every document would count as big
    path = collab.write_notebook("big.ipynb", ["a"])
    client = await collab.open_notebook("big.ipynb")
    append(client.document.ycells[0]["source"], "b")

    assert (await client.save(1))["status"] == "success"

    assert cell_sources(nbformat.read(path, as_version=4)) == ["ab"]
    assert files.renderer._child is None  # never started


@pytest.mark.ycollab(save_delay=60, max_save_delay=120, cleanup_delay=0.05)
async def test_a_big_documents_digest_is_logged_and_not_rendered_again_on_reopening(
    collab: Collab, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = collab.extension.manager.files
    files.render_process_min_bytes = 0  # every document counts as big
    collab.write_notebook("big.ipynb", ["a", "b"])
    client = await collab.open_notebook("big.ipynb")
    (room_id,) = collab.document_rooms
    history = collab.rooms[room_id].document.history
    source = client.document.ycells[0]["source"]
    append(source, "c")  # the first edit has the base digested; undone, nothing to save
    del source[1:2]
    await wait_until(lambda: history.base_digest is not None, 30, "the base's digest")
    digest = history.base_digest
    await history.read()  # every record committed
    await client.close()
    await wait_until(lambda: room_id not in collab.rooms, 10, "the room's eviction")

    jobs = _record_render_jobs(files, monkeypatch)
    again = await collab.open_notebook("big.ipynb")
    document = collab.rooms[room_id].document
    assert document.history.base_digest == digest
    append(again.document.ycells[1]["source"], "d")
    del again.document.ycells[1]["source"][1:2]
    writes = collab.watch_writes()
    assert (await again.save(1))["status"] == "success"  # nothing to write: the digest matched
    assert writes.count("big.ipynb") == 0
    assert [job.digest_only for job in jobs] == [False]  # the log knew the base's digest


@pytest.mark.ycollab(save_delay=60, max_save_delay=120)
async def test_the_render_process_runs_only_while_big_documents_are_edited(
    collab: Collab,
) -> None:
    files = collab.extension.manager.files
    files.render_process_min_bytes = 0  # every document counts as big
    renderer = files.renderer
    renderer._jobs.idle_after = 0.1
    path = collab.write_notebook("big.ipynb", ["a"])
    client = await collab.open_notebook("big.ipynb")
    assert not renderer.running  # opened and read: no save to prepare for

    append(client.document.ycells[0]["source"], "b")
    await wait_until(lambda: renderer.running, 30, "the render process to start")
    await wait_until(lambda: not renderer.running, 30, "the idle render process to exit")

    append(client.document.ycells[0]["source"], "c")
    assert (await client.save(1))["status"] == "success"  # started again for it
    assert cell_sources(nbformat.read(path, as_version=4)) == ["abc"]


@pytest.mark.parametrize("in_a_thread", [True, False], ids=["thread", "waits"])
@pytest.mark.ycollab(save_delay=60, max_save_delay=120)
async def test_a_ctrl_s_right_after_the_first_edit_waits_for_the_render_process_only_if_big(
    collab: Collab, monkeypatch: pytest.MonkeyPatch, in_a_thread: bool
) -> None:
    """The first edit starts the render process, whose imports take ~0.3 s (3 s here). A
    document under ``thread_while_starting_bytes`` saved meanwhile renders in a thread (a stall
    of a few ms) and answers at once; a bigger one waits, its stall in a thread being too long."""
    slow_start = "import time; time.sleep(3); " + process._CHILD_MAIN
    monkeypatch.setattr(process, "_CHILD_MAIN", slow_start)
    files = collab.extension.manager.files
    files.render_process_min_bytes = 0  # every document counts as big
    files.thread_while_starting_bytes = 1024 * 1024 if in_a_thread else 0
    path = collab.write_notebook("nb.ipynb", ["a"])
    client = await collab.open_notebook("nb.ipynb")
    append(client.document.ycells[0]["source"], "b")
    await wait_until(lambda: files.renderer.running, 5, "the render process to start")

    reply = await client.save(1, timeout=2.5 if in_a_thread else 30)

    assert reply["status"] == "success"
    assert cell_sources(nbformat.read(path, as_version=4)) == ["ab"]
    assert files.renderer.ready is not in_a_thread  # answered before it was up, or after


@pytest.mark.ycollab(save_delay=60, max_save_delay=120)
async def test_a_save_waits_for_the_bases_digest_instead_of_rendering_the_base_again(
    collab: Collab, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = collab.extension.manager.files
    files.render_process_min_bytes = 0  # every document counts as big
    jobs = _record_render_jobs(files, monkeypatch)
    collab.write_notebook("big.ipynb", ["a"])
    client = await collab.open_notebook("big.ipynb")
    append(client.document.ycells[0]["source"], "b")  # starts the process and the digest

    assert (await client.save(1))["status"] == "success"  # asked for at once

    digest, save = [(job.digest_only, job.base is not None) for job in jobs]
    assert digest == (True, False) and save == (False, False)  # the base rendered once


@pytest.mark.ycollab(save_delay=60, max_save_delay=120)
async def test_a_big_documents_base_is_digested_ahead_with_the_render_process_already_running(
    collab: Collab, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = collab.extension.manager.files
    files.render_process_min_bytes = 0  # every document counts as big
    collab.write_notebook("first.ipynb", ["a"])
    collab.write_notebook("second.ipynb", ["x"])
    first = await collab.open_notebook("first.ipynb")
    (room_id,) = collab.document_rooms
    history = collab.rooms[room_id].document.history
    append(first.document.ycells[0]["source"], "b")
    # The first base's digest done: only the second document's jobs are recorded below.
    await wait_until(lambda: history.base_digest is not None, 30, "the first base's digest")
    assert files.renderer.running
    jobs = _record_render_jobs(files, monkeypatch)
    second = await collab.open_notebook("second.ipynb")
    append(second.document.ycells[0]["source"], "y")

    assert (await second.save(1))["status"] == "success"

    digest, save = [(job.digest_only, job.base is not None) for job in jobs]
    assert digest == (True, False) and save == (False, False)
