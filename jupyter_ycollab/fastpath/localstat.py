"""A stock contents manager's local file, looked at directly: its stamp (a stat) and its hash,
which are what the manager's ``get(content=False)`` would say, for a syscall instead of a
contents model per room per poll (files.py uses them while the manager is a plain stock one).
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from tornado.web import HTTPError

from ..errors import NotFound
from .save import os_path_of


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
