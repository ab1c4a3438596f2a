"""Webhook delivery throughput: deliveries per second to a local receiver, three ways in one run.

- Issue 26: kehu sending concurrently (the default limits: 32 in flight, 4 per endpoint) against
  kehu sending one at a time (both limits 1, which is how deliveries went before); the goal is a
  ratio of at least GOAL_RATIO.
- Goal P14: the same kehu run against plain ``httpx`` — the fastest simple thing a programmer
  would write: one ``httpx.AsyncClient`` in one process, no database, POSTing the subject's very
  batch (same endpoints, event ids and payloads, the headers kehu sends, signed with kehu's own
  ``sign``) under the same limits (semaphores: 32 in flight, 4 per endpoint). The P14 ratio is kehu
  / plain deliveries per second; the goal is at least P14_GOAL. "met" needs both goals.

One scratch database (SQLite, or PostgreSQL with KEHU_BENCH_POSTGRES_URL), two tenants with four
endpoints each on a receiver in another process (so it does not compete with the sender for the
interpreter) that answers 200 after RECEIVER_DELAY_MS — a receiver a short network hop away. The
deliveries are seeded in bulk straight into ``webhook_delivery``, spread over the endpoints; each
kehu side sends its own batch to the end with ``Dispatcher.sweep`` (every attempt settled in the
database as in production).

    python -m bench.webhook_throughput [--quick]
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.support import bench_database, start_database
from core.context import Context
from core.db import unit_of_work
from core.settings import load_settings
from core.tenancy.service import create_tenant
from core.webhooks import delivery, service, targets
from core.webhooks.delivery import DeliveryConfig, Dispatcher

GOAL_RATIO = 2.0  # SQLite writes one transaction at a time: every attempt's settle queues there
P14_GOAL = 0.5  # kehu / plain httpx deliveries per second
RECEIVER_DELAY_MS = 20
ENDPOINTS_PER_TENANT = 4
COLUMNS = ("id", "tenant_id", "created_at", "endpoint_id", "event_id", "event_type", "payload", "status",
           "attempts", "due_at")
PAYLOAD = '{"type":"customer.created","timestamp":"2026-01-01T00:00:00+00:00","data":{"id":"c1","type":"customer","changed":["name"]}}'


def _serve(port_out, delay: float) -> None:  # in the receiver's process
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            self.rfile.read(int(self.headers.get("content-length", 0)))
            time.sleep(delay)
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 256  # the default backlog (5) refuses a burst of 32 connections
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    port_out.put(server.server_address[1])
    server.serve_forever()


def _batch(endpoints: list[tuple[uuid.UUID, uuid.UUID]], count: int) -> list[tuple]:
    """``count`` pending ``webhook_delivery`` rows (in COLUMNS order), spread over the endpoints."""
    at = datetime.now(UTC)
    rows = []
    for n in range(count):
        tenant_id, endpoint_id = endpoints[n % len(endpoints)]
        rows.append((uuid.uuid4(), tenant_id, at, endpoint_id, uuid.uuid4(), "customer.created", PAYLOAD, "pending",
                     0, at))
    return rows


async def _seed(rows: list[tuple]) -> None:
    by_tenant: dict[uuid.UUID, list[tuple]] = {}
    for row in rows:
        by_tenant.setdefault(row[1], []).append(row)
    for tenant_id, tenant_rows in by_tenant.items():
        async with unit_of_work(Context.system("bench", tenant_id)) as uow:
            await uow.insert_many("webhook_delivery", COLUMNS, tenant_rows)


async def _send_all(config: DeliveryConfig, rows: list[tuple]) -> float:
    """Deliveries per second: a fresh batch of ``rows`` sent to the end."""
    count = len(rows)
    await _seed(rows)
    worker = Dispatcher(config)
    started = time.perf_counter()
    sent = 0
    while sent < count:
        claimed = await worker.sweep(datetime.now(UTC), budget=600)
        if not claimed:
            raise RuntimeError(f"stalled after {sent} of {count}")
        sent += claimed
    await worker.drain()
    return count / (time.perf_counter() - started)


async def _send_plain(config: DeliveryConfig, rows: list[tuple], endpoints: dict[uuid.UUID, tuple[str, str]]) -> float:
    """Deliveries per second of plain ``httpx`` (P14's baseline): the same rows POSTed with the
    headers and signature kehu sends, at most ``config.concurrency`` in flight and
    ``config.endpoint_concurrency`` per endpoint; no database."""
    in_flight = asyncio.Semaphore(config.concurrency)
    per_endpoint = {endpoint_id: asyncio.Semaphore(config.endpoint_concurrency) for endpoint_id in endpoints}
    failed = 0

    async def post(client: httpx.AsyncClient, endpoint_id: uuid.UUID, event_id: uuid.UUID, payload: str) -> None:
        nonlocal failed
        url, secret = endpoints[endpoint_id]
        async with per_endpoint[endpoint_id], in_flight:
            msg_id, timestamp, body = str(event_id), int(time.time()), payload.encode()
            headers = {"content-type": "application/json", "webhook-id": msg_id, "webhook-timestamp": str(timestamp),
                       "webhook-signature": delivery.sign(secret, msg_id, timestamp, body),
                       "user-agent": "kehu-webhooks/1"}
            response = await client.post(url, content=body, headers=headers)
        failed += not response.is_success

    limits = httpx.Limits(max_connections=config.concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=delivery.TIMEOUT_SECONDS) as client:
        started = time.perf_counter()
        await asyncio.gather(*(post(client, row[3], row[4], row[6]) for row in rows))
        elapsed = time.perf_counter() - started
    if failed:
        raise RuntimeError(f"plain httpx: {failed} of {len(rows)} POSTs not answered 2xx")
    return len(rows) / elapsed


async def run(*, quick: bool = False) -> dict[str, object]:
    baseline_count, subject_count = (40, 400) if quick else (200, 2000)
    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    receiver = context.Process(target=_serve, args=(ports, RECEIVER_DELAY_MS / 1000), daemon=True)
    receiver.start()
    allow_loopback = targets.ALLOW_LOOPBACK
    targets.ALLOW_LOOPBACK = True  # the receiver is on 127.0.0.1
    try:
        port = ports.get(timeout=30)
        with tempfile.TemporaryDirectory() as tmp:
            async with bench_database(Path(tmp)) as database_settings:
                settings = load_settings(**database_settings, var_dir=Path(tmp), password_hashing="fast",
                                         log_level="WARNING")
                database = await start_database(settings)
                try:
                    endpoints, urls = [], {}
                    for t in range(2):
                        tenant = await create_tenant(Context.system(), slug=f"bench-hooks-{t}", name="Bench")
                        ctx = Context.system("bench", tenant.id)
                        for e in range(ENDPOINTS_PER_TENANT):
                            url = f"http://127.0.0.1:{port}/t{t}/e{e}"
                            view, secret = await service.create_endpoint(ctx, url, ["*"])
                            endpoints.append((tenant.id, view.id))
                            urls[view.id] = (url, secret)
                    baseline = await _send_all(DeliveryConfig(concurrency=1, endpoint_concurrency=1),
                                               _batch(endpoints, baseline_count))
                    batch = _batch(endpoints, subject_count)
                    subject = await _send_all(DeliveryConfig(), batch)
                    plain = await _send_plain(DeliveryConfig(), batch, urls)  # the same deliveries, sent again
                finally:
                    await database.close()
    finally:
        targets.ALLOW_LOOPBACK = allow_loopback
        receiver.kill()
        receiver.join(timeout=10)
    ratio, p14_ratio = subject / baseline, subject / plain
    kind = "PostgreSQL" if "migrate_database_url" in database_settings else "SQLite"
    return {
        "name": "webhook_throughput",
        "subject": f"{subject_count} deliveries, 32 in flight, 4 per endpoint, 8 endpoints of 2 tenants ({kind})",
        "baseline": f"{baseline_count} deliveries one at a time (concurrency 1), same endpoints",
        "receiver_delay_ms": RECEIVER_DELAY_MS,
        "subject_per_s": round(subject, 1),
        "baseline_per_s": round(baseline, 1),
        "ratio": round(ratio, 2),
        "goal": f"ratio >= {GOAL_RATIO}",
        "plain_httpx": f"the subject's {subject_count} deliveries, same signed payloads and headers, POSTed with "
                       "one httpx.AsyncClient (32 in flight, 4 per endpoint), no database",
        "plain_httpx_per_second": round(plain, 1),
        "p14_ratio": round(p14_ratio, 2),
        "p14_goal": f"subject / plain httpx >= {P14_GOAL}",
        "p14_met": p14_ratio >= P14_GOAL,
        "met": ratio >= GOAL_RATIO and p14_ratio >= P14_GOAL,
    }


if __name__ == "__main__":
    result = asyncio.run(run(quick="--quick" in sys.argv))
    print(json.dumps(result, indent=2, ensure_ascii=False))
    sys.exit(0 if result["met"] else 1)
