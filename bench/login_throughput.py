"""Login throughput: successful ``sessions.login`` calls per second vs raw argon2id verifies per second.

A login is one argon2id verify plus database work (tenant lookup, lockout and policy reads, the
session and refresh-token inserts) and signing an access token. The verify dominates by design,
so kehu should get close to the rate at which the machine can verify passwords at all.

Baseline: ``argon2.PasswordHasher(...).verify`` of the same stored hash, with the same parameters
kehu hashes with (OWASP in the real run), from ``settings.password_hash_concurrency`` threads of a
``ThreadPoolExecutor`` (argon2-cffi releases the GIL, so the threads run in parallel).
Subject: ``CALLERS_PER_SLOT`` callers per hashing slot, each awaiting ``login`` in a loop, on a
migrated database: a server under sign-in load has more sign-ins waiting than it hashes at once,
as the baseline has every verify queued at once. (With only one caller per slot, as before, a
slot idles while its caller runs its statements, and the figure is the latency of a sign-in
rather than the rate the machine can sustain.) Both sides do the same fixed number of
operations per round; the rounds alternate after a warm-up and the fastest round (highest rate)
of each side is kept. Goal: at least 0.9x. The result also gives process CPU per operation (all
threads): once argon2 keeps every core busy, a login's CPU beyond one verify is what it costs in
throughput.
"""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import argon2

from bench.support import bench_database, start_database
from core.context import Context
from core.db import unit_of_work
from core.identity import sessions
from core.identity.runtime import identity
from core.identity.tables import User
from core.settings import load_settings
from core.tenancy.service import TenantAdmin, create_tenant

GOAL_RATIO = 0.9
CALLERS_PER_SLOT = 4
TENANT = "bench"
USERNAME = "bench-admin"
PASSWORD = "bench-password-2026!"


def _machine_busy_seconds() -> float | None:
    """CPU seconds every process of the machine has spent so far (``/proc/stat``: user, nice, system,
    irq and softirq), so a round also counts the PostgreSQL server's backends; None where there is none."""
    try:
        with open("/proc/stat") as stat:
            ticks = [int(value) for value in stat.readline().split()[1:]]
    except OSError:
        return None
    return (ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]) / os.sysconf("SC_CLK_TCK")


async def _round(side: Callable[[int], Awaitable[None]], operations: int) -> tuple[float, float, float | None]:
    """(operations per second, process CPU seconds per operation, the machine's CPU seconds per
    operation) of one round of ``side``.

    Process CPU counts every thread (argon2 workers, SQLite connection threads, the event loop):
    with the cores saturated by argon2, CPU spent outside it is what costs throughput. The
    machine's adds what the operation costs other processes: the database server's backends."""
    gc.collect()
    machine, cpu, start = _machine_busy_seconds(), time.process_time(), time.perf_counter()
    await side(operations)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    after = _machine_busy_seconds()
    return operations / wall, cpu / operations, None if machine is None or after is None else (after - machine) / operations


async def run(*, quick: bool = False) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as var:
        async with bench_database(Path(var)) as database_settings:
            return await _run(Path(var), database_settings, quick=quick)


