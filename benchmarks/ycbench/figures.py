"""A run's figures read back from its JSON (`Results.to_json()`), shaped for the plots.

The plots read the same data the `.json` file holds, so that they can be drawn again from an
earlier run's file. A value is None where the table says n/a: the server's value is missing (it
did not start, or the scenario failed for it) or is not a finite number (NaN: nothing was
delivered).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

OURS = "ours"
REFERENCE = "reference"
LIMIT = "limit"
SERVERS = (OURS, REFERENCE)
SERIES = (OURS, REFERENCE, LIMIT)
_COUNTED = re.compile(r"(\d+) \w+, (.+)")


@dataclass(frozen=True)
class Figure:
    """One row of the table: its values by series (`SERIES`), None where n/a."""

    label: str
    unit: str
    values: dict[str, float | None]


def _finite(value: object) -> float | None:
    """A JSON value as a figure: None for a missing, non-numeric or NaN one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _figure(row: dict[str, Any]) -> Figure:
    """One row of the `.json` (`dataclasses.asdict(Row)`) as a Figure."""
    given = row.get("values") or {}
    values = {server: _finite(given.get(server)) for server in SERVERS}
    values[LIMIT] = _finite(row.get("limit"))
    return Figure(str(row["label"]), str(row["unit"]), values)


class RunFigures:
    """The rows of one run by group (scenario), in the order they were measured."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.info: dict[str, Any] = dict(data.get("info") or {})
        self._groups: dict[str, list[Figure]] = {}
        for row in data.get("rows") or []:
            self._groups.setdefault(str(row["group"]), []).append(_figure(row))

    def group(self, name: str) -> list[Figure]:
        """Every figure of scenario group `name` (empty when it did not run)."""
        return list(self._groups.get(name, []))

    def by_workload(self, group: str, unit: str) -> dict[str, dict[str, Figure]]:
        """Figures labelled `<what>, <workload>` in `unit`: `{what: {workload: figure}}`."""
        found: dict[str, dict[str, Figure]] = {}
        for figure in self.group(group):
            what, comma, workload = figure.label.rpartition(", ")
            if comma and figure.unit == unit:
                found.setdefault(what, {})[workload] = figure
        return found

    def by_count(self, group: str) -> dict[str, dict[int, Figure]]:
        """Figures labelled `<N> <things>, <what>` (fan-out): `{what: {N: figure}}`."""
        found: dict[str, dict[int, Figure]] = {}
        for figure in self.group(group):
            match = _COUNTED.fullmatch(figure.label)
            if match:
                found.setdefault(match.group(2), {})[int(match.group(1))] = figure
        return found

    def subtitle(self) -> str:
        """When, how and on what commit the run measured, for the plots' second title line."""
        ours = str(self.info.get("ours", ""))
        commit = ours.rpartition(" @ ")[2] or "unknown commit"
        return (
            f"{self.info.get('mode', '?')} run, {self.info.get('date', '?')}, ours at {commit}, "
            f"{self.info.get('nproc', '?')} cores"
        )


def workload_title(name: str) -> str:
    """A workload's name as an axis label: `cells-10k` -> `10k cells`."""
    kind, _, size = name.partition("-")
    if kind == "cells" and size:
        return f"{size} cells"
    if kind == "outputs" and size:
        return f"{size} outputs"
    return name


def known(values: list[float | None]) -> list[float]:
    """The values that are not n/a."""
    return [value for value in values if value is not None]
