"""Prometheus configuration, alert rules and the Grafana dashboard, checked offline:
`promtool check config`, `promtool check rules`, `promtool test rules` (Debian's prometheus
package), PromQL of every dashboard panel parsed by promtool, and every crawlfleet metric a
rule, panel or autoscaler names is one that crawlfleet exports."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from controller.metrics import CONTROLLER_METRICS
from crawlstore.metrics import FRONTIER_METRICS
from spiders.metrics import WORKER_METRICS
from tests.ops.conftest import DEPLOY

PROMETHEUS = DEPLOY / "prometheus"
RULES = PROMETHEUS / "rules" / "crawlfleet.rules.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "crawlfleet.json"

# Grafana's variables, as a test (and Prometheus) sees them.
VARIABLES = {"$__rate_interval": "1m", "${crawl}": ".*", "$crawl": ".*"}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


def exported_names() -> set[str]:
    """Every series name crawlfleet exports (histograms with their _bucket/_sum/_count)."""
    names: set[str] = set()
    kinds = {**{k: v[0] for k, v in WORKER_METRICS.items()}, **{k: v[0] for k, v in CONTROLLER_METRICS.items()},
             **{k: v[0] for k, v in FRONTIER_METRICS.items()}}
    for name, kind in kinds.items():
        names.add(name)
        if kind == "histogram":
            names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    return names


def crawlfleet_names(promql: str) -> set[str]:
    return set(re.findall(r"\bcrawlfleet_[a-z0-9_]+", promql))


def substitute(expr: str) -> str:
    for variable, value in VARIABLES.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"an unknown dashboard variable in {expr}"
    return expr


def dashboard() -> dict[str, Any]:
    doc = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def panels(doc: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for panel in doc["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))
    return [p for p in out if p["type"] != "row"]


def panel_queries() -> list[tuple[str, str]]:
    """(panel title, PromQL with the variables substituted) of every dashboard target."""
    return [(p["title"], substitute(t["expr"])) for p in panels(dashboard()) for t in p["targets"]]


# --------------------------------------------------------------------------- promtool


def test_static_config_is_valid(promtool: str) -> None:
    result = run(promtool, "check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_kubernetes_config_is_valid(promtool: str, tmp_path: Path) -> None:
    """Debian's Prometheus is built without Kubernetes service discovery, so its promtool cannot
    parse `kubernetes_sd_configs`: the block is checked here against Prometheus's documented
    fields, then swapped for a static target so promtool checks all the rest (relabelling
    included) for real."""
    config = yaml.safe_load((PROMETHEUS / "prometheus-k8s.yml").read_text(encoding="utf-8"))
    for job in config["scrape_configs"]:
        for sd in job.pop("kubernetes_sd_configs"):
            assert set(sd) <= {"role", "namespaces", "selectors", "api_server", "kubeconfig_file", "attach_metadata"}
            assert sd["role"] in {"node", "service", "pod", "endpoints", "endpointslice", "ingress"}
            assert set(sd.get("namespaces", {})) <= {"names", "own_namespace"}
        job["static_configs"] = [{"targets": ["pod:9410"]}]
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / RULES.name).write_text(RULES.read_text(encoding="utf-8"), encoding="utf-8")
    checked = tmp_path / "prometheus-k8s.yml"
    checked.write_text(yaml.safe_dump(config), encoding="utf-8")
    result = run(promtool, "check", "config", str(checked))
    assert result.returncode == 0, result.stdout + result.stderr


def test_kubernetes_relabelling_keeps_controller_and_worker_pods_only() -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus-k8s.yml").read_text(encoding="utf-8"))
    (job,) = config["scrape_configs"]
    keep = [r for r in job["relabel_configs"] if r.get("action") == "keep"]
    port_rule = next(r for r in keep if "__meta_kubernetes_pod_container_port_name" in r["source_labels"])
    regex = re.compile(port_rule["regex"])
    assert regex.fullmatch("controller;http") and regex.fullmatch("worker;metrics")
    assert not regex.fullmatch("worker;http") and not regex.fullmatch("redis;redis")


def test_rules_are_valid(promtool: str) -> None:
    result = run(promtool, "check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_rules_unit_tests_pass(promtool: str) -> None:
    result = run(promtool, "test", "rules", str(PROMETHEUS / "tests" / "crawlfleet.rules.test.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_has_a_unit_test_that_fires_it() -> None:
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
    tests = yaml.safe_load((PROMETHEUS / "tests" / "crawlfleet.rules.test.yml").read_text(encoding="utf-8"))
    fired = {t["alertname"] for case in tests["tests"] for t in case.get("alert_rule_test", []) if t["exp_alerts"]}
    silent = {t["alertname"] for case in tests["tests"] for t in case.get("alert_rule_test", [])
              if not t["exp_alerts"]}
    assert alerts == fired, "every alert needs a test where it fires"
    assert alerts == silent, "and one where it must not"
    required = {"CrawlfleetNoLiveWorkers", "CrawlfleetCrawlStalled", "CrawlfleetHighErrorRate",
                "CrawlfleetLeasesReapedRepeatedly", "CrawlfleetRedisMemoryNearLimit"}
    assert required <= alerts


def test_rules_name_only_exported_metrics() -> None:
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    unknown = {name for expr in exprs for name in crawlfleet_names(expr)} - exported_names()
    assert unknown == set()


# --------------------------------------------------------------------------- dashboard


def test_dashboard_is_clean_provisionable_json() -> None:
    doc = dashboard()
    assert doc["uid"] == "crawlfleet-overview"
    assert "id" not in doc, "a numeric id ties the dashboard to one Grafana database"
    assert doc["title"] and doc["schemaVersion"] >= 36
    variables = {v["name"]: v for v in doc["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    assert variables["crawl"]["includeAll"] and variables["crawl"]["allValue"] == ".*"
    ids = [p["id"] for p in panels(doc)]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    for panel in panels(doc):
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"] and panel.get("description"), panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]
    assert json.dumps(doc, indent=2) + "\n" == DASHBOARD.read_text(encoding="utf-8"), "keep the JSON formatted"


def test_dashboard_has_the_panels_operators_need() -> None:
    titles = {p["title"] for p in panels(dashboard())}
    assert {"Cluster throughput", "Progress against maxToCrawl", "Progress against maxToProcess", "Error rate",
            "Fetch latency", "Frontier depth", "Hosts due", "Lease reaps", "Live workers",
            "Worker memory", "Redis memory"} <= titles


def test_dashboard_queries_name_only_exported_metrics() -> None:
    unknown = {name for _, expr in panel_queries() for name in crawlfleet_names(expr)} - exported_names()
    assert unknown == set()


def test_dashboard_queries_parse(promtool: str, tmp_path: Path) -> None:
    """promtool parses every panel's PromQL (as recording rules: the one offline PromQL check it has)."""
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query_{i}", "expr": expr} for i, (_, expr) in enumerate(panel_queries())]}]}
    path = tmp_path / "dashboard.rules.yml"
    path.write_text(yaml.safe_dump(rules), encoding="utf-8")
    result = run(promtool, "check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", ["datasources/prometheus.yml", "dashboards/crawlfleet.yml"])
