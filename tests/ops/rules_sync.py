"""The Prometheus Operator's copy of the alert rules, rendered from deploy/prometheus/rules.

    .venv/bin/python -m tests.ops.rules_sync        # rewrite deploy/k8s/components/monitoring/prometheusrule.yaml

tests/ops/test_k8s.py fails when the file and the rules differ.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "rules" / "crawlfleet.rules.yml"
PROMETHEUS_RULE = ROOT / "deploy" / "k8s" / "components" / "monitoring" / "prometheusrule.yaml"

HEADER = """\
# GENERATED from deploy/prometheus/rules/crawlfleet.rules.yml by `python -m tests.ops.rules_sync`;
# edit the rules there. For the Prometheus Operator: add the label your Prometheus's ruleSelector
# matches (often `release: <helm release>`) in an overlay.
"""


def prometheus_rule() -> dict[str, Any]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "crawlfleet",
            "labels": {"app.kubernetes.io/name": "crawlfleet", "app.kubernetes.io/part-of": "crawlfleet"},
        },
        "spec": {"groups": groups},
    }


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (PromQL, descriptions) as `|` blocks, readable in review."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def render() -> str:
    return HEADER + yaml.dump(prometheus_rule(), Dumper=_Dumper, sort_keys=False, width=120, allow_unicode=True)


if __name__ == "__main__":
    PROMETHEUS_RULE.write_text(render(), encoding="utf-8")
    print(f"wrote {PROMETHEUS_RULE.relative_to(ROOT)}")
