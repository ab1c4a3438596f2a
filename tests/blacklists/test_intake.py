"""MD16: intake checks both the company and the department blacklists first — a new customer
record whose identifier matches a listed customer is refused, even when forced."""

from __future__ import annotations

import pytest

from core.blacklists import service
from core.customers import service as customers
from core.errors import KehuError
from tests.blacklists.conftest import PERSON

EVIDENCE = [{"reference": "营销事业部通报 2024-003"}]


async def _list(world, **scope):
    entry = await service.propose(world.proposer, world.customer, reason="重大损失", evidence=EVIDENCE, **scope)
    return await service.approve(world.approver, entry.id, version=entry.version)


async def test_intake_refuses_an_identifier_on_the_company_blacklist(world, clock, registry):
    """MD16 with MD14: the same identifier comes back as a new record in any department — refused
    with CUSTOMER_BLACKLISTED, forced or not."""
    await _list(world, scope="tenant")
    for department in (world.sales, world.service_dept):
        with pytest.raises(KehuError) as refused:
            await customers.create_customer(world.system, registry, {**PERSON, "department_id": str(department)},
                                            force=True)
        assert refused.value.code == "CUSTOMER_BLACKLISTED"
        assert "company blacklist" in refused.value.message_en


async def test_intake_checks_the_department_list_of_the_recording_department(world, clock, registry):
    """MD16: a department entry refuses intake in that department only; elsewhere the record is
    the usual duplicate question (forcing allowed)."""
    await _list(world, scope="department", department_id=world.sales)
    with pytest.raises(KehuError) as refused:
        await customers.create_customer(world.system, registry, {**PERSON, "department_id": str(world.sales)},
                                        force=True)
    assert refused.value.code == "CUSTOMER_BLACKLISTED" and "销售部" in refused.value.message_zh
    created = await customers.create_customer(world.system, registry,
                                              {**PERSON, "department_id": str(world.service_dept)}, force=True)
    assert created.customer.id != world.customer


async def test_intake_passes_once_the_entry_expired(world, clock, registry):
    """MD15: after expiry the listed identifier may come in again (re-admission)."""
    await _list(world, scope="department", department_id=world.sales, validity_days=30)
    clock.advance(days=30)
    await customers.create_customer(world.system, registry, {**PERSON, "department_id": str(world.sales)}, force=True)
