"""What `benchmarks/cluster.py --quick` and its full mode measure, and what every part reads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..config import ServerSettings
from ..workloads import WorkloadCache

#: The benchmark's usual server timings, but rooms nobody has open close after 1 s (not 60 s),
#: so that the Redis memory of idle rooms can be read soon after their clients left.
SETTINGS = ServerSettings(cleanup_delay=1.0)


@dataclass(frozen=True)
class ClusterMode:
    """How much to measure. CPU figures are medians of `cpu_repeats` runs."""

    name: str
    latency_edits: int  # edits, alternately from a writer on server A and one on server B
    latency_rate: float  # edits per second, both writers together
    clients_per_server: int  # CPU part: clients in the one room, per cluster server
    typists: int  # of those clients, how many type (split evenly over the servers)
    keystroke_rate: float  # per typist and second
    typing_seconds: float
    cpu_repeats: int
    memory_rooms: int
    memory_edits: int  # per room


QUICK = ClusterMode(
    name="quick",
    latency_edits=300,
    latency_rate=20.0,
    clients_per_server=100,
    typists=4,
    keystroke_rate=5.0,
    typing_seconds=10.0,
    cpu_repeats=1,
    memory_rooms=20,
    memory_edits=5,
)

FULL = ClusterMode(
    name="full",
    latency_edits=1000,
    latency_rate=20.0,
    clients_per_server=100,
    typists=4,
    keystroke_rate=5.0,
    typing_seconds=30.0,
    cpu_repeats=3,
    memory_rooms=50,
    memory_edits=5,
)


@dataclass(frozen=True)
class Part:
    """What one part of the run gets: the mode, a fresh folder of its own, the workload files."""

    mode: ClusterMode
    workdir: Path
    cache: WorkloadCache
