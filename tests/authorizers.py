"""Authorizers the tests configure, also by import path in a server subprocess."""

from __future__ import annotations

from typing import Any

from jupyter_server.auth import Authorizer

READ_ONLY = {"X-Test-Read-Only": "1"}


class HeaderAuthorizer(Authorizer):
    """Denies every write to requests that carry the X-Test-Read-Only header."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        read_only = handler.request.headers.get("X-Test-Read-Only") == "1"
        return not (read_only and action == "write")
