"""Integrators hear of every administrative change: each one adds its outbox event (ids and changed
field names only) in the change's own transaction, and a refused change adds none."""

from __future__ import annotations

import json

import pytest

from core.auditing import service as audit
from core.db import unit_of_work
from core.errors import KehuError
from core.identity import api_keys, policies, roles
from core.identity.permissions import Scope
from core.calendar import settings as calendar_settings
from core.jobs.tables import OutboxEvent
from tests.support import SYSTEM, add_user, sign_in


async def _ids(tenant_id) -> set:
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        return {r["id"] for r in await uow.select(OutboxEvent.id)}


async def _events_after(tenant_id, seen: set) -> list[tuple[str, str, str | None, list[str]]]:
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        rows = await uow.select(OutboxEvent).order_by(OutboxEvent.created_at)
    return [(r["event_type"], r["aggregate_type"], r["aggregate_id"], json.loads(r["payload"])["changed"])
            for r in rows if r["id"] not in seen]


async def test_each_administrative_change_announces_itself(seeded):
    tenant = seeded.acme.id
    admin = await sign_in("acme", "admin")
    clerk = await add_user(seeded.acme, "clerk")

    steps = []

    async def step(expected, action):
        before = await _ids(tenant)
        result = await action()
        steps.append((await _events_after(tenant, before), expected(result)))
        return result

    role = await step(lambda r: [("role.created", "role", str(r.id), ["description", "name", "permissions"])],
                      lambda: roles.create_role(admin, name="档案员", permissions={"audit.read": Scope.TENANT}))
    await step(lambda _: [("role.updated", "role", str(role.id), ["name"])],
               lambda: roles.update_role(admin, role.id, name="档案管理员"))
    await step(lambda _: [("user.role_granted", "user", str(clerk.id), ["roles"])],
               lambda: roles.grant_role(admin, user_id=clerk.id, role_id=role.id))
    await step(lambda _: [("user.role_revoked", "user", str(clerk.id), ["roles"])],
               lambda: roles.revoke_role(admin, user_id=clerk.id, role_id=role.id))
    await step(lambda _: [("role.deleted", "role", str(role.id), [])], lambda: roles.delete_role(admin, role.id))
    key = await step(lambda r: [("apikey.created", "apikey", str(r[0].id), ["expires_at", "name", "permissions"])],
                     lambda: api_keys.create_api_key(admin, name="erp", permissions=["audit.read"]))
    await step(lambda _: [("apikey.revoked", "apikey", str(key[0].id), ["revoked_at"])],
               lambda: api_keys.revoke_api_key(admin, key[0].id))
    await step(lambda _: [("setting.updated", "tenant_setting", "identity.password_policy", ["min_length"])],
               lambda: policies.update_identity_policy(admin, password={"min_length": 14}))
    await step(lambda _: [("setting.updated", "tenant_setting", "jobs.calendar", ["extra_holidays"])],
               lambda: calendar_settings.update_calendar(admin, {"extra_holidays": ["2026-12-24"]}))
    await step(lambda _: [("setting.updated", "tenant_setting", "audit.retention_days", ["days"])],
               lambda: audit.set_audit_retention_days(admin, 400))
    for got, expected in steps:
        assert got == expected


async def test_a_refused_change_announces_nothing(seeded):
    tenant = seeded.acme.id
    await add_user(seeded.acme, "nobody")
    nobody = await sign_in("acme", "nobody")
    admin = await sign_in("acme", "admin")
    before = await _ids(tenant)
    with pytest.raises(KehuError):
        await roles.create_role(nobody, name="x", permissions={})
    with pytest.raises(KehuError):
        await api_keys.create_api_key(nobody, name="k", permissions=[])
    with pytest.raises(KehuError):  # refused by validation after the permission check
        await policies.update_identity_policy(admin, password={"min_length": 3})
    with pytest.raises(KehuError):
        await audit.set_audit_retention_days(admin, 10)
    assert await _ids(tenant) == before
