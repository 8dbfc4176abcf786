"""The deployments: the Helm chart (deploy/helm/genai-stack) and docker-compose.yml.

No cluster here: the chart is linted and rendered by Helm's own Go SDK (helm-python-sdk binds
libhelm, the code of `helm lint` and `helm template`), and every rendered manifest is
validated against the Kubernetes API's schemas (kubernetes-validate, strict: an unknown or
misspelt field fails). docker-compose.yml is validated against the Compose specification's
JSON schema (the copy check-jsonschema ships). Both are checked to use the settings' real
environment variable names and the command line's real commands."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import psycopg
import pytest
import yaml
from helm_python import HelmRenderError, HelmValuesError, chart
from starlette.testclient import TestClient
from typer.main import get_command

from infrastructure.settings import Settings
from interfaces.cli import app as cli_app
from tests.conftest import fresh_postgres_database

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "genai-stack"
KUBERNETES = "1.30.0"  # the oldest minor the chart's kubeVersion serves that still gets fixes
SECRET = {"secrets": {"existingSecret": "genai"}}
# read by uvicorn (FORWARDED_ALLOW_IPS) and by OpenTelemetry's own configuration (OTEL_*), not
# by our Settings (infrastructure/tracing.py)
NOT_SETTINGS = {
    "FORWARDED_ALLOW_IPS",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_SERVICE_NAME",
}
SETTING_NAMES = {name.upper() for name in Settings.model_fields}


def render(values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    rendered = chart.Chart.load(CHART).render(
        {**SECRET, **(values or {})}, name="genai-stack", namespace="ai", is_install=True
    )
    return [
        doc
        for text in rendered.values()
        for doc in yaml.safe_load_all(text)
        if doc  # a template switched off renders nothing
    ]


def find(manifests: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind} {name}: {len(found)} of them"
    return found[0]


def kinds(manifests: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(m["kind"], m["metadata"]["name"]) for m in manifests}


def containers(manifests: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict]]:
    for m in manifests:
        spec = m.get("spec", {})
        pod = spec.get("template", {}).get("spec") or spec.get("jobTemplate", {}).get("spec")
        for container in (pod or {}).get("containers", []):
            yield m, container


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container.get("env", [])}


def cli_command_exists(argv: list[str]) -> bool:
    """Whether `genai-stack a b ...` names a command of the real command line."""
    assert argv[0] == "genai-stack"
    command: Any = get_command(cli_app)
    for word in argv[1:]:
        if word.startswith("-"):
            break
        sub = getattr(command, "commands", {}).get(word)
        if sub is None:
            return False
        command = sub
    return not hasattr(command, "commands")  # a command, not a group


VALUES = [
    pytest.param({}, id="defaults"),
    pytest.param(
        {
            "chroma": {"mode": "external", "externalUrl": "http://chroma.vectors:8000"},
            "api": {"autoscaling": {"enabled": False}, "replicas": 3},
            "worker": {"enabled": False},
            "web": {"enabled": False},
            "ingress": {"tls": {"secretName": "genai-tls"}},
            "persistence": {"existingClaim": "shared-files"},
        },
        id="external-chroma-no-hpa",
    ),
    pytest.param(
        {
            "secrets": {
                "create": True,
                "values": {"DATABASE_URL": "postgresql://u:p@db/genai", "GENAI_SECRET_KEY": "k"},
            },
            "ingress": {"enabled": False},
            "serviceAccount": {"create": False, "name": "existing"},
        },
        id="chart-made-secret",
    ),
]


def test_the_chart_lints_clean() -> None:
    report = chart.lint(CHART, SECRET, strict=True, kube_version=f"v{KUBERNETES}")
    assert report["errors"] == []
    # 1 is "info" (an icon is recommended); warnings (2) and errors (3) fail
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


@pytest.mark.parametrize("values", VALUES)
def test_every_rendered_manifest_is_valid_kubernetes(values: dict[str, Any]) -> None:
    manifests = render(values)
    assert len(manifests) >= 5
    for manifest in manifests:
        # raises ValidationError naming the field; strict: unknown fields fail too
        kubernetes_validate.validate(manifest, KUBERNETES, strict=True)


def test_the_schema_validation_is_able_to_fail() -> None:
    deployment = find(render(), "Deployment", "genai-stack-api")
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["paht"] = (
        "/readyz"
    )
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES, strict=True)


def test_api_deployment_probes_scaling_and_disruption_budget() -> None:
    manifests = render()
    api = find(manifests, "Deployment", "genai-stack-api")
    pod = api["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] == ["genai-stack", "serve", "--host", "0.0.0.0", "--port", "8000"]
    # the kubelet's Host would be the pod's address, which the API refuses (400): a
    # loopback name, which it always answers as
    localhost = [{"name": "Host", "value": "localhost"}]
    assert container["readinessProbe"]["httpGet"] == {
        "path": "/readyz",
        "port": "http",
        "httpHeaders": localhost,
    }
    assert container["livenessProbe"]["httpGet"] == {
        "path": "/healthz",
        "port": "http",
        "httpHeaders": localhost,
    }
    assert container["startupProbe"]["httpGet"]["httpHeaders"] == localhost
    # the drain starts once the endpoints are updated, and fits in the pod's grace period
    assert container["lifecycle"]["preStop"]["sleep"]["seconds"] == 5
    assert container["resources"]["requests"]["cpu"] == "500m"
    assert "replicas" not in api["spec"]  # the HPA owns the count
    hpa = find(manifests, "HorizontalPodAutoscaler", "genai-stack-api")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "genai-stack-api",
    }
    assert hpa["spec"]["minReplicas"] == 2
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    pdb = find(manifests, "PodDisruptionBudget", "genai-stack-api")
    assert pdb["spec"]["selector"]["matchLabels"] == api["spec"]["selector"]["matchLabels"]
    assert api["spec"]["selector"]["matchLabels"].items() <= pod_labels(api).items()
    # the workers run the projections and the queued ingestion jobs: the API processes do not
    assert env_of(container)["GENAI_RUN_PROJECTIONS"] == "false"
    assert env_of(container)["GENAI_INGESTION_WORKERS"] == "0"
    worker = find(manifests, "Deployment", "genai-stack-worker")
    assert worker["spec"]["replicas"] == 2  # any number share the ingestion jobs
    # the drain fits in the pod's grace period
    assert int(env_of(container)["GENAI_SHUTDOWN_GRACE_SECONDS"]) + 5 < int(
        pod["terminationGracePeriodSeconds"]
    )

    fixed = render({"api": {"autoscaling": {"enabled": False}}})
    assert find(fixed, "Deployment", "genai-stack-api")["spec"]["replicas"] == 2
    assert ("HorizontalPodAutoscaler", "genai-stack-api") not in kinds(fixed)
    alone = render({"worker": {"enabled": False}})
    (api_alone,) = find(alone, "Deployment", "genai-stack-api")["spec"]["template"]["spec"][
        "containers"
    ]
    assert env_of(api_alone)["GENAI_RUN_PROJECTIONS"] == "true"
    assert env_of(api_alone)["GENAI_INGESTION_WORKERS"] != "0"  # it indexes the uploads itself
    assert ("Deployment", "genai-stack-worker") not in kinds(alone)


def pod_labels(workload: dict[str, Any]) -> dict[str, str]:
    return workload["spec"]["template"]["metadata"]["labels"]


@pytest.mark.parametrize("values", VALUES)
def test_processes_run_real_commands_with_real_settings(values: dict[str, Any]) -> None:
    manifests = render(values)
    ran = set()
    for workload, container in containers(manifests):
        if container["image"].startswith("genai-stack:"):
            assert cli_command_exists(container["command"]), container["command"]
            ran.add(" ".join(container["command"][:3]))
            for name in env_of(container):
                assert name in SETTING_NAMES | NOT_SETTINGS, f"{name} is no setting"
            secret = container["envFrom"][0]["secretRef"]["name"]
            assert secret == values.get("secrets", SECRET["secrets"]).get(
                "existingSecret", "genai-stack-secrets"
            )
            sa = workload["spec"]["template"]["spec"]["serviceAccountName"]
            assert sa == values.get("serviceAccount", {}).get("name", "genai-stack")
    assert "genai-stack migrate" in ran
    assert ("genai-stack worker" in ran) == values.get("worker", {}).get("enabled", True)
    for secret in (m for m in manifests if m["kind"] == "Secret"):
        assert set(secret["stringData"]) <= SETTING_NAMES


def test_the_commands_check_is_able_to_fail() -> None:
    assert cli_command_exists(["genai-stack", "projections", "run"])
    assert cli_command_exists(["genai-stack", "worker", "--concurrency", "1"])
    assert not cli_command_exists(["genai-stack", "workers"])
    assert not cli_command_exists(["genai-stack", "projections"])  # a group, not a command


def test_migrations_run_as_a_hook_before_install_and_upgrade() -> None:
    manifests = render()
    job = find(manifests, "Job", "genai-stack-migrate")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["genai-stack", "migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    made = render({"secrets": {"create": True, "values": {"DATABASE_URL": "postgresql://x/y"}}})
    secret = find(made, "Secret", "genai-stack-secrets")
    # the Job reads the Secret: it exists before the hook runs
    assert secret["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert int(secret["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(
        job["metadata"]["annotations"].get("helm.sh/hook-weight", "0")
    )


def test_vectors_move_to_the_new_layout_after_an_upgrade() -> None:
    manifests = render({"chroma": {"mode": "external", "externalUrl": "http://chroma.db:8000"}})
    job = find(manifests, "Job", "genai-stack-vectors-upgrade")
    # after the upgrade (Chroma is there); a fresh install has no old layout
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-upgrade"
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["genai-stack", "vectors", "upgrade"]
    assert env_of(container)["CHROMA_URL"] == "http://chroma.db:8000"
    assert find(manifests, "Job", "genai-stack-migrate")  # both from one template


def test_chroma_internal_or_external() -> None:
    internal = render()
    chroma = find(internal, "StatefulSet", "genai-stack-chroma")
    service = find(internal, "Service", "genai-stack-chroma")
    assert service["spec"]["selector"].items() <= pod_labels(chroma).items()
    port = service["spec"]["ports"][0]["port"]
    for _, container in containers(internal):
        if container["name"] in ("api", "worker"):
            assert env_of(container)["CHROMA_URL"] == f"http://genai-stack-chroma:{port}"

    external = render({"chroma": {"mode": "external", "externalUrl": "http://vectors:8000"}})
    assert not any(m["kind"] == "StatefulSet" for m in external)
    for _, container in containers(external):
        if container["name"] in ("api", "worker"):
            assert env_of(container)["CHROMA_URL"] == "http://vectors:8000"

    with pytest.raises(HelmRenderError, match="chroma.externalUrl is required"):
        render({"chroma": {"mode": "external"}})


def test_values_are_checked_against_the_charts_schema() -> None:
    with pytest.raises(HelmValuesError, match="/chroma/mode"):
        render({"chroma": {"mode": "embedded"}})
    with pytest.raises(HelmValuesError, match="/api/replicas"):
        render({"api": {"replicas": 0}})


def test_a_release_without_secrets_is_refused_with_its_reason() -> None:
    with pytest.raises(HelmRenderError, match="secrets.existingSecret"):
        chart.Chart.load(CHART).render({}, name="genai-stack", namespace="ai", is_install=True)


def test_ingress_serves_websockets_without_affinity() -> None:
    manifests = render()
    ingress = find(manifests, "Ingress", "genai-stack")
    annotations = ingress["metadata"]["annotations"]
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"]) >= 3600
    # sticky-free: any replica serves any subscription
    assert not any("affinity" in key for key in annotations)
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == "genai.example.com"
    backends = {p["path"]: p["backend"]["service"]["name"] for p in rule["http"]["paths"]}
    assert backends["/graphql"] == backends["/v1"] == backends["/auth"] == "genai-stack-api"
    assert backends["/"] == "genai-stack-web"
    services = {name for kind, name in kinds(manifests) if kind == "Service"}
    assert set(backends.values()) <= services
    for name in set(backends.values()):
        service = find(manifests, "Service", name)
        target = next(
            m
            for m in manifests
            if m["kind"] == "Deployment"
            and service["spec"]["selector"].items() <= pod_labels(m).items()
        )
        ports = {
            p["name"] for c in target["spec"]["template"]["spec"]["containers"] for p in c["ports"]
        }
        assert service["spec"]["ports"][0]["targetPort"] in ports
    # the API accepts the host the Ingress serves
    (api,) = find(manifests, "Deployment", "genai-stack-api")["spec"]["template"]["spec"][
        "containers"
    ]
    assert json.loads(env_of(api)["GENAI_ALLOWED_HOSTS"]) == ["genai.example.com"]
    assert env_of(api)["GENAI_PUBLIC_URL"] == "http://genai.example.com"


def test_the_service_account_exists_and_mounts_no_token() -> None:
    manifests = render()
    account = find(manifests, "ServiceAccount", "genai-stack")
    assert account["automountServiceAccountToken"] is False
    for workload, _ in containers(manifests):
        spec = workload["spec"]["template"]["spec"]
        assert spec["automountServiceAccountToken"] is False


# ---------------------------------------------------------------------------- migrate


@pytest.mark.postgres
def test_migrate_brings_an_empty_database_to_the_head_revision(tmp_path: Path) -> None:
    heads = sorted(
        p.stem.split("_")[0] for p in (ROOT / "migrations" / "versions").glob("[0-9]*.py")
    )
    with fresh_postgres_database() as url:
        env = {
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": url,
            "GENAI_DATA_DIR": str(tmp_path),
        }
        for _ in range(2):  # and again: nothing left to do
            done = subprocess.run(
                [str(Path(sys.executable).parent / "genai-stack"), "migrate"],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            assert done.stdout.strip() == f"schema at revision {heads[-1]}"
        with psycopg.connect(url) as conn:
            tables = {
                row[0]
                for row in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                )
            }
            (revision,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert revision == heads[-1]
    # the read tables and the event store's
    assert {"workflows", "chat_messages", "projection_tracking", "genai_events"} <= tables


# ---------------------------------------------------------------------------- compose


def compose_schema() -> dict[str, Any]:
    vendored = resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads((vendored / "compose-spec.json").read_text())


def test_docker_compose_follows_the_compose_specification() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    jsonschema.validate(compose, compose_schema())
    broken = {**compose, "services": {**compose["services"], "api": {"comand": ["x"]}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, compose_schema())


def test_docker_compose_uses_real_settings_commands_and_ports() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    for name in ("api", "worker"):
        service = services[name]
        assert cli_command_exists(service["command"]), service["command"]
        for variable in service["environment"]:
            assert variable in SETTING_NAMES | NOT_SETTINGS, f"{name}: {variable} is no setting"
    api = services["api"]["command"]
    port = int(api[api.index("--port") + 1])
    assert services["api"]["environment"]["GENAI_RUN_PROJECTIONS"] == "false"
    assert services["worker"]["command"] == ["genai-stack", "worker"]
    assert services["api"]["environment"]["GENAI_INGESTION_WORKERS"] == "0"
    # docker's stop waits longer than the drain
    grace = float(services["api"]["environment"]["GENAI_SHUTDOWN_GRACE_SECONDS"])
    assert services["api"]["stop_grace_period"] == "40s" and grace < 40
    # the processes reach the other services at their compose names and ports
    environment = services["api"]["environment"]
    assert environment["CHROMA_URL"] == "http://chroma:8000"
    assert environment["DATABASE_URL"].startswith("postgresql://")
    assert "@postgres:5432/" in environment["DATABASE_URL"]
    # nginx in the web image proxies to the API at the port it listens on
    nginx = (ROOT / "frontend" / "nginx.conf").read_text()
    assert f"proxy_pass http://api:{port};" in nginx
    assert services["web"]["ports"] == ["8080:80"]


# ---------------------------------------------------------------------------- probes


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_probes_host_header_is_one_the_api_answers(client: TestClient) -> None:
    (api,) = find(render(), "Deployment", "genai-stack-api")["spec"]["template"]["spec"][
        "containers"
    ]
    for probe in ("readinessProbe", "livenessProbe"):
        get = api[probe]["httpGet"]
        headers = {h["name"]: h["value"] for h in get["httpHeaders"]}
        assert client.get(get["path"], headers=headers).status_code == 200
        # what the kubelet sends without it: the pod's address, refused
        assert client.get(get["path"], headers={"Host": "10.1.2.3:8000"}).status_code == 400


# ---------------------------------------------------------------------------- the compose nginx

NOT_PROXIED = {"/", "/{path:path}", "/embed.js", "/openapi.json"}  # the web image serves these
SPA_PAGES = ["/", "/stacks/3f1c", "/audit", "/tokens", "/members", "/invite", "/no/such/page"]


def nginx_locations(conf: str) -> list[tuple[str, str, str]]:
    """(modifier, uri, body) of each `location` block of nginx.conf, in order."""
    found = []
    for match in re.finditer(r"location\s+(=|~\*?|\^~)?\s*(\S+)\s*\{", conf):
        depth, end = 1, match.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(conf[end], 0)
            end += 1
        found.append((match.group(1) or "", match.group(2), conf[match.end() : end]))
    return found


def nginx_location_for(path: str, locations: list[tuple[str, str, str]]) -> tuple[str, str, str]:
    """The location nginx picks for `path`: an exact match, else the longest prefix if `^~`,
    else the first regular expression that matches, else the longest prefix."""
    for location in locations:
        if location[0] == "=" and location[1] == path:
            return location
    prefixes = [loc for loc in locations if loc[0] in ("", "^~") and path.startswith(loc[1])]
    longest = max(prefixes, key=lambda loc: len(loc[1]), default=None)
    if longest is not None and longest[0] == "^~":
        return longest
    for location in locations:
        flags = re.IGNORECASE if location[0] == "~*" else 0
        if location[0].startswith("~") and re.search(location[1], path, flags):
            return location
    assert longest is not None, f"no location of nginx.conf serves {path}"
    return longest


def api_paths(app: Any) -> set[str]:
    """Every path the API process serves, with its parameters filled in."""
    paths: set[str] = set()
    for route in app.routes:
        included = getattr(route, "original_router", None)  # FastAPI's included routers
        if included is not None:
            prefix = route.include_context.prefix
            paths |= {prefix + sub.path for sub in included.routes}
        else:
            paths.add(route.path)
    return paths


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_compose_nginx_proxies_every_api_route_and_serves_the_spa(client: TestClient) -> None:
    locations = nginx_locations((ROOT / "frontend" / "nginx.conf").read_text())
    served = api_paths(client.app)
    assert {"/graphql", "/auth/sign-in", "/v1/chat/completions", "/setup"} <= served
    for path in sorted(served - NOT_PROXIED):
        if path.startswith("/assets"):
            continue
        example = re.sub(r"\{\w+:path\}", "a/b", re.sub(r"\{\w+\}", "x1", path))
        modifier, uri, body = nginx_location_for(example, locations)
        assert "proxy_pass http://api:8000;" in body, f"{path} → location {modifier} {uri}"
    for page in SPA_PAGES:
        modifier, uri, body = nginx_location_for(page, locations)
        assert "try_files $uri /index.html;" in body, f"{page} → location {modifier} {uri}"
