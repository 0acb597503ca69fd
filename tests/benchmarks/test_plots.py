"""The benchmark's plots (benchmarks/ycbench/plots.py), drawn from a real quick run's figures
(`quick-run.json`: a `run.py --quick` results file, count rows left out; its many-rooms rows
are those of the quick run in benchmarks/plots/): every plot is written as a PNG, and n/a
figures (a server that did not start, a value missing or NaN, a scenario not run) leave the
plots drawn."""

from __future__ import annotations

import copy
import json
import math
import struct
import sys
from pathlib import Path
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from ycbench import plots  # noqa: E402
from ycbench.figures import RunFigures  # noqa: E402

RUN = Path(__file__).with_name("quick-run.json")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def run() -> dict[str, Any]:
    """A fresh copy of the recorded run's figures (tests change it)."""
    data: dict[str, Any] = json.loads(RUN.read_text())
    return data


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header, after checking its signature."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_MAGIC, f"{path.name} is not a PNG"
    assert head[12:16] == b"IHDR"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def legend_texts(figure: Any) -> list[str]:
    """Every label of a figure's legends."""
    return [text.get_text() for legend in figure.legends for text in legend.get_texts()]


def test_every_plot_is_a_png_next_to_the_stem(run: dict[str, Any], tmp_path: Path) -> None:
    written = plots.write_plots(run, tmp_path / "20261204-031500-quick")
    names = [path.name for path in written]
    assert names == [f"20261204-031500-quick-{name}.png" for name in plots.PLOTS]
    for path in written:
        width, height = png_size(path)
        assert width >= 600 and height >= 300, (path.name, width, height)
        assert path.stat().st_size > 20_000, path.name  # drawn, not an empty canvas


def test_the_run_is_read_the_way_the_table_labels_it(run: dict[str, Any]) -> None:
    figures = RunFigures(run)
    opened = figures.by_workload("open latency", "ms")
    assert list(opened) == ["cold", "warm", "reopen after restart"]
    assert list(opened["cold"]) == ["cells-10", "cells-1k", "cells-10k"]
    assert opened["cold"]["cells-10k"].values["limit"] is not None
    fanout = figures.by_count("fan-out")
    assert list(fanout["delivery p50"]) == [1, 10, 50, 100]
    assert "server CPU" in fanout
    assert "quick run" in figures.subtitle()


def test_many_rooms_has_a_panel_per_figure_and_says_which_is_better_higher(
    run: dict[str, Any],
) -> None:
    figure = plots.many_rooms(RunFigures(run))
    assert figure is not None
    titles = [axes.get_title().replace("\n", " ") for axes in figure.axes]
    assert titles == [
        "delivery p50",
        "delivery p99",
        "server CPU",
        "notebooks written (higher is better)",
        "errors",
    ]
    assert "200 rooms x 2 clients" in figure.texts[0].get_text()


def test_a_server_that_did_not_start_is_na_in_the_legends(
    run: dict[str, Any], tmp_path: Path
) -> None:
    for row in run["rows"]:
        row["values"].pop("reference", None)
    run["failures"] = {"reference": {"server": "did not start: exited with 1"}}
    assert len(plots.write_plots(run, tmp_path / "run")) == len(plots.PLOTS)
    figures = RunFigures(run)
    for name, draw in plots.PLOTS.items():
        figure = draw(figures)
        assert figure is not None
        labels = legend_texts(figure)
        assert any("reference" in label and "(n/a)" in label for label in labels), name
        assert not any("ours" in label and "(n/a)" in label for label in labels), name


def test_single_na_values_are_marked_and_skipped(run: dict[str, Any], tmp_path: Path) -> None:
    broken = copy.deepcopy(run)
    for row in broken["rows"]:
        if row["label"] == "cold, cells-1k":
            row["values"]["ours"] = math.nan  # as a run that delivered nothing writes it
        if row["label"] == "10 receivers, delivery p50":
            del row["values"]["reference"]
    figure = plots.open_latency(RunFigures(broken))
    assert figure is not None
    marks = [text.get_text() for axes in figure.axes for text in axes.texts]
    assert marks.count("n/a") == 1
    assert len(plots.write_plots(broken, tmp_path / "run")) == len(plots.PLOTS)


def test_a_scenario_that_did_not_run_draws_no_plot(run: dict[str, Any], tmp_path: Path) -> None:
    run["rows"] = [row for row in run["rows"] if row["group"] == "memory"]
    written = plots.write_plots(run, tmp_path / "run")
    assert [path.name for path in written] == ["run-memory.png"]
    assert plots.write_plots({"info": {}, "rows": [], "failures": {}}, tmp_path / "none") == []
