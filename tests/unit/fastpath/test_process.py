"""The render process (fastpath/process.py, child.py) answers as ``render``
and ``read_notebook_file`` do in a thread: parts beside the pickle, merged snapshots back,
failures (a hung child too) as ``OSError``."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from pycrdt import Array, Doc, get_state

from jupyter_ycollab.codec.building import build_base
from jupyter_ycollab.codec.kinds import DocumentKind
from jupyter_ycollab.fastpath import child
from jupyter_ycollab.fastpath.process import CHILD_IMPORTS, RenderProcess
from jupyter_ycollab.fastpath.read import ReadJob, read_notebook_file
from jupyter_ycollab.fastpath.serialise import FastJob, Signing, render

from ...client import wait_until
from ...harness import make_notebook
from ..document.test_render import SIGNING, _rich_notebook

NOTEBOOK = DocumentKind.parse("json", "notebook")


@pytest.fixture
async def process() -> AsyncIterator[RenderProcess]:
    renderer = RenderProcess()
    await renderer.start()
    await wait_until(lambda: renderer.ready, 30, "the render process's imports")
    yield renderer
    await renderer.close()


async def test_a_render_in_the_process_is_the_same_as_in_a_thread(process: RenderProcess) -> None:
    base = build_base(NOTEBOOK, _rich_notebook())
    doc: Doc[Any] = Doc()
    doc.apply_update(base)
    doc.get("cells", type=Array)[0]["source"].insert(0, "# edited\n")
    edit = doc.get_update(get_state(base))
    job = FastJob(NOTEBOOK, (base, edit), base=base, to_bytes=True, signing=SIGNING)

    apart, here = await process.render(job), render(job)

    assert (apart.digest, apart.base_digest) == (here.digest, here.base_digest)
    assert (apart.data, apart.signature) == (here.data, here.signature)
    assert apart.data is not None
    assert apart.snapshot and apart.snapshot != base  # merged in the child, sent back


async def test_a_single_part_is_not_sent_back(process: RenderProcess) -> None:
    base = build_base(NOTEBOOK, _rich_notebook())
    rendered = await process.render(FastJob(NOTEBOOK, (base,), saved_digest="other"))
    assert rendered.snapshot is base and rendered.content is not None


async def test_a_read_in_the_process_is_the_same_as_in_a_thread(
    process: RenderProcess, tmp_path: Path
) -> None:
    path = tmp_path / "nb.ipynb"
    nbformat.write(make_notebook(["a", "b\nc"]), path)
    database = tmp_path / "signatures.db"
    sqlite3.connect(database).execute(
        "CREATE TABLE nbsignatures (id integer PRIMARY KEY AUTOINCREMENT, algorithm text,"
        " signature text, path text, last_seen timestamp)"
    )
    job = ReadJob(NOTEBOOK, str(path), "sha256", Signing(b"s", "sha256"), str(database))

    apart, here = await process.read(job), read_notebook_file(job)

    assert apart is not None and here is not None
    assert (apart.file_hash, apart.signature) == (here.file_hash, here.signature)


def test_the_child_imports_no_document_class_until_a_job_needs_one() -> None:
    """jupyter_ydoc loads every installed class at its import; the child must not (15 MB more
    with jupyterlab-chat's jupyter_server and JupyterCAD's pydantic, which the test extras have)."""
    listed = "import sys, jupyter_ycollab.fastpath.child; print(*sorted(sys.modules))"
    imported = subprocess.run(
        [sys.executable, "-c", CHILD_IMPORTS + listed], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "jupyter_ycollab.fastpath.serialise" in imported
    extensions = {"jupyter_server", "jupyterlab_chat", "jupytercad_core", "pydantic"}
    assert extensions.isdisjoint(imported)


@pytest.mark.parametrize(
    ("kind", "content"),
    [
        (DocumentKind.parse("text", "chat"), '{"messages": [], "metadata": {"topic": "t"}}'),
        (DocumentKind.parse("text", "jcad"), '{"objects": [], "metadata": {"topic": "t"}}'),
    ],
    ids=["jupyterlab-chat", "jupytercad"],
)
async def test_a_document_of_an_extension_renders_in_the_process_as_in_a_thread(
    process: RenderProcess, kind: DocumentKind, content: str
) -> None:
    """The child loads the class of the job's type itself (jupyter_ydoc found none there)."""
    base = build_base(kind, content)
    doc: Doc[Any] = Doc()
    doc.apply_update(base)
    kind.wrap(doc).set(content.replace('"t"', '"edited"'))
    job = FastJob(kind, (base, doc.get_update(get_state(base))), base=base)

    apart, here = await process.render(job), render(job)

    assert apart.content == here.content and '"topic": "edited"' in here.content


async def test_a_job_that_fails_in_the_process_raises_oserror(process: RenderProcess) -> None:
    with pytest.raises(OSError, match="failed"):
        await process.render(FastJob(NOTEBOOK, (b"not an update",)))
    rendered = await process.render(FastJob(NOTEBOOK, (build_base(NOTEBOOK, _rich_notebook()),)))
    assert rendered.content is not None  # the process serves the next job


