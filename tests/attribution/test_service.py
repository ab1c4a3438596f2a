"""The attribution engine's use cases (issue 21, "The attribution engine"): an append-only ledger,
corrections and confirmations (RE21), relations read both ways (RE24–RE25), the dispute flow with
its four eyes (RE31), the owner projection that customer.owner_id and core's own scope follow, and
the services a vertical calls."""

from __future__ import annotations

from datetime import timedelta

import pytest

import core.plugins as contract
from core.attribution import policy as rules
from core.attribution import service
from core.attribution.tables import AttributionDispute, AttributionEntry, AttributionOwner, CustomerRelation
from core.audit.tables import AuditEntry
from core.context import Context, Principal
from core.customers import service as customers
from core.db import keyset, unit_of_work
from core.errors import KehuError
from core.identity.permissions import Scope
from core.jobs.tables import OutboxEvent
from core.plugins.types import LedgerKind
from tests.attribution.conftest import START, VERTICAL, add_customer

PAGE = keyset.Window(100)


def own_scope(tenant_id, user_id, *permissions) -> Context:
    """A consultant holding ``permissions`` over their own customers only."""
    return Context.for_principal(Principal(tenant_id=tenant_id, user_id=user_id, api_key_id=None,
                                           permissions={p: Scope.OWN for p in permissions}))


async def record(world, registry, kind, *, days=0.0, consultant=None, data=None, refers_to=None, customer=None,
                 ctx=None):
    return await service.record_entry(ctx or world.admin, registry, customer or world.customer, vertical=VERTICAL,
                                      kind=kind, at=START + timedelta(days=days), consultant_id=consultant, data=data,
                                      refers_to=refers_to)


async def refused(code, call):
    with pytest.raises(KehuError) as error:
        await call
    assert error.value.code == code, error.value.message_en
    return error.value


async def counts(world) -> dict:
    async with unit_of_work(world.admin) as uow:
        found = {t._meta.tablename: await uow.count(t) for t in (AttributionEntry, AttributionOwner,
                                                                   AttributionDispute, CustomerRelation)}
        found["audit"] = await uow.count(AuditEntry)
        found["outbox"] = await uow.count(OutboxEvent)
    return found


async def test_the_ledger_is_append_only_and_a_correction_leaves_the_original(world, registry, clock):
    """Issue 21 acceptance 4: an entry is never edited or deleted; a correction is a new entry that
    names what it voids, and the ledger still shows the original."""
    first = await record(world, registry, "registration", consultant=world.a, data={"first_visit": True})
    assert first.decision.owner == str(world.a) and first.decision.rule == "RE20"
    second = await record(world, registry, "registration", days=1, consultant=world.b)
    assert second.decision.owner == str(world.a)  # the earlier registration wins
    corrected = await record(world, registry, "correction", days=2, refers_to=first.entry.id)
    assert corrected.decision.owner == str(world.b)  # the voided registration no longer counts
    entries, more = await service.ledger(world.admin, registry, world.customer, PAGE)
    assert [e.kind for e in entries] == ["registration", "registration", "correction"] and not more
    assert entries[0].id == first.entry.id and entries[0].data == {"first_visit": True}
    assert entries[2].refers_to == first.entry.id
    assert [e.seq for e in entries] == sorted(e.seq for e in entries)
    # correcting it again is refused: it no longer counts
    await refused("ATTRIBUTION_ENTRY_CORRECTED", record(world, registry, "correction", days=3, refers_to=first.entry.id))


async def test_re21_a_confirmed_entry_is_never_corrected_and_is_confirmed_once(world, registry, clock):
    """RE21: the visit register is valid once the sales clerk confirms it, and immutable after."""
    visit = await record(world, registry, "visit", consultant=world.a, data={"reception": "rotation"})
    await refused("PERMISSION_DENIED", record(world, registry, "confirmation", refers_to=visit.entry.id,
                                              ctx=world.recorder))
    await record(world, registry, "confirmation", days=0.1, refers_to=visit.entry.id, ctx=world.clerk)
    before = await counts(world)
    await refused("ATTRIBUTION_ENTRY_CONFIRMED", record(world, registry, "correction", days=0.2,
                                                        refers_to=visit.entry.id))
    await refused("ATTRIBUTION_ENTRY_CONFIRMED", record(world, registry, "confirmation", days=0.2,
                                                        refers_to=visit.entry.id, ctx=world.clerk))
    assert await counts(world) == before  # a refused entry writes nothing, not even an audit entry
    async with unit_of_work(world.admin) as uow:
        [entry] = [e for e in await contract.ledger_entries(uow, VERTICAL) if e.id == str(visit.entry.id)]
    assert entry.confirmed


