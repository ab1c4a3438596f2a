"""The Helm chart in helm/kehu, rendered by the real Helm engine and checked against Kubernetes.

The engine is Helm's own Go SDK (v4), which the PyPI package ``helm-python-sdk`` ships compiled
into its wheel (``helm_python/lib/libhelm_c.so``) and calls through ctypes: no ``helm`` binary,
cluster or network is involved. Every rendered manifest is validated with ``kubernetes-validate``
against the Kubernetes 1.30 OpenAPI schemas in strict mode (unknown fields are errors) and against
the newest schemas that package has.
"""

from __future__ import annotations

import base64
import copy
import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

helm = pytest.importorskip(
    "helm_python",
    reason="the Helm engine is absent: install the test extra (pip install -e '.[test]', which brings helm-python-sdk)",
)
kubernetes_validate = pytest.importorskip(
    "kubernetes_validate", reason="kubernetes-validate is absent: install the test extra (pip install -e '.[test]')"
)
yaml = pytest.importorskip("yaml", reason="PyYAML is absent: install the test extra (pip install -e '.[test]')")

from core.audit.anchors import resolve_anchor_keys  # noqa: E402
from core.privacy.crypto import new_data_key, resolve_data_keys  # noqa: E402
from core.settings import Profile, load_settings, new_signing_secret, resolve_signing_keys  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CHART_DIR = ROOT / "helm" / "kehu"
DOCS = ROOT / "docs" / "helm.md"
KUBE_VERSION = "1.30.0"
RELEASE = "kehu"
NAMESPACE = "kehu"
ANCHOR_DIR = "/var/lib/kehu/audit-anchors"

APP_URL = "postgresql://kehu_app:app-pw@db.example.internal:5432/kehu"
OWNER_URL = "postgresql://kehu_owner:owner-pw@db.example.internal:5432/kehu"
BROKER_URL = "redis://redis.example.internal:6379/0"
SIGNING_KEYS = f"k2:{new_signing_secret()},k1:{new_signing_secret()}"
DATA_KEYS = f"d2:{new_data_key()},d1:{new_data_key()}"  # mid-rotation: d2 encrypts, d1 still decrypts
ANCHOR_KEY = new_signing_secret()  # an Ed25519 seed, base64url, like a JWT signing seed
ANCHOR_PUBLIC_KEY = new_signing_secret()  # a retired key's public half has the same shape (32 bytes, base64url)
SECRETS = {
    "secrets": {
        "databaseUrl": APP_URL,
        "migrateDatabaseUrl": OWNER_URL,
        "brokerUrl": BROKER_URL,
        "jwtSigningKeys": SIGNING_KEYS,
        "dataKeys": DATA_KEYS,
        "auditAnchorKey": ANCHOR_KEY,
    }
}
SECRET_KEYS = ("KEHU_DATABASE_URL", "KEHU_MIGRATE_DATABASE_URL", "KEHU_BROKER_URL", "KEHU_JWT_SIGNING_KEYS",
               "KEHU_DATA_KEYS", "KEHU_AUDIT_ANCHOR_KEY")
EXISTING = {"secrets": {"existingSecret": "kehu-credentials"}}
# What an operator's own Secret holds (docs/helm.md lists these six keys).
EXISTING_SECRET_DATA = {"KEHU_DATABASE_URL": APP_URL, "KEHU_MIGRATE_DATABASE_URL": OWNER_URL,
                        "KEHU_BROKER_URL": BROKER_URL, "KEHU_JWT_SIGNING_KEYS": SIGNING_KEYS,
                        "KEHU_DATA_KEYS": DATA_KEYS, "KEHU_AUDIT_ANCHOR_KEY": ANCHOR_KEY}
EVERYTHING_ON = {
    "ingress": {
        "enabled": True,
        "className": "nginx",
        "annotations": {"nginx.ingress.kubernetes.io/proxy-body-size": "1m"},
        "tls": [{"secretName": "kehu-tls", "hosts": ["kehu.example.com"]}],
    },
    "autoscaling": {"enabled": True, "minReplicas": 3, "maxReplicas": 12, "targetMemoryUtilizationPercentage": 80},
    "cronjobs": {"timeZone": "Asia/Shanghai"},
    "imagePullSecrets": [{"name": "regcred"}],
    "serviceAccount": {"annotations": {"example.com/role": "kehu"}},
    "api": {
        "podAnnotations": {"example.com/scrape": "true"},
        "podLabels": {"team": "crm"},
        "extraEnv": [{"name": "TZ", "value": "Asia/Shanghai"}],
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "kehu", "effect": "NoSchedule"}],
        "affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 1, "preference": {"matchExpressions": [
                {"key": "example.com/pool", "operator": "In", "values": ["api"]}]}}]}},
    },
    "service": {"annotations": {"example.com/lb": "internal"}},
    "secrets": {"annotations": {"example.com/owner": "platform"}},
    "config": {"KEHU_CORS_ORIGINS": "https://app.example.com", "KEHU_GRAPHQL_INTROSPECTION": False},
    "auditAnchors": {
        "persistence": {"storageClass": "efs-sc", "size": "5Gi", "annotations": {"example.com/backup": "daily"}},
        "publicKeys": [ANCHOR_PUBLIC_KEY], "intervalSeconds": 120, "graceSeconds": 3600,
    },
    "metrics": {"serviceMonitor": {"enabled": True, "interval": "15s", "scrapeTimeout": "5s",
                                   "labels": {"release": "prometheus"}}},
}
MINIMAL = {
    "cronjobs": {"anchor": {"enabled": False}, "prune": {"enabled": False}},
    "podDisruptionBudget": {"enabled": False},
    "serviceAccount": {"create": False},
    "api": {"preStopSleepSeconds": 0, "spreadAcrossNodes": False},
    "image": {"digest": "sha256:" + "a" * 64},
    "auditAnchors": {"existingClaim": "kehu-anchors-worm"},
}
SCENARIOS = {
    "defaults": SECRETS,
    "existing-secret": EXISTING,
    "everything-on": {**SECRETS, **EVERYTHING_ON, "secrets": {**SECRETS["secrets"], **EVERYTHING_ON["secrets"]}},
    "existing-secret-everything-on": {**EVERYTHING_ON, "secrets": {**EVERYTHING_ON["secrets"], **EXISTING["secrets"]}},
    "minimal": {**SECRETS, **MINIMAL},
}


# --- rendering ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chart() -> Iterator[Any]:
    loaded = helm.Chart.load(CHART_DIR)
    yield loaded
    loaded.close()


def merged(*layers: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge values layers, later ones winning (as helm does with several -f files)."""
    result: dict[str, Any] = {}
    for layer in layers:
        _merge_into(result, copy.deepcopy(layer))
    return result


def _merge_into(target: dict[str, Any], layer: dict[str, Any]) -> None:
    for key, value in layer.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge_into(target[key], value)
        else:
            target[key] = value


def render_files(chart: Any, values: dict[str, Any] | None, release: str = RELEASE) -> dict[str, str]:
    return chart.render(values, name=release, namespace=NAMESPACE, is_install=True)


def render(chart: Any, *layers: dict[str, Any], release: str = RELEASE) -> list[dict[str, Any]]:
    """Every Kubernetes object the chart renders (hooks included), as helm template prints them."""
    files = render_files(chart, merged(*layers), release)
    objects = []
    for path, text in sorted(files.items()):
        if not path.endswith(".yaml"):
            continue
        objects.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return objects


def of_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def one(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [o for o in of_kind(objects, kind) if name is None or o["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {[o['metadata']['name'] for o in found]}"
    return found[0]


def render_error(chart: Any, *layers: dict[str, Any]) -> str:
    with pytest.raises(helm.HelmError) as caught:
        render(chart, *layers)
    return str(caught.value)


def pod_specs(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Pod specs of the Deployment, the Jobs and the CronJobs, by object name."""
    specs = {}
    for o in objects:
        if o["kind"] in ("Deployment", "Job"):
            specs[o["metadata"]["name"]] = o["spec"]["template"]["spec"]
        elif o["kind"] == "CronJob":
            specs[o["metadata"]["name"]] = o["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return specs


def api_deployment(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return one(objects, "Deployment", f"{RELEASE}-api")


def api_container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (container,) = api_deployment(objects)["spec"]["template"]["spec"]["containers"]
    return container


BACKGROUND_PODS = (f"{RELEASE}-worker", f"{RELEASE}-scheduler")
APP_ROLE_PODS = (f"{RELEASE}-api", *BACKGROUND_PODS)


def background_deployment(objects: list[dict[str, Any]], component: str) -> dict[str, Any]:
    return one(objects, "Deployment", f"{RELEASE}-{component}")


def migrate_job(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return one(objects, "Job", f"{RELEASE}-migrate")


def secret_refs(container: dict[str, Any]) -> set[str]:
    """Names of the Secrets a container reads, through envFrom or secretKeyRef."""
    names = {e["secretRef"]["name"] for e in container.get("envFrom", []) if "secretRef" in e}
    names |= {e["valueFrom"]["secretKeyRef"]["name"] for e in container.get("env", [])
              if "secretKeyRef" in e.get("valueFrom", {})}
    return names


def hook_annotations(obj: dict[str, Any]) -> dict[str, str]:
    return {k: v for k, v in obj["metadata"].get("annotations", {}).items() if k.startswith("helm.sh/hook")}


# --- lint and schema ----------------------------------------------------------------------------


def test_chart_metadata(chart: Any) -> None:
    meta = chart.metadata
    assert meta["apiVersion"] == "v2"
    assert meta["name"] == "kehu"
    assert meta["appVersion"] == "0.1.0"
    assert meta.get("type", "application") == "application"


def lint_problems(report: dict[str, Any]) -> list[str]:
    """Warnings and errors (severity 2 and 3); info such as 'icon is recommended' is fine."""
    return list(report["errors"]) + [f"{m['path']}: {m['error']}" for m in report["messages"] if m["severity"] >= 2]


def test_helm_lint_passes_on_the_default_values() -> None:
    """What an operator runs first: `helm lint helm/kehu` (lint mode tolerates the missing secrets)."""
    report = helm.lint(CHART_DIR)
    assert report["total_charts_linted"] == 1
    assert lint_problems(report) == []


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_helm_lint_strict_passes(scenario: str) -> None:
    report = helm.lint(CHART_DIR, SCENARIOS[scenario], strict=True, kube_version=f"v{KUBE_VERSION}")
    assert lint_problems(report) == []


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("kube_version", [KUBE_VERSION, kubernetes_validate.latest_version()])
def test_every_manifest_validates_against_the_kubernetes_schema(chart: Any, scenario: str, kube_version: str) -> None:
    objects = render(chart, SCENARIOS[scenario])
    assert objects
    for obj in objects:
        if obj["kind"] == "ServiceMonitor":  # a Prometheus Operator CRD: not in Kubernetes' schemas
            validate_service_monitor(obj)
            continue
        try:
            kubernetes_validate.validate(obj, kube_version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']} is invalid for Kubernetes {kube_version} "
                        f"at {'.'.join(map(str, exc.path))}: {exc.message}")


def test_the_validator_is_strict_about_unknown_fields(chart: Any) -> None:
    """Guard for the test above: a misspelt field must not pass as an unknown extra."""
    deployment = copy.deepcopy(api_deployment(render(chart, SECRETS)))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBE_VERSION, strict=True)


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"workers": {"replicas": 1}}, "additional properties 'workers' not allowed"),
        ({"worker": {"replica": 1}}, "additional properties 'replica' not allowed"),
        ({"worker": {"threads": 0}}, "threads"),
        ({"scheduler": {"replicas": 2}}, "additional properties 'replicas' not allowed"),
        ({"api": {"replicas": "two"}}, "replicas"),
        ({"image": {"pullPolicy": "Sometimes"}}, "pullPolicy"),
        ({"ingress": {"hosts": [{"host": "kehu.example.com", "paths": [{"path": "no-slash"}]}]}}, "path"),
    ],
)
def test_values_schema_refuses_bad_values(chart: Any, values: dict[str, Any], complaint: str) -> None:
    with pytest.raises(helm.HelmValuesError, match=re.escape(complaint)):
        render(chart, SECRETS, values)


