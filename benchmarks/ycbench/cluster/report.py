"""The cluster benchmark's table: one value per figure (ours only: the reference has no cluster)."""

from __future__ import annotations

from ..report import notes, number
from ..results import Results

#: The one column the cluster benchmark's sinks write to.
TARGET = "ours"


def render(results: Results) -> str:
    """The run's description, the Markdown table, and why some parts are missing."""
    header = ", ".join(f"{key}: {value}" for key, value in results.info.items())
    lines = [header, "", "| figure | unit | value |", "|---|---|---:|"]
    for row in results.rows.values():
        lines.append(
            f"| {row.group}: {row.label} | {row.unit} | {number(row.values.get(TARGET))} |"
        )
    if results.failures:
        lines += ["", "n/a:", notes(results)]
    return "\n".join(lines)