async def test_entries_are_validated_before_anything_is_written(world, registry, clock):
    """A bad entry is refused with a code naming the input, and writes nothing."""
    before = await counts(world)
    await refused("ATTRIBUTION_DISPUTE_DECISION_DIRECT", record(world, registry, "dispute_decision"))
    await refused("ATTRIBUTION_ENTRY_UNKNOWN", record(world, registry, "confirmation"))
    elsewhere = await record(world, registry, "registration", consultant=world.a,
                             customer=await add_customer(world.acme, "李女士"))
    after_one = await counts(world)
    await refused("ATTRIBUTION_ENTRY_UNKNOWN", record(world, registry, "correction", refers_to=elsewhere.entry.id))
    await refused("ATTRIBUTION_DATA_INVALID", record(world, registry, "visit", data=["not", "an", "object"]))
    await refused("ATTRIBUTION_DATA_INVALID", record(world, registry, "follow_up", data={"note": "长" * 9000}))
    await refused("USER_UNKNOWN", record(world, registry, "visit", consultant=world.customer))
    await refused("ATTRIBUTION_INPUT_INVALID", record(world, registry, "visit", days=500))  # in the future
    await refused("ATTRIBUTION_INPUT_INVALID", record(world, registry, "visit", refers_to=elsewhere.entry.id))
    await refused("ATTRIBUTION_INPUT_INVALID", record(world, registry, "nonsense"))
    await refused("VERTICAL_NOT_ENABLED", service.record_entry(world.admin, registry, world.customer,
                                                                vertical="automotive", kind="visit", at=START))
    await refused("CUSTOMER_NOT_FOUND", record(world, registry, "visit", ctx=world.other))
    assert await counts(world) == after_one and before["attribution_entry"] + 1 == after_one["attribution_entry"]


async def test_re24_re25_relations_are_read_both_ways_and_direct_relatives_share_the_first_registration(
        world, registry, clock):
    """RE24: spouses registered by A then B — the customer belongs to A; RE25: siblings are not
    direct relatives, each belongs to whoever registered it. A relation is stored once and read
    from both sides with the inverse relation."""
    husband, wife = world.customer, await add_customer(world.acme, "王太太")
    brother = await add_customer(world.acme, "王弟弟")
    await record(world, registry, "registration", consultant=world.a, customer=husband)
    later = await record(world, registry, "registration", days=1, consultant=world.b, customer=wife)
    assert later.decision.owner == str(world.b)  # not related yet
    spouse = await service.relate(world.admin, registry, wife, husband, "spouse")
    assert spouse.direct
    decided = await service.decision(world.admin, registry, wife, VERTICAL, as_of=START + timedelta(days=2))
    assert (decided.owner, decided.rule) == (str(world.a), "RE24")
    async with unit_of_work(world.admin) as uow:  # the projection was taken again when they were related
        stored = await uow.select(AttributionOwner.owner_id).where(AttributionOwner.customer_id == wife).first()
    assert stored["owner_id"] == world.a
    await record(world, registry, "registration", days=1, consultant=world.c, customer=brother)
    await service.relate(world.admin, registry, brother, husband, "sibling")
    sibling = await service.decision(world.admin, registry, brother, VERTICAL, as_of=START + timedelta(days=2))
    assert sibling.owner == str(world.c)
    father = await add_customer(world.acme, "王老先生")
    await service.relate(world.admin, registry, husband, father, "parent")  # the father is a parent of husband
    from_father = {(r.related_id, r.relation, r.direct) for r in await service.relations(world.admin, father)}
    assert from_father == {(husband, "child", True)}
    from_husband = {(r.related_id, r.relation) for r in await service.relations(world.admin, husband)}
    assert from_husband == {(wife, "spouse"), (brother, "sibling"), (father, "parent")}
    await refused("CUSTOMER_RELATION_EXISTS", service.relate(world.admin, registry, father, husband, "child"))
    await refused("ATTRIBUTION_INPUT_INVALID", service.relate(world.admin, registry, father, father, "spouse"))
    await refused("PERMISSION_DENIED", service.relate(world.recorder, registry, father, wife, "other"))


