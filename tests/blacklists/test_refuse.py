"""``refuse_if_blacklisted``: the check every business action makes first (MD14)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.blacklists import service
from core.blacklists.tables import BlacklistEntry
from core.db import unit_of_work
from core.errors import KehuError


async def _entry(world, clock, *, scope, department_id=None, days=None, status="active"):
    async with unit_of_work(world.system) as uow:
        await uow.insert(BlacklistEntry(
            customer_id=world.customer, scope=scope, department_id=department_id, status=status, reason="拖欠货款",
            proposed_by="user:x", proposed_at=clock(), approved_by="user:y", approved_at=clock(), starts_at=clock(),
            expires_at=clock() + timedelta(days=days) if days else None))


async def _refused(world, department_id, action="visit"):
    async with unit_of_work(world.system) as uow:
        with pytest.raises(KehuError) as refused:
            await service.refuse_if_blacklisted(uow, world.customer, department_id=department_id, action=action)
    return refused.value


async def _allowed(world, department_id):
    async with unit_of_work(world.system) as uow:
        await service.refuse_if_blacklisted(uow, world.customer, department_id=department_id)


async def test_department_entry_blocks_only_its_department(world, clock):
    """MD14: a department blacklist blocks that department and no other; the error names the scope
    and the expiry."""
    await _entry(world, clock, scope="department", department_id=world.sales, days=182)
    error = await _refused(world, world.sales)
    assert error.code == "CUSTOMER_BLACKLISTED"
    assert "销售部" in error.message_en and "2024-07-01" in error.message_en
    assert "销售部" in error.message_zh and "2024-07-01" in error.message_zh
    await _allowed(world, world.service_dept)
    await _allowed(world, None)


async def test_company_entry_blocks_every_department(world, clock):
    """MD14: on the company blacklist no department may do business with the customer."""
    await _entry(world, clock, scope="tenant")
    for department in (world.sales, world.service_dept, None):
        error = await _refused(world, department)
        assert error.code == "CUSTOMER_BLACKLISTED"
        assert "company blacklist" in error.message_en and "no expiry" in error.message_en
        assert "公司黑名单" in error.message_zh


async def test_proposed_or_expired_entries_do_not_block(world, clock):
    """Only an approved entry in force blocks: a proposal does not, nor an entry past its expiry
    (even before the tick has marked it expired)."""
    await _entry(world, clock, scope="tenant", status="proposed")
    await _entry(world, clock, scope="department", department_id=world.sales, days=1)
    clock.advance(days=1)
    await _allowed(world, world.sales)
