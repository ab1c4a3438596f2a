"""A small vertical of our own with an attribution policy (``estate_test``), enabled for acme and
globex; consultants, a sales clerk, a project manager and a sales director in acme; customers made
straight in the customer table; a controlled clock for the attribution service.

The policy is deliberately simple (the real-estate one lives in plugins/real_estate): a dispute
decision names the owner and shares of its deal; else the latest transfer; else the earliest
registration (of the customer or of a direct relative) still valid — followed up within
``validity_days`` of the decision's moment by its consultant; else whoever received the last
visit. Each deal splits 100 to the owner unless a dispute decision refers to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from core.attribution import service
from core.context import Context
from core.customers.tables import Customer
from core.db import unit_of_work
from core.plugins.testing import make_registry, plugin
from core.plugins.types import (
    AttributionDecision,
    AttributionPolicy,
    DealSplit,
    LedgerKind,
    Parameter,
    ParameterKind,
    VerticalInfo,
)
from core.verticals import service as verticals
from tests.support import SYSTEM, Clock, add_user, as_user

VERTICAL = "estate_test"
START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def _last_touch(entries, registration) -> datetime:
    touches = [e.at for e in entries if e.consultant == registration.consultant
               and e.kind in (LedgerKind.REGISTRATION, LedgerKind.FOLLOW_UP) and e.seq >= registration.seq]
    return max(touches)


def decide(facts, parameters) -> AttributionDecision:
    """The test policy (see the module's docstring): facts in, a decision out, no I/O."""
    days = parameters["validity_days"]
    entries = facts.entries
    deals = [e for e in entries if e.kind == LedgerKind.DEAL]
    rulings = {e.refers_to: e for e in entries if e.kind == LedgerKind.DISPUTE_DECISION}
    owner, rule, used, valid_until = None, "none", [], None
    transfers = [e for e in entries if e.kind == LedgerKind.TRANSFER]
    candidates = [(e.at, e.seq, e, entries) for e in entries if e.kind == LedgerKind.REGISTRATION]
    candidates += [(e.at, e.seq, e, r.entries) for r in facts.relatives if r.direct
                   for e in r.entries if e.kind == LedgerKind.REGISTRATION]
    valid = [(at, seq, e, source) for at, seq, e, source in candidates
             if facts.as_of is None or _last_touch(source, e) + timedelta(days=days) >= facts.as_of]
    if rulings:
        last = max(rulings.values(), key=lambda e: e.seq)
        owner, rule, used = last.data["owner"], "RE31", [last.id]
    elif transfers:
        owner, rule, used = transfers[-1].consultant, "RE11", [transfers[-1].id]
    elif valid:
        _at, _seq, first, source = min(valid, key=lambda v: (v[0], v[1]))
        owner, rule, used = first.consultant, "RE20" if first.customer == facts.customer else "RE24", [first.id]
        valid_until = _last_touch(source, first) + timedelta(days=days)
    else:
        visits = [e for e in entries if e.kind == LedgerKind.VISIT and e.consultant]
        if visits:
            owner, rule, used = visits[-1].consultant, "RE8", [visits[-1].id]
    splits = []
    for deal in deals:
        ruling = rulings.get(deal.id)
        if ruling is not None:
            splits.append(DealSplit(deal=deal.id, shares=ruling.data["shares"], rule="RE31",
                                    explanation_en="split as the approved dispute decided",
                                    explanation_zh="按争议审批结果分配", entries=(deal.id, ruling.id)))
        elif owner is not None:
            splits.append(DealSplit(deal=deal.id, shares={owner: 100}, rule=rule, explanation_en=f"all to {owner}",
                                    explanation_zh=f"全部归 {owner}", entries=(deal.id, *used)))
    return AttributionDecision(
        owner=owner, shares={owner: 100} if owner else {}, rule=rule,
        explanation_en=f"{rule}: owned by {owner}", explanation_zh=f"{rule}：归属 {owner}", entries=tuple(used),
        facts={"valid_until": valid_until, "entries": len(entries)} if valid_until else {"entries": len(entries)},
        deals=tuple(splits))


POLICY = AttributionPolicy(id="test_attribution", name_en="Test attribution", name_zh="测试归属", decide=decide)
estate = plugin(
    kehu_vertical_info=lambda: VerticalInfo(id=VERTICAL, name_zh="测试地产", name_en="Test estate", version="1.0"),
    kehu_parameters=lambda: [Parameter("validity_days", ParameterKind.INTEGER, 30, "Days a registration stays valid",
                                       "登记有效天数", minimum=1, maximum=365, unit="days")],
    kehu_attribution_policy=lambda: [POLICY],
)
EVERY = ("attribution.read", "attribution.record", "attribution.confirm", "attribution.dispute.open",
         "attribution.dispute.opinion", "attribution.dispute.approve", "customer.relate", "customer.read")


@pytest.fixture
def clock(monkeypatch) -> Clock:
    c = Clock(START + timedelta(days=400))
    monkeypatch.setattr(service, "now", c)
    return c


@pytest.fixture
def registry():
    return make_registry((VERTICAL, estate))


async def add_customer(tenant_id: UUID, name: str, *, owner_id: UUID | None = None) -> UUID:
    customer_id = uuid4()
    async with unit_of_work(SYSTEM.for_tenant(tenant_id)) as uow:
        await uow.insert(Customer(id=customer_id, kind="organisation", status="active", display_name=name,
                                  owner_id=owner_id, search=name.lower(), data="{}", updated_at=datetime.now(UTC),
                                  created_by="test"))
    return customer_id


@dataclass
class World:
    acme: UUID
    globex: UUID
    a: UUID  # consultants
    b: UUID
    c: UUID
    clerk: Context  # attribution.confirm (the sales clerk)
    recorder: Context  # attribution.record
    manager: Context  # the project manager: attribution.dispute.opinion
    director: Context  # the sales director: attribution.dispute.approve
    admin: Context  # every attribution permission
    other: Context  # globex, every attribution permission
    customer: UUID

    def consultant(self, user: UUID, *permissions: str) -> Context:
        return as_user(self.acme, user, *permissions)


@pytest.fixture
async def world(seeded, registry) -> World:
    for tenant in (seeded.acme, seeded.globex):
        await verticals.enable_vertical(SYSTEM.for_tenant(tenant.id), registry, VERTICAL)
    users = {name: (await add_user(seeded.acme, f"user-{name}")).id
             for name in ("a", "b", "c", "clerk", "recorder", "manager", "director", "boss")}
    boss = (await add_user(seeded.globex, "boss")).id
    acme = seeded.acme.id
    return World(acme=acme, globex=seeded.globex.id, a=users["a"], b=users["b"], c=users["c"],
                 clerk=as_user(acme, users["clerk"], "attribution.confirm", "attribution.read"),
                 recorder=as_user(acme, users["recorder"], "attribution.record", "attribution.read"),
                 manager=as_user(acme, users["manager"], "attribution.dispute.opinion", "attribution.dispute.open",
                                 "attribution.read"),
                 director=as_user(acme, users["director"], "attribution.dispute.approve", "attribution.read"),
                 admin=as_user(acme, users["boss"], *EVERY),
                 other=as_user(seeded.globex.id, boss, *EVERY),
                 customer=await add_customer(acme, "王先生"))
