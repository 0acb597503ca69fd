"""The document's way to the file: file ids to paths, and the server's contents manager.

Everything goes through the host's contents manager, so custom managers (S3, databases,
jupytext) keep working; rooms are keyed by file id, so a rename through Jupyter keeps the room.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from jupyter_core.utils import ensure_async
from tornado.web import HTTPError

from .content import DocumentKind
from .errors import LoadFailed, NotFound
from .localsave import os_path_of, reads_directly, save_rendered, signing_of, writes_directly
from .memory import give_back_freed_memory
from .readfile import ReadJob, read_notebook_file
from .render import Rendered, RenderJob, render
from .renderworker import RenderProcess
from .signatures import SignatureBatch

log = logging.getLogger(__name__)

#: Documents from this size on are rendered (and read) in the render process, not in a thread,
#: whose calls into Rust and C hold the GIL and so the event loop: a 1,000-cell notebook
#: (0.6 MB) stalled it ~7 ms per save in a thread, 1 ms with the process.
RENDER_PROCESS_MIN_BYTES = 64 * 1024


class FileIds(Protocol):
    def get_path(self, id: str) -> str | None: ...
    def get_id(self, path: str) -> str | None: ...
    def index(self, path: str) -> str | None: ...


@dataclass(frozen=True)
class FileState:
    """What we know of the file at one moment: enough to tell whether it changed."""

    stamp: tuple[Any, ...]  # cheap to get (a stat): when it moves, read and hash
    hash: str | None = None

    def same_stat(self, other: FileState) -> bool:
        return self.stamp == other.stamp


class Files:
    def __init__(
        self, contents_manager: Any, file_ids: FileIds, *, render_process: bool = True
    ) -> None:
        self.contents = contents_manager
        self.ids = file_ids
        # Local files are stat-ed directly (a syscall, not a contents model per room per poll).
        self._os_path: Callable[[str], str] | None = getattr(contents_manager, "_get_os_path", None)
        self._renderer = RenderProcess()
        #: Saved notebooks' signatures, stored together (flushed before reads and at close).
        self.signatures = SignatureBatch(contents_manager)
        self.render_process = render_process  # False: big documents too use worker threads
        self.render_process_min_bytes = RENDER_PROCESS_MIN_BYTES

    def path_of(self, file_id: str) -> str:
        path = self.ids.get_path(file_id)
        if path is None:
            raise NotFound(f"no file with id {file_id}")
        return path

    async def read(self, path: str, kind: DocumentKind) -> tuple[Any, FileState]:
        if kind.file_type == "notebook":
            await self.signatures.flush()  # a notebook saved just now must read as trusted
        stamp = await self._stamp(path, kind)  # before reading: a change in between shows later
        model = await self._get(path, kind, content=True)
        return model["content"], FileState(stamp, model.get("hash"))

    async def read_base(self, path: str, kind: DocumentKind) -> tuple[bytes, FileState] | None:
        """A local notebook's base, read and built off the loop (readfile.py); None when the
        contents manager must read it (not local, not stock, anything unusual in the file)."""
        if kind.file_type != "notebook" or not reads_directly(self.contents):
            return None
        cm = self.contents
        await self.signatures.flush()  # a notebook saved just now must read as trusted
        stamp = await self._stamp(path, kind)
        signing, database = signing_of(cm), cm.notary.store.db_file
        job = ReadJob(kind, cm._get_os_path(path), cm.hash_algorithm, signing, database)
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
        """The file's state without its content (hashing reads its bytes, not parsing them)."""
        stamp = await self._stamp(path, kind)
        if not with_hash:
            return FileState(stamp)
        if self._os_path is not None and reads_directly(self.contents):
            # The stock manager's get reads the whole file through anyio, then hashes it on the
            # event loop (a 20 MB notebook: ~10 ms): here, in chunks, in a worker thread.
            os_path = self._os_path(path)
            algorithm = str(self.contents.hash_algorithm)
            try:
                return FileState(stamp, await asyncio.to_thread(_file_hash, os_path, algorithm))
            except FileNotFoundError as error:
                raise NotFound(f"file {path!r} does not exist") from error
            except OSError as error:  # as the contents manager's errors other than 404
                raise LoadFailed(f"cannot read {path!r}: {error}") from error
        return FileState(stamp, (await self._get(path, kind, content=False)).get("hash"))

    def render_job(self, kind: DocumentKind, parts: tuple[bytes, ...], **fields: Any) -> RenderJob:
        """What rendering ``snapshot`` for a save takes: the file's bytes when the file is local
        (and the contents manager a stock one), else a contents model."""
        if not writes_directly(self.contents):
            return RenderJob(kind, parts, **fields)
        signing = signing_of(self.contents) if kind.file_type == "notebook" else None
        algorithm = str(self.contents.hash_algorithm)
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
        model = {"type": _cm_type(kind), "format": kind.file_format, "content": content}
        await ensure_async(self.contents.save(model, path))
        return await self.stat(path, kind, with_hash=True)

    async def write_rendered(self, path: str, kind: DocumentKind, rendered: Rendered) -> FileState:
        """Save what ``render`` made: its bytes directly, or its content through ``save``."""
        if rendered.data is None:
            return await self.write(path, kind, rendered.content)
        notebook = kind.file_type == "notebook"
        written = await save_rendered(
            self.contents, path, rendered, notebook=notebook, signatures=self.signatures
        )
        stamp = _local_stamp(written) if written is not None else await self._stamp(path, kind)
        return FileState(stamp, rendered.file_hash)

    async def close(self) -> None:
        await self.signatures.flush()
        await self._renderer.close()

    async def _stamp(self, path: str, kind: DocumentKind) -> tuple[Any, ...]:
        if self._os_path is not None:
            try:
                info = os.stat(os_path_of(self.contents, path))
            except (OSError, HTTPError) as error:
                raise NotFound(f"file {path!r} does not exist") from error
            return _local_stamp(info)
        model = await self._get(path, kind, content=False, require_hash=False)
        return (model.get("last_modified"), model.get("size"))

    async def exists(self, path: str) -> bool:
        return bool(await ensure_async(self.contents.file_exists(path)))

    async def _get(
        self, path: str, kind: DocumentKind, *, content: bool, require_hash: bool = True
    ) -> dict[str, Any]:
        try:
            model: dict[str, Any] = await ensure_async(
                self.contents.get(
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


def _local_stamp(info: os.stat_result) -> tuple[Any, ...]:
    """A local file's stamp: it moves when the file is written or replaced."""
    return (info.st_mtime_ns, info.st_size, info.st_ino)


def _file_hash(os_path: str, algorithm: str) -> str:
    """The file's hash as the contents manager computes it, without holding all of it."""
    digest = hashlib.new(algorithm)
    chunk = bytearray(1 << 20)
    with open(os_path, "rb", buffering=0) as file:
        while size := file.readinto(chunk):
            digest.update(memoryview(chunk)[:size])
    return digest.hexdigest()


def _render_here(job: RenderJob) -> Rendered:
    """A big document rendered in the server process (the render process is not ready): its
    transient objects (~70 MB for 10k cells) go back to the system, not to a kept peak."""
    try:
        return render(job)
    finally:
        give_back_freed_memory()
