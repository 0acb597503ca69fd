"""Scenarios: each measures one group of figures against one freshly started server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..config import Mode, ServerSettings
from ..results import Sink
from ..servers import JupyterServer
from ..workloads import WorkloadCache


@dataclass(frozen=True)
class Context:
    """What every scenario may read: the mode, the servers' settings, the workload files."""

    mode: Mode
    settings: ServerSettings
    cache: WorkloadCache


ServerScenario = Callable[[JupyterServer, Context, Sink], Awaitable[None]]
