"""Serve memory (goal P13): the resident memory of a real ``kehu serve`` after 100,000 mixed
requests against after 1,000 — a server that keeps something per request (a cache without a
bound, a log buffer, a per-token or per-error record) grows with the count, one that does not
levels off once warm.

One ``kehu serve`` (embedded profile: API, outbox relay, job loop and tick in the one process) on
a scratch database (SQLite by default, PostgreSQL with ``KEHU_BENCH_POSTGRES_URL``), its own
KEHU_VAR_DIR, a free port, one tenant with an administrator. The bench signs in once over GraphQL
and drives traffic over real HTTP with httpx (a few concurrent callers on keep-alive
connections): 70% reads (a customers page of 20, a customer by id, ``{ __typename }``, a malformed
or unknown id), 20% writes (customerCreate, customerUpdate with the version read, a create refused
by validation), 10% searches by name (a few refused as blank). Coded refusals are part of the mix
because error paths keep things too. Rate limits are lifted (they are not what is measured) and
the access token lives a day, so the one sign-in lasts.

At each checkpoint (after the warm-up, then every 10% of the total) the traffic pauses, the server
gets a moment to finish background work (the relay) and its VmRSS is read from /proc (children
included, should serve fork workers). Nothing is signalled to the server and no collection forced:
the figure is what an operator would see. Ratio = RSS after N / RSS after the warm-up; goal ≤ 1.2.
Also reported: requests/s reached, the HTTP statuses and error codes seen; a 5xx that is not a
deliberate coded refusal (no code, or INTERNAL_ERROR anywhere) fails the goal whatever the ratio.

``python -m bench.serve_memory [--quick] [--requests N]``: 1,000 then 100,000 requests (quick: 300
then 5,000).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx

from bench.idle_cpu import _free_port
from bench.support import bench_database, start_database
from core.context import Context
from core.settings import load_settings
from core.tenancy.service import TenantAdmin, create_tenant

GOAL_RATIO = 1.2
TENANT = "memory"
USERNAME = "memory-admin"
PASSWORD = "memory-bench-2026!"
CALLERS = 4  # concurrent async callers, each on its own keep-alive connection
SETTLE_SECONDS = 1.5  # pause before each reading: in-flight work and the relay finish
SEED = 13

PAGE = ("query($after: String) { customers(first: 20, after: $after) { edges { node { id version displayName } } "
        "pageInfo { endCursor hasNextPage } } }")
BY_ID = "query($id: ID!) { customer(id: $id) { id version displayName tags createdAt } }"
TYPENAME = "{ __typename }"
SEARCH = ("query($text: String!) { customers(first: 20, filter: {text: $text}) "
          "{ edges { node { id displayName } } } }")
CREATE = ('mutation($surname: String!, $given: String!) { customerCreate(input: {kind: "person", '
          'surname: $surname, givenName: $given, tags: ["bench"]}) { customer { id version } errors { field code } } }')
CREATE_ORG = ('mutation($name: String!) { customerCreate(input: {kind: "organisation", orgName: $name}) '
              '{ customer { id version } errors { field code } } }')
UPDATE = ('mutation($id: ID!, $v: Int!, $tag: String!) { customerUpdate(id: $id, version: $v, '
          'input: {tags: [$tag]}, reason: "bench") { customer { id version } errors { field code } } }')
LOGIN = ("mutation($t: String!, $u: String!, $p: String!) { login(tenant: $t, username: $u, password: $p) "
         "{ accessToken mustChangePassword errors { code message } } }")

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚"

# (kind, weight out of 100): 70 reads, 20 writes, 10 searches
MIX = (("page", 27), ("by_id", 22), ("typename", 15), ("bad_id", 6),
       ("create", 8), ("update", 10), ("create_invalid", 2),
       ("search", 9), ("search_invalid", 1))


def _rss_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) in KiB of ``pid`` plus its descendants (forked workers, if any)."""
    rss = hwm = 0
    pids, seen = [pid], set()
    while pids:
        current = pids.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    hwm += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                pids.extend(int(child) for child in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return rss, hwm


async def _seed(settings) -> None:
    database = await start_database(settings)
    try:
        await create_tenant(Context.system(), slug=TENANT, name="Memory", departments=("销售部",),
                            admin=TenantAdmin(USERNAME, PASSWORD))
    finally:
        await database.close()


def _start(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    kehu = Path(sys.executable).with_name("kehu")
    command = [str(kehu)] if kehu.exists() else [sys.executable, "-c", "from gateway.cli import cli; cli()"]
    with log.open("wb") as stderr:  # a file, not a pipe: a pipe nobody reads would stall the server
        process = subprocess.Popen([*command, "serve", "--port", str(port)], env={**env, "KEHU_PORT": str(port)},
                                   stdout=subprocess.DEVNULL, stderr=stderr)
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process, port
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"kehu serve did not start: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.2)


class Traffic:
    """The mixed requests of CALLERS concurrent callers, with what they saw."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.random = random.Random(SEED)
        self.kinds = [kind for kind, _ in MIX]
        self.weights = [weight for _, weight in MIX]
        self.customers: dict[str, int] = {}  # id -> version last seen
        self.ids: list[str] = []
        self.names: list[str] = []
        self.cursor: str | None = None  # the end of the last page read, while there is a next one
        self.sent = 0
        self.kind_counts: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.codes: Counter[str] = Counter()
        self.uncoded_5xx = 0
        self.busy_seconds = 0.0
        self.kind_seconds: Counter[str] = Counter()

    async def _post(self, query: str, **variables: object) -> dict:
        response = await self.client.post("/graphql", json={"query": query, "variables": variables})
        self.statuses[response.status_code] += 1
        try:
            body = response.json()
        except ValueError:
            body = {}
        codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
        for value in (body.get("data") or {}).values():
            if isinstance(value, dict):
                codes.extend(e.get("code") for e in value.get("errors") or [])
        for code in codes:
            self.codes[code or "(none)"] += 1
        if response.status_code >= 500 and (not codes or "INTERNAL_ERROR" in codes or None in codes):
            self.uncoded_5xx += 1
        return body

    def _name(self) -> tuple[str, str]:
        surname = self.random.choice(SURNAMES)
        given = "".join(self.random.choice(GIVEN) for _ in range(2))
        return surname, given

    def _remember(self, payload: dict | None) -> None:
        customer = (payload or {}).get("customer")
        if customer:
            if customer["id"] not in self.customers:
                self.ids.append(customer["id"])
            self.customers[customer["id"]] = customer["version"]

    async def one(self) -> None:
        kind = self.random.choices(self.kinds, self.weights)[0]
        if not self.ids and kind in ("by_id", "update"):
            kind = "create"
        self.kind_counts[kind] += 1
        started = time.perf_counter()
        try:
            await self._one(kind)
        finally:
            self.kind_seconds[kind] += time.perf_counter() - started

    async def _one(self, kind: str) -> None:
        rnd = self.random
        if kind == "page":
            # the first page mostly; now and then the page after a cursor of an earlier page
            body = await self._post(PAGE, after=self.cursor if rnd.random() < 0.3 else None)
            info = ((body.get("data") or {}).get("customers") or {}).get("pageInfo") or {}
            self.cursor = info.get("endCursor") if info.get("hasNextPage") else None
        elif kind == "by_id":
            await self._post(BY_ID, id=rnd.choice(self.ids))
        elif kind == "typename":
            await self._post(TYPENAME)
        elif kind == "bad_id":
            await self._post(BY_ID, id=str(uuid.uuid4()) if rnd.random() < 0.5 else f"not-an-id-{rnd.randrange(10**6)}")
        elif kind == "create":
            if rnd.random() < 0.8:
                surname, given = self._name()
                body = await self._post(CREATE, surname=surname, given=given)
                self.names.append(surname + given)
            else:
                body = await self._post(CREATE_ORG, name=f"{self._name()[1]}商贸{rnd.randrange(10**6)}公司")
            self._remember((body.get("data") or {}).get("customerCreate"))
        elif kind == "create_invalid":  # a form of address, not a name: NAME_PLACEHOLDER
            await self._post(CREATE, surname=rnd.choice(SURNAMES), given=rnd.choice(("女士", "先生")))
        elif kind == "update":
            customer = rnd.choice(self.ids)
            body = await self._post(UPDATE, id=customer, v=self.customers[customer], tag=f"标签{rnd.randrange(1000)}")
            payload = (body.get("data") or {}).get("customerUpdate") or {}
            if any(e.get("code") == "VERSION_CONFLICT" for e in payload.get("errors") or []):
                read = await self._post(BY_ID, id=customer)  # counted as a request of its own
                self.sent += 1
                found = (read.get("data") or {}).get("customer")
                if found:
                    self.customers[customer] = found["version"]
            self._remember(payload)
        elif kind == "search":
            name = rnd.choice(self.names) if self.names else "王"
            await self._post(SEARCH, text=name[: rnd.randint(1, len(name))])
        else:  # search_invalid: blank text, SEARCH_TEXT_INVALID
            await self._post(SEARCH, text="   ")

    async def until(self, target: int) -> None:
        """Send requests until ``target`` have been sent in all."""
        async def caller() -> None:
            while self.sent < target:
                self.sent += 1
                await self.one()

        started = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(CALLERS)))
        self.busy_seconds += time.perf_counter() - started


async def run(*, quick: bool = False, requests: int | None = None, warmup: int | None = None) -> dict[str, object]:
    warmup = warmup or (300 if quick else 1000)
    total = max(requests or (5000 if quick else 100_000), warmup)
    with tempfile.TemporaryDirectory() as var:
        async with bench_database(Path(var)) as database_settings:
            settings = load_settings(**database_settings, var_dir=var, password_hashing="fast")
            await _seed(settings)
            env = {k: v for k, v in os.environ.items() if not k.startswith("KEHU_")}
            env.update({f"KEHU_{key.upper()}": str(value) for key, value in database_settings.items()})
            env.update({"KEHU_VAR_DIR": var, "KEHU_LOG_LEVEL": "WARNING", "KEHU_PASSWORD_HASHING": "fast",
                        "KEHU_ACCESS_TOKEN_TTL_SECONDS": "86400",
                        "KEHU_RATE_LIMIT_PER_MINUTE": "1000000", "KEHU_RATE_LIMIT_ANONYMOUS_PER_MINUTE": "1000000",
                        "KEHU_RATE_LIMIT_COST_PER_MINUTE": "1000000000",
                        "KEHU_RATE_LIMIT_CALLER_COST_PER_MINUTE": "1000000000"})
            process, port = await asyncio.to_thread(_start, env, Path(var) / "serve.log")
            try:
                result = await _measure(process, port, warmup, total)
            finally:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
            log = (Path(var) / "serve.log").read_text(errors="replace")
            result["server_log_lines"] = len(log.splitlines())
            result["server_log_tail"] = log.splitlines()[-5:]
            return result


async def _measure(process: subprocess.Popen, port: int, warmup: int, total: int) -> dict[str, object]:
    limits = httpx.Limits(max_connections=CALLERS, max_keepalive_connections=CALLERS)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60) as client:
        traffic = Traffic(client)
        traffic.sent = 1  # the sign-in, the one request without a token
        login = await traffic._post(LOGIN, t=TENANT, u=USERNAME, p=PASSWORD)
        token = ((login.get("data") or {}).get("login") or {}).get("accessToken")
        if not token:
            raise RuntimeError(f"sign-in failed: {login}")
        client.headers["authorization"] = f"Bearer {token}"
        step = max(total // 10, 1)
        points: list[dict[str, object]] = []
        started = time.monotonic()
        warm_busy = 0.0
        for target in sorted({warmup, *range(step, total + 1, step), total} - set(range(warmup))):
            before, sent_before = traffic.busy_seconds, traffic.sent
            await traffic.until(target)
            rate = (traffic.sent - sent_before) / max(traffic.busy_seconds - before, 1e-9)
            if not points:
                warm_busy = traffic.busy_seconds
            await asyncio.sleep(SETTLE_SECONDS)
            if process.poll() is not None:
                raise RuntimeError(f"kehu serve exited with {process.returncode}")
            rss, hwm = _rss_kib(process.pid)
            points.append({"requests": traffic.sent, "rss_mib": round(rss / 1024, 1),
                           "hwm_mib": round(hwm / 1024, 1), "req_per_s": round(rate)})
            print(f"serve_memory: {traffic.sent:>7}/{total} requests  RSS {rss / 1024:6.1f} MiB  "
                  f"(peak {hwm / 1024:.1f})  {rate:4.0f} req/s  {time.monotonic() - started:5.0f} s  "
                  f"5xx {sum(n for s, n in traffic.statuses.items() if s >= 500)}", file=sys.stderr, flush=True)
    first, last = points[0], points[-1]
    ratio = last["rss_mib"] / first["rss_mib"]
    measured = last["requests"] - first["requests"]
    # growth per 10,000 requests over the second half: near 0 is a plateau, a steady figure a leak
    half = [p for p in points if p["requests"] >= first["requests"] + measured / 2] or [last]
    slope = ((last["rss_mib"] - half[0]["rss_mib"]) / max(last["requests"] - half[0]["requests"], 1) * 10_000)
    server_errors = sum(n for s, n in traffic.statuses.items() if s >= 500)
    internal = traffic.codes.get("INTERNAL_ERROR", 0)
    return {
        "name": "serve_memory",
        "subject": f"VmRSS of kehu serve after {last['requests']:,} mixed GraphQL requests over HTTP "
                   f"({CALLERS} keep-alive callers; 70% reads, 20% writes, 10% searches, some refused), "
                   f"{'PostgreSQL' if os.environ.get('KEHU_BENCH_POSTGRES_URL') else 'SQLite'}",
        "baseline": f"the same server's VmRSS after {first['requests']:,} requests (warm-up)",
        "rss_warm_mib": first["rss_mib"],
        "rss_final_mib": last["rss_mib"],
        "rss_peak_mib": last["hwm_mib"],
        "points": points,
        "growth_mib_per_10k_second_half": round(slope, 2),
        "requests": last["requests"],
        "requests_per_s": round(measured / max(traffic.busy_seconds - warm_busy, 1e-9), 1),
        "mix": dict(sorted(traffic.kind_counts.items())),
        # mean wall time of each kind at this concurrency (update includes a re-read after a conflict)
        "mean_ms": {k: round(1000 * traffic.kind_seconds[k] / n, 1) for k, n in sorted(traffic.kind_counts.items())},
        "customers_created": len(traffic.ids),
        "statuses": {str(k): v for k, v in sorted(traffic.statuses.items())},
        "error_codes": dict(traffic.codes.most_common()),
        "server_errors_5xx": server_errors,
        "uncoded_5xx": traffic.uncoded_5xx,
        "internal_errors": internal,
        "ratio": round(ratio, 3),
        "goal": f"ratio <= {GOAL_RATIO} and no uncoded 5xx / INTERNAL_ERROR",
        "met": ratio <= GOAL_RATIO and traffic.uncoded_5xx == 0 and internal == 0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve_memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="300 then 5,000 requests (a smoke run)")
    parser.add_argument("--requests", type=int, help="total requests (default 100,000; quick 5,000)")
    parser.add_argument("--warmup", type=int, help="requests before the baseline reading (default 1,000; quick 300)")
    args = parser.parse_args()
    result = asyncio.run(run(quick=args.quick, requests=args.requests, warmup=args.warmup))
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
