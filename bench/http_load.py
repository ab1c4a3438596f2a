"""HTTP load (P10): p99 latency of mixed GraphQL traffic at half the measured saturation rate,
against a real ``kehu serve`` process on PostgreSQL, over loopback.

The server is ``kehu serve`` (embedded profile: API, outbox relay, job loop and tick in the one
process, one worker, the default database pool) on a scratch PostgreSQL database
(``KEHU_BENCH_POSTGRES_URL``, required; without it the benchmark is skipped), seeded with one
tenant, its admin and 2,000 customers (through the customer import service). Its rate limits are
raised out of the way: this measures latency, not the limiter's refusals.

The load generator runs in a separate process (spawned), with one ``httpx.AsyncClient``:

1. Saturation: a closed loop of ``CLIENTS`` concurrent callers, each sending its next request as
   soon as the last one answers, for 10 s (quick: 3 s) after a short warm-up; saturation is the
   number of requests completed per second.
2. Open loop at 50% of that rate for 30 s (quick: 8 s) after a warm-up at the same rate: request i
   is sent at t0 + i/rate as its own task whether or not earlier ones have answered, and its latency
   runs from that scheduled time (no coordinated omission). How late the generator itself started
   each send is reported: if it fell behind, the latencies include its own delay and the result
   says so.

Traffic: 80% reads (30% a 20-customer page, 30% a customer by id, 20% a name search), 20% writes
(10% customerCreate, 10% customerUpdate of a seeded customer with the version last read). Every
answer that is not HTTP 200, has GraphQL ``errors`` or a payload ``errors`` list that is not empty
counts as an error (none are expected). Goal: p99 <= 5 x p50 and no error.

``python -m bench.http_load [--quick] [--rate R] [--seconds S]``: ``--rate`` skips the saturation
step and loads at R requests/s; ``--seconds`` sets the open-loop window.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench.idle_cpu import _cpu_seconds, _free_port
from bench.support import bench_database, start_database

GOAL_RATIO = 5.0
LOAD_FRACTION = 0.5
CLIENTS = 16  # closed-loop callers for the saturation step
CUSTOMERS = 2000
LATENESS_LIMIT_MS = 10.0  # a send started later than this behind its schedule: the generator fell behind
TENANT, USERNAME, PASSWORD = "load", "admin", "bench-password-2026!"
LOGIN = ('mutation($t: String!, $u: String!, $p: String!) { login(tenant: $t, username: $u, password: $p) '
         '{ accessToken } }')

# (name, share of the traffic, document)
OPERATIONS: tuple[tuple[str, float, str], ...] = (
    ("page", 0.30, '{ customers(first: 20, sort: "name") { edges { cursor node { id version displayName status '
                   "phones tags owner { username displayName } } } pageInfo { hasNextPage endCursor } } }"),
    ("by_id", 0.30, "query($id: ID!) { customer(id: $id) { id version displayName status phones tags "
                    "owner { username displayName } } }"),
    ("search", 0.20, "query($t: String!) { customers(filter: {text: $t}, first: 20) { edges { node { id version "
                     "displayName status } } } }"),
    ("create", 0.10, 'mutation($n: String!) { customerCreate(input: {kind: "organisation", orgName: $n}) '
                     "{ customer { id version } errors { code } } }"),
    ("update", 0.10, "mutation($id: ID!, $v: Int!, $t: String!) { customerUpdate(id: $id, version: $v, "
                     'input: {tags: [$t]}, reason: "load") { customer { id version } errors { code } } }'),
)


def _seed_name(index: int) -> str:
    return f"负载客户{index:04d}有限公司"


# --- the generator (runs in its own process) -------------------------------------------------


def _problem(response: httpx.Response) -> tuple[str | None, dict[str, Any]]:
    """Why this answer counts as an error (None when it does not), and its body."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}", {}
    body = response.json()
    if body.get("errors"):
        first = body["errors"][0]
        return str((first.get("extensions") or {}).get("code") or first.get("message"))[:120], body
    for payload in (body.get("data") or {}).values():
        if isinstance(payload, dict) and payload.get("errors"):
            return str(payload["errors"][0].get("code")), body
    return None, body