async def _run(tmp: Path, database_settings: dict[str, object], *, quick: bool) -> dict[str, object]:
    settings = load_settings(**database_settings, var_dir=tmp,
                             password_hashing="owasp", log_level="WARNING")
    database = await start_database(settings)
    runtime = identity()
    try:
        tenant = await create_tenant(Context.system(), slug=TENANT, name="Bench",
                                     admin=TenantAdmin(USERNAME, PASSWORD))
        async with unit_of_work(Context.system("bench", tenant.id), write=False) as uow:
            row = await uow.select(User.password_hash).where(User.username == USERNAME).first()
        stored = row["password_hash"]

        concurrency = settings.password_hash_concurrency
        parameters = runtime.hashing.parameters
        hasher = argon2.PasswordHasher(time_cost=parameters.time_cost, memory_cost=parameters.memory_cost,
                                       parallelism=parameters.parallelism, type=argon2.Type.ID)
        assert not hasher.check_needs_rehash(stored)  # same parameters as the hash kehu stored
        pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="bench-argon2")
        ctx = Context.anonymous(client_address="127.0.0.1")

        async def baseline(operations: int) -> None:
            loop = asyncio.get_running_loop()
            futures = [loop.run_in_executor(pool, hasher.verify, stored, PASSWORD) for _ in range(operations)]
            assert all(await asyncio.gather(*futures))

        async def subject(operations: int) -> None:
            remaining = operations

            async def caller() -> None:
                nonlocal remaining
                while remaining > 0:
                    remaining -= 1
                    tokens = await sessions.login(ctx, tenant=TENANT, username=USERNAME, password=PASSWORD)
                    assert tokens.tenant_id == tenant.id

            await asyncio.gather(*(caller() for _ in range(CALLERS_PER_SLOT * concurrency)))

        operations = 2 * concurrency if quick else 40 * concurrency
        rounds = 2 if quick else 7
        try:
            await _round(subject, concurrency)  # warm-up: connections, threads, caches
            await _round(baseline, concurrency)
            subject_rounds, baseline_rounds = [], []
            for _ in range(rounds):
                subject_rounds.append(await _round(subject, operations))
                baseline_rounds.append(await _round(baseline, operations))
        finally:
            pool.shutdown()
    finally:
        await database.close()
    subject_rates, baseline_rates = [r for r, _, _ in subject_rounds], [r for r, _, _ in baseline_rounds]
    subject_per_s, baseline_per_s = max(subject_rates), max(baseline_rates)
    subject_cpu = statistics.median(c for _, c, _ in subject_rounds)
    baseline_cpu = statistics.median(c for _, c, _ in baseline_rounds)
    machine = [statistics.median(m for _, _, m in rounds) if all(m is not None for _, _, m in rounds) else None
               for rounds in (subject_rounds, baseline_rounds)]
    ratio = subject_per_s / baseline_per_s
    return {
        "name": "login_throughput",
        "subject": f"logins/s (sessions.login, {CALLERS_PER_SLOT * concurrency} concurrent callers, "
                   f"{'SQLite' if settings.database.is_sqlite else 'PostgreSQL'})",
        "baseline": "raw argon2id verifies/s, same parameters and concurrency",
        "parameters": (f"argon2id t={parameters.time_cost} m={parameters.memory_cost}KiB "
                       f"p={parameters.parallelism}, concurrency {concurrency}"),
        "operations_per_round": operations,
        "rounds": rounds,
        "subject_per_s": round(subject_per_s, 1),
        "baseline_per_s": round(baseline_per_s, 1),
        # time per operation at this concurrency (1 / rate), not the latency of one call
        "subject_us": round(1e6 / subject_per_s, 1),
        "baseline_us": round(1e6 / baseline_per_s, 1),
        # process CPU (all threads) per operation, median over rounds: a login's CPU beyond one
        # verify is what it costs in throughput once argon2 keeps every core busy
        "subject_cpu_ms": round(subject_cpu * 1e3, 1),
        "baseline_cpu_ms": round(baseline_cpu * 1e3, 1),
        # the whole machine's CPU per operation (median over rounds; Linux): beyond the process's,
        # what the database server's backends spend on a sign-in
        "subject_machine_cpu_ms": None if machine[0] is None else round(machine[0] * 1e3, 1),
        "baseline_machine_cpu_ms": None if machine[1] is None else round(machine[1] * 1e3, 1),
        "subject_rounds_per_s": [round(r, 1) for r in subject_rates],
        "baseline_rounds_per_s": [round(r, 1) for r in baseline_rates],
        "ratio": round(ratio, 2),
        "goal": f"ratio >= {GOAL_RATIO}",
        "met": ratio >= GOAL_RATIO,
    }
