"""The document's way to the file: file ids to paths, the server's contents manager, and what
we know of a file at one moment (``FileState``).

Everything goes through the host's contents manager, so custom managers (S3, databases,
jupytext) keep working; rooms are keyed by file id, so a rename through Jupyter keeps the room.
The manager is the server's *current* one, looked up at each use: an extension loaded after
ours may replace it (jupytext does, with a class derived from the stock one), and a document
read or saved through the manager we saw at startup would bypass it (a jupytext ``.py`` read as
notebook JSON, a paired ``.py`` never written).

``Files`` uses only the manager's own ``get`` and ``save``: what every manager but the stock one
gets, and what the stock one gets with the fast path off. The fast path (fastpath/files.py,
chosen in app.py) reads, stats and writes a stock manager's local files directly; the document
calls the same methods either way, and ``save_preparation`` for what its saves want done ahead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from jupyter_core.utils import ensure_async
from jupyter_server.services.contents import filemanager, largefilemanager
from tornado.web import HTTPError

from ..codec.digest import digest_of
from ..codec.kinds import DocumentKind
from ..errors import LoadFailed, NotFound
from ..history.history import History
from .render import Rendered, RenderJob, render

#: Exact classes: a subclass may override any step (``get``, ``save``, checkpoints).
STOCK_MANAGERS = (
    largefilemanager.AsyncLargeFileManager,
    filemanager.AsyncFileContentsManager,
    largefilemanager.LargeFileManager,
    filemanager.FileContentsManager,
)


@dataclass(frozen=True)
class FileState:
    """What we know of the file at one moment: enough to tell whether it changed."""

    #: Cheap to get: when it moves, read and hash. The contents manager's own ``last_modified``
    #: and ``size`` (``model_stamp``); the fast path's, for a stock manager, is a stat of the
    #: local file (fastpath/save.py).
    stamp: tuple[Any, ...]
    hash: str | None = None

    @property
    def size(self) -> int | None:
        """The file's size in bytes, if its stamp holds it (both kinds of stamp keep it second)."""
        size = self.stamp[1] if len(self.stamp) > 1 else None
        return size if isinstance(size, int) else None


def model_stamp(model: dict[str, Any]) -> tuple[Any, ...]:
    """A contents model's stamp. jupytext's ``last_modified`` of a paired notebook is that of
    its text file (where the inputs are read from), and its ``size`` the notebook's: a change
    to either file shows."""
    return (model.get("last_modified"), model.get("size"))


class FileIds(Protocol):
    def get_path(self, id: str) -> str | None: ...
    def get_id(self, path: str) -> str | None: ...
    def index(self, path: str) -> str | None: ...
    def move(self, old_path: str, new_path: str) -> str | None: ...
    def delete(self, path: str) -> None: ...


def stock_get(cm: Any) -> bool:
    """Whether the contents manager ``cm`` is a stock one whose ``get`` nobody replaced: one that
    reads the file itself (an ``.ipynb`` with its cell ids; its stat is its state)."""
    return type(cm) in STOCK_MANAGERS and getattr(cm.get, "__func__", None) is type(cm).get


class SavePreparation:
    """What one document's saves want done ahead of them, from its changes on: nothing here (the
    fast path starts its render process and digests a big document's base)."""

    def changed(self, newline: str) -> None:
        """The document changed (``newline``: its file's line ending)."""

    async def done(self) -> None:
        """Wait for what was started ahead, before a save."""

    async def close(self) -> None:
        """Stop what was started ahead (the document closes)."""