# --- what the default render contains -----------------------------------------------------------


def test_default_render_has_the_expected_objects(chart: Any) -> None:
    objects = render(chart, SECRETS)
    assert Counter(o["kind"] for o in objects) == Counter({
        "Deployment": 3,  # the API, the workers and the scheduler
        "Service": 1, "ConfigMap": 1,
        "Secret": 2,  # the release's Secret and the migration hook's short-lived copy
        "Job": 1, "CronJob": 2, "PodDisruptionBudget": 1, "ServiceAccount": 1,
        "PersistentVolumeClaim": 1,  # the audit anchor store

    })
    assert all(o["metadata"]["namespace"] == NAMESPACE for o in objects)
    assert not of_kind(objects, "Ingress")
    assert not of_kind(objects, "HorizontalPodAutoscaler")


def test_deployment_runs_kehu_serve_with_two_replicas(chart: Any) -> None:
    objects = render(chart, SECRETS)
    deployment = api_deployment(objects)
    assert deployment["spec"]["replicas"] == 2
    container = api_container(objects)
    assert [container["command"][0], *container["args"]] == ["kehu", "serve", "--host", "0.0.0.0", "--port", "8000"]
    assert container["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    assert api_deployment(render(chart, SECRETS, {"api": {"replicas": 5}}))["spec"]["replicas"] == 5


def test_service_maps_port_80_to_the_api_port(chart: Any) -> None:
    objects = render(chart, SECRETS)
    service = one(objects, "Service")
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
    selector = service["spec"]["selector"].items()
    assert selector <= api_deployment(objects)["spec"]["template"]["metadata"]["labels"].items()
    # Only the API pods receive traffic, not the migration's or the audit jobs'.
    job_pods = [migrate_job(objects)["spec"]["template"]] + [
        c["spec"]["jobTemplate"]["spec"]["template"] for c in of_kind(objects, "CronJob")]
    assert len(job_pods) == 3
    for pod in job_pods:
        assert not selector <= pod["metadata"]["labels"].items()


def test_image_tag_defaults_to_the_app_version(chart: Any) -> None:
    images = {c["image"] for spec in pod_specs(render(chart, SECRETS)).values() for c in spec["containers"]}
    assert images == {"kehu:0.1.0"}
    custom = render(chart, SECRETS, {"image": {"repository": "registry.example.com/kehu", "tag": "0.2.0",
                                               "pullPolicy": "Always"}})
    assert {c["image"] for s in pod_specs(custom).values() for c in s["containers"]} == {"registry.example.com/kehu:0.2.0"}
    assert {c["imagePullPolicy"] for s in pod_specs(custom).values() for c in s["containers"]} == {"Always"}
    pinned = render(chart, SECRETS, {"image": {"digest": "sha256:" + "b" * 64}})
    assert {c["image"] for s in pod_specs(pinned).values() for c in s["containers"]} == {"kehu@sha256:" + "b" * 64}


def test_configmap_holds_the_production_profile_and_no_secret(chart: Any) -> None:
    objects = render(chart, SECRETS, {"config": {"KEHU_CORS_ORIGINS": "https://a.example,https://b.example",
                                                  "KEHU_RATE_LIMIT_PER_MINUTE": 1200,
                                                  "KEHU_GRAPHQL_INTROSPECTION": False}})
    data = one(objects, "ConfigMap")["data"]
    assert data["KEHU_PROFILE"] == "production"
    assert data["KEHU_SHUTDOWN_GRACE_SECONDS"] == "20"
    assert data["KEHU_RATE_LIMIT_PER_MINUTE"] == "1200"
    assert data["KEHU_GRAPHQL_INTROSPECTION"] == "false"
    assert all(isinstance(v, str) for v in data.values())
    rendered = yaml.safe_dump(one(objects, "ConfigMap"))
    for secret in (APP_URL, OWNER_URL, BROKER_URL, SIGNING_KEYS, ANCHOR_KEY):
        assert secret not in rendered


def test_config_null_removes_a_default(chart: Any) -> None:
    data = one(render(chart, SECRETS, {"config": {"KEHU_LOG_FORMAT": None, "KEHU_WORKERS": None}}), "ConfigMap")["data"]
    assert "KEHU_LOG_FORMAT" not in data and "KEHU_WORKERS" not in data
    assert data["KEHU_PROFILE"] == "production"


@pytest.mark.parametrize(
    ("config", "complaint"),
    [
        ({"KEHU_DATABASE_URL": APP_URL}, "config.KEHU_DATABASE_URL: this is a secret"),
        ({"KEHU_JWT_SIGNING_KEYS": SIGNING_KEYS}, "config.KEHU_JWT_SIGNING_KEYS: this is a secret"),
        ({"KEHU_AUDIT_ANCHOR_KEY": ANCHOR_KEY}, "config.KEHU_AUDIT_ANCHOR_KEY: this is a secret"),
        ({"KEHU_AUDIT_ANCHOR_DIR": "/data/anchors"}, "config.KEHU_AUDIT_ANCHOR_DIR: set the audit anchor store under auditAnchors"),
        ({"KEHU_AUDIT_ANCHOR_INTERVAL_SECONDS": "60"}, "config.KEHU_AUDIT_ANCHOR_INTERVAL_SECONDS: set the audit anchor"),
        ({"KEHU_BACKUP_KEY": "x" * 44}, "config.KEHU_BACKUP_KEY: this is a secret"),
        ({"KEHU_BACKUP_DIR": "/data/backups"}, "config.KEHU_BACKUP_DIR: set backups under backups"),
        ({"KEHU_BACKUP_RETENTION": "24"}, "config.KEHU_BACKUP_RETENTION: set backups under backups"),
        ({"KEHU_PROFILE": "embedded"}, "production profile only"),
        ({"KEHU_PORT": "9000"}, "config.KEHU_PORT: the chart fixes where kehu listens"),
        ({"LOG_LEVEL": "DEBUG"}, "config.LOG_LEVEL: only KEHU_* settings"),
    ],
)
def test_config_refuses_what_does_not_belong_there(chart: Any, config: dict[str, str], complaint: str) -> None:
    assert complaint in render_error(chart, SECRETS, {"config": config})


# --- secrets ------------------------------------------------------------------------------------


def decoded(secret: dict[str, Any]) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def test_chart_secret_holds_the_six_secret_settings(chart: Any) -> None:
    objects = render(chart, SECRETS)
    secret = one(objects, "Secret", RELEASE)
    assert secret["type"] == "Opaque"
    assert decoded(secret) == EXISTING_SECRET_DATA
    assert not hook_annotations(secret), "the release's Secret must be a normal, helm-managed object"


@pytest.mark.parametrize("missing", ["databaseUrl", "migrateDatabaseUrl", "brokerUrl", "jwtSigningKeys", "dataKeys",
                                     "auditAnchorKey"])
def test_a_missing_secret_stops_the_render_naming_it(chart: Any, missing: str) -> None:
    values = merged(SECRETS, {"secrets": {missing: ""}})
    message = render_error(chart, values)
    assert f"secrets.{missing}" in message and "is required" in message and "existingSecret" in message


@pytest.mark.parametrize(
    ("secrets", "complaint"),
    [
        ({"databaseUrl": "sqlite:///./var/kehu.sqlite3"}, "secrets.databaseUrl: the production profile needs PostgreSQL"),
        ({"migrateDatabaseUrl": "sqlite:////data/kehu.sqlite3"}, "secrets.migrateDatabaseUrl: the production profile needs PostgreSQL"),
        ({"brokerUrl": "embedded"}, "secrets.brokerUrl: the production profile needs a Redis broker"),
    ],
)
def test_production_profile_refuses_sqlite_and_the_embedded_broker(chart: Any, secrets: dict[str, str],
                                                                   complaint: str) -> None:
    assert complaint in render_error(chart, SECRETS, {"secrets": secrets})


def test_existing_secret_replaces_the_chart_secret(chart: Any) -> None:
    objects = render(chart, EXISTING)
    assert not of_kind(objects, "Secret")
    specs = pod_specs(objects)
    assert set(specs) == {f"{RELEASE}-api", f"{RELEASE}-worker", f"{RELEASE}-scheduler", f"{RELEASE}-migrate",
                          f"{RELEASE}-audit-anchor", f"{RELEASE}-audit-prune"}
    for name, spec in specs.items():
        (container,) = spec["containers"]
        assert secret_refs(container) == {"kehu-credentials"}, name
    for name in (f"{RELEASE}-migrate", f"{RELEASE}-audit-anchor", f"{RELEASE}-audit-prune"):
        (container,) = specs[name]["containers"]
        assert {"secretRef": {"name": "kehu-credentials"}} in container["envFrom"], name
    annotations = api_deployment(objects)["spec"]["template"]["metadata"]["annotations"]
    assert "checksum/secret" not in annotations and "checksum/config" in annotations


def test_api_pods_never_get_the_owner_connection(chart: Any) -> None:
    """The app role is all the API may use; only the migration and the audit jobs act as the owner."""
    for values in (SECRETS, EXISTING):
        container = api_container(render(chart, values))
        assert not any("secretRef" in e for e in container["envFrom"]), "envFrom a Secret would leak the owner URL"
        keys = {e["valueFrom"]["secretKeyRef"]["key"] for e in container["env"] if "valueFrom" in e}
        assert keys == {"KEHU_DATABASE_URL", "KEHU_BROKER_URL", "KEHU_JWT_SIGNING_KEYS", "KEHU_DATA_KEYS",
                        "KEHU_AUDIT_ANCHOR_KEY"}


def env_of(container: dict[str, Any], objects: list[dict[str, Any]], secrets: dict[str, str]) -> dict[str, str]:
    """The environment Kubernetes would give the container (ConfigMaps from the render, Secrets given)."""
    configmaps = {o["metadata"]["name"]: o["data"] for o in of_kind(objects, "ConfigMap")}
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(configmaps[source["configMapRef"]["name"]])
        else:
            env.update(secrets)
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
        else:
            env[var["name"]] = secrets[var["valueFrom"]["secretKeyRef"]["key"]]
    return env


PRODUCTION = {
    # What an operator deploys: their image, their Secret, TLS at the ingress, metrics scraped.
    "image": {"repository": "registry.example.com/kehu", "tag": "0.1.0", "pullPolicy": "IfNotPresent"},
    "secrets": {"existingSecret": "kehu-credentials"},
    "config": {"KEHU_CORS_ORIGINS": "https://app.example.com", "KEHU_RATE_LIMIT_PER_MINUTE": 1200,
               "KEHU_DATABASE_POOL_SIZE": "20", "KEHU_DATABASE_APP_ROLE": "kehu_app_prod"},
    "ingress": {"enabled": True, "className": "nginx",
                "tls": [{"secretName": "kehu-tls", "hosts": ["kehu.example.com"]}]},
    "metrics": {"serviceMonitor": {"enabled": True}},
    "autoscaling": {"enabled": True},
}


def production_settings(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, name: str):
    """kehu's own settings loader on exactly ``env``, and every check the production profile makes
    at start (signing keys, data keys, the anchor key and store); the settings."""
    for key in [k for k in os.environ if k.startswith("KEHU_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    assert settings.profile is Profile.PRODUCTION, name
    assert [k.kid for k in resolve_signing_keys(settings)] == ["k2", "k1"], name
    ring = resolve_data_keys(settings)  # KEHU_DATA_KEYS: the production profile needs at least one data key
    assert (ring.active, ring.ids) == ("d2", ("d2", "d1")), name
    assert settings.audit_anchor_dir == Path(ANCHOR_DIR), name
    assert resolve_anchor_keys(settings).signing is not None, name
    return settings


@pytest.mark.parametrize("scenario", ["defaults", "production-existing-secret", "everything-on", "minimal"])
def test_rendered_environment_passes_kehus_own_production_settings(chart: Any, monkeypatch: pytest.MonkeyPatch,
                                                                   scenario: str) -> None:
    """What each container gets (its ConfigMap and its Secret, as Kubernetes assembles them) is
    accepted by core.settings on the production profile, with every key kehu needs at start: the
    chart as documented starts, rather than crash-looping on a setting it does not carry."""
    if scenario == "production-existing-secret":
        objects = render(chart, PRODUCTION)
        secrets = EXISTING_SECRET_DATA  # the operator's Secret, with the keys docs/helm.md lists
    else:
        objects = render(chart, SCENARIOS[scenario])
        secrets = decoded(one(objects, "Secret", RELEASE))
    specs = pod_specs(objects)
    assert specs
    for name, spec in specs.items():
        (container,) = spec["containers"]
        settings = production_settings(env_of(container, objects, secrets), monkeypatch, name)
        assert settings.database_url == APP_URL, name
        assert settings.broker_url == BROKER_URL, name
        if name in APP_ROLE_PODS:
            assert settings.migrate_database_url is None, name
        else:
            assert settings.migrate_database.raw == OWNER_URL, f"{name} must act as the database owner"
        if scenario == "production-existing-secret":
            assert settings.cors_origins == ("https://app.example.com",) and settings.database_pool_size == 20, name
            assert settings.database_app_role == "kehu_app_prod", name


@pytest.mark.parametrize("scenario", ["chart-secret", "production-existing-secret"])
def test_rendered_environment_with_backups_passes_kehus_own_production_settings(chart: Any,
                                                                               monkeypatch: pytest.MonkeyPatch,
                                                                               scenario: str) -> None:
    """As above with backups.enabled: every container still starts on the production profile, and
    the scheduler (the process whose tick writes the monthly backups) reads a backup directory, a
    retention and a key kehu accepts; no other process gets the directory."""
    from core.backup.format import parse_key

    if scenario == "production-existing-secret":
        objects = render(chart, PRODUCTION, {"backups": {"enabled": True, "retention": 6}})
        secrets = {**EXISTING_SECRET_DATA, "KEHU_BACKUP_KEY": BACKUP_KEY}  # the operator's Secret, with the key
        retention = 6
    else:
        objects = render(chart, BACKUP_SCENARIOS["chart-secret"])
        secrets = decoded(one(objects, "Secret", RELEASE))
        retention = 12
    specs = pod_specs(objects)
    assert SCHEDULER in specs
    for name, spec in specs.items():
        (container,) = spec["containers"]
        settings = production_settings(env_of(container, objects, secrets), monkeypatch, name)
        if name == SCHEDULER:
            assert settings.backup_dir == Path(BACKUP_DIR)
            assert settings.backup_retention == retention
            assert parse_key(settings.backup_key) == base64.b64decode(BACKUP_KEY)
        else:
            assert settings.backup_dir is None, f"{name} must not run the monthly backup"
            if name in APP_ROLE_PODS:
                assert settings.backup_key is None, name


def test_before_the_data_keys_the_chart_crash_looped(chart: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 26: without KEHU_DATA_KEYS every kehu process refuses to start on the production
    profile. The pods the chart renders carry it; the same environment without it is refused."""
    objects = render(chart, SECRETS)
    secrets = decoded(one(objects, "Secret", RELEASE))
    env = env_of(api_container(objects), objects, secrets)
    assert env["KEHU_DATA_KEYS"] == DATA_KEYS
    del env["KEHU_DATA_KEYS"]
    from core.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="KEHU_DATA_KEYS"):
        production_settings(env, monkeypatch, "api")


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_the_data_keys_reach_every_kehu_container(chart: Any, scenario: str) -> None:
    """serve, worker, scheduler, the migration hook and both CronJobs read KEHU_DATA_KEYS from the
    Secret by name (a Secret without the key stops the pod naming it), never as a plain value."""
    objects = render(chart, SCENARIOS[scenario])
    existing = "existing-secret" in scenario
    specs = pod_specs(objects)
    expected_pods = {f"{RELEASE}-api", f"{RELEASE}-worker", f"{RELEASE}-scheduler", f"{RELEASE}-migrate"}
    if scenario != "minimal":
        expected_pods |= {f"{RELEASE}-audit-anchor", f"{RELEASE}-audit-prune"}
    assert set(specs) == expected_pods
    for name, spec in specs.items():
        (container,) = spec["containers"]
        secret = "kehu-credentials" if existing else (f"{RELEASE}-migrate" if name == f"{RELEASE}-migrate" else RELEASE)
        refs = [e for e in container["env"] if e["name"] == "KEHU_DATA_KEYS"]
        assert refs == [{"name": "KEHU_DATA_KEYS",
                         "valueFrom": {"secretKeyRef": {"name": secret, "key": "KEHU_DATA_KEYS"}}}], name
    assert DATA_KEYS not in yaml.safe_dump_all([o for o in objects if o["kind"] != "Secret"])
    if not existing:
        for secret_object in of_kind(objects, "Secret"):  # the release's and the migration hook's copy
            assert decoded(secret_object)["KEHU_DATA_KEYS"] == DATA_KEYS


def test_existing_secret_every_pod_reads_the_operators_secret_and_the_chart_makes_none(chart: Any) -> None:
    objects = render(chart, PRODUCTION)
    assert not of_kind(objects, "Secret")
    for name, spec in pod_specs(objects).items():
        (container,) = spec["containers"]
        assert secret_refs(container) == {"kehu-credentials"}, name
        named = {e["valueFrom"]["secretKeyRef"]["key"] for e in container["env"] if "valueFrom" in e}
        assert named <= set(SECRET_KEYS), name
        assert {"KEHU_DATA_KEYS", "KEHU_AUDIT_ANCHOR_KEY"} <= named, name


@pytest.mark.parametrize(
    ("data_keys", "complaint"),
    [
        ("not-a-key", "secrets.dataKeys: expected id:key[,id:key]"),
        (f"d1:{new_data_key()[:20]}", "secrets.dataKeys: expected id:key[,id:key]"),
        (f"d1:{new_data_key()},d1:{new_data_key()}", "secrets.dataKeys: key ids must be unique"),
    ],
    ids=["not-a-pair", "short-key", "same-id-twice"],  # never the (random) keys: xdist workers must agree
)
def test_bad_data_keys_are_refused_without_echoing_them(chart: Any, data_keys: str, complaint: str) -> None:
    message = render_error(chart, SECRETS, {"secrets": {"dataKeys": data_keys}})
    assert complaint in message
    for part in data_keys.replace(",", ":").split(":"):
        assert len(part) < 8 or part not in message, "a secret value must not be echoed"


def test_data_keys_with_spaces_after_commas_are_accepted(chart: Any) -> None:
    """kehu reads "d2:…, d1:…" (spaces around commas) as two keys; so does the chart's check."""
    spaced = DATA_KEYS.replace(",", ", ")
    secret = one(render(chart, SECRETS, {"secrets": {"dataKeys": spaced}}), "Secret", RELEASE)
    assert decoded(secret)["KEHU_DATA_KEYS"] == spaced


# --- the API pods -------------------------------------------------------------------------------


def test_probes_hit_healthz_and_readyz(chart: Any) -> None:
    container = api_container(render(chart, SECRETS))
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    # /readyz gives the database and the broker 2 s each: the probe must wait longer than that.
    assert container["readinessProbe"]["timeoutSeconds"] > 2


@pytest.mark.parametrize(("config", "api", "expected"), [
    ({}, {}, 5 + 20 + 10),
    ({"KEHU_SHUTDOWN_GRACE_SECONDS": "45"}, {}, 5 + 45 + 10),
    ({"KEHU_SHUTDOWN_GRACE_SECONDS": 90}, {"preStopSleepSeconds": 0}, 90 + 10),
    ({"KEHU_SHUTDOWN_GRACE_SECONDS": "30"}, {"terminationGracePeriodSeconds": 60}, 60),
])
def test_termination_grace_outlasts_the_shutdown_grace(chart: Any, config: dict[str, Any], api: dict[str, Any],
                                                       expected: int) -> None:
    objects = render(chart, SECRETS, {"config": config, "api": api})
    spec = api_deployment(objects)["spec"]["template"]["spec"]
    shutdown_grace = int(one(objects, "ConfigMap")["data"]["KEHU_SHUTDOWN_GRACE_SECONDS"])
    pause = api_container(objects).get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
    assert spec["terminationGracePeriodSeconds"] == expected
    assert spec["terminationGracePeriodSeconds"] > shutdown_grace + pause


def test_a_termination_grace_too_short_for_kehu_is_refused(chart: Any) -> None:
    message = render_error(chart, SECRETS, {"config": {"KEHU_SHUTDOWN_GRACE_SECONDS": "30"},
                                            "api": {"terminationGracePeriodSeconds": 35}})
    assert "api.terminationGracePeriodSeconds=35 must be larger than" in message


def test_pre_stop_pause_lets_load_balancers_let_go(chart: Any) -> None:
    assert api_container(render(chart, SECRETS))["lifecycle"] == {"preStop": {"sleep": {"seconds": 5}}}
    assert "lifecycle" not in api_container(render(chart, SECRETS, {"api": {"preStopSleepSeconds": 0}}))


def test_resources_are_set_everywhere(chart: Any) -> None:
    for name, spec in pod_specs(render(chart, SECRETS)).items():
        (container,) = spec["containers"]
        if name in BACKGROUND_PODS:  # worker.resources and scheduler.resources default to {}
            assert container["resources"] == {}, name
            continue
        assert container["resources"]["requests"]["memory"] and container["resources"]["limits"]["memory"], name
    custom = {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}}
    assert api_container(render(chart, SECRETS, {"api": {"resources": custom}}))["resources"] == custom
    objects = render(chart, SECRETS, {"worker": {"resources": custom}, "scheduler": {"resources": custom}})
    for name in BACKGROUND_PODS:
        (container,) = pod_specs(objects)[name]["containers"]
        assert container["resources"] == custom, name


@pytest.mark.parametrize("scenario", ["defaults", "existing-secret-everything-on", "minimal"])
def test_every_pod_is_locked_down(chart: Any, scenario: str) -> None:
    specs = pod_specs(render(chart, SCENARIOS[scenario]))
    assert specs
    for name, spec in specs.items():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert "emptyDir" in volumes["tmp"], name
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            assert "add" not in context["capabilities"], name
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"], name


def test_changed_settings_roll_the_api_pods(chart: Any) -> None:
    def checksums(*layers: dict[str, Any]) -> dict[str, str]:
        annotations = api_deployment(render(chart, SECRETS, *layers))["spec"]["template"]["metadata"]["annotations"]
        return {k: v for k, v in annotations.items() if k.startswith("checksum/")}

    before = checksums()
    assert before == checksums()
    assert checksums({"config": {"KEHU_LOG_LEVEL": "DEBUG"}})["checksum/config"] != before["checksum/config"]
    assert checksums({"secrets": {"jwtSigningKeys": f"k3:{new_signing_secret()}"}})["checksum/secret"] != \
        before["checksum/secret"]


# --- migrations hook ----------------------------------------------------------------------------


def test_migrate_job_runs_kehu_migrate_as_a_pre_install_pre_upgrade_hook(chart: Any) -> None:
    objects = render(chart, SECRETS)
    job = migrate_job(objects)
    hooks = hook_annotations(job)
    assert set(hooks["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
    assert "before-hook-creation" in hooks["helm.sh/hook-delete-policy"]
    spec = job["spec"]["template"]["spec"]
    assert spec["restartPolicy"] == "Never"
    (container,) = spec["containers"]
    assert [*container["command"], *container["args"]] == ["kehu", "migrate"]
    assert job["spec"]["backoffLimit"] == 2 and job["spec"]["activeDeadlineSeconds"] == 600


def test_migrate_hook_reads_secrets_that_exist_before_it(chart: Any) -> None:
    """Hooks run before the release's own Secret and ConfigMap exist (install) or are updated
    (upgrade): the Job's settings come from a hook Secret created first, and inline env."""
    objects = render(chart, SECRETS)
    job = migrate_job(objects)
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert not any("configMapRef" in e for e in container.get("envFrom", []))
    assert {"name": "KEHU_PROFILE", "value": "production"} in container["env"]
    (secret_name,) = secret_refs(container)
    hook_secret = one(objects, "Secret", secret_name)
    secret_hooks, job_hooks = hook_annotations(hook_secret), hook_annotations(job)
    assert set(secret_hooks["helm.sh/hook"].split(",")) == set(job_hooks["helm.sh/hook"].split(","))
    assert int(secret_hooks["helm.sh/hook-weight"]) < int(job_hooks["helm.sh/hook-weight"])
    assert "hook-succeeded" in secret_hooks["helm.sh/hook-delete-policy"], "the owner's copy must not linger"
    assert decoded(hook_secret)["KEHU_MIGRATE_DATABASE_URL"] == OWNER_URL


# --- worker and scheduler ----------------------------------------------------------------------


def test_worker_runs_kehu_worker_with_four_threads_on_two_replicas(chart: Any) -> None:
    objects = render(chart, SECRETS)
    worker = background_deployment(objects, "worker")
    assert worker["spec"]["replicas"] == 2
    spec = worker["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert [*container["command"], *container["args"]] == ["kehu", "worker", "--threads", "4"]
    assert spec["terminationGracePeriodSeconds"] == 60
    assert "ports" not in container
    assert not {"livenessProbe", "readinessProbe", "startupProbe"} & container.keys()
    custom = background_deployment(render(chart, SECRETS, {"worker": {"replicas": 5, "threads": 8}}), "worker")
    assert custom["spec"]["replicas"] == 5
    (container,) = custom["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["worker", "--threads", "8"]


def test_scheduler_is_exactly_one_pod_never_two(chart: Any) -> None:
    objects = render(chart, SECRETS)
    scheduler = background_deployment(objects, "scheduler")
    assert scheduler["spec"]["replicas"] == 1
    assert scheduler["spec"]["strategy"] == {"type": "Recreate"}
    (container,) = scheduler["spec"]["template"]["spec"]["containers"]
    assert [*container["command"], *container["args"]] == ["kehu", "scheduler"]
    assert "ports" not in container
    assert not {"livenessProbe", "readinessProbe", "startupProbe"} & container.keys()


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_worker_and_scheduler_validate_and_get_the_apis_environment(chart: Any, scenario: str) -> None:
    objects = render(chart, SCENARIOS[scenario])
    api = api_container(objects)
    for component in ("worker", "scheduler"):
        deployment = background_deployment(objects, component)
        kubernetes_validate.validate(deployment, KUBE_VERSION, strict=True)
        kubernetes_validate.validate(deployment, kubernetes_validate.latest_version(), strict=True)
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["envFrom"] == [e for e in api["envFrom"]], component
        assert [e for e in container["env"] if "valueFrom" in e] == [e for e in api["env"] if "valueFrom" in e]
        assert container["image"] == api["image"] and container["securityContext"] == api["securityContext"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/component"] == component
        # Neither the Service nor the PodDisruptionBudget pick them up.
        assert not one(objects, "Service")["spec"]["selector"].items() <= labels.items()


@pytest.mark.parametrize("component", ["worker", "scheduler"])
def test_worker_and_scheduler_can_be_switched_off(chart: Any, component: str) -> None:
    objects = render(chart, SECRETS, {component: {"enabled": False}})
    names = {o["metadata"]["name"] for o in of_kind(objects, "Deployment")}
    other = "scheduler" if component == "worker" else "worker"
    assert names == {f"{RELEASE}-api", f"{RELEASE}-{other}"}
    both_off = render(chart, SECRETS, {"worker": {"enabled": False}, "scheduler": {"enabled": False}})
    assert [o["metadata"]["name"] for o in of_kind(both_off, "Deployment")] == [f"{RELEASE}-api"]


# --- CronJobs -----------------------------------------------------------------------------------


def test_audit_cronjobs_anchor_hourly_and_prune_daily(chart: Any) -> None:
    objects = render(chart, SECRETS)
    anchor = one(objects, "CronJob", f"{RELEASE}-audit-anchor")
    prune = one(objects, "CronJob", f"{RELEASE}-audit-prune")
    for cronjob, command in ((anchor, ["kehu", "audit", "anchor"]), (prune, ["kehu", "audit", "prune"])):
        assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
        pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        assert pod["restartPolicy"] == "Never"
        (container,) = pod["containers"]
        assert [*container["command"], *container["args"]] == command
        assert not hook_annotations(cronjob)
    minute, hour, *rest = anchor["spec"]["schedule"].split()
    assert minute.isdigit() and hour == "*" and rest == ["*", "*", "*"], "anchor: once an hour"
    minute, hour, *rest = prune["spec"]["schedule"].split()
    assert minute.isdigit() and hour.isdigit() and rest == ["*", "*", "*"], "prune: once a day"


@pytest.mark.parametrize(("anchor", "prune"), [(False, True), (True, False), (False, False)])
def test_cronjobs_can_be_switched_off(chart: Any, anchor: bool, prune: bool) -> None:
    objects = render(chart, SECRETS, {"cronjobs": {"anchor": {"enabled": anchor}, "prune": {"enabled": prune}}})
    names = {o["metadata"]["name"] for o in of_kind(objects, "CronJob")}
    assert names == {f"{RELEASE}-audit-{job}" for job, on in (("anchor", anchor), ("prune", prune)) if on}
    notes = render_files(chart, merged(SECRETS, {"cronjobs": {"anchor": {"enabled": anchor},
                                                              "prune": {"enabled": prune}}}))
    assert ("kehu audit anchor at" in notes[f"{RELEASE}/templates/NOTES.txt"]) is anchor


def test_cronjob_schedule_and_time_zone_come_from_values(chart: Any) -> None:
    objects = render(chart, SECRETS, {"cronjobs": {"anchor": {"schedule": "*/15 * * * *"}, "timeZone": "Asia/Shanghai"}})
    anchor = one(objects, "CronJob", f"{RELEASE}-audit-anchor")
    assert anchor["spec"]["schedule"] == "*/15 * * * *"
    assert anchor["spec"]["timeZone"] == "Asia/Shanghai"
    assert "timeZone" not in one(render(chart, SECRETS), "CronJob", f"{RELEASE}-audit-anchor")["spec"]


# --- audit anchors (issue 16 point 10) ----------------------------------------------------------

ANCHOR_SIGNERS = (*APP_ROLE_PODS, f"{RELEASE}-audit-anchor", f"{RELEASE}-audit-prune")
"""The processes that anchor or verify: kehu serve (auditAnchor, auditVerify), the scheduler's sweep,
the audit CronJobs; the workers share the API's environment."""


def container_of(objects: list[dict[str, Any]], name: str) -> dict[str, Any]:
    (container,) = pod_specs(objects)[name]["containers"]
    return container


@pytest.mark.parametrize("scenario", ["defaults", "existing-secret", "minimal"])
def test_every_kehu_process_gets_the_anchor_key_from_the_secret(chart: Any, scenario: str) -> None:
    """Issue 16 point 10: on the production profile kehu refuses to start without
    KEHU_AUDIT_ANCHOR_KEY; every kehu container reads it from the Secret by name (a Secret
    without it stops the pod naming the key), never as a plain value."""
    objects = render(chart, SCENARIOS[scenario])
    secret = "kehu-credentials" if scenario == "existing-secret" else RELEASE
    specs = pod_specs(objects)
    assert set(ANCHOR_SIGNERS) | {f"{RELEASE}-migrate"} == set(specs) or scenario == "minimal"
    for name, spec in specs.items():
        (container,) = spec["containers"]
        refs = [e for e in container["env"] if e["name"] == "KEHU_AUDIT_ANCHOR_KEY"]
        expected = secret if name != f"{RELEASE}-migrate" or scenario == "existing-secret" else f"{RELEASE}-migrate"
        assert refs == [{"name": "KEHU_AUDIT_ANCHOR_KEY",
                         "valueFrom": {"secretKeyRef": {"name": expected, "key": "KEHU_AUDIT_ANCHOR_KEY"}}}], name
    assert ANCHOR_KEY not in yaml.safe_dump_all([o for o in objects if o["kind"] != "Secret"])
    if scenario != "existing-secret":
        for secret_object in of_kind(objects, "Secret"):  # the release's and the migration hook's copy
            assert decoded(secret_object)["KEHU_AUDIT_ANCHOR_KEY"] == ANCHOR_KEY


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_anchor_store_is_one_writable_volume_mounted_where_kehu_audit_anchor_dir_points(chart: Any,
                                                                                       scenario: str) -> None:
    """Issue 16 point 10: KEHU_AUDIT_ANCHOR_DIR is a mounted, writable volume (the root filesystem
    stays read-only), the same claim in every pod that anchors, so all append to one store."""
    objects = render(chart, SCENARIOS[scenario])
    configmap = one(objects, "ConfigMap")["data"]
    assert configmap["KEHU_AUDIT_ANCHOR_DIR"] == ANCHOR_DIR
    specs = pod_specs(objects)
    claims = set()
    for name in ANCHOR_SIGNERS:
        if name not in specs:  # switched off in this scenario
            continue
        spec = specs[name]
        (container,) = spec["containers"]
        assert env_of(container, objects, EXISTING_SECRET_DATA)["KEHU_AUDIT_ANCHOR_DIR"] == ANCHOR_DIR, name
        (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == ANCHOR_DIR]
        assert not mount.get("readOnly", False) and "subPath" not in mount, name
        (volume,) = [v for v in spec["volumes"] if v["name"] == mount["name"]]
        assert set(volume) == {"name", "persistentVolumeClaim"}, f"{name}: the store must outlive the pod"
        assert not volume["persistentVolumeClaim"].get("readOnly", False), name
        claims.add(volume["persistentVolumeClaim"]["claimName"])
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
        assert spec["securityContext"]["fsGroup"] == spec["securityContext"]["runAsGroup"], \
            f"{name}: the volume must be writable by kehu's group"
    assert len(claims) == 1
    (claim,) = claims
    if scenario == "minimal":
        assert claim == "kehu-anchors-worm"
        assert not of_kind(objects, "PersistentVolumeClaim")
    else:
        assert one(objects, "PersistentVolumeClaim")["metadata"]["name"] == claim


def test_migration_hook_does_not_mount_the_anchor_store(chart: Any) -> None:
    """The hook runs before the chart's claim exists on a first install; mounting it would hang the
    install. kehu migrate never reads or writes anchors."""
    spec = pod_specs(render(chart, SECRETS))[f"{RELEASE}-migrate"]
    assert [v["name"] for v in spec["volumes"]] == ["tmp"]


def test_chart_creates_a_shared_anchor_claim_that_outlives_uninstall(chart: Any) -> None:
    claim = one(render(chart, SECRETS), "PersistentVolumeClaim")
    assert claim["metadata"]["name"] == f"{RELEASE}-audit-anchors"
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"], "several API pods and the scheduler write it"
    assert claim["spec"]["resources"] == {"requests": {"storage": "1Gi"}}
    assert "storageClassName" not in claim["spec"]
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    custom = one(render(chart, SECRETS, {"auditAnchors": {"persistence": {
        "storageClass": "efs-sc", "size": "10Gi", "accessModes": ["ReadWriteOnce"]}}}), "PersistentVolumeClaim")
    assert custom["spec"]["storageClassName"] == "efs-sc"
    assert custom["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert custom["spec"]["resources"] == {"requests": {"storage": "10Gi"}}
    static = one(render(chart, SECRETS, {"auditAnchors": {"persistence": {"storageClass": "-"}}}),
                 "PersistentVolumeClaim")
    assert static["spec"]["storageClassName"] == ""


def test_existing_claim_replaces_the_charts_claim(chart: Any) -> None:
    objects = render(chart, SECRETS, {"auditAnchors": {"existingClaim": "kehu-anchors-worm"}})
    assert not of_kind(objects, "PersistentVolumeClaim")
    for name in ANCHOR_SIGNERS:
        volumes = {v["name"]: v for v in pod_specs(objects)[name]["volumes"]}
        assert volumes["audit-anchors"]["persistentVolumeClaim"] == {"claimName": "kehu-anchors-worm"}, name


def test_anchor_interval_grace_and_retired_keys_go_to_the_configmap(chart: Any) -> None:
    data = one(render(chart, SECRETS), "ConfigMap")["data"]
    assert (data["KEHU_AUDIT_ANCHOR_INTERVAL_SECONDS"], data["KEHU_AUDIT_ANCHOR_GRACE_SECONDS"]) == ("300", "86400")
    assert "KEHU_AUDIT_ANCHOR_PUBLIC_KEYS" not in data
    retired = [ANCHOR_PUBLIC_KEY, new_signing_secret()]
    data = one(render(chart, SECRETS, {"auditAnchors": {"intervalSeconds": 60, "graceSeconds": 7200,
                                                         "publicKeys": retired}}), "ConfigMap")["data"]
    assert data["KEHU_AUDIT_ANCHOR_INTERVAL_SECONDS"] == "60"
    assert data["KEHU_AUDIT_ANCHOR_GRACE_SECONDS"] == "7200"
    assert data["KEHU_AUDIT_ANCHOR_PUBLIC_KEYS"] == ",".join(retired)


def test_values_from_before_the_anchor_key_stop_the_render_naming_it(chart: Any) -> None:
    """Issue 16 point 10: the four secrets that used to be enough would now install pods that
    crash-loop; the render stops first, with one line saying what to set."""
    four = {"secrets": {k: v for k, v in SECRETS["secrets"].items() if k != "auditAnchorKey"}}
    message = render_error(chart, four)
    assert "secrets.auditAnchorKey (KEHU_AUDIT_ANCHOR_KEY" in message and "is required" in message
    assert "existingSecret" in message


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"secrets": {"auditAnchorKey": "not-a-seed"}}, "secrets.auditAnchorKey: not a base64url Ed25519 seed"),
        ({"auditAnchors": {"intervalSeconds": 3600, "graceSeconds": 600}},
         "auditAnchors.graceSeconds=600 must be larger than auditAnchors.intervalSeconds=3600"),
    ],
)
def test_bad_anchor_settings_are_refused(chart: Any, values: dict[str, Any], complaint: str) -> None:
    message = render_error(chart, SECRETS, values)
    assert complaint in message
    assert "not-a-seed" not in message, "a secret value must not be echoed"


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"auditAnchors": {"persistence": {"accessModes": ["ReadOnlyMany"]}}}, "accessModes"),
        ({"auditAnchors": {"intervalSeconds": 0}}, "intervalSeconds"),
        ({"auditAnchors": {"publicKeys": ["short"]}}, "publicKeys"),
        ({"auditAnchors": {"enabled": False}}, "additional properties 'enabled' not allowed"),
    ],
)
def test_values_schema_refuses_bad_anchor_values(chart: Any, values: dict[str, Any], complaint: str) -> None:
    with pytest.raises(helm.HelmValuesError, match=re.escape(complaint)):
        render(chart, SECRETS, values)


def test_notes_name_the_anchor_store(chart: Any) -> None:
    notes = render_files(chart, SECRETS)[f"{RELEASE}/templates/NOTES.txt"]
    assert f"claim {RELEASE}-audit-anchors (kept on uninstall)" in notes and ANCHOR_DIR in notes
    assert "kehu audit public-key" in notes


# --- backups (the monthly backup, docs/backups.md) ------------------------------------------------

BACKUP_DIR = "/var/lib/kehu/backups"
BACKUP_KEY = base64.b64encode(os.urandom(32)).decode()  # as docs/backups.md makes one: base64, 44 characters
BACKUPS = {"backups": {"enabled": True}, "secrets": {"backupKey": BACKUP_KEY}}
BACKUP_SCENARIOS = {
    "chart-secret": merged(SECRETS, BACKUPS),
    "existing-secret": merged(EXISTING, {"backups": {"enabled": True}}),
    "everything-on": merged(SCENARIOS["everything-on"], BACKUPS),
}
SCHEDULER = f"{RELEASE}-scheduler"
BACKUP_SETTINGS = ("KEHU_BACKUP_KEY", "KEHU_BACKUP_DIR", "KEHU_BACKUP_RETENTION")


def backup_volumes(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for v in spec.get("volumes", []) if v["name"] == "backups"]


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_backups_are_off_by_default_and_nothing_about_them_is_rendered(chart: Any, scenario: str) -> None:
    objects = render(chart, SCENARIOS[scenario])
    assert not [o for o in of_kind(objects, "PersistentVolumeClaim") if o["metadata"]["name"].endswith("-backups")]
    for name, spec in pod_specs(objects).items():
        (container,) = spec["containers"]
        assert not backup_volumes(spec), name
        assert not [m for m in container["volumeMounts"] if m["name"] == "backups"], name
        assert not [e for e in container.get("env", []) if e["name"].startswith("KEHU_BACKUP_")], name
    assert "KEHU_BACKUP" not in yaml.safe_dump_all(objects)
    for secret in of_kind(objects, "Secret"):
        assert not any(k.startswith("KEHU_BACKUP_") for k in decoded(secret)), secret["metadata"]["name"]
    assert "Backups:" not in render_files(chart, SCENARIOS[scenario])[f"{RELEASE}/templates/NOTES.txt"]


def test_a_backup_key_without_backups_enabled_is_ignored(chart: Any) -> None:
    objects = render(chart, SECRETS, {"secrets": {"backupKey": BACKUP_KEY}})
    assert objects == render(chart, SECRETS)
    assert BACKUP_KEY not in yaml.safe_dump_all(objects)
    assert all("KEHU_BACKUP_KEY" not in decoded(secret) for secret in of_kind(objects, "Secret"))


@pytest.mark.parametrize("scenario", sorted(BACKUP_SCENARIOS))
def test_backups_give_the_scheduler_the_volume_the_directory_the_retention_and_the_key(chart: Any,
                                                                                       scenario: str) -> None:
    """The monthly backup is a sweep of the tick, which on the production profile runs in `kehu
    scheduler` only: that pod alone gets the key (from the Secret, by name), KEHU_BACKUP_DIR on a
    writable volume of its own, and KEHU_BACKUP_RETENTION."""
    objects = render(chart, BACKUP_SCENARIOS[scenario])
    secret = "kehu-credentials" if "existing" in scenario else RELEASE
    specs = pod_specs(objects)
    spec = specs[SCHEDULER]
    (container,) = spec["containers"]
    env = {e["name"]: e for e in container["env"] if e["name"] in BACKUP_SETTINGS}
    assert env == {
        "KEHU_BACKUP_KEY": {"name": "KEHU_BACKUP_KEY",
                            "valueFrom": {"secretKeyRef": {"name": secret, "key": "KEHU_BACKUP_KEY"}}},
        "KEHU_BACKUP_DIR": {"name": "KEHU_BACKUP_DIR", "value": BACKUP_DIR},
        "KEHU_BACKUP_RETENTION": {"name": "KEHU_BACKUP_RETENTION", "value": "12"},
    }
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == BACKUP_DIR]
    assert not mount.get("readOnly", False) and "subPath" not in mount
    (volume,) = [v for v in spec["volumes"] if v["name"] == mount["name"]]
    assert volume == {"name": "backups", "persistentVolumeClaim": {"claimName": f"{RELEASE}-backups"}}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    # The anchor store and /tmp stay as they were.
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/tmp", ANCHOR_DIR, BACKUP_DIR}
    claim = one(objects, "PersistentVolumeClaim", f"{RELEASE}-backups")
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep", "the backups outlive uninstall"
    # Nothing else backs up: no other pod mounts the volume or names a backup setting.
    for name, other in specs.items():
        if name == SCHEDULER:
            continue
        (c,) = other["containers"]
        assert not backup_volumes(other), name
        assert not [e for e in c.get("env", []) if e["name"] in BACKUP_SETTINGS], name
    assert BACKUP_KEY not in yaml.safe_dump_all([o for o in objects if o["kind"] != "Secret"])
    if "existing" in scenario:
        assert not of_kind(objects, "Secret")
    else:
        assert decoded(one(objects, "Secret", RELEASE))["KEHU_BACKUP_KEY"] == BACKUP_KEY
        hook_copy = decoded(one(objects, "Secret", f"{RELEASE}-migrate"))
        assert "KEHU_BACKUP_KEY" not in hook_copy, "kehu migrate never backs up"


