"""deploy/grafana-dashboard.json: valid, and a panel for every metric the bot exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bot.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = json.loads((ROOT / "deploy" / "grafana-dashboard.json").read_text())


def panels() -> list[dict]:
    return [p for p in DASHBOARD["panels"] if p["type"] != "row"]


def expressions() -> list[str]:
    return [target["expr"] for panel in panels() for target in panel["targets"]]


def exported_families() -> dict[str, str]:
    return {
        family.name: family.type
        for family in Metrics().registry.collect()
        if not family.name.endswith("_created")
    }


def test_every_exported_metric_has_a_panel():
    text = "\n".join(expressions())
    for name, kind in exported_families().items():
        series = {"counter": f"{name}_total", "histogram": f"{name}_bucket"}.get(kind, name)
        assert re.search(rf"\b{series}\b", text), f"no panel shows {series}"


def test_histograms_are_shown_as_quantiles_and_counters_as_rates():
    for expr in expressions():
        if "_bucket" in expr:
            assert expr.startswith("histogram_quantile(")
        if "_total" in expr:
            assert "rate(" in expr or "increase(" in expr, expr


def test_panels_are_well_formed_and_do_not_overlap():
    ids = [p["id"] for p in DASHBOARD["panels"]]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for panel in DASHBOARD["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"panel {panel['title']} overlaps another"
                cells.add((x, y))
    for panel in panels():
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"] and panel["title"]
        assert all(t["refId"] for t in panel["targets"])


def test_the_data_source_and_process_are_choosable():
    variables = {v["name"]: v for v in DASHBOARD["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert variables["instance"]["includeAll"] is True
    assert all('instance=~"$instance"' in expr for expr in expressions())
    assert DASHBOARD["uid"] == "ensemble-bot"


def test_readme_lists_every_metric():
    readme = (ROOT / "README.md").read_text()
    for name, kind in exported_families().items():
        series = f"{name}_total" if kind == "counter" else name
        assert f"`{series}" in readme, f"the README's metrics table lacks {series}"
