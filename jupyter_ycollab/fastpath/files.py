"""``FastFiles``: the document's way to its file (document/files.py's ``Files``) with the fast
path, chosen once in app.py (the ``fast_path`` option).

While the contents manager is a plain stock one (checked at each use: jupytext replaces it after
we load), local files are read (read.py), stat-ed, hashed and written (save.py) directly, their
trust signatures stored in batches (signatures.py); any other manager gets ``Files``' own ``get``
and ``save``. With either, big documents are rendered (and read) in the render process
(process.py), which starts while a big document's first save waits for its delay.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from ..codec.kinds import DocumentKind
from ..document.files import FileIds, Files, FileState, SavePreparation, stock_get
from ..document.render import Rendered, RenderJob
from ..errors import LoadFailed, NotFound
from ..history.history import History
from ..memory import give_back_freed_memory
from .prepare import BigDocumentPreparation
from .process import RenderProcess
from .read import ReadJob, read_notebook_file
from .save import (
    file_hash,
    local_stamp,
    os_path_of,
    reads_directly,
    save_rendered,
    signing_of,
    stat_stamp,
    writes_directly,
)
from .serialise import FastJob, RenderedBytes, render
from .signatures import SignatureBatch

log = logging.getLogger(__name__)

#: Documents from this size on are rendered (and read) in the render process, not in a thread,
#: whose calls into Rust and C hold the GIL and so the event loop: a 1,000-cell notebook
#: (0.6 MB) stalled it ~7 ms per save in a thread, 1 ms with the process.
RENDER_PROCESS_MIN_BYTES = 64 * 1024
#: Below this size, a document renders in a thread while the render process starts (~0.3 s from
#: its first edit): a 1,000-cell notebook's Ctrl-S then took 0.5 s, waiting. Bigger ones wait,
#: as their stall in a thread (a few ms for 1,000 cells) would be too long for everyone else.
THREAD_WHILE_STARTING_BYTES = 1024 * 1024


class FastFiles(Files):
    """``Files`` with the fast path for stock contents managers (see the module's docstring)."""

    def __init__(
        self,
        contents_manager: Callable[[], Any],
        ids: Callable[[], FileIds],
        *,
        render_process: bool = True,
    ) -> None:
        super().__init__(contents_manager, ids)
        self.renderer = RenderProcess()
        #: Saved notebooks' signatures, stored together (flushed before reads and at close), by
        #: contents manager (by id: each batch holds its manager, so an id is never reused).
        self._signatures: dict[int, SignatureBatch] = {}
        self.render_process = render_process  # False: big documents too use worker threads
        self.render_process_min_bytes = RENDER_PROCESS_MIN_BYTES
        self.thread_while_starting_bytes = THREAD_WHILE_STARTING_BYTES

    @property
    def signatures(self) -> SignatureBatch:
        """The signature batch of the current contents manager (its notary, its database)."""
        cm = self.contents
        batch = self._signatures.get(id(cm))
        if batch is None:
            batch = self._signatures[id(cm)] = SignatureBatch(cm)
        return batch

    async def read(self, path: str, kind: DocumentKind) -> tuple[Any, FileState]:
        if kind.file_type == "notebook":
            await self.signatures.flush()  # a notebook saved just now must read as trusted
        return await super().read(path, kind)

    async def read_base(self, path: str, kind: DocumentKind) -> tuple[bytes, FileState] | None:
        """A local notebook's base, read and built off the loop (read.py); None when the
        contents manager must read it (not local, not stock, anything unusual in the file)."""
        cm = self.contents
        if kind.file_type != "notebook" or not reads_directly(cm):
            return None
        await self.signatures.flush()  # a notebook saved just now must read as trusted
        stamp = stat_stamp(cm, path)
        signing, database = signing_of(cm), cm.notary.store.db_file
        job = ReadJob(kind, os_path_of(cm, path), cm.hash_algorithm, signing, database)
        try:
            # Someone waits for this open: never behind another room's job (a base's digest,
            # a save), which for a 20 MB notebook takes as long as this read.
            if self.renders_apart(stamp[1]) and self.renderer.ready and not self.renderer.busy:
                read = await self.renderer.read(job)
            else:
                read = await asyncio.to_thread(read_notebook_file, job)
        except OSError as error:
            log.debug("Reading %s through the contents manager: %s", path, error)
            return None
        if read is None:
            return None
        if read.signature is not None:  # as the contents manager's check: keep it recently seen
            cm.notary.store.check_signature(read.signature, signing.algorithm)
        cm.emit(data={"action": "get", "path": path})
        return read.base, FileState(stamp, read.file_hash)

    async def _look(self, cm: Any, path: str, kind: DocumentKind, *, with_hash: bool) -> FileState:
        """For a stock manager, the local file's stat, and its bytes hashed (not parsed); any
        other manager (jupytext's, which derives from the stock one; a subclass) has its own
        idea of a file's ``last_modified`` and ``hash``: only its ``get`` may say."""
        if not stock_get(cm):
            return await super()._look(cm, path, kind, with_hash=with_hash)
        stamp = stat_stamp(cm, path)
        if not with_hash:
            return FileState(stamp)
        # The stock manager's get reads the whole file through anyio, then hashes it on the
        # event loop (a 20 MB notebook: ~10 ms): here, in chunks, in a worker thread.
        os_path = os_path_of(cm, path)
        algorithm = str(cm.hash_algorithm)
        try:
            return FileState(stamp, await asyncio.to_thread(file_hash, os_path, algorithm))
        except FileNotFoundError as error:
            raise NotFound(f"file {path!r} does not exist") from error
        except OSError as error:  # as the contents manager's errors other than 404
            raise LoadFailed(f"cannot read {path!r}: {error}") from error

    def save_preparation(self, kind: DocumentKind, history: History) -> SavePreparation:
        return BigDocumentPreparation(self, kind, history)

    def render_job(self, kind: DocumentKind, parts: tuple[bytes, ...], **fields: Any) -> FastJob:
        """What rendering ``snapshot`` for a save takes: the file's bytes when the file is local
        (and the contents manager a stock one), else a contents model."""
        cm = self.contents
        if not writes_directly(cm):
            return FastJob(kind, parts, **fields)
        signing = signing_of(cm) if kind.file_type == "notebook" else None
        algorithm = str(cm.hash_algorithm)
        return FastJob(
            kind, parts, **fields, to_bytes=True, signing=signing, hash_algorithm=algorithm
        )

    async def render(self, job: RenderJob) -> Rendered:
        """``render(job)`` off the event loop: a big job in the render process, which starts if it
        does not run (~0.3 s: better than a big render in a thread, which freezes the loop; a
        job under ``THREAD_WHILE_STARTING_BYTES`` goes to a thread meanwhile)."""
        assert isinstance(job, FastJob), "made by render_job (or prepare.py)"
        size = sum(map(len, job.parts))
        if not self.renders_apart(size):
            return await asyncio.to_thread(render, job)
        if size >= self.thread_while_starting_bytes or self.renderer.ready:
            try:
                return await self.renderer.render(job)
            except OSError as error:
                log.warning("Rendering in a thread instead: %s", error)
        return await asyncio.to_thread(_render_here, dataclasses.replace(job, remember=False))

    def renders_apart(self, size: int) -> bool:
        """Whether a document state of ``size`` bytes is rendered in the render process."""
        return self.render_process and size >= self.render_process_min_bytes

    async def write_rendered(self, path: str, kind: DocumentKind, rendered: Rendered) -> FileState:
        """Save what ``render`` made: its bytes directly, or its content through ``save``."""
        if not isinstance(rendered, RenderedBytes):
            return await super().write_rendered(path, kind, rendered)
        cm = self.contents
        if not writes_directly(cm):
            # Rendered to bytes for a stock manager that has been replaced (or hooked) since:
            # the new one must write it (jupytext: in the file's format), from a new render.
            raise OSError("the contents manager changed while the document was rendered")
        notebook = kind.file_type == "notebook"
        written = await save_rendered(
            cm, path, rendered, notebook=notebook, signatures=self.signatures
        )
        if not stock_get(cm):  # a replaced ``get``: it says what the file's state is
            return await self.stat(path, kind, with_hash=True)
        return FileState(local_stamp(written), rendered.file_hash)

    async def flush(self) -> None:
        await self.signatures.flush()

    async def close(self) -> None:
        for batch in list(self._signatures.values()):  # a replaced manager's too
            await batch.flush()
        await self.renderer.close()

    def _model_stamps(self, cm: Any) -> bool:
        return not stock_get(cm)  # a stock manager with a pre-save hook: stats


def _render_here(job: FastJob) -> Rendered:
    """A big document rendered in the server process (the render process is not ready): its
    transient objects (~70 MB for 10k cells) go back to the system, not to a kept peak."""
    try:
        return render(job)
    finally:
        give_back_freed_memory()