@pytest.mark.parametrize("scenario", sorted(BACKUP_SCENARIOS))
def test_backups_render_valid_kubernetes_objects_and_pass_strict_lint(chart: Any, scenario: str) -> None:
    values = BACKUP_SCENARIOS[scenario]
    assert lint_problems(helm.lint(CHART_DIR, values, strict=True, kube_version=f"v{KUBE_VERSION}")) == []
    for obj in render(chart, values):
        if obj["kind"] == "ServiceMonitor":
            continue
        for kube_version in (KUBE_VERSION, kubernetes_validate.latest_version()):
            kubernetes_validate.validate(obj, kube_version, strict=True)


def test_backup_claim_defaults_and_persistence_settings(chart: Any) -> None:
    claim = one(render(chart, BACKUP_SCENARIOS["chart-secret"]), "PersistentVolumeClaim", f"{RELEASE}-backups")
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"], "only the scheduler, one pod, writes it"
    assert claim["spec"]["resources"] == {"requests": {"storage": "10Gi"}}
    assert "storageClassName" not in claim["spec"]
    assert claim["metadata"]["labels"]["app.kubernetes.io/component"] == "backups"
    custom = one(render(chart, BACKUP_SCENARIOS["chart-secret"], {"backups": {"persistence": {
        "storageClass": "backup-sc", "size": "200Gi", "accessModes": ["ReadWriteMany"],
        "annotations": {"example.com/snapshot": "weekly"}}}}), "PersistentVolumeClaim", f"{RELEASE}-backups")
    assert custom["spec"]["storageClassName"] == "backup-sc"
    assert custom["spec"]["accessModes"] == ["ReadWriteMany"]
    assert custom["spec"]["resources"] == {"requests": {"storage": "200Gi"}}
    assert custom["metadata"]["annotations"] == {"helm.sh/resource-policy": "keep", "example.com/snapshot": "weekly"}
    static = one(render(chart, BACKUP_SCENARIOS["chart-secret"], {"backups": {"persistence": {"storageClass": "-"}}}),
                 "PersistentVolumeClaim", f"{RELEASE}-backups")
    assert static["spec"]["storageClassName"] == ""


