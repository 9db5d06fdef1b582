"""deploy/prometheus and deploy/grafana ask only for metrics the code exports, in PromQL that parses.

The exported names come from the running code: the worker metrics and django-prometheus' (the default registry of
this process, once it has served a request) and the web collector's families (read from the test database)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

from api import alerts  # noqa: F401  (registers the alert deliveries' counter)
from api.system_metrics import SweeperCollector
from workers import metrics  # noqa: F401  (registers the worker metrics)

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
PROMQL_WORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool",
                "inf", "nan"}
PROMETHEUS_OWN = {"up"}  # series Prometheus itself writes for every target


def exported_names() -> set[str]:
    names: set[str] = set()
    for family in [*REGISTRY.collect(), *SweeperCollector().collect()]:
        if family.type == "counter":
            names |= {f"{family.name}_total", f"{family.name}_created"}
        elif family.type == "histogram":
            names |= {f"{family.name}_bucket", f"{family.name}_count", f"{family.name}_sum"}
        else:
            names.add(family.name)
    return names


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: identifiers that are neither functions, keywords, label names
    (inside braces or after by/on/...) nor durations."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    names = set()
    for match in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?", text):
        word, call = match.group(1), match.group(2)
        if not call and word.lower() not in PROMQL_WORDS:
            names.add(word)
    return names


def dashboard_exprs() -> list[str]:
    exprs = []
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            assert panel["datasource"]["uid"] == "prometheus", panel["title"]
            exprs += [target["expr"] for target in panel["targets"]]
    return exprs


def rule_exprs() -> list[str]:
    return [rule["expr"] for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def test_the_name_extraction_finds_names_and_nothing_else():
    assert metric_names('sum by (source, reason) (rate(tge_fetch_errors_total{outcome="x"}[15m]) * on (source_id) '
                        'group_left (source) max by (source_id, source) (tge_source_info)) * 3600') == {
        "tge_fetch_errors_total", "tge_source_info"}
    assert metric_names('histogram_quantile(0.95, sum by (le) (rate(a_bucket[5m]))) > 0 and b or vector(0)') == {
        "a_bucket", "b"}


@pytest.mark.django_db
def test_every_metric_the_dashboard_and_the_alerts_read_is_exported(fresh_cache, client):
    client.get("/health/live")  # the web's middleware registers django-prometheus' metrics when it is first built
    exported = exported_names() | PROMETHEUS_OWN
    read = {name: where for where, exprs in (("dashboard", dashboard_exprs()), ("alerts", rule_exprs()))
            for expr in exprs for name in metric_names(expr)}
    assert len(read) >= 15
    assert {name: where for name, where in read.items() if name not in exported} == {}
    # The dashboard covers what the issue asks of it: throughput, delays, errors by source, queues, API latency.
    everything = " ".join(dashboard_exprs())
    for needed in ("tge_documents_parsed_total", "tge_publication_to_persisted_seconds_bucket", "tge_fetch_errors_total",
                   "tge_queue_depth", "django_http_requests_latency_seconds_by_view_method_bucket"):
        assert needed in everything, needed


@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool (Debian package prometheus) is not installed")
def test_every_dashboard_query_parses(tmp_path):
    rules = {"groups": [{"name": "dashboard", "rules": [{"record": f"dashboard:query_{i}", "expr": expr}
                                                        for i, expr in enumerate(dashboard_exprs())]}]}
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump(rules))
    checked = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