class Files:
    """Files read, stat-ed and saved through the contents manager's ``get`` and ``save``."""

    def __init__(self, contents_manager: Callable[[], Any], ids: Callable[[], FileIds]) -> None:
        self._current_contents = contents_manager
        self._current_ids = ids

    @property
    def contents(self) -> Any:
        """The server's contents manager now (see the module's docstring)."""
        return self._current_contents()

    @property
    def ids(self) -> FileIds:
        """jupyter_server_fileid's manager, looked up at each use (app.py says why)."""
        return self._current_ids()

    @property
    def keeps_cell_ids(self) -> bool:
        """Whether a notebook read now has the cell ids its file stores: yes with the stock
        manager (but for ids that repeat or lack, which nbformat makes anew at each read: the
        merge matches those by content, merge/cellids.py); another may make them anew at each
        read (jupytext's scripts)."""
        return stock_get(self.contents)

    def path_of(self, file_id: str) -> str:
        path = self.ids.get_path(file_id)
        if path is None:
            raise NotFound(f"no file with id {file_id}")
        return path

    async def exists(self, path: str) -> bool:
        """Whether the contents API would serve ``path`` (a hidden one only if ``allow_hidden``)."""
        cm = self.contents
        with suppress(NotImplementedError):  # a manager that cannot tell: its ``get`` decides
            if not cm.allow_hidden and await ensure_async(cm.is_hidden(path)):
                return False
        return bool(await ensure_async(cm.file_exists(path)))

    async def read(self, path: str, kind: DocumentKind) -> tuple[Any, FileState]:
        """The content and the state looked at before it was read. A file that moved meanwhile
        is read again: a jupytext script's hash covers its paired notebook, written just before
        it; one taken between the two writes would stay ``state.hash`` ("File Changed")."""
        cm = self.contents
        state = await self._look(cm, path, kind, with_hash=True)
        content = await self._content(cm, path, kind)
        for _ in range(2):  # still moving after: the next look sees it
            if (await self._look(cm, path, kind, with_hash=False)).stamp == state.stamp:
                break
            state = await self._look(cm, path, kind, with_hash=True)
            content = await self._content(cm, path, kind)
        return content, state if state.hash is not None else await _digested(state, content)

    async def read_base(self, path: str, kind: DocumentKind) -> tuple[bytes, FileState] | None:
        """The base built straight from the file, if quicker than from ``read``'s; None here."""
        return None

    async def stat(self, path: str, kind: DocumentKind, *, with_hash: bool = False) -> FileState:
        """The file's state: one ``get`` (and a read where the manager gives no hash)."""
        cm = self.contents
        state = await self._look(cm, path, kind, with_hash=with_hash)
        if not with_hash or state.hash is not None:
            return state
        return await _digested(state, await self._content(cm, path, kind))

    def save_preparation(self, kind: DocumentKind, history: History) -> SavePreparation:
        """What the saves of the document ``history`` logs want done ahead: nothing here."""
        return SavePreparation()

    def render_job(self, kind: DocumentKind, parts: tuple[bytes, ...], **fields: Any) -> RenderJob:
        """What rendering a snapshot (``parts``) for a save takes."""
        return RenderJob(kind, parts, **fields)

    async def render(self, job: RenderJob) -> Rendered:
        """``render(job)`` in a worker thread, off the event loop."""
        return await asyncio.to_thread(render, job)

    async def write_rendered(self, path: str, kind: DocumentKind, rendered: Rendered) -> FileState:
        """Save what ``render`` made through the contents manager; return the file's state as
        our save left it.

        The hash comes from a look after ``save`` returned. If the file moved since the model
        ``save`` returned (a post-save hook changed it, or another program wrote right after
        us), that hash is not of what we wrote: the state then has none, so the next look reads
        the file and merges what changed instead of taking it for ours (and writing over it).
        """
        cm = self.contents
        model = {"type": _cm_type(kind), "format": kind.file_format, "content": rendered.content}
        saved = await ensure_async(cm.save(model, path))
        after = await self.stat(path, kind, with_hash=True)
        if not self._model_stamps(cm) or not isinstance(saved, dict):
            return after
        ours = model_stamp(saved)  # the look's stamp may hold the hash too (``_look``)
        return after if after.stamp[: len(ours)] == ours else FileState(ours)

    async def flush(self) -> None:
        """Make every save so far complete (the fast path batches notebooks' trust signatures):
        a save someone asked for is answered only after this."""

    async def close(self) -> None:
        """Give back what the saves held (nothing here)."""

    def _model_stamps(self, cm: Any) -> bool:
        """Whether stamps come from contents models (not from a stat of the local file)."""
        return True

    async def _look(self, cm: Any, path: str, kind: DocumentKind, *, with_hash: bool) -> FileState:
        """The file's state as Jupyter's contents API gives it asked with no type, as JupyterLab
        asks before each save, to compare its hash with the room's ``state.hash`` ("File
        Changed" when they differ). Where the file is another type to JupyterLab than to the
        room, that hash may move while the file does not (jupytext's hash of a script covers
        its paired notebook too, once read): it is then asked each time, and kept in the stamp."""
        model = await self._get(cm, path, require_hash=with_hash, content=False)
        if model.get("type") == _cm_type(kind):
            return FileState(model_stamp(model), model.get("hash") if with_hash else None)
        if not with_hash:
            model = await self._get(cm, path, require_hash=True, content=False)
        return FileState((*model_stamp(model), model.get("hash")), model.get("hash"))

    async def _content(self, cm: Any, path: str, kind: DocumentKind) -> Any:
        """The file's content, of the type and format a room of ``kind`` reads."""
        file_format = None if kind.file_type == "notebook" else kind.file_format
        model = await self._get(cm, path, content=True, type=_cm_type(kind), format=file_format)
        return model["content"]

    async def _get(
        self, cm: Any, path: str, *, require_hash: bool = False, **options: Any
    ) -> dict[str, Any]:
        """The manager's ``get(path, **options)``; with ``require_hash``, with a ``hash`` if the
        manager gives any. A ``get`` that does not take ``require_hash`` (s3contents', from
        before jupyter_server 2.11) is asked without it, as Jupyter's contents API does."""
        get = partial(cm.get, path, **options)
        asked = None
        try:
            if require_hash:
                with suppress(TypeError):
                    asked = await ensure_async(get(require_hash=True))
            model: dict[str, Any] = asked if asked is not None else await ensure_async(get())
        except HTTPError as error:
            if error.status_code == 404:
                raise NotFound(f"file {path!r} does not exist") from error
            raise LoadFailed(f"cannot read {path!r}: {error.log_message}") from error
        return model


async def _digested(state: FileState, content: Any) -> FileState:
    """``state`` of a file whose manager gives no hash (s3contents'): its content's digest
    stands for one (all a hash must do here is change when the file does)."""
    return FileState(state.stamp, await asyncio.to_thread(digest_of, content))


def _cm_type(kind: DocumentKind) -> str:
    """Contents managers know notebooks and files; custom document types are stored as files."""
    return "notebook" if kind.file_type == "notebook" else "file"
