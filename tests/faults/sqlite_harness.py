"""Helpers of the embedded-profile fault tests (issue 26; docs/faults.md): one ``kehu serve`` on a
SQLite file, and checks read straight from that file (R8, R13). Builds on tests/faults/harness.py."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.faults.harness import Ledger, LoadGenerator, base_env, create_tenant, run_kehu

LOCKED = "database is locked"


def embedded_env(root: Path) -> dict[str, str]:
    """The embedded profile on ``root/kehu.sqlite3`` (in-process jobs, no broker), fast hashing and
    no rate limits, migrated and with the tenant ``faults``."""
    env = base_env(
        KEHU_PROFILE="embedded",
        KEHU_DATABASE_URL=f"sqlite:///{root / 'kehu.sqlite3'}",
        KEHU_VAR_DIR=str(root / "var"),
        KEHU_PASSWORD_HASHING="fast",
        KEHU_RATE_LIMIT_PER_MINUTE="1000000",
        KEHU_RATE_LIMIT_API_KEY_PER_MINUTE="1000000",
        KEHU_RATE_LIMIT_ANONYMOUS_PER_MINUTE="1000000",
        KEHU_RATE_LIMIT_COST_PER_MINUTE="1000000000",
        KEHU_RATE_LIMIT_CALLER_COST_PER_MINUTE="1000000000",
        KEHU_IDEMPOTENCY_WAIT_SECONDS="2",
        KEHU_ACCESS_TOKEN_TTL_SECONDS="7200",
        KEHU_LOG_FORMAT="json",
    )
    migrated = run_kehu(env, "migrate")
    assert migrated.returncode == 0, migrated.stdout[-2000:] + migrated.stderr[-3000:]
    create_tenant(env)
    return env


def sqlite_path(env: dict[str, str]) -> Path:
    return Path(env["KEHU_DATABASE_URL"].removeprefix("sqlite:///"))


def connect(env: dict[str, str]) -> sqlite3.Connection:
    connection = sqlite3.connect(sqlite_path(env), timeout=30)
    connection.row_factory = sqlite3.Row
    return connection


def integrity(env: dict[str, str]) -> list[str]:
    with connect(env) as connection:
        return [row[0] for row in connection.execute("PRAGMA integrity_check")]


def _uuid_forms(ids: list[str]) -> list[str]:
    return ids + [i.replace("-", "") for i in ids]


def check_ledger_sqlite(env: dict[str, str], ledger: Ledger) -> dict[str, Any]:
    """``harness.check_ledger`` against the SQLite file: every acknowledged row present (updates at
    least at their version), one ``customer.created`` audit entry and outbox event per create, one
    of each per update version, no create key applied twice."""
    connection = connect(env)
    try:
        rows: dict[str, sqlite3.Row] = {}
        for row in connection.execute("SELECT id, version, tags FROM customer WHERE tags LIKE '%fault%'"):
            rows[str(row["id"]).replace("-", "")] = row

        def norm(value: Any) -> str:
            return str(value).replace("-", "")

        missing = [e for e in ledger.acked if norm(e["id"]) not in rows]
        stale = [e for e in ledger.updates if norm(e["id"]) in rows and rows[norm(e["id"])]["version"] < e["version"]]
        audits: dict[tuple[str, str], int] = {}
        for r in connection.execute("SELECT target_id, action, count(*) AS n FROM audit_entry "
                                    "WHERE target_type = 'customer' GROUP BY 1, 2"):
            audits[(norm(r["target_id"]), r["action"])] = r["n"]
        events: dict[tuple[str, str], int] = {}
        for r in connection.execute("SELECT aggregate_id, event_type, count(*) AS n FROM outbox_event "
                                    "GROUP BY 1, 2"):
            events[(norm(r["aggregate_id"]), r["event_type"])] = r["n"]
        no_audit = [e for e in ledger.creates if audits.get((norm(e["id"]), "customer.created"), 0) != 1]
        no_event = [e for e in ledger.creates if events.get((norm(e["id"]), "customer.created"), 0) != 1]
        acked_ids = {norm(e["id"]) for e in ledger.acked}
        updates_short = [cid for cid in acked_ids if cid in rows and (
            audits.get((cid, "customer.updated"), 0) != rows[cid]["version"] - 1
            or events.get((cid, "customer.updated"), 0) != rows[cid]["version"] - 1)]
        applied: dict[str, int] = {}
        for row in rows.values():
            for key in json.loads(row["tags"] or "[]"):
                applied[key] = applied.get(key, 0) + 1
        doubled = [key for key in sorted(ledger.attempted_creates) if applied.get(key, 0) > 1]
    finally:
        connection.close()
    problems = {"missing rows": missing, "stale versions": stale, "creates without one audit entry": no_audit,
                "creates without one outbox event": no_event, "updates without their audit/outbox": updates_short,
                "create keys applied twice": doubled}
    found = {name: items[:5] for name, items in problems.items() if items}
    assert not found, f"ledger check failed ({len(ledger.acked)} acknowledged): {found}"
    return {"acked": len(ledger.acked), "creates": len(ledger.creates), "updates": len(ledger.updates),
            "replayed": sum(1 for e in ledger.acked if e["replayed"]), "unacked": len(ledger.unacked),
            "failed attempts": len(ledger.failures)}


class WatchedLoad(LoadGenerator):
    """The harness's load generator, reading every response body: the ones carrying ``needle``
    (``database is locked``) are kept in ``self.seen``, with the status of every answer."""

    needle = LOCKED

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: list[str] = []
        self.statuses: dict[int, int] = {}

    async def _watch(self, response: httpx.Response) -> None:
        body = (await response.aread()).decode(errors="replace")
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        if self.needle in body.lower():
            self.seen.append(f"{response.status_code}: {body[:300]}")

    async def run(self) -> Ledger:
        limits = httpx.Limits(max_keepalive_connections=0, max_connections=self.writers * 2)
        async with httpx.AsyncClient(base_url=self.url, timeout=self.timeout, limits=limits,
                                     event_hooks={"response": [self._watch]}) as client:
            stop_at = time.monotonic() + self.seconds
            await asyncio.gather(*(self._writer(client, n, stop_at) for n in range(self.writers)))
        return self.ledger


# -- R13: a retention purge run in its own process (which the test may SIGKILL) ------------------

_PURGE_SCRIPT = r'''
import asyncio, json, os, signal, sys
from datetime import timedelta
from uuid import UUID
from core.background import configure_background_work
from core.context import Context
from core.customers import service
from core.customers.tables import Customer
from core.db import Database, unit_of_work, use_database
from core.identity.permissions import install_catalog
from core.identity.runtime import configure_identity
from core.jobs import long_jobs, outbox
from core.plugins.manager import load_verticals, start_verticals
from core.privacy import erasure, retention
from core.privacy.crypto import configure_data_keys
from core.settings import load_settings

mode, tenant = sys.argv[1], UUID(sys.argv[2])

async def main():
    s = load_settings()
    configure_identity(s); outbox.configure_jobs(s); long_jobs.configure_long_jobs(s)
    registry = load_verticals(s.disabled_plugins)
    install_catalog(registry.permissions); configure_background_work(registry); start_verticals(registry)
    configure_data_keys(s)
    db = Database(s.database, pool_size=2, busy_timeout_ms=s.sqlite_busy_timeout_ms); use_database(db)
    await db.start()
    ctx = Context.system("fault:r13", tenant)
    try:
        if mode == "seed":  # argv: due, kept
            made = []
            for n in range(int(sys.argv[3]) + int(sys.argv[4])):
                due = n < int(sys.argv[3])
                given = "过期" + "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥"[n % 22] + str(n)
                phone = f"1390013{n:04d}"
                created = await service.create_customer(ctx, registry, {
                    "kind": "person", "surname": "欧阳", "given_name": given, "phones": [phone],
                    "emails": [f"r13.subject{n}@example.cn"], "status": "lost" if due else "active",
                    "tags": ["fault-r13"]})
                cid = created.customer.id
                async with unit_of_work(ctx) as uow:
                    await uow.update(Customer, {Customer.updated_at: service.now() - timedelta(days=7 * 366)}
                                     ).where(Customer.id == cid)
                made.append({"id": str(cid), "due": due, "values": ["欧阳" + given, phone, f"r13.subject{n}@example.cn"]})
            print(json.dumps(made))
            return
        kill_after = int(sys.argv[3]) if len(sys.argv) > 3 else -1
        original, erased = erasure.erase_in, []

        async def erase_in(uow, *args, **kwargs):
            result = await original(uow, *args, **kwargs)
            erased.append(args[1])
            if len(erased) == kill_after + 1:  # this subject's writes done, its transaction not committed
                os.kill(os.getpid(), signal.SIGKILL)
            return result

        erasure.erase_in = erase_in
        job_id = await retention.start_purge(ctx)
        assert await long_jobs.run_job(tenant, job_id)
        async with unit_of_work(ctx, write=False) as uow:
            from core.jobs.tables import LongJob
            row = await uow.select(LongJob.status, LongJob.result).where(LongJob.id == job_id).first()
        print(json.dumps({"status": row["status"], "result": row["result"]}, default=str))
    finally:
        await db.close()

asyncio.run(main())
'''


def purge_process(env: dict[str, str], *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess:
    """Run the R13 script (``seed due kept`` | ``purge [kill_after]``) in its own process."""
    return subprocess.run([sys.executable, "-c", _PURGE_SCRIPT, *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def tenant_id(env: dict[str, str], slug: str = "faults") -> str:
    with connect(env) as connection:
        return str(connection.execute("SELECT id FROM tenant WHERE slug = ?", (slug,)).fetchone()[0])


def subject_state(env: dict[str, str], subjects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """For each subject (id, values): its customer row's status and name, how many rows other tables
    keep for it, its erasure-ledger rows and ``customer.erased`` audit entries, and which of its
    values are still written anywhere in the file (every text column of every table)."""
    def norm(value: Any) -> str:
        return str(value).replace("-", "").lower()

    state = {norm(s["id"]): {"status": None, "display_name": None, "child_rows": 0, "ledger": 0, "erased_audits": 0,
                             "values_left": set()} for s in subjects}
    values = {norm(s["id"]): s["values"] for s in subjects}
    connection = connect(env)
    try:
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                                   "AND name NOT LIKE 'sqlite_%'")]
        for table in tables:
            columns = [r["name"] for r in connection.execute(f"PRAGMA table_info({table})")]
            for row in connection.execute(f"SELECT * FROM {table}"):
                record = dict(zip(columns, row))
                text = " ".join(str(v) for v in record.values() if isinstance(v, str))
                for cid, subject_values in values.items():
                    for value in subject_values:
                        if value in text:
                            state[cid]["values_left"].add(f"{table}:{value}")
                owner = norm(record.get("customer_id")) if "customer_id" in record else None
                if table == "customer" and norm(record["id"]) in state:
                    state[norm(record["id"])].update(status=record["status"], display_name=record.get("display_name"))
                elif table == "erasure_ledger" and owner in state:
                    state[owner]["ledger"] += 1
                elif table == "audit_entry" and record.get("action") == "customer.erased" \
                        and norm(record.get("target_id")) in state:
                    state[norm(record["target_id"])]["erased_audits"] += 1
                elif owner in state and table not in ("customer_history", "subject_request", "customer_freeze",
                                                      "legal_hold", "erasure_ledger", "customer_merge", "complaint"):
                    state[owner]["child_rows"] += 1
    finally:
        connection.close()
    return state
