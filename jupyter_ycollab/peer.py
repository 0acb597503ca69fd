"""Deprecated, for one release: what was imported from here comes from ``jupyter_ycollab.hooks``."""

from __future__ import annotations

import warnings

from .hooks import Peer

__all__ = ["Peer"]

warnings.warn(
    "jupyter_ycollab.peer is deprecated: use `from jupyter_ycollab.hooks import Peer`",
    DeprecationWarning,
    stacklevel=2,
)