class _Mix:
    """Picks and sends the operations; keeps each seeded customer's version for the updates."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.random = random.Random(spec["seed"])
        self.versions: dict[str, int] = dict(spec["versions"])
        self.ids = list(self.versions)
        self.turn = deque(self.ids)
        self.updating: set[str] = set()
        self.created = 0
        self.prefix = spec["prefix"]
        self.headers = {"authorization": f"Bearer {spec['token']}"}
        self.names = [name for name, _, _ in OPERATIONS]
        self.weights = [share for _, share, _ in OPERATIONS]
        self.documents = {name: document for name, _, document in OPERATIONS}

    def _variables(self, name: str) -> dict[str, Any] | None:
        if name == "by_id":
            return {"id": self.random.choice(self.ids)}
        if name == "search":
            return {"t": _seed_name(self.random.randrange(len(self.ids)))[:8]}  # "负载客户0123"
        if name == "create":
            self.created += 1
            return {"n": f"新增{self.prefix}{self.created:06d}号公司"}
        if name == "update":
            for _ in range(len(self.turn)):  # the next seeded customer not being updated right now
                customer = self.turn[0]
                self.turn.rotate(-1)
                if customer not in self.updating:
                    self.updating.add(customer)
                    return {"id": customer, "v": self.versions[customer], "t": f"负载{self.random.randrange(10**6)}"}
            raise RuntimeError("every seeded customer has an update in flight")
        return None

    async def fire(self, client: httpx.AsyncClient, scheduled: float, measured: bool) -> tuple:
        """Send one request; (operation, scheduled, started, done, problem, measured)."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        name = self.random.choices(self.names, self.weights)[0]
        variables = self._variables(name)
        problem: str | None
        try:
            body: dict[str, Any] = {"query": self.documents[name]}
            if variables:
                body["variables"] = variables
            response = await client.post("/graphql", json=body, headers=self.headers)
            problem, answer = _problem(response)
            if name == "update" and problem is None:
                assert variables is not None
                self.versions[variables["id"]] = answer["data"]["customerUpdate"]["customer"]["version"]
        except Exception as exc:  # a timeout, a refused connection, a body that is not JSON
            problem = f"{type(exc).__name__}: {exc}"[:120]
        finally:
            if name == "update" and variables is not None:
                self.updating.discard(variables["id"])
        return name, scheduled, started, loop.time(), problem, measured


async def _closed_loop(client: httpx.AsyncClient, mix: _Mix, spec: dict[str, Any]) -> list[tuple]:
    loop = asyncio.get_running_loop()
    measure_from = loop.time() + spec["warmup"]
    end = measure_from + spec["seconds"]
    records: list[tuple] = []

    async def caller() -> None:
        while (now := loop.time()) < end:
            record = await mix.fire(client, now, measured=True)
            if measure_from <= record[3] <= end:  # completed inside the window
                records.append(record)

    await asyncio.gather(*(caller() for _ in range(spec["clients"])))
    return records


async def _open_loop(client: httpx.AsyncClient, mix: _Mix, spec: dict[str, Any]) -> tuple[list[tuple], int]:
    loop = asyncio.get_running_loop()
    rate = spec["rate"]
    warm = int(rate * spec["warmup"])
    total = warm + int(rate * spec["seconds"])
    tasks: list[asyncio.Task] = []
    t0 = loop.time() + 0.05
    for i in range(total):
        scheduled = t0 + i / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(mix.fire(client, scheduled, measured=i >= warm)))
    _, pending = await asyncio.wait(tasks, timeout=spec["drain"])
    for task in pending:  # never answered: counted as errors
        task.cancel()
    return [task.result() for task in tasks if task not in pending], len(pending)


