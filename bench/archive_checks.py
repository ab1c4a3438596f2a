"""Archive checks: complete automotive sales and service archives checked per second through the
engine (``core.archives.lifecycle.check_archive``) against the pure policy evaluation of the same
archives (``core.archives.checks.run_checks`` on the mappings the engine builds).

Subject: one ``check_archive`` per submitted archive, half sales (7 documents, S1–S16) and half
service (9 documents, V1–V25): loading the archive, its folder and documents, the tenant's
enablement and parameters, every data-driven and policy rule, then in one transaction the state
move (register row, audit entry, outbox event), one result row per rule outcome and the check's
audit entry. Baseline: ``run_checks`` alone on the same archives, mappings built before timing —
what the rules cost without the engine's reads and writes. The ratio is the share of a check
spent in the rules; the goal keeps the engine's reads and writes at most 50× the rules' cost.
"""

from __future__ import annotations

import gc
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

import plugins.automotive
from bench.support import bench_database, start_database
from core.archives import checks
from core.archives import folders as archive_folders
from core.archives import lifecycle as archive_lifecycle
from core.context import Context, Principal
from core.identity.permissions import Scope
from core.plugins.testing import make_registry
from core.settings import load_settings
from core.tenancy.service import TenantAdmin, create_tenant
from core.verticals import service as verticals
from core.verticals.service import effective_parameters
from tests.automotive.fixtures import sales_archive, service_archive

GOAL_RATIO = 0.02


def _as(tenant_id: uuid.UUID, *permissions: str) -> Context:
    return Context.for_principal(Principal(tenant_id=tenant_id, user_id=uuid.uuid4(), api_key_id=None,
                                           permissions={p: Scope.TENANT for p in permissions}))


async def run(*, quick: bool = False) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as var:
        async with bench_database(Path(var)) as database_settings:
            return await _run(Path(var), database_settings, quick=quick)


async def _run(tmp: Path, database_settings: dict[str, object], *, quick: bool) -> dict[str, object]:
    settings = load_settings(**database_settings, var_dir=tmp, password_hashing="fast", log_level="WARNING")
    database = await start_database(settings)
    registry = make_registry(("automotive", plugins.automotive))
    per_round = 20 if quick else 200  # archives a round, half of each type
    rounds = 2 if quick else 5
    try:
        admin = TenantAdmin("bench-admin", "bench-password-2026!")
        tenant = await create_tenant(Context.system(), slug="bench-archives", name="Bench", admin=admin)
        await verticals.enable_vertical(Context.system("bench", tenant.id), registry, "automotive")
        advisor = _as(tenant.id, "automotive.archive.submit")
        clerk = _as(tenant.id, "automotive.archive.check")
        subject = sales_archive()["subject"]
        folder = await archive_folders.create_folder(advisor, registry, "automotive", subject["key"], facts=subject["facts"])

        async def submitted(mapping: dict) -> uuid.UUID:
            archive = await archive_lifecycle.create_archive(advisor, registry, folder.id, mapping["standard"],
                                                    facts=mapping["facts"])
            for document in mapping["documents"]:
                await archive_lifecycle.put_document(advisor, registry, archive.id, document["code"], document["fields"],
                                            position=document["position"])
            return (await archive_lifecycle.submit_archive(advisor, registry, archive.id)).id

        batches = [[await submitted((sales_archive, service_archive)[n % 2]()) for n in range(per_round)]
                   for _ in range(rounds + 1)]
        definition = registry.definition("automotive")
        parameters = effective_parameters(definition, {})
        standards = {s.id: s for s in definition.archive_standards}
        mappings = [(standards[m["standard"]], m) for m in
                    ((sales_archive, service_archive)[n % 2]() for n in range(per_round))]

        async def analyse() -> None:
            owner_url = database_settings.get("migrate_database_url")
            if owner_url:  # what autovacuum's auto-analyze does as tables grow
                connection = await asyncpg.connect(str(owner_url))
                await connection.execute("ANALYZE")
                await connection.close()

        async def engine(ids: list[uuid.UUID]) -> float:
            await analyse()
            gc.collect()
            start = time.perf_counter()
            for archive_id in ids:
                checked = await archive_lifecycle.check_archive(clerk, registry, archive_id)
                assert checked.state == "under_check" and checked.passed, checked.results
            return len(ids) / (time.perf_counter() - start)

        def pure() -> float:
            gc.collect()
            start = time.perf_counter()
            for standard, mapping in mappings:
                outcomes = checks.run_checks(standard, mapping, parameters)
                assert all(o.status != checks.FAIL for o in outcomes)
            return len(mappings) / (time.perf_counter() - start)

        await engine(batches[-1])  # warm-up
        pure()
        engine_rates, pure_rates = [], []
        for n in range(rounds):
            engine_rates.append(await engine(batches[n]))
            pure_rates.append(pure())
    finally:
        await database.close()
    engine_per_s, pure_per_s = max(engine_rates), max(pure_rates)
    ratio = engine_per_s / pure_per_s
    return {
        "name": "archive_checks",
        "subject": f"check_archive of complete automotive archives (half sales, half service), {per_round} a round "
                   f"({'SQLite' if settings.database.is_sqlite else 'PostgreSQL'})",
        "baseline": "run_checks alone on the same archives (the rules without the engine's reads and writes)",
        "archives_per_round": per_round,
        "rounds": rounds,
        "subject_per_s": round(engine_per_s, 1),
        "baseline_per_s": round(pure_per_s, 1),
        "subject_rounds_per_s": [round(x, 1) for x in engine_rates],
        "baseline_rounds_per_s": [round(x, 1) for x in pure_rates],
        "ratio": round(ratio, 3),
        "goal": f"ratio >= {GOAL_RATIO}",
        "met": ratio >= GOAL_RATIO,
    }
