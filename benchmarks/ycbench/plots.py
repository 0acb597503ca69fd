"""The run's plots, next to its table: ours against the reference (and the limit where the run
has one) for open latency, fan-out, saving, memory and many rooms, one PNG each.

Drawn from the run's JSON (`Results.to_json()`, what the `.json` file holds), so an earlier
run's file can be drawn again (`run.py --plot-json FILE`). Where a server's figure is n/a its
bar is replaced by an "n/a" mark, or its point is left out of its line; a server with no figure
at all in a plot is named "(n/a)" in the legend. A plot whose scenario did not run is not drawn.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure as Canvas

from . import plotkit
from .figures import LIMIT, OURS, REFERENCE, SERIES, Figure, RunFigures, known, workload_title

LOWER_IS_BETTER = "lower is better"
FANOUT_PANELS = {  # figure -> (panel title, unit)
    "delivery p50": ("delivery p50", "ms"),
    "delivery p99": ("delivery p99", "ms"),
    "server CPU": ("server CPU time over the edit phase", "s"),
}
SAVE_PANELS = {
    "explicit save reply": "explicit save: request to reply",
    "autosave (edit to file written)": "autosave: edit to file written",
    "longest loop stall during save": "longest event-loop stall during a save",
}


def _column(figures: dict[Any, Figure], keys: list[Any], series: str) -> list[float | None]:
    """One series' values at `keys`, None where the run has no figure."""
    return [figures[key].values[series] if key in figures else None for key in keys]


def _table(
    panels: dict[str, dict[Any, Figure]], keys: list[Any]
) -> dict[str, dict[str, list[float | None]]]:
    """Each panel's values by series, in the order of `keys` (None where n/a)."""
    return {
        panel: {series: _column(figures, keys, series) for series in SERIES}
        for panel, figures in panels.items()
    }


def _drawn(tables: dict[str, dict[str, list[float | None]]]) -> list[str]:
    """The series to draw: both servers always (an absent one is n/a), the limit if it has data."""
    limit = any(known(table[LIMIT]) for table in tables.values())
    return [OURS, REFERENCE, LIMIT] if limit else [OURS, REFERENCE]


def _labels(
    run: RunFigures, tables: dict[str, Any], series: list[str], limit: str
) -> dict[str, str]:
    """Legend labels; "(n/a)" for a series with no value in any panel."""
    names = {
        OURS: "ours (jupyter_ycollab)",
        REFERENCE: f"reference ({run.info.get('reference', 'jupyter-collaboration')})",
        LIMIT: f"limit: {limit}",
    }
    return {
        name: names[name]
        + ("" if any(known(table[name]) for table in tables.values()) else " (n/a)")
        for name in series
    }


def _keys_in_order(panels: dict[str, dict[Any, Figure]]) -> list[Any]:
    """Every x value (workload, receivers) of any panel, in the order the run measured them."""
    keys: list[Any] = []
    for figures in panels.values():
        keys += [key for key in figures if key not in keys]
    return keys


def _bar_figure(
    run: RunFigures,
    panels: dict[str, dict[str, Figure]],
    title: str,
    limit: str,
    unit: str,
    titles: dict[str, str] | None = None,
) -> Canvas:
    """Grouped bars by workload, one panel per measured quantity."""
    workloads = _keys_in_order(panels)
    tables = _table(panels, workloads)
    series = _drawn(tables)
    figure = plotkit.new_figure(len(panels), title, f"{run.subtitle()}; {LOWER_IS_BETTER}")
    for axes, (panel, table) in zip(figure.axes, tables.items(), strict=True):
        plotkit.bars(axes, [workload_title(name) for name in workloads], series, table)
        plotkit.style(axes, (titles or {}).get(panel, panel), unit, "notebook")
    plotkit.legend(figure, _labels(run, tables, series, limit), as_lines=False)
    return figure


def open_latency(run: RunFigures) -> Canvas | None:
    """Cold, warm and reopen-after-restart open latency by notebook size."""
    panels = run.by_workload("open latency", "ms")
    if not panels:
        return None
    titles = {"reopen after restart": "reopen after a server restart"}
    return _bar_figure(
        run,
        panels,
        "Open latency by notebook size: session request to whole document in hand",
        "pycrdt alone (parse + build / encode / apply)",
        "ms",
        titles,
    )


