"""Deprecated, for one release: what was imported from here comes from ``jupyter_ycollab.hooks``."""

from __future__ import annotations

import warnings

from .hooks import GLOBAL_AWARENESS as GLOBAL_AWARENESS

_NEW = "from jupyter_ycollab.hooks import GLOBAL_AWARENESS"
warnings.warn(f"{__name__} is deprecated: use `{_NEW}`", DeprecationWarning, stacklevel=2)
