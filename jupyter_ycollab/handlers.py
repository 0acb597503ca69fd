"""Deprecated, for one release: what was imported from here comes from ``jupyter_ycollab.hooks``."""

from __future__ import annotations

import warnings

from .hooks import RoomHandler

__all__ = ["RoomHandler"]

warnings.warn(
    "jupyter_ycollab.handlers is deprecated: use `from jupyter_ycollab.hooks import RoomHandler`",
    DeprecationWarning,
    stacklevel=2,
)
