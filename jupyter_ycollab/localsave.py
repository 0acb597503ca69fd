"""Saving to a local file: what Jupyter's own file contents manager does, with the heavy work
(converting, signing, serialising: render.py) done before, off the event loop.

Only for the stock ``FileContentsManager`` family with no pre-save hook: everything else (a
subclass, jupytext, S3, a hook that may change the model) gets the contents manager's ``save``,
the fallback. Kept: the signature stored in the notary's database (outputs stay trusted), the
manager's own writer (atomic writing, permission errors as 403), the first checkpoint, post-save
hooks, and the ``save`` contents event that other extensions (fileid) listen to.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.services.contents.filecheckpoints import (
    AsyncFileCheckpoints,
    FileCheckpoints,
)
from jupyter_server.services.contents.filemanager import (
    AsyncFileContentsManager,
    FileContentsManager,
)
from jupyter_server.services.contents.largefilemanager import (
    AsyncLargeFileManager,
    LargeFileManager,
)
from nbformat.sign import SQLiteSignatureStore

from .render import Rendered, Signing

#: Exact classes: a subclass may override any step (``save``, ``_save_notebook``, checkpoints).
_STOCK_MANAGERS = (
    AsyncLargeFileManager,
    AsyncFileContentsManager,
    LargeFileManager,
    FileContentsManager,
)


def writes_directly(contents_manager: Any) -> bool:
    """Whether saves to ``contents_manager``'s files may take the local path: a stock manager
    whose ``save`` nobody replaced or hooked (a replaced ``save`` must see every save)."""
    cm = contents_manager
    stock = type(cm) in _STOCK_MANAGERS and getattr(cm.save, "__func__", None) is type(cm).save
    return stock and not _has_pre_save_hooks(cm)


def reads_directly(contents_manager: Any) -> bool:
    """Whether local notebooks may be read without the contents manager's ``get`` (readfile.py):
    a stock manager whose ``get`` nobody replaced, with its signatures in an SQLite file."""
    cm = contents_manager
    stock = type(cm) in _STOCK_MANAGERS and getattr(cm.get, "__func__", None) is type(cm).get
    store = cm.notary.store
    return stock and isinstance(store, SQLiteSignatureStore) and store.db_file != ":memory:"


def _has_pre_save_hooks(contents_manager: Any) -> bool:
    return contents_manager.pre_save_hook is not None or bool(contents_manager._pre_save_hooks)


def signing_of(contents_manager: Any) -> Signing:
    notary = contents_manager.notary
    return Signing(bytes(notary.secret), str(notary.algorithm))


async def save_rendered(
    contents_manager: Any, path: str, rendered: Rendered, *, notebook: bool
) -> None:
    """Write ``rendered.data`` to the local file at ``path`` as the contents manager would."""
    cm = contents_manager
    assert rendered.data is not None, "only changed content is written"
    if notebook and not rendered.trusted:
        cm.log.warning("Notebook %s is not trusted", path)
    elif rendered.signature is not None:
        _store_signature(cm, rendered.signature)
    os_path = cm._get_os_path(path)
    await asyncio.to_thread(_write, cm, os_path, rendered.data)
    if notebook and not await _has_checkpoint(cm, path):
        await ensure_async(cm.create_checkpoint(path))  # one always exists for notebooks
    if cm.post_save_hook is not None or cm._post_save_hooks:
        model = await ensure_async(cm.get(path, content=False))
        cm.run_post_save_hooks(model=model, os_path=os_path)
    cm.emit(data={"action": "save", "path": path})


async def _has_checkpoint(cm: Any, path: str) -> bool:
    """``list_checkpoints`` of the stock checkpoints is a stat, but each of its calls to
    anyio's ``run_sync`` walks every task of the server (200 rooms: ~0.3 ms per save)."""
    checkpoints = cm.checkpoints
    if type(checkpoints) in (AsyncFileCheckpoints, FileCheckpoints):
        return os.path.isfile(checkpoints.checkpoint_path("checkpoint", path))
    return bool(await ensure_async(checkpoints.list_checkpoints(path)))


def _write(cm: Any, os_path: str, data: bytes) -> None:
    with cm.atomic_writing(os_path, text=False) as file:
        file.write(data)


def _store_signature(cm: Any, signature: str) -> None:
    """The notary's ``sign`` after its ``compute_signature``; a broken store is recreated once,
    as the contents manager's ``check_and_sign`` does."""
    notary = cm.notary
    try:
        notary.store.store_signature(signature, notary.algorithm)
    except Exception:  # sqlite's errors, the filesystem's: re-raised if recreating fails too
        cm.log.warning("Signature store is corrupted or unavailable; recreating it", exc_info=True)
        notary.store = notary.store_factory()
        notary.store.store_signature(signature, notary.algorithm)
