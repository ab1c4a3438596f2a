"""Issue 27: the cross-tenant due probes (core/db/due.py) are a narrow path. On PostgreSQL the app
role learns which tenants have work due and nothing else: its own reads of the same table stay
under row-level security, one tenant at a time, and with no tenant set it sees no row at all."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.context import Context
from core.db import unit_of_work
from core.db.due import PROBES, function_name, tenants_due
from core.jobs import outbox
from core.jobs.tables import OutboxEvent

pytestmark = pytest.mark.usefixtures("postgres_settings")


@pytest.fixture
def settings(postgres_settings):
    return postgres_settings


async def _event(tenant_id) -> None:
    async with unit_of_work(Context.system("test", tenant_id)) as uow:
        await outbox.add(uow, "test.happened", "test", tenant_id)


async def test_the_probe_names_tenants_but_the_app_role_still_reads_one_tenant_at_a_time(database, seeded):
    """Issue 27: one statement names every tenant with an event due; the scan policy is the owner's
    alone, so the app role reading outbox_event sees only the tenant it set, and nothing without one."""
    acme, globex = seeded.acme.id, seeded.globex.id
    await _event(acme)
    await _event(globex)
    at = outbox.now() + timedelta(seconds=1)

    assert set(await tenants_due("outbox", at, at - outbox.VISIBILITY_TIMEOUT)) >= {acme, globex}
    async with unit_of_work(Context.system("test", acme), write=False) as uow:
        seen = {row["tenant_id"] for row in await uow.fetch("SELECT DISTINCT tenant_id FROM outbox_event")}
    assert seen == {acme}
    async with unit_of_work(Context.system("test"), write=False) as uow:  # no tenant: RLS shows nothing
        assert await uow.fetch("SELECT id FROM outbox_event") == []
    assert await tenants_due("outbox", at - timedelta(hours=1), at - timedelta(hours=2)) == []  # nothing due then


async def test_probe_functions_run_as_definer_with_a_fixed_search_path_and_only_the_app_role_executes_them(database):
    """Issue 27: each probe is SECURITY DEFINER with its search_path pinned (no object of the
    caller's can stand in for a table), returns uuids only, and PUBLIC may not execute it."""
    for name in PROBES:
        rows = await database.fetch(
            "SELECT p.prosecdef AS definer, p.proconfig AS config, pg_catalog.format_type(p.prorettype, NULL) AS returns, "
            "has_function_privilege('public', p.oid, 'EXECUTE') AS public_may, "
            "has_function_privilege(current_user, p.oid, 'EXECUTE') AS app_may "
            "FROM pg_proc p WHERE p.proname = {}", function_name(name))
        assert len(rows) == 1, name
        probe = rows[0]
        assert probe["definer"] and probe["returns"] == "uuid", name
        assert any(setting.startswith("search_path=") for setting in probe["config"]), name
        assert probe["app_may"] and not probe["public_may"], name


async def test_the_outbox_relay_opens_no_transaction_when_nothing_is_due(database, seeded, monkeypatch):
    """Issue 27: an idle relay poll is one probe and no unit of work, whatever the number of tenants."""
    for tenant in (seeded.acme, seeded.globex):  # what seeding announced, handled
        async with unit_of_work(Context.system("test", tenant.id)) as uow:
            await uow.update(OutboxEvent, {OutboxEvent.status: "done"}).where(OutboxEvent.status != "done")
    opened = []
    original = type(database).transaction

    def counting(self, *args, **kwargs):
        opened.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(type(database), "transaction", counting)

    async def dispatch(tenant_id, event_id):
        raise AssertionError("nothing is due")

    assert await outbox.relay_once(dispatch) == 0
    assert opened == []
