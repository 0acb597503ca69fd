"""The document's way to the file: file ids to paths, and the server's contents manager.

Everything goes through the host's contents manager, so custom managers (S3, databases,
jupytext) keep working; rooms are keyed by file id, so a rename through Jupyter keeps the room.
The manager is the server's *current* one, looked up at each use: an extension loaded after
ours may replace it (jupytext does, with a class derived from the stock one), and a document
read or saved through the manager we saw at startup would bypass it (a jupytext ``.py`` read as
notebook JSON, a paired ``.py`` never written). Only a plain stock manager gets the local fast
paths (fastpath/save.py, fastpath/read.py); any other gets its own ``get`` and ``save``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from typing import Any, Protocol

from jupyter_core.utils import ensure_async
from tornado.web import HTTPError

from ..codec.content import DocumentKind
from ..errors import LoadFailed, NotFound
from ..fastpath.process import RenderProcess
from ..fastpath.read import ReadJob, read_notebook_file
from ..fastpath.save import (
    os_path_of,
    reads_directly,
    save_rendered,
    signing_of,
    stats_directly,
    writes_directly,
)
from ..fastpath.signatures import SignatureBatch
from ..memory import give_back_freed_memory
from .filestate import FileState, file_hash, local_stamp, model_stamp, stat_stamp
from .render import Rendered, RenderJob, render

__all__ = ["FileIds", "FileState", "Files", "current_contents_manager"]

log = logging.getLogger(__name__)

#: Documents from this size on are rendered (and read) in the render process, not in a thread,
#: whose calls into Rust and C hold the GIL and so the event loop: a 1,000-cell notebook
#: (0.6 MB) stalled it ~7 ms per save in a thread, 1 ms with the process.
RENDER_PROCESS_MIN_BYTES = 64 * 1024


class FileIds(Protocol):
    def get_path(self, id: str) -> str | None: ...
    def get_id(self, path: str) -> str | None: ...
    def index(self, path: str) -> str | None: ...


def current_contents_manager(serverapp: Any) -> Callable[[], Any]:
    """The server's contents manager at the time of the call.

    ``web_app.settings["contents_manager"]`` first: it is the one Jupyter's own contents API
    serves, so a room's reads and saves go the way a save from the file browser goes;
    ``serverapp.contents_manager`` when the settings have none.
    """
    settings: dict[str, Any] = serverapp.web_app.settings

    def current() -> Any:
        manager = settings.get("contents_manager")
        return serverapp.contents_manager if manager is None else manager

    return current


class Files:
    def __init__(
        self,
        contents_manager: Callable[[], Any],
        file_ids: FileIds,
        *,
        render_process: bool = True,
    ) -> None:
        self._current_contents = contents_manager
        self.ids = file_ids
        self._renderer = RenderProcess()
        #: Saved notebooks' signatures, stored together (flushed before reads and at close), by
        #: contents manager (by id: each batch holds its manager, so an id is never reused).
        self._signatures: dict[int, SignatureBatch] = {}
        self.render_process = render_process  # False: big documents too use worker threads
        self.render_process_min_bytes = RENDER_PROCESS_MIN_BYTES

    @property
    def contents(self) -> Any:
        """The server's contents manager now (see the module's docstring)."""
        return self._current_contents()

    @property
    def keeps_cell_ids(self) -> bool:
        """Whether a notebook read now has the cell ids its file stores: yes with the stock
        manager (an ``.ipynb``); another may make them anew at each read (jupytext's scripts)."""
        return stats_directly(self.contents)

    @property
    def signatures(self) -> SignatureBatch:
        """The signature batch of the current contents manager (its notary, its database)."""
        cm = self.contents
        batch = self._signatures.get(id(cm))
        if batch is None:
            batch = self._signatures[id(cm)] = SignatureBatch(cm)
        return batch

    def path_of(self, file_id: str) -> str:
        path = self.ids.get_path(file_id)
        if path is None:
            raise NotFound(f"no file with id {file_id}")
        return path

    async def read(self, path: str, kind: DocumentKind) -> tuple[Any, FileState]:
        cm = self.contents
        if kind.file_type == "notebook":
            await self.signatures.flush()  # a notebook saved just now must read as trusted
        stamp = await self._stamp(cm, path, kind)  # before reading: a change in between shows
        model = await self._get(cm, path, kind, content=True)
        return model["content"], FileState(stamp, model.get("hash"))

    async def read_base(self, path: str, kind: DocumentKind) -> tuple[bytes, FileState] | None:
        """A local notebook's base, read and built off the loop (fastpath/read.py); None when the
        contents manager must read it (not local, not stock, anything unusual in the file)."""
        cm = self.contents
        if kind.file_type != "notebook" or not reads_directly(cm):
            return None
        await self.signatures.flush()  # a notebook saved just now must read as trusted
        stamp = await self._stamp(cm, path, kind)
        signing, database = signing_of(cm), cm.notary.store.db_file
        job = ReadJob(kind, os_path_of(cm, path), cm.hash_algorithm, signing, database)
        try:
            # Someone waits for this open: never behind another room's job (a base's digest,
            # a save), which for a 20 MB notebook takes as long as this read.
            if self.renders_apart(stamp[1]) and self._renderer.ready and not self._renderer.busy:
                read = await self._renderer.read(job)
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

    async def stat(self, path: str, kind: DocumentKind, *, with_hash: bool = False) -> FileState:
        """The file's state without its content (hashing reads its bytes, not parsing them):
        from the local file for a stock manager, else from the manager's ``get`` (one call)."""
        cm = self.contents
        if not stats_directly(cm):
            model = await self._get(cm, path, kind, content=False, require_hash=with_hash)
            return FileState(model_stamp(model), model.get("hash") if with_hash else None)
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

    def render_job(self, kind: DocumentKind, parts: tuple[bytes, ...], **fields: Any) -> RenderJob:
        """What rendering ``snapshot`` for a save takes: the file's bytes when the file is local
        (and the contents manager a stock one), else a contents model."""
        cm = self.contents
        if not writes_directly(cm):
            return RenderJob(kind, parts, **fields)
        signing = signing_of(cm) if kind.file_type == "notebook" else None
        algorithm = str(cm.hash_algorithm)
        return RenderJob(
            kind, parts, **fields, to_bytes=True, signing=signing, hash_algorithm=algorithm
        )

    async def render(self, job: RenderJob) -> Rendered:
        """``render(job)`` off the event loop: a big job in the render process, which starts if it
        does not run (~0.25 s: better than a big render in a thread, which freezes the loop)."""
        if not self.renders_apart(sum(map(len, job.parts))):
            return await asyncio.to_thread(render, job)
        try:
            return await self._renderer.render(job)
        except OSError as error:
            log.warning("Rendering in a thread instead: %s", error)
        return await asyncio.to_thread(_render_here, dataclasses.replace(job, remember=False))

    def renders_apart(self, size: int) -> bool:
        """Whether a document state of ``size`` bytes is rendered in the render process."""
        return self.render_process and size >= self.render_process_min_bytes

    def needs_render_process(self, size: int) -> bool:
        """Whether a save of a document of ``size`` bytes would start the render process."""
        return self.renders_apart(size) and not self._renderer.running

    async def prepare(self, size: int) -> None:
        """A document of ``size`` bytes changed: start the render process now if its saves need
        it, so that its imports are done before the first save (which waits for its delay)."""
        if self.needs_render_process(size):
            await self._renderer.start()

    async def write(self, path: str, kind: DocumentKind, content: Any) -> FileState:
        """Save ``content`` through the contents manager; return the file's state as our save
        left it.

        The hash comes from a look after ``save`` returned. If the file moved since the model
        ``save`` returned (a post-save hook changed it, or another program wrote right after
        us), that hash is not of what we wrote: the state then has none, so the next look reads
        the file and merges what changed instead of taking it for ours (and writing over it).
        """
        cm = self.contents
        model = {"type": _cm_type(kind), "format": kind.file_format, "content": content}
        saved = await ensure_async(cm.save(model, path))
        after = await self.stat(path, kind, with_hash=True)
        if stats_directly(cm) or not isinstance(saved, dict):
            return after  # a stock manager with a pre-save hook: stamps are stats, not models
        ours = model_stamp(saved)
        return after if ours == after.stamp else FileState(ours)

    async def write_rendered(self, path: str, kind: DocumentKind, rendered: Rendered) -> FileState:
        """Save what ``render`` made: its bytes directly, or its content through ``save``."""
        if rendered.data is None:
            return await self.write(path, kind, rendered.content)
        cm = self.contents
        if not writes_directly(cm):
            # Rendered to bytes for a stock manager that has been replaced (or hooked) since:
            # the new one must write it (jupytext: in the file's format), from a new render.
            raise OSError("the contents manager changed while the document was rendered")
        notebook = kind.file_type == "notebook"
        written = await save_rendered(
            cm, path, rendered, notebook=notebook, signatures=self.signatures
        )
        if not stats_directly(cm):  # a replaced ``get``: it says what the file's state is
            return await self.stat(path, kind, with_hash=True)
        return FileState(local_stamp(written), rendered.file_hash)

    async def close(self) -> None:
        for batch in list(self._signatures.values()):  # a replaced manager's too
            await batch.flush()
        await self._renderer.close()

    async def _stamp(self, cm: Any, path: str, kind: DocumentKind) -> tuple[Any, ...]:
        """A stat of the local file for a stock manager (a syscall, not a contents model per
        room per poll); else the manager's own ``last_modified`` and ``size``."""
        if stats_directly(cm):
            return stat_stamp(cm, path)
        model = await self._get(cm, path, kind, content=False, require_hash=False)
        return model_stamp(model)

    async def exists(self, path: str) -> bool:
        return bool(await ensure_async(self.contents.file_exists(path)))

    async def _get(
        self, cm: Any, path: str, kind: DocumentKind, *, content: bool, require_hash: bool = True
    ) -> dict[str, Any]:
        try:
            model: dict[str, Any] = await ensure_async(
                cm.get(
                    path,
                    content=content,
                    type=_cm_type(kind),
                    format=kind.file_format if content and kind.file_type != "notebook" else None,
                    require_hash=require_hash,
                )
            )
        except HTTPError as error:
            if error.status_code == 404:
                raise NotFound(f"file {path!r} does not exist") from error
            raise LoadFailed(f"cannot read {path!r}: {error.log_message}") from error
        return model


def _cm_type(kind: DocumentKind) -> str:
    """Contents managers know notebooks and files; custom document types are stored as files."""
    return "notebook" if kind.file_type == "notebook" else "file"


def _render_here(job: RenderJob) -> Rendered:
    """A big document rendered in the server process (the render process is not ready): its
    transient objects (~70 MB for 10k cells) go back to the system, not to a kept peak."""
    try:
        return render(job)
    finally:
        give_back_freed_memory()