def test_backup_existing_claim_mount_path_and_retention_come_from_values(chart: Any) -> None:
    objects = render(chart, BACKUP_SCENARIOS["chart-secret"], {"backups": {
        "existingClaim": "kehu-backups-offsite", "mountPath": "/srv/kehu-backups/", "retention": 24}})
    assert [o["metadata"]["name"] for o in of_kind(objects, "PersistentVolumeClaim")] == [f"{RELEASE}-audit-anchors"]
    spec = pod_specs(objects)[SCHEDULER]
    (container,) = spec["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert (env["KEHU_BACKUP_DIR"], env["KEHU_BACKUP_RETENTION"]) == ("/srv/kehu-backups", "24")
    assert {"name": "backups", "mountPath": "/srv/kehu-backups"} in container["volumeMounts"]
    assert backup_volumes(spec) == [{"name": "backups", "persistentVolumeClaim": {"claimName": "kehu-backups-offsite"}}]
    notes = render_files(chart, merged(BACKUP_SCENARIOS["chart-secret"], {"backups": {
        "existingClaim": "kehu-backups-offsite"}}))[f"{RELEASE}/templates/NOTES.txt"]
    assert "claim kehu-backups-offsite, mounted at /var/lib/kehu/backups" in notes, "no 'kept on uninstall' for yours"


def test_notes_say_where_the_backups_are(chart: Any) -> None:
    notes = render_files(chart, BACKUP_SCENARIOS["chart-secret"])[f"{RELEASE}/templates/NOTES.txt"]
    assert f"claim {RELEASE}-backups (kept on uninstall), mounted at {BACKUP_DIR}" in notes
    assert "12 kept per tenant" in notes and f"exec deploy/{RELEASE}-scheduler -- ls -l {BACKUP_DIR}" in notes
    assert BACKUP_KEY not in notes


def test_a_changed_backup_key_restarts_the_scheduler_only(chart: Any) -> None:
    def checksums(*layers: dict[str, Any]) -> dict[str, str]:
        objects = render(chart, *layers)
        return {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["annotations"]["checksum/secret"]
                for d in of_kind(objects, "Deployment")}

    off = checksums(SECRETS)
    on = checksums(BACKUP_SCENARIOS["chart-secret"])
    new_key = base64.b64encode(os.urandom(32)).decode()
    rotated = checksums(BACKUP_SCENARIOS["chart-secret"], {"secrets": {"backupKey": new_key}})
    for name in (f"{RELEASE}-api", f"{RELEASE}-worker"):
        assert off[name] == on[name] == rotated[name], name
    assert len({off[SCHEDULER], on[SCHEDULER], rotated[SCHEDULER]}) == 3


def test_a_missing_backup_key_stops_the_render_naming_it(chart: Any) -> None:
    message = render_error(chart, SECRETS, {"backups": {"enabled": True}})
    assert "secrets.backupKey (KEHU_BACKUP_KEY" in message and "is required when backups.enabled" in message
    assert "existingSecret" in message


@pytest.mark.parametrize(
    "bad_key",
    [
        "not-a-backup-key",
        base64.b64encode(os.urandom(16)).decode(),  # 16 bytes: too short
        base64.b64encode(os.urandom(31)).decode(),  # 31 bytes
        base64.b64encode(os.urandom(33)).decode(),  # 33 bytes
        base64.b64encode(os.urandom(32)).decode()[:-2] + "!=",  # not base64
        f"k1:{new_signing_secret()}",  # a JWT signing key pasted by mistake
    ],
    ids=["not-base64", "16-bytes", "31-bytes", "33-bytes", "bad-character", "signing-key-list"],  # never the keys
)
def test_a_malformed_backup_key_stops_the_render_without_echoing_it(chart: Any, bad_key: str) -> None:
    message = render_error(chart, SECRETS, {"backups": {"enabled": True}, "secrets": {"backupKey": bad_key}})
    assert "secrets.backupKey: not 32 bytes in base64" in message
    assert bad_key not in message and bad_key[:16] not in message, "a secret value must not be echoed"
    from core.backup.format import parse_key
    from core.errors import KehuError

    with pytest.raises(KehuError):  # kehu refuses it too: the chart's check is not stricter than kehu's
        parse_key(bad_key)


@pytest.mark.parametrize(
    "good_key",
    [BACKUP_KEY, BACKUP_KEY.rstrip("="), new_signing_secret(), f"  {BACKUP_KEY}\n"],
    ids=["base64", "base64-unpadded", "base64url", "surrounding-space"],
)
def test_backup_keys_kehu_reads_are_accepted(chart: Any, good_key: str) -> None:
    """The chart accepts what kehu's parse_key accepts: base64 or base64url of 32 bytes."""
    from core.backup.format import parse_key

    assert len(parse_key(good_key)) == 32
    secret = one(render(chart, SECRETS, {"backups": {"enabled": True}, "secrets": {"backupKey": good_key}}),
                 "Secret", RELEASE)
    assert decoded(secret)["KEHU_BACKUP_KEY"] == good_key


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"backups": {"mountPath": "/tmp"}}, "backups.mountPath=/tmp overlaps /tmp"),
        ({"backups": {"mountPath": "/tmp/backups"}}, "backups.mountPath=/tmp/backups overlaps /tmp"),
        ({"backups": {"mountPath": ANCHOR_DIR + "/"}}, f"backups.mountPath={ANCHOR_DIR} overlaps {ANCHOR_DIR}"),
        ({"backups": {"mountPath": "/var/lib"}}, f"backups.mountPath=/var/lib overlaps {ANCHOR_DIR}"),
        ({"scheduler": {"enabled": False}}, "backups.enabled needs scheduler.enabled"),
    ],
)
def test_bad_backup_settings_are_refused(chart: Any, values: dict[str, Any], complaint: str) -> None:
    message = render_error(chart, BACKUP_SCENARIOS["chart-secret"], values)
    assert complaint in message
    assert BACKUP_KEY not in message


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"backups": {"retention": 0}}, "retention"),
        ({"backups": {"retention": -1}}, "retention"),
        ({"backups": {"retention": 1201}}, "retention"),
        ({"backups": {"retention": "12"}}, "retention"),
        ({"backups": {"enabled": "yes"}}, "enabled"),
        ({"backups": {"mountPath": "backups"}}, "mountPath"),
        ({"backups": {"mountPath": "/"}}, "mountPath"),
        ({"backups": {"mountPath": "/var/lib/kehu/../etc"}}, "mountPath"),
        ({"backups": {"persistence": {"accessModes": ["ReadOnlyMany"]}}}, "accessModes"),
        ({"backups": {"persistence": {"size": "lots"}}}, "size"),
        ({"backups": {"schedule": "@monthly"}}, "additional properties 'schedule' not allowed"),
        ({"secrets": {"backupKey": 12345}}, "backupKey"),
    ],
)
def test_values_schema_refuses_bad_backup_values(chart: Any, values: dict[str, Any], complaint: str) -> None:
    with pytest.raises(helm.HelmValuesError, match=re.escape(complaint)):
        render(chart, SECRETS, values)


