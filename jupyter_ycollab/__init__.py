"""jupyter_ycollab: real-time collaboration server for JupyterLab."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .app import YCollabApp

    return [{"module": "jupyter_ycollab", "app": YCollabApp}]