async def _generate(spec: dict[str, Any]) -> dict[str, Any]:
    mix = _Mix(spec)
    pool = spec["connections"]
    limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool, keepalive_expiry=60)
    async with httpx.AsyncClient(base_url=spec["base_url"], limits=limits,
                                 timeout=httpx.Timeout(spec["timeout"], pool=None)) as client:
        gc.collect()
        gc.freeze()  # the generator's own collections would show as send lateness
        gc.disable()
        cpu = time.process_time()
        try:
            if spec["mode"] == "closed":
                records, unfinished = await _closed_loop(client, mix, spec), 0
            else:
                records, unfinished = await _open_loop(client, mix, spec)
        finally:
            gc.enable()
        cpu = time.process_time() - cpu
    return {"records": records, "unfinished": unfinished, "versions": mix.versions, "cpu_seconds": cpu}


def generate(spec: dict[str, Any]) -> dict[str, Any]:
    """Entry point of the generator process."""
    return asyncio.run(_generate(spec))


# --- the server and the measurement ----------------------------------------------------------


async def _seed(settings: Any, customers: int) -> dict[str, int]:
    """One tenant, its admin and ``customers`` organisations (through the customer import: the
    app's own checks and writes, history, audit and outbox included); each one's id and version."""
    from core.context import Context
    from core.customers import importing
    from core.customers.tables import Customer
    from core.db import unit_of_work
    from core.plugins.manager import load_verticals
    from core.tenancy.service import TenantAdmin, create_tenant

    database = await start_database(settings)  # also writes the data keys the server will read
    try:
        tenant = await create_tenant(Context.system(), slug=TENANT, name="Load", departments=("销售部",),
                                     admin=TenantAdmin(USERNAME, PASSWORD))
        system = Context.system("bench", tenant.id)
        lines = ["kind,org_name,phones"] + [f"organisation,{_seed_name(i)},1390000{i:04d}" for i in range(customers)]
        report = await importing.import_customers(system, load_verticals(()), "\n".join(lines).encode(), "seed.csv")
        assert report.imported == customers, report.errors[:3]
        async with unit_of_work(system, write=False) as uow:
            rows = await uow.select(Customer.id, Customer.version)
        return {str(row["id"]): row["version"] for row in rows}
    finally:
        await database.close()


def _start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    with log.open("wb") as stderr:  # a file, not a pipe: nobody reads a pipe during the load
        process = subprocess.Popen([sys.executable, "-c", "from gateway.cli import cli; cli()", "serve",
                                    "--port", str(port)], env={**env, "KEHU_PORT": str(port)},
                                   stdout=subprocess.DEVNULL, stderr=stderr)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"kehu serve did not start: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.2)


def _settle(pid: int, limit: float, quiet_seconds: int = 3) -> float:
    """Wait until the server costs under 5% of a core for ``quiet_seconds`` seconds in a row
    (start-up tick, relay of the seeded events, jobs), at most ``limit`` seconds; the time waited."""
    started, last, quiet = time.monotonic(), _cpu_seconds(pid), 0
    while quiet < quiet_seconds and time.monotonic() - started < limit:
        time.sleep(0.5)
        now = _cpu_seconds(pid)
        quiet = quiet + 1 if now - last < 0.025 else 0
        last = now
    return time.monotonic() - started


def _percentile(ordered: list[float], p: float) -> float:
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


def _ms(seconds: float) -> float:
    return round(seconds * 1e3, 2)


async def _phase(pool: ProcessPoolExecutor, pid: int, spec: dict[str, Any]) -> tuple[dict[str, Any], float]:
    """Run one generator phase; its answer and the server's CPU percent of one core meanwhile."""
    cpu, wall = _cpu_seconds(pid), time.monotonic()
    result = await asyncio.get_running_loop().run_in_executor(pool, generate, spec)
    return result, 100 * (_cpu_seconds(pid) - cpu) / (time.monotonic() - wall)


