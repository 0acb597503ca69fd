"""Saving to a local file: what Jupyter's own file contents manager does, with the heavy work
(converting, signing, serialising: serialise.py) done before, off the event loop. And looking at
one: its stamp (a stat) and its hash, what the manager's ``get(content=False)`` would say, for a
syscall instead of a contents model per room per poll.

Only for the stock ``FileContentsManager`` family with no pre-save hook: everything else (a
subclass, jupytext, S3, a hook that may change the model) gets the contents manager's ``save``,
the fallback. Kept: the signature stored in the notary's database (outputs stay trusted; stored
with other rooms' in one transaction: signatures.py), the manager's own writer (atomic writing,
permission errors as 403), the first checkpoint, post-save hooks, and the ``save`` contents
event that other extensions (fileid) listen to.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import weakref
from typing import Any

from jupyter_core.paths import is_hidden
from jupyter_core.utils import ensure_async
from jupyter_server.services.contents.filecheckpoints import (
    AsyncFileCheckpoints,
    FileCheckpoints,
)
from jupyter_server.services.contents.fileio import copy2_safe
from nbformat.sign import SQLiteSignatureStore
from tornado.web import HTTPError

from ..document.files import STOCK_MANAGERS, stock_get
from ..errors import NotFound
from .serialise import RenderedBytes, Signing
from .signatures import SignatureBatch


def writes_directly(cm: Any) -> bool:
    """Whether saves to ``cm``'s files may take the local path: a stock manager
    whose ``save`` nobody replaced or hooked (a replaced ``save`` must see every save)."""
    stock = type(cm) in STOCK_MANAGERS and getattr(cm.save, "__func__", None) is type(cm).save
    return stock and cm.pre_save_hook is None and not cm._pre_save_hooks


def reads_directly(cm: Any) -> bool:
    """Whether local notebooks may be read without the contents manager's ``get`` (read.py):
    a stock manager whose ``get`` nobody replaced, with its signatures in an SQLite file."""
    store = cm.notary.store
    return stock_get(cm) and isinstance(store, SQLiteSignatureStore) and store.db_file != ":memory:"


#: Past this many entries per manager (or checkpoints object), the memories below start over.
_MAX_PLACES = 10_000
#: Local paths of API paths, by stock contents manager and (root, path, allow_hidden).
_os_paths: weakref.WeakKeyDictionary[Any, dict[tuple[str, str, bool], str]] = (
    weakref.WeakKeyDictionary()
)


def os_path_of(cm: Any, path: str) -> str:
    """The local path of a file the stock manager ``cm`` serves, remembered. As its ``get`` and
    ``save``, a hidden file (its name or a folder's starting with a dot: ``.env``, ``.ssh/``) is
    refused unless ``allow_hidden``, with 404 as for a path outside the root: read here, it
    was served over collaboration to users whom Jupyter's contents API refuses it.

    Why remembered: ``_get_os_path`` is a pure function of the root and the path (joins and
    checks: ~4 us, ~17 us under the many-rooms load), and the hidden check a stat of each
    folder, that every save and every look at the file asked again for the same path. A path
    refused raises each time.
    """
    known = _os_paths.setdefault(cm, {})
    key = (str(cm.root_dir), path, bool(cm.allow_hidden))
    os_path = known.get(key)
    if os_path is None:
        os_path = str(cm._get_os_path(path))
        if not cm.allow_hidden and is_hidden(os_path, cm.root_dir):
            raise HTTPError(404, f"file or directory does not exist: {path!r}")
        if len(known) >= _MAX_PLACES:
            known.clear()
        known[key] = os_path
    return os_path


def stat_stamp(cm: Any, path: str) -> tuple[Any, ...]:
    """The stamp of a stock manager's local file; a path the manager refuses counts as
    missing."""
    try:
        info = os.stat(os_path_of(cm, path))
    except (OSError, HTTPError) as error:
        raise NotFound(f"file {path!r} does not exist") from error
    return local_stamp(info)


def local_stamp(info: os.stat_result) -> tuple[Any, ...]:
    """A local file's stamp: it moves when the file is written or replaced."""
    return (info.st_mtime_ns, info.st_size, info.st_ino)


def file_hash(os_path: str, algorithm: str) -> str:
    """The file's hash as the contents manager computes it, without holding all of it."""
    digest = hashlib.new(algorithm)
    chunk = bytearray(1 << 20)
    with open(os_path, "rb", buffering=0) as file:
        while size := file.readinto(chunk):
            digest.update(memoryview(chunk)[:size])
    return digest.hexdigest()


def signing_of(cm: Any) -> Signing:
    notary = cm.notary
    return Signing(bytes(notary.secret), str(notary.algorithm))


async def save_rendered(
    cm: Any, path: str, rendered: RenderedBytes, *, notebook: bool, signatures: SignatureBatch
) -> os.stat_result:
    """Write ``rendered.data`` to the local file at ``path`` as the contents manager would.

    Returns the written file's stat, taken in the write's worker thread right after the write:
    the stamp of what *we* wrote. Post-save hooks run after it, and a hook (or another program)
    that changes the file moves its stat away from this one, so the next look reads the file
    and merges the change; a stat taken after them would pass it for ours, and the next save
    would write over it.
    """
    if notebook and not rendered.trusted:
        cm.log.warning("Notebook %s is not trusted", path)
    elif rendered.signature is not None:
        # Queued before the write, as ``save`` signs first: any read of the new file flushes it.
        signatures.add(rendered.signature)
    os_path = os_path_of(cm, path)
    stock = notebook and type(cm.checkpoints) in (AsyncFileCheckpoints, FileCheckpoints)
    # One worker thread call: the write, its stat, then the first checkpoint (one always
    # exists for notebooks) when the checkpoints are the stock ones.
    written = await asyncio.to_thread(_write, cm, os_path, rendered.data, path if stock else None)
    if notebook and not stock and not await ensure_async(cm.checkpoints.list_checkpoints(path)):
        await ensure_async(cm.create_checkpoint(path))
    if cm.post_save_hook is not None or cm._post_save_hooks:
        model = await ensure_async(cm.get(path, content=False))
        cm.run_post_save_hooks(model=model, os_path=os_path)
    cm.emit(data={"action": "save", "path": path})
    return written


def _write(cm: Any, os_path: str, data: bytes, checkpoint_of: str | None) -> os.stat_result:
    """Write the file and stat what we wrote (the open file, not the path: another program
    may replace the file as our write ends); then, for ``checkpoint_of`` (a notebook with the
    stock checkpoints), copy it to its checkpoint if there is none yet: what
    ``create_checkpoint`` does, without its trip through anyio, whose ``run_sync`` walks every
    task of the server (with 200 rooms ~1 ms of the event loop per first save)."""
    with cm.atomic_writing(os_path, text=False) as file:
        file.write(data)
        file.flush()
        written = os.fstat(file.fileno())
    if checkpoint_of is not None:
        _first_checkpoint(cm.checkpoints, os_path, checkpoint_of)
    return written


#: Where notebooks' first checkpoints are, by checkpoints object and path, once seen or made.
_places: weakref.WeakKeyDictionary[Any, dict[str, str]] = weakref.WeakKeyDictionary()


def _first_checkpoint(checkpoints: Any, os_path: str, path: str) -> None:
    """Copy the file at ``os_path`` to the first checkpoint of ``path`` if it has none.

    Why remembered: ``checkpoint_path`` resolves the folder and makes it if needed, ~17 us of
    a small notebook's save, every save; a remembered place costs one stat. A checkpoint
    deleted since (or its folder) is made again at the next save, as without the memory.
    """
    known = _places.setdefault(checkpoints, {})
    place = known.get(path)
    if place is not None and os.path.isfile(place):
        return
    place = checkpoints.checkpoint_path("checkpoint", path)
    if not os.path.isfile(place):
        copy2_safe(os_path, place, log=checkpoints.log)  # type: ignore[no-untyped-call]
    if len(known) >= _MAX_PLACES:
        known.clear()
    known[path] = place
