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
from typing import Any, NamedTuple

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


class Family(NamedTuple):
    """One exported family: its name (after ``PREFIX``), its help, the attribute of the
    recorder (or of the census) that holds its number, and the labels of a number by key."""

    name: str
    help: str
    source: str
    labels: tuple[str, ...] = ()


#: The census's families, gauges: what is open at the scrape.
GAUGES = (
    Family(
        "rooms",
        "Open rooms, by kind: a document's type, fork, timeline, awareness.",
        "rooms",
        ("kind",),
    ),
    Family("peers", "Connected peers, by role.", "peers", ("role",)),
    Family(
        "unsaved_rooms",
        "Document rooms with changes their file does not hold yet.",
        "unsaved_rooms",
    ),
    Family(
        "peer_backlog_bytes",
        "Bytes queued for peers and not yet handed to the system.",
        "backlog_bytes",
    ),
)
#: The recorder's families, counters and histograms (by the type of their number).
RECORDED = (
    Family("updates_applied", "Updates from peers and server code applied.", "updates_applied"),
    Family("updates_applied_bytes", "Bytes of the updates applied.", "updates_applied_bytes"),
    Family("update_apply_seconds", "Time to check, apply and relay one update.", "update_apply"),
    Family("updates_relayed", "Update frames sent to peers (one per peer).", "updates_relayed"),
    Family(
        "updates_relayed_bytes",
        "Bytes of the update frames sent to peers.",
        "updates_relayed_bytes",
    ),
    Family(
        "saves",
        "Saves, by outcome: written, unchanged (the file held it), failed.",
        "saves",
        ("outcome",),
    ),
    Family("save_seconds", "Time of one save, from its start to its answer.", "save_duration"),
    Family("saved_bytes", "Bytes of the files written by saves.", "saved_bytes"),
    Family(
        "save_lag_seconds",
        "Time from a document's first unsaved change to its file written.",
        "save_lag",
    ),
    Family("log_commits", "Update-log commits (one write and fsync each).", "log_commits"),
    Family("log_fsync_seconds", "Time of one update-log commit's write and fsync.", "log_fsync"),
    Family("log_written_bytes", "Bytes appended to the update logs.", "log_bytes"),
    Family("log_compactions", "Update logs rewritten compact.", "log_compactions"),
    Family(
        "refusals",
        "Websocket connections refused before the upgrade, by HTTP status.",
        "refusals",
        ("status",),
    ),
    Family(
        "closes", "Websocket connections the server closed, by close code.", "closes", ("code",)
    ),
    Family(
        "slow_peers_dropped",
        "Peers disconnected for holding memory they did not read (close code 1013).",
        "slow_peers_dropped",
    ),
    Family(
        "outside_changes_merged",
        "Changes made to files outside the rooms, merged.",
        "outside_changes",
    ),
    Family(
        "merge_conflicts",
        "Places both the file and the room changed (both kept).",
        "merge_conflicts",
    ),
    Family(
        "render_process_jobs",
        "Jobs the render process did, by job and outcome.",
        "render_jobs",
        ("job", "outcome"),
    ),
    Family("render_process_seconds", "Time of one render-process job.", "render_duration"),
    Family("cluster_redis_errors", "Redis calls that failed.", "redis_errors"),
    Family(
        "cluster_lease_changes",
        "Leases on files this server acquired, lost or released.",
        "lease_changes",
        ("change",),
    ),
    Family(
        "cluster_entries_published", "Stream entries this server published.", "entries_published"
    ),
    Family(
        "cluster_entries_applied",
        "Other servers' stream entries this server received.",
        "entries_applied",
    ),
    Family(
        "cluster_delivery_seconds",
        "Time from an entry's XADD (Redis's clock) to its arrival here (this server's clock).",
        "delivery",
    ),
)


def _histogram(family: Family, histogram: Histogram) -> HistogramMetricFamily:
    buckets, total = [], 0
    for bound, count in zip((*histogram.bounds, float("inf")), histogram.counts, strict=True):
        total += count
        buckets.append(("+Inf" if bound == float("inf") else repr(bound), float(total)))
    name = PREFIX + family.name
    return HistogramMetricFamily(name, family.help, buckets=buckets, sum_value=histogram.sum)


Numbers = type[CounterMetricFamily] | type[GaugeMetricFamily]


def _numbers(kind: Numbers, family: Family, value: Any) -> Metric:
    """A counter or gauge family: one number, or one per key of a mapping (a tuple key
    gives one label each)."""
    metric = kind(PREFIX + family.name, family.help, labels=family.labels)
    by_key = value.items() if isinstance(value, Mapping) else [((), value)]
    for key, number in sorted(by_key, key=lambda item: str(item[0])):
        metric.add_metric(
            [str(part) for part in key] if isinstance(key, tuple) else [str(key)], number
        )
    return metric


def _families(census: Census, recorder: Metrics) -> Iterator[Metric]:
    for family in GAUGES:
        yield _numbers(GaugeMetricFamily, family, getattr(census, family.source))
    for family in RECORDED:
        value = getattr(recorder, family.source)
        if isinstance(value, Histogram):
            yield _histogram(family, value)
        else:
            yield _numbers(CounterMetricFamily, family, value)


class Exporter(Collector):
    """The collector: every family, from the recorder and the census."""

    def __init__(self) -> None:
        self.census: CensusTaker = Census

    def collect(self) -> Iterable[Metric]:
        return _families(self.census(), recording.current)

    def describe(self) -> Iterable[Metric]:
        """The families' names, for the registry's duplicate check (no census taken)."""
        return _families(Census(), Metrics())


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