def save_latency(run: RunFigures) -> Canvas | None:
    """Explicit save reply, autosave and the longest loop stall during a save, by workload."""
    found = run.by_workload("save", "ms")
    panels = {what: found[what] for what in SAVE_PANELS if what in found}
    if not panels:
        return None
    return _bar_figure(run, panels, "Save latency by notebook", "", "ms", SAVE_PANELS)


def fanout(run: RunFigures) -> Canvas | None:
    """Delivery p50, p99 and the server's CPU by number of receivers in one room."""
    found = run.by_count("fan-out")
    panels = {what: found[what] for what in FANOUT_PANELS if what in found}
    if not panels:
        return None
    receivers: list[int] = sorted(_keys_in_order(panels))
    tables = _table(panels, receivers)
    series = _drawn(tables)
    figure = plotkit.new_figure(
        len(panels),
        "Fan-out: one writer editing at a steady rate, N receivers in one room",
        f"{run.subtitle()}; {LOWER_IS_BETTER}",
    )
    for axes, (panel, table) in zip(figure.axes, tables.items(), strict=True):
        plotkit.lines(axes, receivers, series, table)
        plotkit.style(axes, *FANOUT_PANELS[panel], "receivers")
        axes.set_xscale("log")
        axes.set_xticks(receivers, [str(count) for count in receivers])
        axes.minorticks_off()
    plotkit.legend(figure, _labels(run, tables, series, "bare relay"), as_lines=True)
    return figure


def _panel_per_figure(
    run: RunFigures, rows: list[Figure], title: str, titles: dict[str, str]
) -> Canvas:
    """One panel per figure, ours and the reference side by side (figures of different units)."""
    panels = {row.label: {"": row} for row in rows}
    tables = _table(panels, [""])
    subtitle = f"{run.subtitle()}; {LOWER_IS_BETTER} unless said"
    figure = plotkit.new_figure(len(rows), title, subtitle, 3.0, 3.8)
    for axes, row in zip(figure.axes, rows, strict=True):
        plotkit.bars(axes, [""], [OURS, REFERENCE], tables[row.label])
        plotkit.style(axes, _wrap(titles.get(row.label, row.label)), row.unit, "")
        axes.set_xticks([])
        axes.set_xlim(-1.0, 1.0)  # narrower bars
    plotkit.legend(figure, _labels(run, tables, [OURS, REFERENCE], ""), as_lines=False)
    return figure


def memory(run: RunFigures) -> Canvas | None:
    """Resident memory, one panel per figure."""
    rows = run.group("memory")
    if not rows:
        return None
    return _panel_per_figure(run, rows, "Server memory (RSS of the server and its children)", {})


def many_rooms(run: RunFigures) -> Canvas | None:
    """Many small rooms edited at once: delivery, CPU, files written, errors."""
    rows = [row for row in run.group("many rooms") if not row.label.endswith("missed deliveries")]
    if not rows:
        return None
    workload = rows[0].label.rpartition(", ")[0]  # "200 rooms x 2 clients, delivery p50"
    titles = {row.label: row.label.rpartition(", ")[2] for row in rows}
    for label, what in titles.items():
        titles[label] = what + (" (higher is better)" if what == "notebooks written" else "")
    title = f"Many rooms: {workload}, every writer typing into its own notebook"
    return _panel_per_figure(run, rows, title, titles)


def _wrap(text: str, width: int = 28) -> str:
    """A panel title over lines of about `width` characters."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + len(word) < width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return "\n".join(lines)


PLOTS: dict[str, Callable[[RunFigures], Canvas | None]] = {
    "open": open_latency,
    "fanout": fanout,
    "save": save_latency,
    "memory": memory,
    "rooms": many_rooms,
}


def write_plots(data: dict[str, Any], stem: Path) -> list[Path]:
    """Draw every plot the run has data for as `<stem>-<plot>.png`; return the files written."""
    run = RunFigures(data)
    written = []
    for name, draw in PLOTS.items():
        figure = draw(run)
        if figure is not None:
            written.append(plotkit.save(figure, stem.with_name(f"{stem.name}-{name}.png")))
    return written