async def run(*, quick: bool = False, rate: float | None = None, seconds: float | None = None) -> dict[str, object]:
    if not os.environ.get("KEHU_BENCH_POSTGRES_URL"):
        return {"name": "http_load", "skipped": "KEHU_BENCH_POSTGRES_URL is not set (PostgreSQL only)", "met": True}
    with tempfile.TemporaryDirectory() as var:
        async with bench_database(Path(var)) as database_settings:
            return await _run(Path(var), database_settings, quick=quick, rate=rate, seconds=seconds)


async def _run(var: Path, database_settings: dict[str, object], *, quick: bool, rate: float | None,
               seconds: float | None) -> dict[str, object]:
    from core.settings import load_settings

    seconds = seconds or (8.0 if quick else 30.0)
    saturation_seconds, warmup = (3.0, 2.0) if quick else (10.0, 5.0)
    settings = load_settings(**database_settings, var_dir=var, password_hashing="fast", log_level="WARNING")
    load_before = os.getloadavg()[0]
    began = time.monotonic()
    versions = await _seed(settings, CUSTOMERS)
    seed_seconds = time.monotonic() - began
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEHU_")}
    env.update({f"KEHU_{key.upper()}": str(value) for key, value in database_settings.items()})
    env.update({"KEHU_VAR_DIR": str(var), "KEHU_LOG_LEVEL": "WARNING", "KEHU_PASSWORD_HASHING": "fast",
                "KEHU_ACCESS_TOKEN_TTL_SECONDS": "3600",
                "KEHU_RATE_LIMIT_PER_MINUTE": "1000000", "KEHU_RATE_LIMIT_ANONYMOUS_PER_MINUTE": "1000000",
                "KEHU_RATE_LIMIT_COST_PER_MINUTE": "1000000000",
                "KEHU_RATE_LIMIT_CALLER_COST_PER_MINUTE": "1000000000"})
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = await asyncio.to_thread(_start_server, env, port, var / "serve.log")
    try:
        async with httpx.AsyncClient(base_url=base_url) as client:
            answer = (await client.post("/graphql", json={"query": LOGIN, "variables": {
                "t": TENANT, "u": USERNAME, "p": PASSWORD}})).json()
        token = answer["data"]["login"]["accessToken"]
        settle_limit = 60.0 if quick else 180.0
        settled = [await asyncio.to_thread(_settle, server.pid, settle_limit)]
        common = {"base_url": base_url, "token": token, "timeout": 30.0, "drain": 30.0}
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            await asyncio.get_running_loop().run_in_executor(pool, gc.collect)  # the process, started and imported
            saturation = None
            if rate is None:
                result, saturation_cpu = await _phase(pool, server.pid, {
                    **common, "mode": "closed", "clients": CLIENTS, "warmup": 1.0, "seconds": saturation_seconds,
                    "connections": CLIENTS, "versions": versions, "seed": 1, "prefix": "饱和"})
                versions = result["versions"]
                saturation_records = result["records"]
                saturation = len(saturation_records) / saturation_seconds
                saturation_errors = sum(1 for r in saturation_records if r[4])
                rate = LOAD_FRACTION * saturation
                settled.append(await asyncio.to_thread(_settle, server.pid, settle_limit))
            connections = max(64, math.ceil(rate * 0.5))  # rate x 500 ms: far above the expected latency
            result, load_cpu = await _phase(pool, server.pid, {
                **common, "mode": "open", "rate": rate, "warmup": warmup, "seconds": seconds,
                "connections": connections, "versions": versions, "seed": 2, "prefix": "开环"})
    finally:
        server.terminate()
        try:
            await asyncio.to_thread(server.wait, 30)
        except subprocess.TimeoutExpired:
            server.kill()
    stderr_tail = (var / "serve.log").read_text(errors="replace")[-1000:] if (var / "serve.log").exists() else ""

    records = [r for r in result["records"] if r[5]]
    latencies = sorted(done - scheduled for _, scheduled, _, done, _, _ in records)
    lateness = sorted(started - scheduled for _, scheduled, started, _, _, _ in records)
    problems = Counter(r[4] for r in records if r[4])
    errors = sum(problems.values()) + result["unfinished"]
    if result["unfinished"]:
        problems["unanswered after the drain"] = result["unfinished"]
    starts = sorted(r[2] for r in records)
    achieved = (len(starts) - 1) / (starts[-1] - starts[0]) if len(starts) > 1 else 0.0
    per_operation = {}
    for name, _, _ in OPERATIONS:
        mine = sorted(done - scheduled for op, scheduled, _, done, _, _ in records if op == name)
        if mine:
            per_operation[name] = {"count": len(mine), "p50_ms": _ms(_percentile(mine, 0.5)),
                                   "p99_ms": _ms(_percentile(mine, 0.99))}
    p50, p99 = _percentile(latencies, 0.5), _percentile(latencies, 0.99)
    ratio = p99 / p50
    lateness_max = lateness[-1] * 1e3
    kept_schedule = lateness_max <= LATENESS_LIMIT_MS
    out: dict[str, object] = {
        "name": "http_load",
        "subject": (f"p99 latency, open loop at {int(LOAD_FRACTION * 100)}% of saturation, mixed GraphQL "
                    "(80% reads: page of 20, by id, name search; 20% writes: create, update) against "
                    "kehu serve (embedded profile, 1 worker) on PostgreSQL over loopback"),
        "baseline": "p50 latency of the same run",
        "customers": CUSTOMERS,
        "seed_seconds": round(seed_seconds, 1),
        # the machine's load average (1 min) before and after: other work on it shows in the latencies
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "settle_seconds": [round(s, 1) for s in settled],
    }
    if saturation is not None:
        out.update({"saturation_clients": CLIENTS, "saturation_seconds": saturation_seconds,
                    "saturation_per_s": round(saturation, 1), "saturation_errors": saturation_errors,
                    "saturation_server_cpu_percent": round(saturation_cpu, 1)})
    out.update({
        "target_rate_per_s": round(rate, 1),
        "achieved_rate_per_s": round(achieved, 1),
        "seconds": seconds,
        "warmup_seconds": warmup,
        "connections": connections,
        "requests": len(records),
        "p50_ms": _ms(p50),
        "p90_ms": _ms(_percentile(latencies, 0.9)),
        "p99_ms": _ms(p99),
        "max_ms": _ms(latencies[-1]),
        "per_operation": per_operation,
        "errors": errors,
        "error_kinds": dict(problems.most_common(5)),
        "send_lateness_p99_ms": _ms(_percentile(lateness, 0.99)),
        "send_lateness_max_ms": round(lateness_max, 2),
        "generator_kept_schedule": kept_schedule,
        "server_cpu_percent": round(load_cpu, 1),
        "generator_cpu_percent": round(100 * result["cpu_seconds"] / (warmup + seconds), 1),
        "ratio": round(ratio, 2),
        "goal": f"p99 <= {GOAL_RATIO:g} x p50 and 0 errors",
        "met": ratio <= GOAL_RATIO and errors == 0,
    })
    if not kept_schedule:
        out["note"] = (f"the generator fell behind its schedule (a send started {lateness_max:.1f} ms late): "
                       "the latencies include its own delay")
    if errors and stderr_tail:
        out["server_log_tail"] = stderr_tail
    return out


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.http_load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short phases (a smoke run, not a measurement)")
    parser.add_argument("--rate", type=float, help="requests/s of the open loop (skips the saturation step)")
    parser.add_argument("--seconds", type=float, help="length of the open-loop window")
    args = parser.parse_args()
    result = asyncio.run(run(quick=args.quick, rate=args.rate, seconds=args.seconds))
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0 if result["met"] else 1


if __name__ == "__main__":
    from bench import http_load  # so the generator process unpickles bench.http_load.generate, not __main__'s

    sys.exit(http_load.main())
