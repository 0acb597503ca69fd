"""The Grafana dashboard in grafana/ is valid JSON, well formed as Grafana reads it, and queries
only metrics the server exports (a renamed family would leave a panel empty, silently)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from .harness import Collab
from .test_metrics import get_metrics

DASHBOARD = Path(__file__).resolve().parent.parent / "grafana" / "jupyter_ycollab.json"
#: The samples a family of each type exposes, by suffix.
SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count")}


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def queried_names(board: dict[str, Any]) -> set[str]:
    """Every jupyter_ycollab_ name in the panels' queries and the template variables."""
    texts = [target["expr"] for panel in board["panels"] for target in panel.get("targets", [])]
    texts += [json.dumps(variable) for variable in board["templating"]["list"]]
    return {name for text in texts for name in re.findall(r"jupyter_ycollab_\w+", text)}


def test_the_dashboard_is_well_formed() -> None:
    board = dashboard()
    assert board["uid"] and board["title"] and board["schemaVersion"] >= 36
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in board["panels"]:
        place = panel["gridPos"]
        assert place["x"] + place["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["description"], f"{panel['title']}: say what it shows (docs/metrics.md)"
        assert panel["datasource"]["uid"] == "${datasource}"
        refs = [target["refId"] for target in panel["targets"]]
        assert refs and len(refs) == len(set(refs)), panel["title"]


async def test_every_metric_the_dashboard_queries_is_exported(collab: Collab) -> None:
    status, text = await get_metrics(collab)
    assert status == 200
    exported = {
        family.name + suffix
        for family in text_string_to_metric_families(text)
        for suffix in SUFFIXES.get(family.type, ("",))
    }
    queried = queried_names(dashboard())
    assert queried, "the dashboard queries no collaboration metric"
    assert queried <= exported, f"not exported: {sorted(queried - exported)}"


@pytest.mark.parametrize(
    "title",
    [
        "Open rooms by kind",
        "Connected peers by role",
        "Save latency",
        "Update-log fsync",
        "Refused connections by HTTP status",
        "Connections closed by close code",
    ],
)
def test_the_panels_the_issue_asks_for_are_there(title: str) -> None:
    assert title in {panel["title"] for panel in dashboard()["panels"]}
