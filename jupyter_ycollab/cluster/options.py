"""The cluster's options (``c.YCollabApp.redis_url`` and its companions), and the frozen value the
cluster is built from. Apart from options.py: a single server never needs them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from traitlets import Float, HasTraits, TraitError, Unicode, validate

_SCHEMES = ("redis", "rediss", "unix")


@dataclass(frozen=True)
class ClusterSettings:
    redis_url: str
    namespace: str = ""
    folder: str = ""
    lease_ttl: float = 5.0
    idle_expiry: float = 24 * 3600.0


class ClusterOptions(HasTraits):
    """The cluster options of ``YCollabApp`` (see the README's deployment section)."""

    redis_url = Unicode(
        "",
        config=True,
        help="Redis (or Valkey) that several Jupyter servers serving one folder share, to co-edit "
        "its documents live: redis://[:password@]host:6379/0, rediss:// for TLS, or "
        "unix:///path/to/socket. Empty (the default): this server collaborates alone and "
        "needs no Redis. Needs `pip install jupyter_ycollab[redis]`.",
    )
    cluster_namespace = Unicode(
        "",
        config=True,
        help="Prefix of this deployment's keys in Redis: servers share a document when they "
        "have the same namespace and serve it at the same path. Set it when unrelated "
        "deployments share one Redis.",
    )
    cluster_folder = Unicode(
        "",
        config=True,
        help="Only documents in this folder (a path relative to the root dir, e.g. 'shared') "
        "are shared with the other servers; the others are edited on this server alone. "
        "Empty: every document. Set it when each server's root also holds private files: "
        "their paths would otherwise meet the same paths on the other servers.",
    )
    cluster_lease_ttl = Float(
        5.0,
        config=True,
        help="Seconds a server's right to write a shared file lasts unless renewed (every third "
        "of it): when that server dies, another takes over saving within about this time.",
    )
    cluster_idle_expiry = Float(
        24 * 3600.0,
        config=True,
        help="Seconds a shared room nobody has open stays in Redis; then its next opener loads "
        "it from the file again.",
    )

    @validate("redis_url")
    def _valid_redis_url(self, proposal: dict[str, Any]) -> str:
        url = str(proposal["value"])
        if url and urlsplit(url).scheme not in _SCHEMES:
            raise TraitError(f"redis_url must start with redis://, rediss:// or unix://: {url!r}")
        return url

    @validate("cluster_lease_ttl", "cluster_idle_expiry")
    def _positive_seconds(self, proposal: dict[str, Any]) -> float:
        if proposal["value"] <= 0:
            raise TraitError(f"{proposal['trait'].name} must be > 0, not {proposal['value']}")
        return float(proposal["value"])

    def _cluster_settings(self) -> ClusterSettings | None:
        """The cluster's settings, or None when this server collaborates alone."""
        if not self.redis_url:
            return None
        return ClusterSettings(
            self.redis_url,
            self.cluster_namespace,
            self.cluster_folder.strip("/"),
            self.cluster_lease_ttl,
            self.cluster_idle_expiry,
        )
