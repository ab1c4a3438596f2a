"""The wheel-installed kehu, run as the image runs it, migrates, serves and works jobs (issue 26).

The wheel is built from the build context the Dockerfile sees (its builder's COPY lines with the
.dockerignore applied, see tests/test_dockerfile.py) and installed the way the builder installs
it: a fresh virtual environment without pip, filled by ``pip --python … install --only-binary=:all:``
with kehu's dependencies resolved from the package index. Nothing of the checkout or of the test
environment is importable there. That environment's ``kehu`` then runs the image's four
commands on the production profile against a fresh PostgreSQL database and Redis:

- ``kehu migrate`` as the owner, ``kehu tenants create`` as the app role;
- ``kehu serve`` (no arguments: the image's default command): ``/healthz``, ``/readyz``, the staff
  console from the wheel's files, and a GraphQL sign-in of the new tenant's administrator, behind
  a proxy that ended TLS (``X-Forwarded-Proto``), as production requires HTTPS;
- ``kehu worker``: relays the outbox events of a customer created through the API to Redis and
  runs them, and runs an audit export job to its download;
- ``kehu scheduler``: its tick anchors the tenant's audit chain, which the API then verifies.

Needs PostgreSQL and Redis: runs when CI is set (or KEHU_TEST_POSTGRES_URL and KEHU_TEST_REDIS_URL
name them), otherwise skips saying so (building the wheel and checking its contents runs anywhere,
offline). Takes about a minute, half of it installing dependencies.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis

from core.privacy.crypto import new_data_key
from core.settings import new_signing_secret
from tests.secret_scan import SECRETS
from tests.support import wait_until_healthy
from tests.test_dockerfile import copy_build_context

TENANT = "wheel-smoke"
PROXY = {"X-Forwarded-Proto": "https"}  # a TLS-terminating proxy on 127.0.0.1 (trusted by default)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(command: list[str], *, env: dict[str, str] | None = None, cwd: Path, timeout: float,
         what: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{what} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def _installing_allowed() -> None:
    """Installing pulls kehu's dependencies from the package index: in CI, or where the servers the
    end-to-end test needs are named, as for the other PostgreSQL and Redis tests."""
    if not (os.environ.get("CI") or (os.environ.get("KEHU_TEST_POSTGRES_URL") and os.environ.get("KEHU_TEST_REDIS_URL"))):
        pytest.skip("wheel install tests skipped: set CI=true (or KEHU_TEST_POSTGRES_URL and KEHU_TEST_REDIS_URL) "
                    "to install the wheel with its dependencies and run it")


@pytest.fixture(scope="module")
def built_wheel(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """kehu's wheel, built from the image's build context (offline, a few seconds)."""
    root = tmp_path_factory.mktemp("wheel-build")
    context, wheels = root / "context", root / "wheels"
    started = time.monotonic()
    copy_build_context(context)
    # The builder runs `pip wheel` with build isolation; here the test environment's setuptools
    # (the test extra pins the same floor) builds it, offline.
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(wheels),
          str(context)], cwd=root, timeout=300, what="building the wheel")
    (wheel,) = wheels.glob("kehu-*.whl")
    return {"wheel": wheel, "build_seconds": time.monotonic() - started}


@pytest.fixture(scope="module")
def installed_kehu(built_wheel: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The wheel installed as the image's builder installs it, into a fresh environment."""
    _installing_allowed()
    venv = tmp_path_factory.mktemp("wheel-install") / "venv"
    started = time.monotonic()
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=venv.parent, timeout=120,
         what="python -m venv")
    # As the Dockerfile's builder does, but without compiling every dependency's bytecode (half the
    # CPU of the install; the processes compile what they import).
    _run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--only-binary=:all:",
          "--no-compile", "--disable-pip-version-check", "--no-input", str(built_wheel["wheel"])], cwd=venv.parent,
         timeout=600, what="installing the wheel and its dependencies")
    return {**built_wheel, "venv": venv, "kehu": str(venv / "bin" / "kehu"),
            "install_seconds": time.monotonic() - started}


