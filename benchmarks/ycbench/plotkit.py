"""Drawing pieces shared by the run's plots (plots.py): styles, panels, legend, PNG output.

Figures are made with matplotlib's object interface and its Agg canvas, never pyplot: nothing
opens a window or changes the process's backend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as Canvas
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from .figures import LIMIT, OURS, REFERENCE, known
from .report import number

COLOURS = {OURS: "#1f6fb4", REFERENCE: "#e8772e", LIMIT: "#7a7a7a"}
BAR_STYLES: dict[str, dict[str, Any]] = {
    OURS: {"color": COLOURS[OURS]},
    REFERENCE: {"color": COLOURS[REFERENCE]},
    LIMIT: {"facecolor": "white", "edgecolor": COLOURS[LIMIT], "hatch": "////", "linewidth": 0.8},
}
LINE_STYLES: dict[str, dict[str, Any]] = {
    OURS: {"color": COLOURS[OURS], "marker": "o", "linewidth": 2},
    REFERENCE: {"color": COLOURS[REFERENCE], "marker": "s", "linewidth": 2},
    LIMIT: {"color": COLOURS[LIMIT], "marker": "^", "linewidth": 1.2, "linestyle": ":"},
}
#: A log axis when the largest value is this many times the smallest.
LOG_SPAN = 20.0
DPI = 110


def new_figure(
    panels: int, title: str, subtitle: str, panel_width: float = 4.2, height: float = 4.2
) -> Canvas:
    """A figure of `panels` side-by-side axes (`figure.axes`), titled on two lines."""
    width = min(panel_width * panels, 14.0)
    figure = Canvas(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    figure.subplots(1, panels, squeeze=False)
    figure.suptitle(f"{title}\n{subtitle}", fontsize=11)
    return figure


def scale(axes: Axes, values: Sequence[float], headroom: float = 1.0) -> None:
    """Log scale when the values span decades, linear from zero otherwise; room above the
    tallest for a label (`headroom` as a factor on a log axis, a fraction of it on a linear one)."""
    positive = [value for value in values if value > 0]
    if not positive:  # all zero (no errors): an axis from 0, not one centred on it
        axes.set_ylim(0, 1)
        return
    low, high = min(positive), max(positive)
    if high / low >= LOG_SPAN:
        axes.set_yscale("log")
        axes.set_ylim(low / 2.5, high * max(headroom, 1.6))
        # Plain numbers (0.1, 1, 10) read faster than powers of ten; 1-2-5 steps over short spans.
        subs = (1.0, 2.0, 5.0) if high / low < 300 else (1.0,)
        axes.yaxis.set_major_locator(LogLocator(subs=subs))
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,g}"))
        axes.yaxis.set_minor_formatter(NullFormatter())
    else:
        axes.set_ylim(0, high * (1.12 + (headroom - 1) / 10))


def bar_label(axes: Axes, x: float, value: float, rotate: bool) -> None:
    """The value printed just above its bar."""
    axes.annotate(
        number(value),
        (x, value),
        xytext=(0, 2),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize=7 if rotate else 8,
        rotation=90 if rotate else 0,
    )


def not_available(axes: Axes, x: float, series: str) -> None:
    """An n/a mark where a bar would be."""
    axes.text(
        x,
        0.02,
        "n/a",
        transform=axes.get_xaxis_transform(),
        ha="center",
        va="bottom",
        rotation=90,
        fontsize=7,
        color=COLOURS[series],
    )


def bars(
    axes: Axes, groups: list[str], series: list[str], values: dict[str, list[float | None]]
) -> None:
    """Grouped bars: one group per x position, one bar per series (n/a marked), values on top."""
    width = 0.8 / len(series)
    crowded = len(groups) * len(series) > 6
    for index, name in enumerate(series):
        offset = (index - (len(series) - 1) / 2) * width
        for position, value in enumerate(values[name]):
            x = position + offset
            if value is None:
                not_available(axes, x, name)
                continue
            axes.bar(x, value, width * 0.92, **BAR_STYLES[name])
            bar_label(axes, x, value, rotate=crowded)
    axes.set_xticks(range(len(groups)), groups)
    every = [value for name in series for value in known(values[name])]
    scale(axes, every, headroom=4.0 if crowded else 1.8)


def lines(
    axes: Axes, xs: list[int], series: list[str], values: dict[str, list[float | None]]
) -> None:
    """One line per series over `xs`; an n/a point is left out and its line broken there
    (matplotlib does not join across NaN), so no line pretends to a value nobody measured."""
    for name in series:
        if known(values[name]):
            ys = [math.nan if y is None else y for y in values[name]]
            axes.plot(xs, ys, **LINE_STYLES[name])
    every = [value for name in series for value in known(values[name])]
    scale(axes, every)


def legend(figure: Canvas, labels: dict[str, str], as_lines: bool) -> None:
    """One legend for the whole figure, below the panels, one entry per series."""
    handles: list[Any] = []
    for name, label in labels.items():
        if as_lines:
            handles.append(Line2D([], [], label=label, **LINE_STYLES[name]))
        else:
            handles.append(Patch(label=label, **BAR_STYLES[name]))
    figure.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)


def style(axes: Axes, title: str, unit: str, xlabel: str) -> None:
    """A panel's title and axis labels; a light grid behind the data."""
    axes.set_title(title, fontsize=10)
    axes.set_ylabel(unit)
    axes.set_xlabel(xlabel)
    axes.grid(axis="y", which="major", alpha=0.3)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


def save(figure: Canvas, path: Path) -> Path:
    """Write the figure as a PNG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", dpi=DPI, facecolor="white")
    return path
