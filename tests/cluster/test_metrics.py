"""The cluster's metrics, scraped from each server's ``/metrics``: the server that writes the
file holds its lease, entries one server publishes are applied by the other (with their
delivery time), and Redis going away is counted as errors."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families
from tornado.httpclient import AsyncHTTPClient

from ..client import wait_until
from ..process import JupyterProcess
from .cluster import Cluster
from .markers import everyone_sees, markers, type_markers

EDITS = 10


async def scrape(server: JupyterProcess) -> dict[str, float]:
    """The server's ``jupyter_ycollab_cluster_`` samples, by name and ``change`` label."""
    response = await AsyncHTTPClient().fetch(f"{server.base_url}/metrics", headers=server.headers)
    samples = {}
    for family in text_string_to_metric_families(response.body.decode()):
        for sample in family.samples:
            if sample.name.startswith("jupyter_ycollab_cluster_"):
                name = sample.name.removeprefix("jupyter_ycollab_cluster_")
                change = sample.labels.get("change")
                samples[f"{name}:{change}" if change else name] = sample.value
    return samples


async def test_entries_leases_delivery_and_redis_errors_are_counted(cluster: Cluster) -> None:
    first, second = await cluster.start(2, save_delay=30.0, max_save_delay=60.0)
    cluster.write_text("notes.txt", "start\n")
    alice = await cluster.open(first, "notes.txt")
    bob = await cluster.open(second, "notes.txt")
    typed = markers("a", EDITS)
    await type_markers(alice, typed)
    await everyone_sees([alice, bob], typed, 5)

    sent, received = await scrape(first), await scrape(second)
    assert sent["entries_published_total"] >= EDITS  # and awareness entries
    assert received["entries_applied_total"] >= EDITS
    assert received["delivery_seconds_count"] == received["entries_applied_total"]
    assert 0 <= received["delivery_seconds_sum"] / received["delivery_seconds_count"] < 5
    # One writer of the file: the lease taken once, by one of the two servers.
    assert sent["lease_changes_total:acquired"] + received["lease_changes_total:acquired"] == 1
    assert sent["redis_errors_total"] == received["redis_errors_total"] == 0

    cluster.redis.kill()

    async def errors_counted() -> bool:
        return (await scrape(first))["redis_errors_total"] > 0

    await wait_until(errors_counted, 10, "Redis errors to be counted")