def test_the_wheel_carries_the_console_build_and_package_data(built_wheel: dict[str, Any]) -> None:
    """The installed kehu serves /console/ with no Node.js on the server: the committed build is in
    the wheel, as are GraphiQL's vendored files and the plugins' data; nothing of the console's
    sources or node_modules is."""
    names = set(zipfile.ZipFile(built_wheel["wheel"]).namelist())
    assert {"gateway/console/dist/index.html", "gateway/console/dist/stamp.json",
            "gateway/static/graphiql/index.html", "core/identity/common_passwords.txt"} <= names
    assert any(re.fullmatch(r"gateway/console/dist/assets/index-[\w-]+\.js", n) for n in names)
    assert any(re.fullmatch(r"gateway/console/dist/assets/index-[\w-]+\.js\.gz", n) for n in names)
    assert not any("node_modules" in n or n.startswith(("gateway/console/src", "tests/", "bench/")) for n in names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(built_wheel["wheel"]).read(entry_points).decode()
    assert "kehu = gateway.cli:main" in text
    for vertical in ("automotive", "real_estate", "medical_devices", "tobacco"):
        assert f"{vertical} = plugins.{vertical}" in text


def test_the_installed_kehu_is_the_wheels_not_the_checkouts(installed_kehu: dict[str, Any], tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEHU_", "PYTHON", "VIRTUAL_ENV"))}
    result = _run([str(installed_kehu["venv"] / "bin" / "python"), "-c",
                   "import core, gateway, plugins, gateway.staff_console as c; "
                   "print(core.__file__, gateway.__file__, plugins.__file__, c.DIST_DIR.is_dir())"],
                  env=env, cwd=tmp_path, timeout=60, what="importing kehu")
    *files, has_console = result.stdout.split()
    venv = str(installed_kehu["venv"].resolve())
    assert all(str(Path(f).resolve()).startswith(venv) for f in files), files
    assert has_console == "True"
    assert _run([installed_kehu["kehu"], "--version"], env=env, cwd=tmp_path, timeout=60,
                what="kehu --version").stdout.strip().endswith("0.1.0")


# --- the production profile end to end --------------------------------------------------------------


class Processes:
    """Long-running kehu commands, their stderr in files (a pipe would fill and block them)."""

    def __init__(self, directory: Path, secret_values: list[str]) -> None:
        self.directory = directory
        self.secret_values = secret_values
        self.running: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = self.directory / f"{name}.log"
        with open(log, "wb") as stderr:
            process = subprocess.Popen(command, env=env, cwd=self.directory, stdout=stderr, stderr=subprocess.STDOUT)
        self.running[name] = (process, log)
        return process

    def log(self, name: str) -> str:
        return self.running[name][1].read_text(encoding="utf-8", errors="replace")

    def shown(self, name: str, limit: int = 4000) -> str:
        """The tail of a log, fit for an assertion message: every secret of the test masked."""
        text = self.log(name)[-limit:]
        for value in self.secret_values:
            text = text.replace(value, "[SECRET]")
        return text

    def alive(self, name: str) -> None:
        process, _ = self.running[name]
        assert process.poll() is None, f"kehu {name} stopped ({process.returncode}):\n{self.shown(name)}"

    def stop_all(self, timeout: float = 45) -> dict[str, int | None]:
        for process, _ in self.running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = {}
        for name, (process, _) in self.running.items():
            try:
                codes[name] = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
                codes[name] = None
        return codes


def _graphql(base: str, query: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
    headers = {**PROXY, **({"Authorization": f"Bearer {token}"} if token else {})}
    response = httpx.post(f"{base}/graphql", json={"query": query, "variables": variables}, headers=headers,
                          timeout=30)
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), (response.status_code, body.get("errors"))
    return body["data"]


def _wait_for(condition, seconds: float, what: str, processes: Processes, names: tuple[str, ...]) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        for name in names:
            processes.alive(name)
        assert time.monotonic() < deadline, f"{what} within {seconds:.0f} s; logs:\n" + "\n".join(
            f"--- {n}\n{processes.shown(n)}" for n in names)
        time.sleep(0.3)


async def _outbox_statuses(owner_url: str) -> dict[str, int]:
    connection = await asyncpg.connect(owner_url)
    try:
        rows = await connection.fetch("SELECT status, count(*) AS n FROM outbox_event GROUP BY status")
    finally:
        await connection.close()
    return {row["status"]: row["n"] for row in rows}


@pytest.mark.postgres
@pytest.mark.redis
async def test_the_wheel_installed_kehu_migrates_serves_and_works_jobs(installed_kehu: dict[str, Any],
                                                                       postgres_database, redis_broker_url: str,
                                                                       tmp_path: Path) -> None:
    started = time.monotonic()
    kehu = installed_kehu["kehu"]
    anchors = tmp_path / "audit-anchors"
    anchors.mkdir()
    signing_key, data_key, anchor_key = new_signing_secret(), new_data_key(), new_signing_secret()
    for kind, value in (("JWT signing key", signing_key), ("data key", data_key), ("audit anchor key", anchor_key)):
        SECRETS.add(kind, value)  # the run's secret scan also looks for them in every log line
    redis.Redis.from_url(redis_broker_url).flushdb()

    # What a pod of the chart (or an env file of a systemd unit) gives every process; the owner's
    # connection only to the migration.
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("KEHU_", "PYTHON", "VIRTUAL_ENV"))}
    app_env = {**base_env,
               "KEHU_PROFILE": "production",
               "KEHU_DATABASE_URL": postgres_database.app_url,
               "KEHU_BROKER_URL": redis_broker_url,
               "KEHU_JWT_SIGNING_KEYS": f"k1:{signing_key}",
               "KEHU_DATA_KEYS": f"d1:{data_key}",
               "KEHU_AUDIT_ANCHOR_KEY": anchor_key,
               "KEHU_AUDIT_ANCHOR_DIR": str(anchors),
               "KEHU_AUDIT_ANCHOR_INTERVAL_SECONDS": "1",
               "KEHU_TICK_INTERVAL_SECONDS": "0.5",
               "KEHU_VAR_DIR": str(tmp_path / "var"),
               "KEHU_HOST": "127.0.0.1",
               "KEHU_PORT": str(_free_port())}
    owner_env = {**app_env, "KEHU_MIGRATE_DATABASE_URL": postgres_database.owner_url}
    base = f"http://127.0.0.1:{app_env['KEHU_PORT']}"
    secret_values = [signing_key, data_key, anchor_key]

    # kehu migrate, as the owner; a tenant, as the app role.
    migrated = _run([kehu, "migrate"], env=owner_env, cwd=tmp_path, timeout=180, what="kehu migrate")
    assert "application role 'kehu_app' granted" in migrated.stdout
    created = _run([kehu, "tenants", "create", TENANT, "Wheel Smoke"], env=app_env, cwd=tmp_path, timeout=120,
                   what="kehu tenants create")
    match = re.search(r"created tenant \S+ \(([0-9a-f-]{36})\).*administrator: admin / (\S+)", created.stdout, re.S)
    assert match, "kehu tenants create did not print the tenant and its administrator"
    tenant_id, first_password = match[1], match[2]
    new_password = f"{secrets.token_urlsafe(12)}-9x!"
    SECRETS.add("password", first_password)
    SECRETS.add("password", new_password)
    secret_values += [first_password, new_password]

    processes = Processes(tmp_path, secret_values)
    try:
        # kehu serve, as the image's default command.
        serve = processes.start("serve", [kehu, "serve"], app_env)
        wait_until_healthy(base, serve, 90, "the wheel's kehu serve")
        assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200
        ready = httpx.get(f"{base}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        console = httpx.get(f"{base}/console/", headers=PROXY, timeout=10)
        assert console.status_code == 200 and "text/html" in console.headers["content-type"]
        asset = re.search(r'src="(/console/assets/[^"]+\.js)"', console.text)
        assert asset and httpx.get(f"{base}{asset[1]}", headers=PROXY, timeout=10).status_code == 200
        refused = httpx.post(f"{base}/graphql", json={"query": "{ __typename }"}, timeout=10)
        assert refused.status_code == 403, "production refuses plain HTTP"

        # The administrator's one-time password signs in to change it, then the new one works.
        login = ("mutation($p: String!) { login(tenant: \"%s\", username: \"admin\", password: $p) "
                 "{ accessToken mustChangePassword errors { code } } }" % TENANT)
        first = _graphql(base, login, p=first_password)["login"]
        assert first["errors"] == [] and first["mustChangePassword"] is True
        changed = _graphql(base, "mutation($c: String!, $n: String!) { passwordChange(currentPassword: $c, "
                                 "newPassword: $n) { ok errors { code } } }", first["accessToken"],
                           c=first_password, n=new_password)["passwordChange"]
        assert changed["errors"] == [], changed
        second = _graphql(base, login, p=new_password)["login"]
        assert second["errors"] == [] and second["mustChangePassword"] is False
        token = second["accessToken"]
        SECRETS.add("JWT", token)
        secret_values.append(token)

        # Work for the background processes, before they run: a customer (personal data sealed
        # with KEHU_DATA_KEYS; its events wait in the outbox) and an audit export job.
        customer = _graphql(base, 'mutation { customerCreate(input: {kind: "person", surname: "钱", '
                                  'givenName: "一", phones: ["13912345678"]}) { customer { id } errors { code } } }',
                            token)["customerCreate"]
        assert customer["errors"] == [] and customer["customer"]["id"]
        export = _graphql(base, "mutation { auditExportStart { job { id status } errors { code } } }",
                          token)["auditExportStart"]
        assert export["errors"] == [] and export["job"]["status"] == "queued"
        pending = await _outbox_statuses(postgres_database.owner_url)
        assert pending.get("pending", 0) >= 1 and "done" not in pending, \
            f"kehu serve must leave production jobs to kehu worker: {pending}"

        processes.start("worker", [kehu, "worker", "--threads", "2"], app_env)
        processes.start("scheduler", [kehu, "scheduler"], app_env)
        everyone = ("serve", "worker", "scheduler")

        job_query = "query($id: ID!) { job(id: $id) { status result downloadUrl errorCode } }"

        def job_finished() -> dict[str, Any] | None:
            job = _graphql(base, job_query, token, id=export["job"]["id"])["job"]
            return job if job["status"] in ("succeeded", "failed") else None

        job = _wait_for(job_finished, 60, "the worker did not finish the audit export", processes, everyone)
        assert job["status"] == "succeeded", job
        download = httpx.get(f"{base}{job['downloadUrl']}" if job["downloadUrl"].startswith("/") else job["downloadUrl"],
                             headers={**PROXY, "Authorization": f"Bearer {token}"}, timeout=30)
        assert download.status_code == 200
        actions = {json.loads(line)["action"] for line in download.text.splitlines()}
        assert "customer.created" in actions, actions

        # Only kehu worker runs production events: relayed to Redis, run by its Dramatiq actor.
        deadline = time.monotonic() + 60
        while set(statuses := await _outbox_statuses(postgres_database.owner_url)) != {"done"}:
            for name in everyone:
                processes.alive(name)
            assert time.monotonic() < deadline, f"the worker did not run the outbox events: {statuses}\n" \
                f"{processes.shown('worker')}"
            await asyncio.sleep(0.3)
        assert any(key.startswith(b"dramatiq:") for key in redis.Redis.from_url(redis_broker_url).keys()), \
            "the worker's broker is the Redis of KEHU_BROKER_URL"

        # The scheduler's tick anchors the tenant's chain into KEHU_AUDIT_ANCHOR_DIR; the API verifies it.
        anchor_file = anchors / f"{tenant_id}.jsonl"
        _wait_for(lambda: anchor_file.exists() and anchor_file.stat().st_size > 0, 60,
                  "the scheduler did not anchor the audit chain", processes, everyone)
        verified = _graphql(base, "{ auditVerify { ok kind anchored } }", token)["auditVerify"]
        assert verified["ok"] is True and verified["anchored"] is not None, verified
        for name in everyone:
            processes.alive(name)
    finally:
        codes = processes.stop_all()
        redis.Redis.from_url(redis_broker_url).flushdb()

    # Every process stops cleanly on SIGTERM (uvicorn, once shut down, re-raises the signal it
    # caught, so kehu serve ends "killed by SIGTERM" after its own clean stop), and no log line
    # holds a secret of this run.
    assert codes["serve"] in (0, -signal.SIGTERM), processes.shown("serve")
    assert (codes["worker"], codes["scheduler"]) == (0, 0), {n: processes.shown(n) for n in codes}
    logs = {name: processes.log(name) for name in codes}
    assert '"kehu.stopped"' in logs["serve"], processes.shown("serve")
    for name, text in logs.items():
        leaked = [i for i, value in enumerate(secret_values) if value in text]
        assert not leaked, f"kehu {name} logged secret #{leaked} of this test"
        assert "Traceback" not in text, processes.shown(name)
    assert '"worker.started"' in logs["worker"] and '"scheduler.started"' in logs["scheduler"]
    print(f"\nwheel build {installed_kehu['build_seconds']:.1f} s, install {installed_kehu['install_seconds']:.1f} s, "
          f"migrate → serve → jobs → stop {time.monotonic() - started:.1f} s")
