"""Deprecated, for one release: what was imported from here comes from ``jupyter_ycollab.hooks``."""

from __future__ import annotations

import warnings

from .hooks import GLOBAL_AWARENESS

__all__ = ["GLOBAL_AWARENESS"]

warnings.warn(
    "jupyter_ycollab.roomid is deprecated: "
    "use `from jupyter_ycollab.hooks import GLOBAL_AWARENESS`",
    DeprecationWarning,
    stacklevel=2,
)