async def test_queued_jobs_leave_the_servers_worker_threads_free(process: RenderProcess) -> None:
    """Jobs waiting for the render process hold no thread of the default executor: when they
    did, a few big documents reopening together made every ``to_thread`` of the server wait."""
    loop = asyncio.get_running_loop()
    loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(max_workers=2))
    base = build_base(NOTEBOOK, make_notebook([f"cell {i}\n" * 20 for i in range(2000)]))
    renders = [
        asyncio.ensure_future(process.render(FastJob(NOTEBOOK, (base,), digest_only=True)))
        for _ in range(4)
    ]
    await asyncio.sleep(0)
    await asyncio.to_thread(lambda: None)
    pending = sum(not render.done() for render in renders)
    await asyncio.gather(*renders)
    assert pending >= 3, f"a thread call waited for {4 - pending} renders"


async def test_freed_memory_goes_back_once_no_job_comes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not after every job: each job of a burst would fault its pages in again."""
    trims: list[int] = []
    monkeypatch.setattr(child, "give_back_freed_memory", lambda: trims.append(1))
    monkeypatch.setattr(child, "_IDLE_SECONDS", 60.0)
    jobs_out, jobs_in = (os.fdopen(fd, mode) for fd, mode in zip(os.pipe(), "rw", strict=True))
    results_out, results_in = (
        os.fdopen(fd, mode) for fd, mode in zip(os.pipe(), "rw", strict=True)
    )
    serving = threading.Thread(target=child.serve, args=(jobs_out.buffer, results_in.buffer))
    serving.start()
    base = build_base(NOTEBOOK, _rich_notebook())

    def exchange() -> None:
        job = FastJob(NOTEBOOK, (), digest_only=True)
        child.send(jobs_in.buffer, (job, False), [base])
        (ok, _), _ = child.receive(results_out.buffer)
        assert ok

    for _ in range(3):
        exchange()
    assert trims == []  # a burst keeps its memory
    monkeypatch.setattr(child, "_IDLE_SECONDS", 0.01)
    exchange()
    await wait_until(lambda: bool(trims), 10, "the idle child to give memory back")
    jobs_in.close()
    serving.join(10)
    assert not serving.is_alive()


async def test_a_child_that_gives_no_reply_is_killed_and_replaced(process: RenderProcess) -> None:
    job = FastJob(NOTEBOOK, (build_base(NOTEBOOK, _rich_notebook()),))
    await process.render(job)  # running
    child = process._child
    assert child is not None
    os.kill(child.pid, signal.SIGSTOP)  # hangs: reads nothing, answers nothing
    hung_after, process.reply_timeout = process.reply_timeout, 0.5

    with pytest.raises(OSError, match="no reply"):
        await process.render(job)

    assert child.wait(10) == -signal.SIGKILL
    process.reply_timeout = hung_after  # a new child's start counts: 0.5 s is too short on CI
    assert (await process.render(job)).content is not None  # a new child serves the next job


@pytest.fixture
def over_1024_files_open() -> Iterator[None]:
    """Files held open so that the next ones get descriptors past 1,024, as in a server with
    that many peers (sockets), where ``select`` refuses them with a ValueError."""
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    yield
    for fd in held:
        os.close(fd)


@pytest.mark.usefixtures("over_1024_files_open")
async def test_the_process_is_seen_ready_in_a_server_with_over_1024_files_open() -> None:
    """Once the process ran, opening a big document asks whether it is ready: that failed."""
    renderer = RenderProcess()
    try:
        await renderer.start()
        assert renderer._child is not None and renderer._child.stdout is not None
        assert renderer._child.stdout.fileno() >= 1024  # else this tests nothing
        await wait_until(lambda: renderer.ready, 30, "the render process's imports")
    finally:
        await renderer.close()


@pytest.mark.usefixtures("over_1024_files_open")
def test_the_child_serves_jobs_on_pipes_past_1024() -> None:
    """The child's loop waits on its pipe likewise (run here in a thread, as in the tests)."""
    jobs_out, jobs_in = (os.fdopen(fd, mode) for fd, mode in zip(os.pipe(), "rw", strict=True))
    results_out, results_in = (
        os.fdopen(fd, mode) for fd, mode in zip(os.pipe(), "rw", strict=True)
    )
    assert jobs_out.fileno() >= 1024  # else this tests nothing
    serving = threading.Thread(target=child.serve, args=(jobs_out.buffer, results_in.buffer))
    serving.start()
    job = FastJob(NOTEBOOK, (), digest_only=True)
    child.send(jobs_in.buffer, (job, False), [build_base(NOTEBOOK, _rich_notebook())])
    (ok, _), _ = child.receive(results_out.buffer)
    jobs_in.close()
    serving.join(10)
    assert ok and not serving.is_alive()
