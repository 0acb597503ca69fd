"""Collected figures: one row per measured quantity, one value per server, plus a limit."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Row:
    """One figure. `lower_is_better` decides how the ratio reads; counts have no ratio."""

    group: str
    label: str
    unit: str
    values: dict[str, float] = field(default_factory=dict)
    limit: float | None = None
    ratio: bool = True


@dataclass
class Results:
    """Everything a run measured, in the order it was measured."""

    rows: dict[tuple[str, str], Row] = field(default_factory=dict)
    failures: dict[str, dict[str, str]] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    def row(self, group: str, label: str, unit: str, ratio: bool = True) -> Row:
        key = (group, label)
        if key not in self.rows:
            self.rows[key] = Row(group, label, unit, ratio=ratio)
        return self.rows[key]

    def fail(self, target: str, group: str, reason: str) -> None:
        """`target` could not measure `group` (n/a in the table, reason in the notes)."""
        self.failures.setdefault(target, {})[group] = reason

    def to_json(self) -> dict[str, Any]:
        return {
            "info": self.info,
            "rows": [asdict(row) for row in self.rows.values()],
            "failures": self.failures,
        }


@dataclass
class Sink:
    """What a scenario writes into: the results, bound to one server (or to the limit column)."""

    results: Results
    group: str
    target: str | None

    def put(self, label: str, unit: str, value: float, ratio: bool = True) -> None:
        row = self.results.row(self.group, label, unit, ratio)
        if self.target is None:
            row.limit = value
        else:
            row.values[self.target] = value
