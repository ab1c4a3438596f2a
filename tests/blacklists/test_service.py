"""Blacklist use cases (MD13–MD16, issue 20 acceptance 4 at the engine level): proposal with
reason and evidence, approval by another user, filing notice to the company level, lifting,
expiry by the tick (controlled clock), and re-admission at the lowest grade only."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from core.audit.tables import AuditEntry
from core.blacklists import policy, service
from core.db import unit_of_work
from core.errors import KehuError
from core.jobs.tables import OutboxEvent
from core.plugins.types import BlacklistScope, Grade, GradingScheme

EVIDENCE = [{"text": "逾期货款 30 万元", "reference": "财务函 2023-118"}]
SCHEME = GradingScheme(id="md", name_en="Customers", name_zh="客户分级",
                       grades=(Grade("vip", "VIP", "VIP", 1, 15), Grade("preferred", "Preferred", "优选", 2, 30),
                               Grade("qualified", "Qualified", "合格", 3)),
                       blacklist_scopes=(BlacklistScope.DEPARTMENT, BlacklistScope.TENANT))


async def _check(world, department_id, action="visit"):
    async with unit_of_work(world.system) as uow:
        await service.refuse_if_blacklisted(uow, world.customer, department_id=department_id, action=action)


async def _blocked(world, department_id, action="visit") -> KehuError:
    with pytest.raises(KehuError) as refused:
        await _check(world, department_id, action)
    assert refused.value.code == "CUSTOMER_BLACKLISTED"
    return refused.value


async def _listed(world, *, scope, department_id=None, **kwargs):
    entry = await service.propose(world.proposer, world.customer, scope=scope, department_id=department_id,
                                  reason="造成重大损失", evidence=EVIDENCE, **kwargs)
    return await service.approve(world.approver, entry.id, version=entry.version)


async def _events(world, entry_id):
    async with unit_of_work(world.system) as uow:
        rows = await uow.select(OutboxEvent.event_type).where(OutboxEvent.aggregate_id == str(entry_id)) \
            .order_by(OutboxEvent.created_at)
        audit = await uow.select(AuditEntry.action, AuditEntry.actor).where(AuditEntry.target_id == str(entry_id)) \
            .order_by(AuditEntry.seq)
    return [r["event_type"] for r in rows], [(a["action"], a["actor"]) for a in audit]


async def test_acceptance_4_company_entry_blocks_every_department(world, clock):
    """Issue 20 acceptance 4 / MD14: a customer on the company blacklist cannot be visited, graded
    up or invited in any department."""
    await _listed(world, scope="tenant")
    for department in (world.sales, world.service_dept, None):
        for action in ("visit", "upward grading", "event invitation"):
            error = await _blocked(world, department, action)
            assert "company blacklist" in error.message_en and action in error.message_en


async def test_acceptance_4_department_entry_blocks_only_that_department(world, clock):
    """Issue 20 acceptance 4 / MD14: a department blacklist blocks only that department."""
    entry = await _listed(world, scope="department", department_id=world.sales)
    error = await _blocked(world, world.sales)
    assert "销售部" in error.message_zh and entry.expires_at.date().isoformat() in error.message_en
    await _check(world, world.service_dept)


async def test_acceptance_4_after_six_months_expired_and_readmitted_at_lowest_grade(world, clock):
    """Issue 20 acceptance 4 / MD15 (seed-000 check 34): a department listing dated 2024-01-01
    with no shortening expires 2024-07-01 — not before; the tick marks it expired with itself as
    audited actor; re-admission then gives only the lowest grade (合格)."""
    entry = await _listed(world, scope="department", department_id=world.sales, scheme=SCHEME)
    assert entry.starts_at.date().isoformat() == "2024-01-01"
    assert entry.expires_at.date().isoformat() == "2024-07-01"
    clock.at = entry.expires_at - timedelta(seconds=1)  # the last moment before the expiry
    await _blocked(world, world.sales)
    async with unit_of_work(world.system) as uow:
        assert not await service.may_readmit(uow, world.customer, department_id=world.sales)
    assert await service.expire_due_in_tenant(world.tenant_id, clock()) == 0
    clock.advance(seconds=1)
    assert await service.expire_due_in_tenant(world.tenant_id, clock()) == 1
    assert (await service.get_entry(world.approver, entry.id)).status == "expired"
    await _check(world, world.sales)
    async with unit_of_work(world.system) as uow:
        assert await service.may_readmit(uow, world.customer, department_id=world.sales)
    assert policy.readmission_grade(SCHEME).code == "qualified"
    events, audit = await _events(world, entry.id)
    assert events[-1] == "blacklist.expired"
    assert audit[-1] == ("blacklist.expired", service.TICK_ACTOR)
    assert await service.expire_due_in_tenant(world.tenant_id, clock()) == 0  # once only


async def test_expire_due_sweeps_every_tenant(world, clock):
    """The registered sweep expires entries of every tenant past their expiry."""
    await _listed(world, scope="department", department_id=world.sales, validity_days=10)
    clock.advance(days=9)
    assert await service.expire_due(clock()) == 0
    clock.advance(days=1)
    assert await service.expire_due(clock()) == 1


async def test_a_proposal_blocks_nothing_until_another_user_approves(world, clock):
    """MD13: an entry is proposed, then approved by someone other than its proposer."""
    entry = await service.propose(world.proposer, world.customer, scope="tenant", reason="欺诈",
                                  evidence=EVIDENCE)
    assert entry.status == "proposed"
    await _check(world, world.sales)
    with pytest.raises(KehuError) as same:
        await service.approve(world.proposer, entry.id, version=entry.version)
    assert same.value.code == "BLACKLIST_SAME_PERSON"
    assert (await service.get_entry(world.approver, entry.id)).status == "proposed"  # nothing written
    with pytest.raises(KehuError) as denied:
        await service.approve(world.outsider, entry.id, version=entry.version)
    assert denied.value.code == "PERMISSION_DENIED"
    approved = await service.approve(world.approver, entry.id, version=entry.version, note="营销事业部核实")
    assert approved.status == "active" and approved.approved_by == world.approver.actor
    assert approved.proposed_by == world.proposer.actor and approved.expires_at is None
    await _blocked(world, world.sales)
    with pytest.raises(KehuError) as again:
        await service.approve(world.approver, entry.id, version=approved.version)
    assert again.value.code == "BLACKLIST_ENTRY_STATE"


async def test_evidence_reason_and_filing_notice_events(world, clock):
    """MD13: the entry keeps its reason and evidence; approval files a notice with the company level
    (outbox ``blacklist.filed`` and an audit entry) — for a department entry as for the company's."""
    entry = await _listed(world, scope="department", department_id=world.sales)
    assert entry.reason == "造成重大损失" and list(entry.evidence) == EVIDENCE
    events, audit = await _events(world, entry.id)
    assert events == ["blacklist.proposed", "blacklist.approved", "blacklist.filed"]
    assert [a for a, _ in audit] == ["blacklist.proposed", "blacklist.approved", "blacklist.filed"]
    async with unit_of_work(world.system) as uow:
        filed = await uow.select(AuditEntry).where(
            (AuditEntry.target_id == str(entry.id)) & (AuditEntry.action == "blacklist.filed")).first()
    assert "company" in json.dumps(filed, default=str)


