"""The results table: both servers, their ratio (ours/reference) and the limit, as Markdown."""

from __future__ import annotations

from .results import Results, Row

OURS = "ours"
REFERENCE = "reference"


def number(value: float | None) -> str:
    """A figure as the tables print it: three significant digits or so, n/a for None."""
    if value is None:
        return "n/a"
    if float(value).is_integer() and abs(value) < 1e6:
        return f"{int(value):,}"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 0.1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _ratio(row: Row, other: str = REFERENCE) -> str:
    ours, theirs = row.values.get(OURS), row.values.get(other)
    if not row.ratio or ours is None or theirs is None or theirs == 0:
        return ""
    return f"{ours / theirs:.2f}x"


def _cell(row: Row, target: str) -> str:
    return number(row.values.get(target))


def _others(results: Results) -> list[str]:
    """Servers besides ours and the reference (``ours-metrics-off``), in the order met."""
    seen = {target: None for row in results.rows.values() for target in row.values}
    return [target for target in seen if target not in (OURS, REFERENCE)]


def table(results: Results) -> str:
    """Markdown table, one line per figure, grouped by scenario; any other server gets a
    column of its own and one of ours/it."""
    others = _others(results)
    extra_head = "".join(f" {other} | ours/{other} |" for other in others)
    lines = [
        f"| figure | unit | ours | reference | ours/ref | limit |{extra_head}",
        "|---|---|---:|---:|---:|---:|" + "---:|---:|" * len(others),
    ]
    for row in results.rows.values():
        limit = number(row.limit) if row.limit is not None else ""
        extra = "".join(f" {_cell(row, other)} | {_ratio(row, other)} |" for other in others)
        lines.append(
            f"| {row.group}: {row.label} | {row.unit} | {_cell(row, OURS)} | "
            f"{_cell(row, REFERENCE)} | {_ratio(row)} | {limit} |{extra}"
        )
    return "\n".join(lines)


def notes(results: Results) -> str:
    """Why some figures are n/a."""
    lines = [
        f"- {target}, {group}: {reason}"
        for target, groups in results.failures.items()
        for group, reason in groups.items()
    ]
    return "\n".join(lines)


def render(results: Results) -> str:
    header = ", ".join(f"{key}: {value}" for key, value in results.info.items())
    parts = [header, "", table(results)]
    if results.failures:
        parts += ["", "n/a:", notes(results)]
    return "\n".join(parts)
