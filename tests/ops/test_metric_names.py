"""Every crawlfleet metric: `crawlfleet_` prefix, a unit (or what it counts) as suffix, HELP text,
and labels from a small fixed set (never a URL, host or pod)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from controller.metrics import CONTROLLER_METRICS, ControllerMetrics
from crawlstore.metrics import FRONTIER_METRICS, UNIT_SUFFIXES
from spiders.metrics import WORKER_METRICS, WorkerMetrics

ALLOWED_LABELS = {"crawl", "role", "status_class", "operation", "route", "method", "status", "name", "collector",
                  "version"}
ALL = {**{k: v[:2] for k, v in WORKER_METRICS.items()}, **CONTROLLER_METRICS, **FRONTIER_METRICS}


@pytest.mark.parametrize("name", sorted(ALL))
def test_name_has_prefix_and_unit_and_help(name: str) -> None:
    kind, doc = ALL[name]
    assert re.fullmatch(r"crawlfleet_[a-z0-9_]+", name), name
    assert name.endswith(UNIT_SUFFIXES), f"{name}: no unit suffix ({', '.join(UNIT_SUFFIXES)})"
    assert (kind == "counter") == name.endswith("_total"), f"{name}: counters, and only counters, end in _total"
    if kind == "histogram":
        assert name.endswith(("_seconds", "_bytes")), name
    assert len(doc) > 20 and doc.endswith("."), f"{name}: HELP should be a sentence: {doc!r}"


def test_names_are_unique_across_components() -> None:
    shared = set(WORKER_METRICS) & set(CONTROLLER_METRICS)
    assert shared == {"crawlfleet_build_info"}  # the same metric, exported by both
    assert not set(FRONTIER_METRICS) & (set(WORKER_METRICS) | set(CONTROLLER_METRICS))


@pytest.mark.parametrize("name", sorted(WORKER_METRICS))
def test_worker_labels_are_crawl_and_role_and_fixed_sets(name: str) -> None:
    labels = set(WORKER_METRICS[name][2])
    assert labels <= {"crawl", "role", "status_class", "operation"}, labels
    if WORKER_METRICS[name][0] != "info":
        assert "role" in labels, f"{name}: every worker metric carries the worker's role"


def exposition(registry: CollectorRegistry) -> list[Any]:
    return list(text_string_to_metric_families(generate_latest(registry).decode()))


def test_exported_families_have_help_and_allowed_labels() -> None:
    worker = WorkerMetrics(process=True)
    worker.fetched("c1", 200, 10, 0.1)
    with worker.redis_op("pop"):
        pass
    controller = ControllerMetrics()
    controller.observe("/v3/crawl", "GET", 200, 0.01)
    for registry in (worker.registry, controller.registry):
        for family in exposition(registry):
            assert family.documentation, family.name
            if not family.name.startswith("crawlfleet_"):
                assert family.name.startswith(("process_", "python_")), family.name
                continue
            for sample in family.samples:
                assert set(sample.labels) - {"le"} <= ALLOWED_LABELS, sample


def test_every_metric_and_alert_is_in_the_readme() -> None:
    from tests.ops.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    operate = readme.split("## Operate", 1)[1].split("\n## ", 1)[0]
    missing = [name for name in ALL if f"`{name}`" not in operate]
    assert missing == [], "document these in the README's Operate section"
    import yaml

    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "rules" / "crawlfleet.rules.yml").read_text())
    alerts = [r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r]
    assert [a for a in alerts if f"`{a}`" not in operate] == []