@pytest.mark.parametrize("change,code,field", [
    ({"reason": " "}, "BLACKLIST_REASON_REQUIRED", "reason"),
    ({"evidence": []}, "BLACKLIST_EVIDENCE_INVALID", "evidence"),
    ({"evidence": [{"file": "x.pdf"}]}, "BLACKLIST_EVIDENCE_INVALID", "evidence.0"),
    ({"scope": "region"}, "BLACKLIST_SCOPE_INVALID", "scope"),
    ({"scope": "tenant"}, "BLACKLIST_SCOPE_INVALID", "department_id"),
    ({"validity_days": 200}, "BLACKLIST_VALIDITY_INVALID", "validity_days"),
    ({"validity_days": 0}, "BLACKLIST_VALIDITY_INVALID", "validity_days"),
    ({"validity_days": 2_147_483_647}, "BLACKLIST_VALIDITY_INVALID", "validity_days"),  # no overflow: coded
    ({"scope": "tenant", "department_id": None, "validity_days": 36_501}, "BLACKLIST_VALIDITY_INVALID",
     "validity_days"),
])
async def test_invalid_proposals_are_refused_and_write_nothing(world, clock, change, code, field):
    """A proposal needs a scope, a reason and evidence; MD15: the 6-month validity may be shortened,
    never lengthened. A refused proposal writes nothing."""
    values = dict(scope="department", department_id=world.sales, reason="拖欠", evidence=EVIDENCE)
    values.update(change)
    with pytest.raises(KehuError) as refused:
        await service.propose(world.proposer, world.customer, **values)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert await service.customer_entries(world.approver, world.customer) == []


