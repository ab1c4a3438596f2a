"""P12 (issue 27): the whole periodic tick — every registered sweep of every engine that has
landed (customer reviews, retention and purges, complaint clocks, grade deadlines, visit
schedules, blacklist expiry, archive retention and loans, access and subject requests, audit
anchors, webhooks, job outputs, idempotency keys, …) — over many customers costs no more than
1.5× the same tick over few, with the same items due.

Two scratch databases in the same run, migrated alike, each with the same tenants (the first one
with the real-estate vertical enabled): the baseline holds 10,000 generated customers, the subject
1,000,000 (``--customers``), written by ``bench.scale_data`` through the import's own path
(sealed personal data, blind-index keys, history, audit), spread as in P11 (the first tenant the
largest). In both, the first tenant has the same 20 complaint clocks past due at ``AT`` among 200
running ones, so every timed tick handles exactly the same items; the bench checks that each
tick's per-sweep counts are the same on both sides. A round resets the due clocks (untimed), then
runs every registered sweep at ``AT`` in turn, as ``core.jobs.timers.tick`` does, timing each (the
per-sweep fastest times are reported to show which sweep grows, if one does); rounds alternate between the databases so drift in
machine load hits both alike; the fastest round of each is kept. The ratio is subject / baseline;
the goal is ≤ 1.5.

    KEHU_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        python -m bench.tick_scale [--quick] [--customers N] [--tenants T]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import gateway.app  # noqa: F401 - imports every engine, so every sweep registers as it does in kehu serve
from bench.complaint_tick import AT, Side, _analyse, _reset, _seed
from bench.scale_data import fill_tenant, spread
from bench.support import bench_database, start_database
from bench.timing import ratio_result
from core.context import Context
from core.db import use_database
from core.jobs import timers
from core.plugins.manager import load_verticals, start_verticals
from core.settings import load_settings
from core.tenancy.service import TenantAdmin, create_tenant
from core.verticals import service as verticals

GOAL_RATIO = 1.5
BASELINE_CUSTOMERS = 10_000
OPEN_CLOCKS, DUE = 200, 20


async def _side(stack: AsyncExitStack, tmp: Path, name: str, customers: int, tenants: int,
                registry: Any) -> tuple[Side, Any]:
    folder = tmp / name
    folder.mkdir()
    database_settings = await stack.enter_async_context(bench_database(folder))
    settings = load_settings(**database_settings, var_dir=tmp, password_hashing="fast", log_level="WARNING")
    database = await start_database(settings, registry)
    stack.push_async_callback(database.close)
    counts = spread(customers, tenants, max(customers // 5, customers // tenants))
    ids = []
    for index, count in enumerate(counts):
        tenant = await create_tenant(Context.system(), slug=f"tick{index:04d}", name=f"Tick {index}",
                                     admin=TenantAdmin("bench-admin", "bench-password-2026!"))
        ids.append(tenant.id)
        written = 0
        while written < count:  # batches with progress on stderr: the large side takes minutes
            size = min(5_000, count - written)
            await fill_tenant(tenant.id, size, seed=index * 10_000_000 + written, batch=1_000)
            written += size
            print(f"\r{name}: tenant {index + 1}/{len(counts)}, {written:,}/{count:,} customers",
                  end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    await verticals.enable_vertical(Context.system("bench", ids[0]), registry, "real_estate")
    due_ids = await _seed(ids[0], OPEN_CLOCKS, DUE)
    return Side(name, database, database_settings, ids[0], due_ids), settings


async def _tick(side: Side, per_sweep: dict[str, list[float]] | None = None) -> tuple[float, dict[str, int]]:
    """One tick as ``timers.tick`` runs it (every sweep in turn), each sweep timed on its own too."""
    await _reset(side)
    use_database(side.database)
    gc.collect()
    handled: dict[str, int] = {}
    elapsed = 0.0
    for name, sweep in list(timers._sweeps.items()):
        start = time.perf_counter()
        handled[name] = await sweep(AT)
        took = time.perf_counter() - start
        elapsed += took
        if per_sweep is not None:
            per_sweep.setdefault(name, []).append(took)
    assert handled.get("complaint_clocks") == DUE, (side.name, handled)
    return elapsed, handled


async def run(*, quick: bool = False, argv: list[str] | None = None) -> dict[str, object]:
    args = _parser().parse_args(argv if argv is not None else (["--quick"] if quick else []))
    small, large = (2_000, 20_000) if args.quick else (BASELINE_CUSTOMERS, args.customers)
    rounds = 4 if args.quick else args.rounds
    registry = load_verticals(())
    start_verticals(registry)
    try:
        with tempfile.TemporaryDirectory() as var:
            async with AsyncExitStack() as stack:
                seeding = time.perf_counter()
                baseline, settings = await _side(stack, Path(var), "small", small, args.tenants, registry)
                subject, _ = await _side(stack, Path(var), "large", large, args.tenants, registry)
                seed_seconds = time.perf_counter() - seeding
                for side in (baseline, subject):
                    await _analyse(side)
                for _ in range(2):  # warm-up: the first ticks do the once-a-day and once-a-process work
                    await _tick(baseline)
                    await _tick(subject)
                baseline_times, subject_times = [], []
                small_sweeps: dict[str, list[float]] = {}
                large_sweeps: dict[str, list[float]] = {}
                for _ in range(rounds):
                    elapsed, handled_small = await _tick(baseline, small_sweeps)
                    baseline_times.append(elapsed)
                    elapsed, handled_large = await _tick(subject, large_sweeps)
                    subject_times.append(elapsed)
                    assert handled_small == handled_large, (handled_small, handled_large)
    finally:
        start_verticals(None)
    return ratio_result(
        "tick_scale", subject_times, baseline_times, GOAL_RATIO,
        subject=f"one periodic tick (every sweep) over {large:,} customers in {args.tenants} tenants, {DUE} items "
                f"due ({'SQLite' if settings.database.is_sqlite else 'PostgreSQL'})",
        baseline=f"the same tick over {small:,} customers in {args.tenants} tenants, the same {DUE} due",
        due=DUE, sweeps=len(handled_large), handled={k: v for k, v in handled_large.items() if v},
        seed_seconds=round(seed_seconds, 1),
        sweep_ms={name: [round(min(small_sweeps[name]) * 1e3, 1), round(min(large_sweeps[name]) * 1e3, 1)]
                  for name in small_sweeps})


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.tick_scale", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=8, help="alternating rounds (the fastest of each side kept)")
    return parser


if __name__ == "__main__":
    result = asyncio.run(run(argv=sys.argv[1:]))
    print(json.dumps(result, indent=2, ensure_ascii=False))
    sys.exit(0 if result["met"] else 1)