def test_grafana_provisioning_files(path: str) -> None:
    doc = yaml.safe_load((DEPLOY / "grafana" / "provisioning" / path).read_text(encoding="utf-8"))
    assert doc["apiVersion"] == 1
    if path.startswith("datasources"):
        (source,) = doc["datasources"]
        assert source["type"] == "prometheus" and source["access"] == "proxy"
    else:
        (provider,) = doc["providers"]
        assert provider["type"] == "file" and provider["options"]["path"].startswith("/")


# --------------------------------------------------------------------------- autoscaling


def test_autoscaler_queries_name_only_exported_metrics() -> None:
    adapter = yaml.safe_load((DEPLOY / "k8s" / "prometheus-adapter" / "values.yaml").read_text(encoding="utf-8"))
    (rule,) = adapter["rules"]["external"]
    names = crawlfleet_names(rule["seriesQuery"] + rule["metricsQuery"])
    keda = yaml.safe_load((DEPLOY / "k8s" / "components" / "keda" / "scaledobject.yaml").read_text(encoding="utf-8"))
    names |= crawlfleet_names(keda["spec"]["triggers"][0]["metadata"]["query"])
    assert names == {"crawlfleet_frontier_due_hosts"}
    assert rule["name"]["as"] == "crawlfleet_frontier_due_hosts"


def test_autoscaler_query_parses(promtool: str, tmp_path: Path) -> None:
    adapter = yaml.safe_load((DEPLOY / "k8s" / "prometheus-adapter" / "values.yaml").read_text(encoding="utf-8"))
    (rule,) = adapter["rules"]["external"]
    keda = yaml.safe_load((DEPLOY / "k8s" / "components" / "keda" / "scaledobject.yaml").read_text(encoding="utf-8"))
    exprs = [rule["metricsQuery"].replace("<<.LabelMatchers>>", 'namespace="crawlfleet"'),
             keda["spec"]["triggers"][0]["metadata"]["query"]]
    path = tmp_path / "scaler.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "scaler", "rules": [
        {"record": f"scaler:{i}", "expr": e} for i, e in enumerate(exprs)]}]}), encoding="utf-8")
    result = run(promtool, "check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