async def test_shortened_entry_and_lifting(world, clock):
    """MD15: shortened in a special case (30 days); an active entry may be lifted early with a
    reason, which ends its effect; both audited and announced."""
    entry = await _listed(world, scope="department", department_id=world.sales, validity_days=30)
    assert (entry.expires_at - entry.starts_at).days == 30
    with pytest.raises(KehuError) as no_reason:
        await service.lift(world.approver, entry.id, version=entry.version, reason="")
    assert no_reason.value.code == "BLACKLIST_REASON_REQUIRED"
    lifted = await service.lift(world.approver, entry.id, version=entry.version, reason="已结清欠款")
    assert lifted.status == "lifted" and lifted.end_reason == "已结清欠款"
    await _check(world, world.sales)
    events, _ = await _events(world, entry.id)
    assert events[-1] == "blacklist.lifted"


async def test_other_tenant_cannot_see_or_approve(world, clock):
    """Tenancy: another tenant's user finds no such entry."""
    entry = await service.propose(world.proposer, world.customer, scope="tenant", reason="欺诈", evidence=EVIDENCE)
    with pytest.raises(KehuError) as hidden:
        await service.approve(world.globex, entry.id, version=entry.version)
    assert hidden.value.code == "BLACKLIST_ENTRY_NOT_FOUND"


def test_readmission_grade_is_the_lowest_grade():
    """MD15: after expiry a customer re-enters only as 合格类 — the scheme's lowest grade."""
    assert policy.readmission_grade(SCHEME).name_zh == "合格"


def test_default_validity_six_calendar_months():
    """MD15: a department entry lasts 6 months (calendar months, clipped to the month's end); a
    scheme's blacklist_days replaces it; the company list has no expiry unless the tenant sets one."""
    from datetime import UTC, datetime
    start = datetime(2024, 8, 31, tzinfo=UTC)
    assert policy.expiry(start, policy.default_validity("department")) == datetime(2025, 2, 28, tzinfo=UTC)
    assert policy.expiry(start, policy.default_validity("tenant")) is None
    assert policy.expiry(start, policy.default_validity("tenant", company_days=365)).year == 2025
    scheme = GradingScheme(id="x", name_en="x", name_zh="x", grades=SCHEME.grades, blacklist_days=90)
    assert (policy.expiry(start, policy.default_validity("department", scheme)) - start).days == 90


async def test_company_validity_is_a_tenant_parameter(world, clock):
    """seed-002 R5-16: the company blacklist's validity is not stated — a tenant parameter, no
    expiry by default; once set, a company entry expires after it and may be shortened, not
    lengthened. Changing it needs tenant.settings.manage and is audited."""
    with pytest.raises(KehuError) as denied:
        await service.update_blacklist_rules(world.proposer, {"company_days": 365})
    assert denied.value.code == "PERMISSION_DENIED"
    with pytest.raises(KehuError) as invalid:
        await service.update_blacklist_rules(world.system, {"company_days": -1})
    assert invalid.value.code == "SETTING_INVALID"
    assert await service.update_blacklist_rules(world.system, {"company_days": 365}) == {"company_days": 365}
    entry = await _listed(world, scope="tenant")
    assert (entry.expires_at - entry.starts_at).days == 365
    with pytest.raises(KehuError) as longer:
        await service.propose(world.proposer, world.customer, scope="tenant", reason="欺诈", evidence=EVIDENCE,
                              validity_days=400)
    assert longer.value.code == "BLACKLIST_VALIDITY_INVALID"


def test_blacklist_permissions_are_core_permissions():
    """The blacklist permissions are in core's catalogue, so roles can grant them (the system
    administrator's default role holds them)."""
    from core.identity.permissions import catalog
    from core.identity.roles import DEFAULT_ROLES
    names = {p.name for p in service.PERMISSIONS}
    assert names == {"blacklist.read", "blacklist.propose", "blacklist.approve", "blacklist.lift"}
    assert all(n in catalog() for n in names)
    assert names <= set(DEFAULT_ROLES["系统管理员"][1])
