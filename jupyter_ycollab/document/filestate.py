"""What we know of a file at one moment (``FileState``), and its cheap part, the stamp: a stat
of the local file for the stock contents manager, the manager's own ``last_modified`` and
``size`` for any other (files.py chooses)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any

from tornado.web import HTTPError

from ..errors import NotFound
from ..fastpath.save import os_path_of


@dataclass(frozen=True)
class FileState:
    """What we know of the file at one moment: enough to tell whether it changed."""

    stamp: tuple[Any, ...]  # cheap to get (a stat): when it moves, read and hash
    hash: str | None = None

    def same_stat(self, other: FileState) -> bool:
        return self.stamp == other.stamp


def stat_stamp(cm: Any, path: str) -> tuple[Any, ...]:
    """The stamp of a stock manager's local file (a syscall, not a contents model per room per
    poll); a path the manager refuses counts as missing."""
    try:
        info = os.stat(os_path_of(cm, path))
    except (OSError, HTTPError) as error:
        raise NotFound(f"file {path!r} does not exist") from error
    return local_stamp(info)


def model_stamp(model: dict[str, Any]) -> tuple[Any, ...]:
    """A contents model's stamp. jupytext's ``last_modified`` of a paired notebook is that of
    its text file (where the inputs are read from), and its ``size`` the notebook's: a change
    to either file shows."""
    return (model.get("last_modified"), model.get("size"))


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