# --- optional objects ---------------------------------------------------------------------------


def test_ingress_is_optional(chart: Any) -> None:
    objects = render(chart, SECRETS, {"ingress": {"enabled": True, "className": "nginx",
                                                  "tls": [{"secretName": "kehu-tls", "hosts": ["kehu.example.com"]}]}})
    ingress = one(objects, "Ingress")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == "kehu.example.com"
    for path in rule["http"]["paths"]:
        assert path["backend"]["service"] == {"name": one(objects, "Service")["metadata"]["name"],
                                              "port": {"name": "http"}}
    assert ingress["spec"]["tls"] == [{"hosts": ["kehu.example.com"], "secretName": "kehu-tls"}]


def ingress_routes(ingress: dict[str, Any], request_path: str) -> bool:
    """Whether an Ingress sends ``request_path`` to a backend (Kubernetes' Prefix and Exact rules;
    ImplementationSpecific taken as Prefix, as ingress-nginx does)."""
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            if path["pathType"] == "Exact":
                if request_path == path["path"]:
                    return True
                continue
            prefix = path["path"].rstrip("/")
            if prefix == "" or request_path == prefix or request_path.startswith(prefix + "/"):
                return True
    return False


def test_the_default_ingress_routes_kehus_public_paths_and_never_metrics(chart: Any) -> None:
    """/metrics answers without credentials: the Ingress routes the API, the console, the
    downloads and the audit export, and nothing that reaches /metrics."""
    ingress = one(render(chart, SECRETS, {"ingress": {"enabled": True}}), "Ingress")
    for public in ("/graphql", "/console/", "/console/assets/index.js", "/jobs/1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed/output",
                   "/exports/link", "/audit/export"):
        assert ingress_routes(ingress, public), public
    for private in ("/metrics", "/metrics/", "/healthz", "/readyz"):
        assert not ingress_routes(ingress, private), private


