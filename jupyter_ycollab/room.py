"""Deprecated, for one release: what was imported from here comes from ``jupyter_ycollab.hooks``."""

from __future__ import annotations

import warnings

from .hooks import Room

__all__ = ["Room"]

warnings.warn(
    "jupyter_ycollab.room is deprecated: use `from jupyter_ycollab.hooks import Room`",
    DeprecationWarning,
    stacklevel=2,
)
