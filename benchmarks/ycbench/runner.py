"""One benchmark run: every scenario against every server, then the limit, into one Results.

Scenarios run in turn and, within a scenario, the servers run back to back, so that both are
measured close together in time on a noisy machine. Each scenario gets a freshly started server.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .results import Results, Sink
from .scenarios import (
    Context,
    ServerScenario,
    fanout,
    limit,
    many_rooms,
    memory,
    open_latency,
    reopen,
    save,
)
from .servers import JupyterServer, ServerFailed, Target

SCENARIOS: dict[str, tuple[str, ServerScenario]] = {
    "memory": (memory.GROUP, memory.measure),
    "open": (open_latency.GROUP, open_latency.measure),
    "fanout": (fanout.GROUP, fanout.measure),
    "rooms": (many_rooms.GROUP, many_rooms.measure),
    "save": (save.GROUP, save.measure),
    "reopen": (reopen.GROUP, reopen.measure),
}
#: The scenarios that wait for rooms to close, and the cleanup delay their servers get.
CLEANUP_DELAYS = {"reopen": reopen.CLEANUP_DELAY}


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Runner:
    context: Context
    targets: list[Target]
    workdir: Path
    results: Results

    def __post_init__(self) -> None:
        self._down: set[str] = set()

    async def run(self, scenarios: list[str], with_limit: bool) -> None:
        for name in scenarios:
            group, scenario = SCENARIOS[name]
            for target in self.targets:
                if target.name not in self._down:
                    await self._one(target, name, group, scenario)
        if with_limit:
            started = time.perf_counter()
            await limit.measure(self.context, self.results, self.workdir / "limit")
            _say(f"[limit] done in {time.perf_counter() - started:.1f} s")

    async def _one(self, target: Target, name: str, group: str, scenario: ServerScenario) -> None:
        if name in CLEANUP_DELAYS:
            target = target.with_cleanup_delay(CLEANUP_DELAYS[name])
        server = JupyterServer(target, self.workdir / target.name / name, self.context.cache)
        started = time.perf_counter()
        try:
            await server.start()
        except ServerFailed as error:
            self._down.add(target.name)
            self.results.fail(target.name, "server", f"did not start: {error}")
            _say(f"[{target.name}] server did not start: {error}")
            return
        try:
            await scenario(server, self.context, Sink(self.results, group, target.name))
            _say(f"[{target.name}] {name} done in {time.perf_counter() - started:.1f} s")
        except Exception as error:  # one broken scenario must not hide the others' figures
            hint = "; ".join(server.process.log_errors_since(0)[:3])
            self.results.fail(target.name, group, f"{error!r}" + (f"; log: {hint}" if hint else ""))
            _say(f"[{target.name}] {name} failed: {error!r}")
        finally:
            await server.stop()