async def test_re31_dispute_needs_a_party_an_opinion_and_another_persons_approval(world, registry, clock):
    """RE31: a party opens a dispute over a deal; the project manager writes the opinion (fault,
    contribution, shares summing to 100); the sales director, not the opinion's writer, approves
    it and the outcome becomes a DISPUTE_DECISION entry of the ledger. Each refusal writes nothing."""
    await record(world, registry, "registration", consultant=world.a)
    deal = await record(world, registry, "deal", days=3, consultant=world.b, data={"unit": "3-1201"})
    assert deal.decision.deals[0].shares == {str(world.a): 100}
    outsider = world.consultant(world.c, "attribution.dispute.open", "attribution.read")
    await refused("ATTRIBUTION_DISPUTE_NOT_PARTY", service.open_dispute(outsider, deal.entry.id, claim="我也接待过"))
    party = world.consultant(world.b, "attribution.dispute.open", "attribution.read")
    opened = await service.open_dispute(party, deal.entry.id, claim="客户是我带看并成交的")
    assert opened.state == "open"
    await refused("ATTRIBUTION_DISPUTE_PENDING", service.open_dispute(party, deal.entry.id, claim="again"))
    shares = {str(world.a): 55, str(world.b): 45}
    await refused("PERMISSION_DENIED", service.give_opinion(party, opened.id, version=1, opinion="x", fault=None,
                                                            contribution=None, owner_id=world.a, shares=shares))
    await refused("ATTRIBUTION_SHARES_INVALID", service.give_opinion(
        world.manager, opened.id, version=1, opinion="x", fault=None, contribution=None, owner_id=world.a,
        shares={str(world.a): 50, str(world.b): 40}))
    opinion = await service.give_opinion(world.admin, opened.id, version=1, opinion="双方均有贡献", fault="B 未查询登记",
                                         contribution="B 完成带看", owner_id=world.a, shares=shares)
    assert opinion.state == "opinion_given" and opinion.proposed_shares == shares
    before = await counts(world)
    await refused("ATTRIBUTION_DISPUTE_SAME_PERSON", service.approve_dispute(world.admin, registry, opened.id,
                                                                             version=opinion.version))
    await refused("PERMISSION_DENIED", service.approve_dispute(world.manager, registry, opened.id,
                                                               version=opinion.version))
    await refused("VERSION_CONFLICT", service.approve_dispute(world.director, registry, opened.id, version=1))
    assert await counts(world) == before
    approved, recorded = await service.approve_dispute(world.director, registry, opened.id, version=opinion.version)
    assert approved.state == "approved" and approved.decision_entry_id == recorded.entry.id
    assert recorded.entry.kind == LedgerKind.DISPUTE_DECISION and recorded.entry.refers_to == deal.entry.id
    assert recorded.decision.rule == "RE31" and recorded.decision.deals[0].shares == shares
    async with unit_of_work(world.admin) as uow:
        actions = [r["action"] for r in await uow.select(AuditEntry.action).where(
            AuditEntry.target_id == str(opened.id)).order_by(AuditEntry.seq)]
    assert actions == ["attribution.dispute_opened", "attribution.dispute_opinion_given",
                       "attribution.dispute_approved"]
    await refused("ATTRIBUTION_DISPUTE_STATE", service.reject_dispute(world.director, opened.id, version=3,
                                                                      reason="晚了"))
    rejected = await service.open_dispute(party, deal.entry.id, claim="再议")
    done = await service.reject_dispute(world.director, rejected.id, version=1, reason="证据不足")
    assert done.state == "rejected"
    listed, _ = await service.list_disputes(world.admin, PAGE, state="approved")
    assert [d.id for d in listed] == [opened.id]


async def test_customer_owner_follows_the_attribution_and_own_scope_reads_only_owned_contact_data(
        world, registry, clock):
    """Issue 21: contact data of a customer is visible to the owning consultant and to managers
    only, by core's own/department/tenant scopes: customer.owner_id follows the owner; an
    attribution.owner_changed event is announced."""
    first = await record(world, registry, "registration", consultant=world.a)
    a_reads = own_scope(world.acme, world.a, "customer.read", "attribution.read")
    b_reads = own_scope(world.acme, world.b, "customer.read", "attribution.read")
    assert (await customers.get_customer(a_reads, world.customer)).id == world.customer
    await refused("NOT_FOUND", customers.get_customer(b_reads, world.customer))
    await refused("CUSTOMER_NOT_FOUND", service.decision(b_reads, registry, world.customer, VERTICAL))
    await record(world, registry, "transfer", days=1, consultant=world.b, data={"reason": "customer_refused",
                                                                                 "from": str(world.a)})
    assert (await customers.get_customer(b_reads, world.customer)).record["owner_id"] == str(world.b)
    await refused("NOT_FOUND", customers.get_customer(a_reads, world.customer))
    # A stays on the ledger, so A may still read the attribution (not the contact data)
    assert (await service.decision(a_reads, registry, world.customer, VERTICAL)).owner == str(world.b)
    async with unit_of_work(world.admin) as uow:
        events = [r["event_type"] for r in await uow.select(OutboxEvent.event_type).where(
            OutboxEvent.aggregate_id == str(world.customer)).order_by(OutboxEvent.created_at)]
    assert events.count("attribution.owner_changed") == 2 and "customer.transferred" in events
    assert first.entry.customer_id == world.customer


