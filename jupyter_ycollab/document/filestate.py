"""What we know of a file at one moment (``FileState``), and its cheap part, the stamp: the
contents manager's own ``last_modified`` and ``size`` (the fast path's, for a stock manager, is
a stat of the local file: fastpath/localstat.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FileState:
    """What we know of the file at one moment: enough to tell whether it changed."""

    stamp: tuple[Any, ...]  # cheap to get (a stat): when it moves, read and hash
    hash: str | None = None

    def same_stat(self, other: FileState) -> bool:
        return self.stamp == other.stamp

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
