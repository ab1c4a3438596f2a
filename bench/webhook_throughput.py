"""Webhook delivery throughput (issue 26): deliveries per second to a local receiver, sent
concurrently (the default limits: 32 in flight, 4 per endpoint) against one at a time (the
sequential baseline: both limits 1, which is how deliveries went before), in the same run.

One scratch database (SQLite, or PostgreSQL with KEHU_BENCH_POSTGRES_URL), two tenants with four
endpoints each on a receiver in another process (so it does not compete with the sender for the
interpreter) that answers 200 after RECEIVER_DELAY_MS — a receiver a short network hop away. The
deliveries are seeded in bulk straight into ``webhook_delivery``, spread over the endpoints; each
side sends its own batch to the end with ``Dispatcher.sweep`` (every attempt settled in the
database as in production). The ratio is subject / baseline deliveries per second; the goal is
at least GOAL_RATIO.

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

from bench.support import bench_database, start_database
from core.context import Context
from core.db import unit_of_work
from core.settings import load_settings
from core.tenancy.service import create_tenant
from core.webhooks import service, targets
from core.webhooks.delivery import DeliveryConfig, Dispatcher

GOAL_RATIO = 2.0  # SQLite writes one transaction at a time: every attempt's settle queues there
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


async def _seed(endpoints: list[tuple[uuid.UUID, uuid.UUID]], count: int) -> None:
    at = datetime.now(UTC)
    rows: dict[uuid.UUID, list[tuple]] = {}
    for n in range(count):
        tenant_id, endpoint_id = endpoints[n % len(endpoints)]
        rows.setdefault(tenant_id, []).append((uuid.uuid4(), tenant_id, at, endpoint_id, uuid.uuid4(),
                                               "customer.created", PAYLOAD, "pending", 0, at))
    for tenant_id, tenant_rows in rows.items():
        async with unit_of_work(Context.system("bench", tenant_id)) as uow:
            await uow.insert_many("webhook_delivery", COLUMNS, tenant_rows)


async def _send_all(config: DeliveryConfig, count: int, endpoints) -> float:
    """Deliveries per second: a fresh batch of ``count`` sent to the end."""
    await _seed(endpoints, count)
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
                    endpoints = []
                    for t in range(2):
                        tenant = await create_tenant(Context.system(), slug=f"bench-hooks-{t}", name="Bench")
                        ctx = Context.system("bench", tenant.id)
                        for e in range(ENDPOINTS_PER_TENANT):
                            view, _ = await service.create_endpoint(ctx, f"http://127.0.0.1:{port}/t{t}/e{e}", ["*"])
                            endpoints.append((tenant.id, view.id))
                    baseline = await _send_all(DeliveryConfig(concurrency=1, endpoint_concurrency=1), baseline_count,
                                               endpoints)
                    subject = await _send_all(DeliveryConfig(), subject_count, endpoints)
                finally:
                    await database.close()
    finally:
        targets.ALLOW_LOOPBACK = allow_loopback
        receiver.kill()
        receiver.join(timeout=10)
    ratio = subject / baseline
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
        "met": ratio >= GOAL_RATIO,
    }


if __name__ == "__main__":
    result = asyncio.run(run(quick="--quick" in sys.argv))
    print(json.dumps(result, indent=2, ensure_ascii=False))
    sys.exit(0 if result["met"] else 1)
