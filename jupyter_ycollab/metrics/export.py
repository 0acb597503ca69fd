"""The collaboration metrics as Prometheus families, on jupyter_server's own ``/metrics``.

One collector in prometheus_client's default ``REGISTRY`` (the one jupyter_server's
``PrometheusMetricsHandler`` serves, under its ``authenticate_prometheus`` setting): at each
scrape it reads the recorder's numbers (``metrics.current``) and counts what is open (the
census the extension gives it). Nothing here runs on a hot path. Registered once per process
however many servers it starts (tests start many); unregistered when metrics are off, so that
the families are absent then.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from .. import metrics as recording
from . import Census, Histogram, Metrics

PREFIX = "jupyter_ycollab_"
CensusTaker = Callable[[], Census]


def _counter(name: str, help: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(PREFIX + name, help, value=value)


def _counters(name: str, help: str, label: str, values: Mapping[Any, int]) -> Metric:
    family = CounterMetricFamily(PREFIX + name, help, labels=[label])
    for key, value in sorted(values.items(), key=lambda item: str(item[0])):
        family.add_metric([str(key)], value)
    return family


def _gauges(name: str, help: str, label: str, values: Mapping[str, int]) -> Metric:
    family = GaugeMetricFamily(PREFIX + name, help, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


def _histogram(name: str, help: str, histogram: Histogram) -> HistogramMetricFamily:
    buckets, total = [], 0
    for bound, count in zip((*histogram.bounds, float("inf")), histogram.counts, strict=True):
        total += count
        buckets.append(("+Inf" if bound == float("inf") else repr(bound), float(total)))
    return HistogramMetricFamily(PREFIX + name, help, buckets=buckets, sum_value=histogram.sum)


def _census(census: Census) -> Iterator[Metric]:
    yield _gauges(
        "rooms",
        "Open rooms, by kind: a document's type, fork, timeline, awareness.",
        "kind",
        census.rooms,
    )
    yield _gauges("peers", "Connected peers, by role.", "role", census.peers)
    yield GaugeMetricFamily(
        PREFIX + "unsaved_rooms",
        "Document rooms with changes their file does not hold yet.",
        value=census.unsaved_rooms,
    )
    yield GaugeMetricFamily(
        PREFIX + "peer_backlog_bytes",
        "Bytes queued for peers and not yet handed to the system.",
        value=census.backlog_bytes,
    )


def _updates(m: Metrics) -> Iterator[Metric]:
    yield _counter(
        "updates_applied", "Updates from peers and server code applied.", m.updates_applied
    )
    yield _counter(
        "updates_applied_bytes", "Bytes of the updates applied.", m.updates_applied_bytes
    )
    yield _histogram(
        "update_apply_seconds", "Time to check, apply and relay one update.", m.update_apply
    )
    yield _counter(
        "updates_relayed", "Update frames sent to peers (one per peer).", m.updates_relayed
    )
    yield _counter(
        "updates_relayed_bytes",
        "Bytes of the update frames sent to peers.",
        m.updates_relayed_bytes,
    )


def _saves(m: Metrics) -> Iterator[Metric]:
    yield _counters(
        "saves",
        "Saves, by outcome: written, unchanged (the file held it), failed.",
        "outcome",
        m.saves,
    )
    yield _histogram(
        "save_seconds", "Time of one save, from its start to its answer.", m.save_duration
    )
    yield _counter("saved_bytes", "Bytes of the files written by saves.", m.saved_bytes)
    yield _histogram(
        "save_lag_seconds",
        "Time from a document's first unsaved change to its file written.",
        m.save_lag,
    )


def _logs(m: Metrics) -> Iterator[Metric]:
    yield _counter("log_commits", "Update-log commits (one write and fsync each).", m.log_commits)
    yield _histogram(
        "log_fsync_seconds", "Time of one update-log commit's write and fsync.", m.log_fsync
    )
    yield _counter("log_written_bytes", "Bytes appended to the update logs.", m.log_bytes)
    yield _counter("log_compactions", "Update logs rewritten compact.", m.log_compactions)


def _peers(m: Metrics) -> Iterator[Metric]:
    yield _counters(
        "refusals",
        "Websocket connections refused before the upgrade, by HTTP status.",
        "status",
        m.refusals,
    )
    yield _counters(
        "closes", "Websocket connections the server closed, by close code.", "code", m.closes
    )
    yield _counter(
        "slow_peers_dropped",
        "Peers disconnected for holding memory they did not read (close code 1013).",
        m.slow_peers_dropped,
    )


def _files(m: Metrics) -> Iterator[Metric]:
    yield _counter(
        "outside_changes_merged",
        "Changes made to files outside the rooms, merged.",
        m.outside_changes,
    )
    yield _counter(
        "merge_conflicts",
        "Places both the file and the room changed (both kept).",
        m.merge_conflicts,
    )
    jobs = CounterMetricFamily(
        PREFIX + "render_process_jobs",
        "Jobs the render process did, by job and outcome.",
        labels=["job", "outcome"],
    )
    for (job, outcome), count in sorted(m.render_jobs.items()):
        jobs.add_metric([job, outcome], count)
    yield jobs
    yield _histogram("render_process_seconds", "Time of one render-process job.", m.render_duration)


def _cluster(m: Metrics) -> Iterator[Metric]:
    yield _counter("cluster_redis_errors", "Redis calls that failed.", m.redis_errors)
    yield _counters(
        "cluster_lease_changes",
        "Leases on files this server acquired, lost or released.",
        "change",
        m.lease_changes,
    )
    yield _counter(
        "cluster_entries_published", "Stream entries this server published.", m.entries_published
    )
    yield _counter(
        "cluster_entries_applied",
        "Other servers' stream entries this server received.",
        m.entries_applied,
    )
    yield _histogram(
        "cluster_delivery_seconds",
        "Time from an entry's XADD (Redis's clock) to its arrival here (this server's clock).",
        m.delivery,
    )


_FAMILIES = (_updates, _saves, _logs, _peers, _files, _cluster)


class Exporter(Collector):
    """The collector: every family, from the recorder and the census."""

    def __init__(self) -> None:
        self.census: CensusTaker = Census

    def collect(self) -> Iterable[Metric]:
        yield from _census(self.census())
        for families in _FAMILIES:
            yield from families(recording.current)

    def describe(self) -> Iterable[Metric]:
        """The families' names, for the registry's duplicate check (no census taken)."""
        yield from _census(Census())
        for families in _FAMILIES:
            yield from families(Metrics())


EXPORTER = Exporter()
_registered: set[int] = set()  # ids of the registries the exporter is in


def export(census: CensusTaker, registry: CollectorRegistry = REGISTRY) -> None:
    """Serve the families in ``registry`` (once, however often asked), counting rooms with
    ``census``."""
    EXPORTER.census = census
    if id(registry) not in _registered:
        registry.register(EXPORTER)
        _registered.add(id(registry))


def stop_counting(census: CensusTaker) -> None:
    """Count no rooms with ``census`` any more (its server stopped; another may count now)."""
    if EXPORTER.census is census:
        EXPORTER.census = Census


def unexport(registry: CollectorRegistry = REGISTRY) -> None:
    """Serve no collaboration family in ``registry`` (metrics off)."""
    EXPORTER.census = Census
    if id(registry) in _registered:
        registry.unregister(EXPORTER)
        _registered.discard(id(registry))