@pytest.mark.parametrize("path", [{"path": "/"}, {"path": "/", "pathType": "ImplementationSpecific"},
                                  {"path": "/metrics", "pathType": "Exact"}, {"path": "/metrics/"}])
def test_an_ingress_path_that_would_route_metrics_is_refused(chart: Any, path: dict[str, str]) -> None:
    hosts = [{"host": "kehu.example.com", "paths": [{"path": "/graphql"}, path]}]
    message = render_error(chart, SECRETS, {"ingress": {"enabled": True, "hosts": hosts}})
    assert "ingress.hosts[0].paths[1]" in message and "would route /metrics" in message
    # With /metrics switched off in kehu, "/" is kehu's business again.
    objects = render(chart, SECRETS, {"ingress": {"enabled": True, "hosts": hosts},
                                      "config": {"KEHU_METRICS_ENABLED": False}})
    assert one(objects, "Ingress")
    assert one(objects, "ConfigMap")["data"]["KEHU_METRICS_ENABLED"] == "false"


# --- the ServiceMonitor (Prometheus Operator) -----------------------------------------------------

DURATION = r"([0-9]+(ms|s|m|h))+"
SERVICE_MONITOR_SCHEMA = {
    # The fields of monitoring.coreos.com/v1 ServiceMonitor the chart uses, as the Prometheus
    # Operator's CRD defines them; anything else is an error (kubernetes-validate has no CRDs).
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "ServiceMonitor"},
        "metadata": {
            "type": "object", "additionalProperties": False, "required": ["name", "namespace"],
            "properties": {
                "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63},
                "namespace": {"type": "string"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        "spec": {
            "type": "object", "additionalProperties": False, "required": ["selector", "endpoints"],
            "properties": {
                "selector": {
                    "type": "object", "additionalProperties": False, "required": ["matchLabels"],
                    "properties": {"matchLabels": {"type": "object", "minProperties": 1,
                                                   "additionalProperties": {"type": "string"}}},
                },
                "namespaceSelector": {
                    "type": "object", "additionalProperties": False,
                    "properties": {"matchNames": {"type": "array", "items": {"type": "string"}},
                                   "any": {"type": "boolean"}},
                },
                "endpoints": {
                    "type": "array", "minItems": 1,
                    "items": {
                        "type": "object", "additionalProperties": False, "required": ["port", "path"],
                        "properties": {
                            "port": {"type": "string", "minLength": 1},
                            "path": {"type": "string", "pattern": "^/"},
                            "scheme": {"enum": ["http", "https"]},
                            "interval": {"type": "string", "pattern": f"^{DURATION}$"},
                            "scrapeTimeout": {"type": "string", "pattern": f"^{DURATION}$"},
                        },
                    },
                },
            },
        },
    },
}


def _seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * units[u] for n, u in re.findall(r"([0-9]+)(ms|s|m|h)", duration))