async def test_decision_as_of_ignores_later_entries_and_owners_lists_valid_and_lapsed(world, registry, clock):
    """RE20 through the test policy: a registration lapses after validity_days without follow-up;
    asOf ignores entries after it; attributionOwners lists valid and lapsed customers."""
    await record(world, registry, "registration", consultant=world.a)
    later = await add_customer(world.acme, "赵先生")
    await record(world, registry, "registration", days=40, consultant=world.b, customer=later)
    clock.set(START + timedelta(days=45))
    assert (await service.decision(world.admin, registry, world.customer, VERTICAL)).owner is None  # lapsed now
    assert (await service.decision(world.admin, registry, world.customer, VERTICAL,
                                   as_of=START + timedelta(days=10))).owner == str(world.a)
    valid, _ = await service.owners(world.admin, registry, VERTICAL, PAGE, valid=True)
    lapsed, _ = await service.owners(world.admin, registry, VERTICAL, PAGE, valid=False)
    assert [o.customer_id for o in valid] == [later] and [o.customer_id for o in lapsed] == [world.customer]
    assert lapsed[0].valid_until == START + timedelta(days=30)
    mine, _ = await service.owners(own_scope(world.acme, world.b, "attribution.read"), registry, None, PAGE)
    assert [o.customer_id for o in mine] == [later]


async def test_a_vertical_calls_the_engine_through_core_plugins(world, registry, clock, monkeypatch):
    """The services a vertical uses (core.plugins): record_ledger_entry in its own unit of work,
    attribution_decision, attribution_owners and ledger_entries."""
    from core.plugins import services

    monkeypatch.setattr(services, "_started_registry", lambda: registry)
    async with contract.unit_of_work(world.admin) as uow:
        entry = await contract.record_ledger_entry(uow, VERTICAL, world.customer, "registration", at=START,
                                                   consultant_id=world.a)
        await contract.record_ledger_entry(uow, VERTICAL, world.customer, "follow_up", at=START + timedelta(days=5),
                                           consultant_id=world.a, data={"note": "电话回访"})
        decided = await contract.attribution_decision(uow, VERTICAL, world.customer,
                                                      as_of=START + timedelta(days=20))
        rows = await contract.attribution_owners(uow, VERTICAL, valid=True, as_of=START + timedelta(days=20))
        follow_ups = await contract.ledger_entries(uow, VERTICAL, kinds=["follow_up"], consultant_id=world.a)
        with pytest.raises(KehuError):
            await contract.record_ledger_entry(uow, VERTICAL, world.customer, "confirmation", at=START)
    assert entry.kind == "registration" and entry.consultant == str(world.a)
    assert decided.owner == str(world.a)
    assert [(r["customer_id"], r["owner_id"]) for r in rows] == [(world.customer, world.a)]
    assert rows[0]["valid_until"] == START + timedelta(days=35)
    assert [e.data for e in follow_ups] == [{"note": "电话回访"}]


async def test_replaying_the_ledger_reproduces_the_projection(world, registry, clock):
    """Issue 21 acceptance 4 (the example the property test generalises): replaying the vertical's
    ledger from empty gives every stored owner and split exactly."""
    other = await add_customer(world.acme, "钱女士")
    await record(world, registry, "registration", consultant=world.a)
    await record(world, registry, "registration", days=2, consultant=world.b, customer=other)
    await service.relate(world.admin, registry, other, world.customer, "spouse")
    await record(world, registry, "deal", days=3, consultant=world.b, customer=other)
    assert same(await service.replay(world.admin, registry, VERTICAL), await service.projection(world.admin, VERTICAL))


def same(replayed, stored) -> bool:
    """Equal as stored: owner, shares, rule, explanations, facts, entries, every deal's split."""
    return {c: rules.stored(d) for c, d in replayed.items()} == {c: rules.stored(d) for c, d in stored.items()}
