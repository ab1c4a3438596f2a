"""The fault harness's machinery (issue 26; docs/faults.md): real kehu processes on this machine,
their own Redis, fault proxies, a load generator keeping a client ledger, and the checks of that
ledger against the database, the audit chain and the outbox.

Every process runs in its own process group, logs to the test's tmp_path, and is killed (the whole
group) by the fixture's finalizer whatever happens.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

PASSWORD = "fault-harness-2026!"
TENANT = "faults"
LONG = os.environ.get("KEHU_FAULTS") == "long"
LOAD_SECONDS = 60.0 if LONG else 10.0
WRITERS = 50 if LONG else 8
# A slow 2-core CI machine: how long a process may take to become ready.
READY_SECONDS = 60.0

CREATE = """mutation($input: CustomerInput!) {
  customerCreate(input: $input) { customer { id version } errors { code field } } }"""
UPDATE = """mutation($id: ID!, $version: Int!, $input: CustomerInput!) {
  customerUpdate(id: $id, version: $version, input: $input) { customer { id version } errors { code field } } }"""
LOGIN = 'mutation($t: String!, $u: String!, $p: String!) { login(tenant: $t, username: $u, password: $p) ' \
        '{ accessToken errors { code } } }'
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kehu_command() -> list[str]:
    """``kehu`` from this interpreter's environment (the virtualenv running the tests)."""
    script = Path(sys.executable).with_name("kehu")
    return [str(script)] if script.exists() else [sys.executable, "-m", "gateway.cli"]


@dataclass
class Process:
    """One started process: its command, environment, log file; kill/terminate its whole group."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    popen: subprocess.Popen | None = None
    starts: int = 0

    def start(self) -> Process:
        assert not self.running, f"{self.name} already runs"
        self.starts += 1
        log = self.log_path.open("ab")
        log.write(f"\n=== start {self.starts}: {' '.join(self.argv)}\n".encode())
        log.flush()
        self.popen = subprocess.Popen(self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        return self

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal_group(self, signum: int) -> None:
        if self.popen is None:
            return
        try:
            os.killpg(self.popen.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    def kill(self) -> None:
        """SIGKILL the process group and reap it."""
        if self.popen is None:
            return
        self.signal_group(signal.SIGKILL)
        try:
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            pass

    def terminate(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (a graceful stop) and wait for it; SIGKILL after ``timeout``."""
        if self.popen is None:
            return None
        self.signal_group(signal.SIGTERM)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])