def validate_service_monitor(obj: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is absent: install the test extra")
    jsonschema.validate(obj, SERVICE_MONITOR_SCHEMA)
    for endpoint in obj["spec"]["endpoints"]:
        if "interval" in endpoint and "scrapeTimeout" in endpoint:
            assert _seconds(endpoint["scrapeTimeout"]) <= _seconds(endpoint["interval"]), \
                "Prometheus refuses a scrape timeout longer than the interval"


def test_no_service_monitor_by_default(chart: Any) -> None:
    assert not of_kind(render(chart, SECRETS), "ServiceMonitor")


@pytest.mark.parametrize("scenario", ["everything-on", "existing-secret-everything-on"])
def test_service_monitor_scrapes_metrics_of_the_api_pods_through_the_service(chart: Any, scenario: str) -> None:
    objects = render(chart, SCENARIOS[scenario])
    monitor = one(objects, "ServiceMonitor")
    validate_service_monitor(monitor)
    assert monitor["metadata"]["namespace"] == NAMESPACE
    assert monitor["metadata"]["labels"]["release"] == "prometheus", "the label a Prometheus selects on"
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    (endpoint,) = monitor["spec"]["endpoints"]
    assert (endpoint["path"], endpoint["scheme"], endpoint["interval"], endpoint["scrapeTimeout"]) == \
        ("/metrics", "http", "15s", "5s")
    # It selects the chart's Service (and only it), on a port that Service names, which leads to
    # the API pods' container port.
    services = [s for s in of_kind(objects, "Service")
                if monitor["spec"]["selector"]["matchLabels"].items() <= s["metadata"]["labels"].items()]
    assert [s["metadata"]["name"] for s in services] == [RELEASE]
    (port,) = [p for p in services[0]["spec"]["ports"] if p["name"] == endpoint["port"]]
    container = api_container(objects)
    assert {"name": port["targetPort"], "containerPort": 8000, "protocol": "TCP"} in container["ports"]
    assert services[0]["spec"]["selector"].items() <= \
        api_deployment(objects)["spec"]["template"]["metadata"]["labels"].items()


def test_service_monitor_defaults_and_refusal(chart: Any) -> None:
    monitor = one(render(chart, SECRETS, {"metrics": {"serviceMonitor": {"enabled": True}}}), "ServiceMonitor")
    validate_service_monitor(monitor)
    (endpoint,) = monitor["spec"]["endpoints"]
    assert (endpoint["interval"], endpoint["scrapeTimeout"]) == ("30s", "10s")
    message = render_error(chart, SECRETS, {"metrics": {"serviceMonitor": {"enabled": True}},
                                            "config": {"KEHU_METRICS_ENABLED": "false"}})
    assert "metrics.serviceMonitor.enabled" in message and "KEHU_METRICS_ENABLED is false" in message
    with pytest.raises(helm.HelmValuesError, match="interval"):
        render(chart, SECRETS, {"metrics": {"serviceMonitor": {"enabled": True, "interval": "often"}}})


def test_the_service_monitor_check_is_strict() -> None:
    """Guard for validate_service_monitor: a misspelt field or a wrong API group fails."""
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is absent: install the test extra")
    good = {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
            "metadata": {"name": "kehu", "namespace": "kehu"},
            "spec": {"selector": {"matchLabels": {"a": "b"}}, "endpoints": [{"port": "http", "path": "/metrics"}]}}
    validate_service_monitor(good)
    for bad in ({**good, "apiVersion": "monitoring.coreos.com/v1beta1"},
                {**good, "spec": {**good["spec"], "endpoint": []}},
                {**good, "spec": {**good["spec"], "endpoints": [{"port": "http", "path": "/metrics", "intervall": "1m"}]}}):
        with pytest.raises(jsonschema.ValidationError):
            validate_service_monitor(bad)
    with pytest.raises(AssertionError):
        validate_service_monitor({**good, "spec": {**good["spec"], "endpoints": [
            {"port": "http", "path": "/metrics", "interval": "10s", "scrapeTimeout": "30s"}]}})


def test_hpa_replaces_the_fixed_replica_count(chart: Any) -> None:
    objects = render(chart, SECRETS, {"autoscaling": {"enabled": True}})
    hpa = one(objects, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": api_deployment(objects)["metadata"]["name"]}
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 10)
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
    assert "replicas" not in api_deployment(objects)["spec"]
    assert "minReplicas must not be larger" in render_error(
        chart, SECRETS, {"autoscaling": {"enabled": True, "minReplicas": 5, "maxReplicas": 3}})


def test_pod_disruption_budget_keeps_one_api_pod(chart: Any) -> None:
    objects = render(chart, SECRETS)
    pdb = one(objects, "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"] == api_deployment(objects)["spec"]["selector"]["matchLabels"]
    assert not of_kind(render(chart, SECRETS, {"podDisruptionBudget": {"enabled": False}}), "PodDisruptionBudget")


def test_names_stay_within_kubernetes_limits_for_the_longest_release_name(chart: Any) -> None:
    release = "a" * 53  # the longest release name helm accepts
    objects = render(chart, SECRETS, release=release)
    for obj in objects:
        name = obj["metadata"]["name"]
        limit = 52 if obj["kind"] == "CronJob" else 63  # a CronJob's Jobs append 11 characters
        assert len(name) <= limit and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name), name


def test_notes_say_where_the_api_is(chart: Any) -> None:
    notes = render_files(chart, SECRETS)[f"{RELEASE}/templates/NOTES.txt"]
    assert "port-forward service/kehu 8080:80" in notes
    assert "production profile" in notes and "kehu-migrate" in notes
    with_ingress = render_files(chart, merged(SECRETS, {"ingress": {"enabled": True, "tls": [{"secretName": "t"}]}}))
    assert "https://kehu.example.com/graphql" in with_ingress[f"{RELEASE}/templates/NOTES.txt"]


# --- documentation ------------------------------------------------------------------------------

FREE_FORM = {"config", "resources", "podSecurityContext", "securityContext", "annotations", "podAnnotations",
             "podLabels", "nodeSelector", "affinity"}


def value_keys(values: dict[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in values.items():
        path = f"{prefix}{key}"
        yield path
        if isinstance(value, dict) and key not in FREE_FORM:
            yield from value_keys(value, f"{path}.")


def test_every_values_key_is_documented() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text(encoding="utf-8"))
    undocumented = [key for key in value_keys(values) if f"`{key}`" not in docs]
    assert undocumented == [], f"docs/helm.md does not describe: {undocumented}"
