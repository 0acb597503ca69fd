"""Fixtures of the cluster tests: a real redis-server and a ``Cluster`` of real Jupyter servers
(tests/cluster/cluster.py), both torn down after each test; a failed test's report carries the
end of every server's log."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from ..redisserver import RedisProcess
from .cluster import Cluster

CLUSTER = pytest.StashKey[Cluster]()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisProcess]:
    """One redis-server per test on a free loopback port (restartable on that port)."""
    redis = RedisProcess(tmp_path / "redis")
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture
async def cluster(
    tmp_path: Path, redis_server: RedisProcess, request: pytest.FixtureRequest
) -> AsyncIterator[Cluster]:
    """No server yet: a test starts the ones it needs (``await cluster.start(2)``)."""
    harness = Cluster(tmp_path, redis_server)
    request.node.stash[CLUSTER] = harness
    yield harness
    await harness.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    """On failure, add the tail of each server's log to the report (where a crash shows)."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    harness = item.stash.get(CLUSTER, None)
    if report.when == "call" and report.failed and harness is not None:
        for name, tail in harness.log_tails().items():
            report.sections.append((f"log of {name}", tail))
