"""docs/ops/: the alert rules pass promtool, and every metric the rules and the Grafana dashboard
read is one `/metrics` exports."""

import json
import re
import shutil
import subprocess

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.servers import ROOT, require_tool

OPS = ROOT / "docs" / "ops"
RULES = OPS / "prometheus-alerts.yml"
DASHBOARD = OPS / "grafana-dashboard.json"
METRIC = re.compile(r"\bkard_bff_[a-z_]+\b")
SAMPLE_SUFFIXES = ("_total", "_bucket", "_sum", "_count", "_created")


def rule_expressions() -> list[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


def test_promtool_checks_the_alert_rules():
    promtool = shutil.which("promtool")
    require_tool(promtool is not None, "promtool", "prometheus")
    checked = subprocess.run(
        [promtool, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


@pytest.mark.parametrize(
    "expressions", [rule_expressions, dashboard_expressions], ids=["alert rules", "dashboard"]
)
def test_every_metric_they_read_is_exported(client, expressions):
    exported = set()
    for family in text_string_to_metric_families(client.get("/metrics").text):
        exported.add(family.name)
        exported.update(family.name + suffix for suffix in SAMPLE_SUFFIXES)
    read = {name for expression in expressions() for name in METRIC.findall(expression)}
    assert read, "no kard_bff_ metric is read"
    assert read <= exported, f"not exported: {sorted(read - exported)}"