def run_kehu(env: dict[str, str], *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess:
    return subprocess.run([*kehu_command(), *args], env=env, capture_output=True, text=True, timeout=timeout)


def base_env(**values: str) -> dict[str, str]:
    """The machine's environment without any KEHU_* of the test run, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEHU_")}
    env.update(values)
    return env


def create_tenant(env: dict[str, str], slug: str = TENANT, password: str = PASSWORD) -> None:
    """The tenant and its administrator ``admin`` (no forced password change), through core's API
    (``kehu tenants create`` prints a one-time password that must be changed first)."""
    script = (
        "import asyncio\n"
        "from core.context import Context\n"
        "from core.db import Database, use_database\n"
        "from core.identity.runtime import configure_identity\n"
        "from core.privacy.crypto import configure_data_keys\n"
        "from core.settings import load_settings\n"
        "from core.tenancy import service as tenancy\n"
        "async def main():\n"
        "    s = load_settings()\n"
        "    configure_identity(s); configure_data_keys(s)\n"
        "    db = Database(s.database, pool_size=2); use_database(db); await db.start()\n"
        "    try:\n"
        f"        await tenancy.create_tenant(Context.system(), slug={slug!r}, name='故障演练',\n"
        f"            admin=tenancy.TenantAdmin(username='admin', password={password!r}, display_name='管理员'))\n"
        "    finally:\n"
        "        await db.close()\n"
        "asyncio.run(main())\n")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]


def wait_ready(url: str, process: Process | None = None, *, timeout: float = READY_SECONDS,
               path: str = "/readyz") -> None:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        if process is not None and process.popen is not None and process.popen.poll() is not None:
            raise AssertionError(f"{process.name} exited ({process.popen.returncode}) before ready:\n{process.tail()}")
        try:
            answer = httpx.get(url + path, timeout=2)
            if answer.status_code == 200:
                return
            last = answer.status_code
        except httpx.HTTPError as error:
            last = error
        time.sleep(0.2)
    raise AssertionError(f"{url} not ready after {timeout} s (last: {last!r})"
                         + (f"\n{process.tail()}" if process else ""))


def login(url: str, slug: str = TENANT, password: str = PASSWORD) -> str:
    answer = httpx.post(url + "/graphql", json={"query": LOGIN, "variables": {"t": slug, "u": "admin", "p": password}},
                        timeout=30)
    body = answer.json()
    assert answer.status_code == 200 and body["data"]["login"]["accessToken"], body
    return body["data"]["login"]["accessToken"]


# -- the load generator and its ledger -----------------------------------------------------------


@dataclass
class Ledger:
    """The client's record (the oracle): every acknowledged mutation, as JSON lines in ``path``."""

    path: Path
    acked: list[dict[str, Any]] = field(default_factory=list)
    attempted_creates: set[str] = field(default_factory=set)  # every create key sent (acked or not)
    unacked: list[dict[str, Any]] = field(default_factory=list)  # keys given up on, with the last answer
    failures: list[str] = field(default_factory=list)  # every failed attempt: status/code/exception
    rejected: list[dict[str, Any]] = field(default_factory=list)  # answered with a coded refusal

    def ack(self, entry: dict[str, Any]) -> None:
        self.acked.append(entry)
        with self.path.open("a") as out:
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")

    @property
    def creates(self) -> list[dict[str, Any]]:
        return [e for e in self.acked if e["op"] == "create"]

    @property
    def updates(self) -> list[dict[str, Any]]:
        return [e for e in self.acked if e["op"] == "update"]


def _describe(answer: httpx.Response | None, error: BaseException | None) -> str:
    if error is not None:
        return type(error).__name__
    assert answer is not None
    try:
        codes = [str((e.get("extensions") or {}).get("code")) for e in answer.json().get("errors") or []]
    except ValueError:
        codes = []
    return f"{answer.status_code}:{','.join(codes) or '-'}"


class LoadGenerator:
    """``writers`` concurrent clients creating customers and updating their own, each request with
    an ``Idempotency-Key``; an unacknowledged request is retried with the same key and body (until
    ``retry_seconds`` after the load ends, when ``retry``), and every acknowledged one is written
    to the ledger."""

    def __init__(self, url: str, token: str, ledger: Ledger, *, writers: int = WRITERS, seconds: float = LOAD_SECONDS,
                 retry: bool = True, retry_seconds: float = 30.0, timeout: float = 30.0, pause: float = 0.05) -> None:
        self.url, self.token, self.ledger = url, token, ledger
        self.writers, self.seconds, self.retry, self.retry_seconds = writers, seconds, retry, retry_seconds
        self.timeout, self.pause = timeout, pause
        self.run_id = uuid.uuid4().hex[:8]
        self.latencies: list[float] = []
        self.attempts = 0

    async def run(self) -> Ledger:
        # No keep-alive: every request is a new connection, as a client behind a balancer that
        # moves it to another process would see it.
        limits = httpx.Limits(max_keepalive_connections=0, max_connections=self.writers * 2)
        async with httpx.AsyncClient(base_url=self.url, timeout=self.timeout, limits=limits) as client:
            stop_at = time.monotonic() + self.seconds
            await asyncio.gather(*(self._writer(client, n, stop_at) for n in range(self.writers)))
        return self.ledger

    async def _send(self, client: httpx.AsyncClient, key: str, query: str, variables: dict) -> dict | None:
        """The mutation's payload once acknowledged; None when given up."""
        headers = {"authorization": f"Bearer {self.token}", "idempotency-key": key}
        give_up_at = None
        while True:
            self.attempts += 1
            started = time.monotonic()
            answer, error = None, None
            try:
                answer = await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
            except httpx.HTTPError as exc:
                error = exc
            self.latencies.append(time.monotonic() - started)
            if answer is not None and answer.status_code == 200:
                body = answer.json()
                payload = next(iter((body.get("data") or {}).values()), None) if body.get("data") else None
                if payload is not None and not payload.get("errors"):
                    return {**payload, "replayed": answer.headers.get("idempotent-replayed") == "true"}
                if payload is not None:  # a coded refusal of the mutation itself: no effect, final
                    self.ledger.rejected.append({"key": key, "errors": payload["errors"]})
                    return None
            self.ledger.failures.append(_describe(answer, error))
            if not self.retry:
                self.ledger.unacked.append({"key": key, "last": _describe(answer, error)})
                return None
            if give_up_at is None:
                give_up_at = time.monotonic() + self.seconds + self.retry_seconds
            if time.monotonic() > give_up_at:
                self.ledger.unacked.append({"key": key, "last": _describe(answer, error)})
                return None
            await asyncio.sleep(0.2 + random.random() * 0.3)

    async def _writer(self, client: httpx.AsyncClient, n: int, stop_at: float) -> None:
        mine: list[dict[str, Any]] = []  # this writer's customers: id and last known version
        seq = 0
        while time.monotonic() < stop_at:
            seq += 1
            key = f"{self.run_id}-{n}-{seq}"
            if mine and random.random() < 0.4:
                customer = random.choice(mine)
                variables = {"id": customer["id"], "version": customer["version"], "input": {"tags": ["fault", key]}}
                payload = await self._send(client, key, UPDATE, variables)
                if payload is not None:
                    version = payload["customer"]["version"]
                    self.ledger.ack({"op": "update", "key": key, "id": customer["id"], "version": version,
                                     "replayed": payload["replayed"]})
                    customer["version"] = version
            else:
                self.ledger.attempted_creates.add(key)
                phone = f"13{n % 10}{abs(hash(self.run_id)) % 100:02d}{(n * 100000 + seq) % 1000000:06d}"
                variables = {"input": {"kind": "person", "surname": "王", "givenName": GIVEN[seq % len(GIVEN)] + GIVEN[n % 7],
                                       "phones": [phone], "tags": ["fault", key]}}
                payload = await self._send(client, key, CREATE, variables)
                if payload is not None:
                    created = payload["customer"]
                    self.ledger.ack({"op": "create", "key": key, "id": created["id"], "version": created["version"],
                                     "replayed": payload["replayed"]})
                    mine.append({"id": created["id"], "version": created["version"]})
            await asyncio.sleep(self.pause)


# -- checks of the ledger against the database ---------------------------------------------------


async def check_ledger(admin_url: str, ledger: Ledger, *, outbox: bool = True) -> dict[str, Any]:
    """Every acknowledged mutation is in the database with its audit entry and outbox event, and no
    create key took effect twice. Returns counts for the report; raises AssertionError listing the
    first few misses."""
    connection = await asyncpg.connect(admin_url)
    try:
        ids = sorted({e["id"] for e in ledger.acked})
        rows = {str(r["id"]): r for r in await connection.fetch(
            "SELECT id, version, tags FROM customer WHERE id = ANY($1::uuid[])", ids)}
        missing = [e for e in ledger.acked if e["id"] not in rows]
        stale = [e for e in ledger.updates if e["id"] in rows and rows[e["id"]]["version"] < e["version"]]
        audits: dict[tuple[str, str], int] = {}
        for r in await connection.fetch("SELECT target_id, action, count(*) AS n FROM audit_entry "
                                        "WHERE target_id = ANY($1::text[]) GROUP BY 1, 2", ids):
            audits[(r["target_id"], r["action"])] = r["n"]
        events: dict[tuple[str, str], int] = {}
        for r in await connection.fetch("SELECT aggregate_id, event_type, count(*) AS n FROM outbox_event "
                                        "WHERE aggregate_id = ANY($1::text[]) GROUP BY 1, 2", ids):
            events[(r["aggregate_id"], r["event_type"])] = r["n"]
        no_audit = [e for e in ledger.creates if audits.get((e["id"], "customer.created"), 0) != 1]
        no_event = [e for e in ledger.creates if events.get((e["id"], "customer.created"), 0) != 1] if outbox else []
        # Each update that took effect made one version, one audit entry and one event.
        updates_short = []
        for customer_id, row in rows.items():
            made = row["version"] - 1
            if audits.get((customer_id, "customer.updated"), 0) != made or (
                    outbox and events.get((customer_id, "customer.updated"), 0) != made):
                updates_short.append(customer_id)
        # No create key took effect twice (its key is among the customer's tags).
        keys = sorted(ledger.attempted_creates)
        applied: dict[str, int] = {}
        for r in await connection.fetch("SELECT tags FROM customer WHERE tags LIKE '%fault%'"):
            for key in json.loads(r["tags"] or "[]"):
                applied[key] = applied.get(key, 0) + 1
        doubled = [key for key in keys if applied.get(key, 0) > 1]
    finally:
        await connection.close()
    problems = {"missing rows": missing, "stale versions": stale, "creates without one audit entry": no_audit,
                "creates without one outbox event": no_event, "updates without their audit/outbox": updates_short,
                "create keys applied twice": doubled}
    found = {name: items[:5] for name, items in problems.items() if items}
    assert not found, f"ledger check failed ({len(ledger.acked)} acknowledged): {found}"
    return {"acked": len(ledger.acked), "creates": len(ledger.creates), "updates": len(ledger.updates),
            "replayed": sum(1 for e in ledger.acked if e["replayed"]), "unacked": len(ledger.unacked),
            "failed attempts": len(ledger.failures)}


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def summary(failures: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for f in failures:
        counts[f] = counts.get(f, 0) + 1
    return counts
