"""Run parameters: what `--quick` and full mode measure, and the servers' shared settings."""

from __future__ import annotations

from dataclasses import dataclass

from .workloads import HEAVY, LARGE, MEDIUM, SMALL, Workload


@dataclass(frozen=True)
class ServerSettings:
    """Timings given to both servers under their own trait names (see servers.py)."""

    save_delay: float = 0.5
    max_save_delay: float = 2.0
    cleanup_delay: float = 60.0
    poll_interval: float = 1.0


@dataclass(frozen=True)
class Mode:
    """How much to measure. Every figure is the median of `repeats` runs unless stated."""

    name: str
    workloads: tuple[Workload, ...]
    repeats: int
    save_repeats: int
    fanout_clients: tuple[int, ...]
    fanout_repeats: int
    fanout_seconds: float
    edit_rate: float
    many_rooms: int
    many_rooms_seconds: float
    many_rooms_repeats: int
    idle_rooms: int
    burst_seconds: float
    reopen_cycles: int


QUICK = Mode(
    name="quick",
    workloads=(SMALL, MEDIUM, LARGE),
    repeats=3,
    save_repeats=2,
    fanout_clients=(1, 10, 50, 100),
    fanout_repeats=1,
    fanout_seconds=2.0,
    edit_rate=20.0,
    many_rooms=200,
    many_rooms_seconds=3.0,
    many_rooms_repeats=1,
    idle_rooms=100,
    burst_seconds=1.0,
    reopen_cycles=4,
)

FULL = Mode(
    name="full",
    workloads=(SMALL, MEDIUM, LARGE, HEAVY),
    repeats=5,
    save_repeats=5,
    fanout_clients=(1, 10, 50, 100),
    fanout_repeats=3,
    fanout_seconds=5.0,
    edit_rate=20.0,
    many_rooms=200,
    many_rooms_seconds=6.0,
    many_rooms_repeats=3,
    idle_rooms=100,
    burst_seconds=2.0,
    reopen_cycles=8,
)
