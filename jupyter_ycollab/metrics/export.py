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

from prometheus_client import REGISTRY
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
    """One exported family: its name (after ``PREFIX``), its help, the labels of a number by
    key, and the attribute of the recorder (or of the census) that holds its number, when it is
    not named as the family."""

    name: str
    help: str
    labels: tuple[str, ...] = ()
    source: str = ""


#: The census's families, gauges: what is open at the scrape.
GAUGES = (
    Family(
        "rooms", "Open rooms, by kind: a document's type, fork, timeline, awareness.", ("kind",)
    ),
    Family("peers", "Connected peers, by role.", ("role",)),
    Family("unsaved_rooms", "Document rooms with changes their file does not hold yet."),
    Family(
        "peer_backlog_bytes",
        "Bytes queued for peers and not yet handed to the system.",
        source="backlog_bytes",
    ),
)
#: The recorder's families, counters and histograms (by the type of their number).
RECORDED = (
    Family("updates_applied", "Updates from peers and server code applied."),
    Family("updates_applied_bytes", "Bytes of the updates applied."),
    Family(
        "update_apply_seconds", "Time to check, apply and relay one update.", source="update_apply"
    ),
    Family("updates_relayed", "Update frames sent to peers (one per peer)."),
    Family("updates_relayed_bytes", "Bytes of the update frames sent to peers."),
    Family(
        "saves", "Saves, by outcome: written, unchanged (the file held it), failed.", ("outcome",)
    ),
    Family(
        "save_seconds", "Time of one save, from its start to its answer.", source="save_duration"
    ),
    Family("saved_bytes", "Bytes of the files written by saves."),
    Family(
        "save_lag_seconds",
        "Time from a document's first unsaved change to its file written.",
        source="save_lag",
    ),
    Family("log_commits", "Update-log commits (one write and fsync each)."),
    Family(
        "log_fsync_seconds", "Time of one update-log commit's write and fsync.", source="log_fsync"
    ),
    Family("log_written_bytes", "Bytes appended to the update logs.", source="log_bytes"),
    Family("log_compactions", "Update logs rewritten compact."),
    Family(
        "refusals", "Websocket connections refused before the upgrade, by HTTP status.", ("status",)
    ),
    Family("closes", "Websocket connections the server closed, by close code.", ("code",)),
    Family(
        "slow_peers_dropped",
        "Peers disconnected for holding memory they did not read (close code 1013).",
    ),
    Family(
        "outside_changes_merged",
        "Changes made to files outside the rooms, merged.",
        source="outside_changes",
    ),
    Family("merge_conflicts", "Places both the file and the room changed (both kept)."),
    Family(
        "render_process_jobs",
        "Jobs the render process did, by job and outcome.",
        ("job", "outcome"),
        source="render_jobs",
    ),
    Family("render_process_seconds", "Time of one render-process job.", source="render_duration"),
    Family("cluster_redis_errors", "Redis calls that failed.", source="redis_errors"),
    Family(
        "cluster_lease_changes",
        "Leases on files this server acquired, lost or released.",
        ("change",),
        source="lease_changes",
    ),
    Family(
        "cluster_entries_published",
        "Stream entries this server published.",
        source="entries_published",
    ),
    Family(
        "cluster_entries_applied",
        "Other servers' stream entries this server received.",
        source="entries_applied",
    ),
    Family(
        "cluster_delivery_seconds",
        "Time from an entry's XADD (Redis's clock) to its arrival here (this server's clock).",
        source="delivery",
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
        yield _numbers(GaugeMetricFamily, family, getattr(census, family.source or family.name))
    for family in RECORDED:
        value = getattr(recorder, family.source or family.name)
        if isinstance(value, Histogram):
            yield _histogram(family, value)
        else:
            yield _numbers(CounterMetricFamily, family, value)


class Exporter(Collector):
    """The collector: every family, from the recorder and the census."""

    def __init__(self) -> None:
        self.census: CensusTaker = Census
        self.registered = False  # in ``REGISTRY``

    def collect(self) -> Iterable[Metric]:
        return _families(self.census(), recording.current)

    def describe(self) -> Iterable[Metric]:
        """The families' names, for the registry's duplicate check (no census taken)."""
        return _families(Census(), Metrics())


EXPORTER = Exporter()


def export(census: CensusTaker) -> None:
    """Serve the families in ``REGISTRY`` (once, however often asked), counting rooms with
    ``census``."""
    EXPORTER.census = census
    if not EXPORTER.registered:
        REGISTRY.register(EXPORTER)
        EXPORTER.registered = True


def stop_counting(census: CensusTaker) -> None:
    """Count no rooms with ``census`` any more (its server stopped; another may count now)."""
    if EXPORTER.census is census:
        EXPORTER.census = Census


def unexport() -> None:
    """Serve no collaboration family in ``REGISTRY`` (metrics off)."""
    EXPORTER.census = Census
    if EXPORTER.registered:
        REGISTRY.unregister(EXPORTER)
        EXPORTER.registered = False
