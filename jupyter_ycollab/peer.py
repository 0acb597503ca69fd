"""Deprecated, for one release: what was imported from here comes from ``jupyter_ycollab.hooks``."""

from __future__ import annotations

import warnings

from .hooks import Peer as Peer

_NEW = "from jupyter_ycollab.hooks import Peer"
warnings.warn(f"{__name__} is deprecated: use `{_NEW}`", DeprecationWarning, stacklevel=2)
