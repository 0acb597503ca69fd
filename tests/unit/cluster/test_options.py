"""cluster/options.py: a Redis URL of another scheme, or a lease or expiry that is not a positive
number of seconds, is refused when set, naming the option (app.py then turns collaboration off
with that reason, rather than fail at the first document)."""

from __future__ import annotations

import pytest
from traitlets import TraitError

from jupyter_ycollab.app import YCollabApp


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ({"redis_url": "http://127.0.0.1:6379"}, "redis_url"),
        ({"redis_url": "127.0.0.1:6379"}, "redis_url"),
        ({"cluster_lease_ttl": 0}, "cluster_lease_ttl"),
        ({"cluster_idle_expiry": -1}, "cluster_idle_expiry"),
    ],
)
def test_an_invalid_cluster_option_is_refused_by_name(
    setting: dict[str, object], named: str
) -> None:
    with pytest.raises(TraitError, match=named):
        YCollabApp(**setting)


@pytest.mark.parametrize(
    "url", ["", "redis://:secret@127.0.0.1:6379/0", "rediss://127.0.0.1", "unix:///run/redis.sock"]
)
def test_the_documented_redis_urls_are_taken(url: str) -> None:
    assert YCollabApp(redis_url=url).redis_url == url
