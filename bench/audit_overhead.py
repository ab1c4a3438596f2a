"""Audit overhead: the GraphQL mutation ``departmentRename`` with its audit entry against the same
mutation with the audit write switched off, in one run, same app, same signed-in user.

The audit entry is written in the mutation's own transaction (head row update, entry insert,
head hash update) — that is the cost measured. Goal: at most 1.3x.
"""

from __future__ import annotations

import core.tenancy.service as tenancy_service
from bench.rename_app import rename_app
from bench.timing import compare

GOAL_RATIO = 1.3


async def _no_audit(*args: object, **kwargs: object) -> int:
    return 0


async def run(*, quick: bool = False) -> dict[str, object]:
    async with rename_app() as bench:
        audited = tenancy_service.record

        async def with_audit() -> None:
            tenancy_service.record = audited
            await bench.rename()

        async def without_audit() -> None:
            tenancy_service.record = _no_audit
            await bench.rename()

        try:
            subject, baseline = await compare(with_audit, without_audit, iterations=20 if quick else 200,
                                              rounds=3 if quick else 9)
        finally:
            tenancy_service.record = audited
    ratio = subject / baseline
    return {
        "name": "audit_overhead",
        "subject": "GraphQL departmentRename with its audit entry (SQLite)",
        "baseline": "the same mutation with the audit write switched off",
        "subject_us": round(subject * 1e6, 1),
        "baseline_us": round(baseline * 1e6, 1),
        "ratio": round(ratio, 2),
        "goal": f"ratio <= {GOAL_RATIO}",
        "met": ratio <= GOAL_RATIO,
    }
