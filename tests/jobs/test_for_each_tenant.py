"""A sweep visits every tenant; one tenant's failure is logged and does not stop the others
(core.tenancy.every_tenant.for_each_tenant, used by the complaint, grading, blacklist and visit ticks)."""

from __future__ import annotations

from uuid import UUID

from structlog.testing import capture_logs

from core.tenancy.every_tenant import for_each_tenant


async def test_every_tenant_is_visited_and_a_failing_one_stops_nothing(seeded):
    visited: list[UUID] = []

    async def work(tenant_id: UUID) -> int:
        visited.append(tenant_id)
        if tenant_id == seeded.acme.id:
            raise RuntimeError("acme's sweep broke")
        return 3

    with capture_logs() as logs:
        handled = await for_each_tenant("job:test-sweep", work, "test.sweep_failed")
    assert set(visited) == {seeded.acme.id, seeded.globex.id}
    assert handled == 3  # globex's, though acme failed (whichever came first)
    [failure] = [entry for entry in logs if entry["event"] == "test.sweep_failed"]
    assert failure["tenant_id"] == str(seeded.acme.id) and "acme's sweep broke" in failure["error"]
