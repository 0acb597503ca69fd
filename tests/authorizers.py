"""Authorizers (and an identity provider) the tests configure, also by import path in a server
subprocess."""

from __future__ import annotations

from typing import Any

from jupyter_server.auth import Authorizer, IdentityProvider, User

READ_ONLY = {"X-Test-Read-Only": "1"}


class HeaderAuthorizer(Authorizer):
    """Denies every write to requests that carry the X-Test-Read-Only header."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        read_only = handler.request.headers.get("X-Test-Read-Only") == "1"
        return not (read_only and action == "write")


SCOPES = "X-Test-Scopes"


class ScopedAuthorizer(Authorizer):
    """A request with the X-Test-Scopes header may do only the ``action:resource`` pairs it
    lists (``read:contents write:contents``), as a JupyterHub user granted custom
    ``jupyter_server`` scopes; a request without it may do anything (the server's owner)."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        scopes = handler.request.headers.get(SCOPES)
        return scopes is None or f"{action}:{resource}" in scopes.split()


USER = "X-Test-User"


class HeaderIdentityProvider(IdentityProvider):
    """A token-authenticated request with the X-Test-User header is that user, on every server
    that has this provider (as a hub's single sign-on gives one user on every server of a
    cluster); without the header, a new anonymous user, as usual."""

    def generate_anonymous_user(self, handler: Any) -> User:
        name = handler.request.headers.get(USER)
        return User(name, name=name) if name else super().generate_anonymous_user(handler)
