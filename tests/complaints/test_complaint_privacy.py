"""Issue 19 "Complaints hold personal data": the subject's copy holds the complaints naming the
customer (as complainant or linked customer), erasure keeps the cases and anonymises their
complainant's fields, freeze takes them out of processing (CUSTOMER_FROZEN, as archives) and a
legal hold keeps them whole; the property-management flow of plugins/real_estate on a controlled
clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from core.audit.chain import verify_chain
from core.complaints import service
from core.complaints.tables import Complaint, ComplaintClock, ComplaintEvent
from core.customers import service as customers
from core.db import unit_of_work
from core.db.keyset import Window
from core.errors import KehuError
from core.privacy import crypto, erasure, freeze, retention
from core.privacy.subject_requests import _csv, _subject_data
from tests.complaints.conftest import as_user, open_property
from tests.support import SYSTEM

pytestmark = pytest.mark.usefixtures("database")

SUBJECT = {"kind": "person", "surname": "欧阳", "given_name": "春晓", "phones": ["139 8765 4321"]}
RELATIVE = {"name": "欧阳春晓的母亲", "phone": "13700001111", "address": "光华路甲77号院"}


async def _customer(tenant_id, registry, record=SUBJECT):
    return (await customers.create_customer(SYSTEM.for_tenant(tenant_id), registry, record)).customer


async def _row(tenant_id, complaint_id):
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        return await uow.select(Complaint).where(Complaint.id == complaint_id).first()


async def _counts(tenant_id):
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        return (await uow.count(Complaint), await uow.count(ComplaintEvent), await uow.count(ComplaintClock))


async def _cases(seeded, people, registry):
    """The subject's own complaint, one filed by a relative and linked to the subject, an
    unrelated free-text one with the same name, and another customer's."""
    subject = await _customer(seeded.acme.id, registry)
    other = await _customer(seeded.acme.id, registry, {"kind": "person", "surname": "李", "given_name": "雷"})
    own = await open_property(people.employee, registry, customer_id=subject.id, complainant=None,
                              subject="欧阳春晓：电梯困人 13987654321")
    linked = await open_property(people.employee, registry, customer_id=subject.id, complainant=RELATIVE,
                                 subject="业主母亲反映漏水")
    unlinked = await open_property(people.employee, registry, complainant={"name": "欧阳春晓", "phone": "13987654321"},
                                   subject="欧阳春晓 反映噪音")
    others = await open_property(people.employee, registry, customer_id=other.id, complainant=None, subject="李雷的投诉")
    return subject, own, linked, unlinked, others


async def test_the_subjects_copy_holds_the_complaints_naming_the_customer(seeded, people, registry, clock):
    """Issue 19 (subject-access export includes complaints): the copy's ``complaints`` section
    holds the complaints whose customer is the subject, as complainant or as linked customer, in
    clear (the relative's phone too) with their timeline but not the staff who acted; a free-text
    complaint not linked to the customer and another customer's are not in it; the CSV form
    carries them."""
    subject, own, linked, unlinked, others = await _cases(seeded, people, registry)
    clock.advance(hours=1)
    await service.transition(people.employee, registry, own.id, "forward")
    async with unit_of_work(SYSTEM.for_tenant(seeded.acme.id), write=False) as uow:
        copy = await _subject_data(uow, registry, subject.id)
    found = {c["number"]: c for c in copy["complaints"]}
    assert sorted(found) == sorted([own.number, linked.number])
    mine = found[own.number]
    assert mine["subject"] == "欧阳春晓：电梯困人 13987654321" and mine["complainant"] is None
    assert mine["state"] == "at_front_desk" and mine["category"] == "routine" and mine["channel"] == "phone"
    assert [(e["kind"], e["to_state"]) for e in mine["events"] if e["kind"] in ("opened", "transitioned")] == [
        ("opened", "received"), ("transitioned", "at_front_desk")]
    assert all("actor" not in e for e in mine["events"])
    assert found[linked.number]["complainant"] == RELATIVE  # in clear: it is the subject's own copy
    text = json.dumps(copy, ensure_ascii=False, default=str)
    assert "李雷的投诉" not in text and "反映噪音" not in text
    assert "complaints" in _csv(copy) and "13700001111" in _csv(copy)


async def test_erasure_keeps_the_cases_and_anonymises_the_complainant(seeded, people, registry, clock):
    """Issue 19 (erasure anonymises the complainant's fields): the complaints naming the subject
    stay with their number, clocks and timeline; their free-text complainant is emptied and the
    subject's name and phone quoted in the subject line are replaced. A free-text complaint not
    linked to the customer is not matched by name and keeps its complainant; another customer's
    is untouched; the audit chain still verifies and the case can still be read."""
    subject, own, linked, unlinked, others = await _cases(seeded, people, registry)
    acme = SYSTEM.for_tenant(seeded.acme.id)
    before = await _counts(seeded.acme.id)

    result = await erasure.erase_subject(acme, registry, subject.id, "the subject asked (PIPL art. 47)")

    assert result.rows_anonymised["complaint"] == 2
    assert await _counts(seeded.acme.id) == before  # no case, clock or event deleted
    own_row, linked_row = await _row(seeded.acme.id, own.id), await _row(seeded.acme.id, linked.id)
    assert own_row["subject"] == "[erased]：电梯困人 [erased]" and own_row["number"] == own.number
    assert linked_row["complainant"] is None and linked_row["customer_id"] == subject.id
    unlinked_row = await _row(seeded.acme.id, unlinked.id)
    assert unlinked_row["subject"] == "欧阳春晓 反映噪音"
    assert crypto.open_json(seeded.acme.id, "complaint.complainant", unlinked_row["complainant"])["name"] == "欧阳春晓"
    assert (await _row(seeded.acme.id, others.id))["subject"] == "李雷的投诉"
    case = await service.timeline(people.front_desk, registry, linked.id)
    assert case.complaint.complainant is None and case.clocks and case.events[0].kind == "opened"
    async with unit_of_work(acme, write=False) as uow:
        assert (await verify_chain(uow)).ok
        copy = await _subject_data(uow, registry, subject.id)
    assert "13700001111" not in json.dumps(copy, ensure_ascii=False, default=str)


async def test_a_frozen_customers_complaints_refuse_every_change(seeded, people, registry, clock):
    """Issue 19 (freeze applies), PIPL art. 47: once the customer is frozen, its complaints refuse
    transitions, pause, resume and assignment with CUSTOMER_FROZEN and nothing is written; a new
    complaint naming it is refused and takes no number; only an auditor reads its timeline, lists
    leave it out for others; a complaint of a free-text person goes on."""
    subject, own, linked, unlinked, others = await _cases(seeded, people, registry)
    clock.advance(hours=1)
    await service.transition(people.employee, registry, own.id, "forward")
    await service.transition(people.front_desk, registry, own.id, "dispatch",
                             {"department": "工程部", "handling_deadline": "2026-09-30T18:00+08:00"})
    await freeze.freeze_customer(SYSTEM.for_tenant(seeded.acme.id), subject.id, "archive must be kept",
                                 "PIPL art. 47 (2)")
    before = await _counts(seeded.acme.id)
    version = (await _row(seeded.acme.id, own.id))["version"]
    attempts = (
        lambda: service.transition(people.employee, registry, linked.id, "forward"),
        lambda: service.pause(people.department, registry, own.id, {"reason": "等待业主在家"}),
        lambda: service.transition(people.department, registry, own.id, "resolve", {"resolution": "已修复"}),
        lambda: service.assign(people.front_desk, registry, own.id, assignee_id=people.department.principal.user_id),
        lambda: open_property(people.employee, registry, customer_id=subject.id, complainant=None),
        lambda: service.timeline(people.front_desk, registry, own.id),
    )
    for attempt in attempts:
        with pytest.raises(KehuError) as refused:
            await attempt()
        assert refused.value.code == "CUSTOMER_FROZEN"
    assert await _counts(seeded.acme.id) == before
    assert (await _row(seeded.acme.id, own.id))["version"] == version

    auditor = as_user(seeded.acme.id, people.front_desk.principal.user_id, "real_estate.complaint.read",
                      "privacy.audit.read")
    assert (await service.timeline(auditor, registry, own.id)).complaint.state == "dispatched"
    listed, _ = await service.list_complaints(people.front_desk, registry, Window(50))
    assert {c.id for c in listed} == {unlinked.id, others.id}
    listed, _ = await service.list_complaints(auditor, registry, Window(50))
    assert {c.id for c in listed} == {own.id, linked.id, unlinked.id, others.id}
    await service.transition(people.employee, registry, unlinked.id, "forward")  # not the frozen customer's


async def test_resume_is_refused_too_while_frozen(seeded, people, registry, clock):
    """Issue 19 (freeze applies): a case paused before the freeze cannot be resumed after it."""
    subject = await _customer(seeded.acme.id, registry)
    case = await open_property(people.employee, registry, customer_id=subject.id, complainant=None)
    await service.transition(people.employee, registry, case.id, "forward")
    await service.transition(people.front_desk, registry, case.id, "dispatch",
                             {"department": "工程部", "handling_deadline": "2026-09-30T18:00+08:00"})
    await service.pause(people.department, registry, case.id, {"reason": "等待业主在家"})
    await freeze.freeze_customer(SYSTEM.for_tenant(seeded.acme.id), subject.id, "kept", "PIPL art. 47 (2)")
    with pytest.raises(KehuError) as refused:
        await service.resume(people.department, registry, case.id)
    assert refused.value.code == "CUSTOMER_FROZEN"
    assert (await _row(seeded.acme.id, case.id))["state"] == "waiting_customer"


async def test_a_legal_hold_keeps_the_complaints_whole(seeded, people, registry, clock):
    """Issue 19 (legal hold applies): erasure of a customer under legal hold is refused with
    LEGAL_HOLD and its complaints keep their complainant and subject line; the case is still
    handled (a hold keeps evidence, it does not stop the work); once released, erasure
    anonymises them."""
    subject, own, linked, unlinked, others = await _cases(seeded, people, registry)
    acme = SYSTEM.for_tenant(seeded.acme.id)
    await retention.place_legal_hold(acme, subject.id, "court order 2026-17")
    with pytest.raises(KehuError) as held:
        await erasure.erase_subject(acme, registry, subject.id, "asked")
    assert held.value.code == "LEGAL_HOLD"
    row = await _row(seeded.acme.id, linked.id)
    assert crypto.open_json(seeded.acme.id, "complaint.complainant", row["complainant"]) == RELATIVE
    assert (await _row(seeded.acme.id, own.id))["subject"].startswith("欧阳春晓")
    await service.transition(people.employee, registry, own.id, "forward")
    await retention.release_legal_hold(acme, subject.id, "case closed")
    await erasure.erase_subject(acme, registry, subject.id, "asked")
    assert (await _row(seeded.acme.id, linked.id))["complainant"] is None



async def test_the_customers_timeline_shows_its_complaints(seeded, people, registry, clock):
    """Issue 19 (complaints appear in the customer's timeline): the customer's changes and the
    events of the complaints naming it (opened, each transition), oldest first; another
    customer's complaint and an unlinked free-text one are not in it; a reader who may not read
    the flow sees only the history; a frozen customer's timeline is an auditor's only."""
    from core.customers import timeline

    clock.set(datetime.now(UTC) + timedelta(days=1))  # after the customer's creation (on the real clock)
    subject, own, linked, unlinked, others = await _cases(seeded, people, registry)
    clock.advance(hours=1)
    await service.transition(people.employee, registry, own.id, "forward")
    reader = as_user(seeded.acme.id, people.front_desk.principal.user_id, "customer.read",
                     "real_estate.complaint.read")
    entries = await timeline.customer_timeline(reader, registry, subject.id)
    assert [e.kind for e in entries][0] == "history" and entries[0].history.version == 1
    shown = [(e.complaint_number, e.event, e.to_state) for e in entries if e.kind == "complaint"]
    assert shown == [(own.number, "opened", "received"), (linked.number, "opened", "received"),
                     (own.number, "transitioned", "at_front_desk")]
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    assert entries[-1].actor == people.employee.actor and entries[-1].subject == own.subject

    history_only = as_user(seeded.acme.id, people.outsider.principal.user_id, "customer.read")
    assert {e.kind for e in await timeline.customer_timeline(history_only, registry, subject.id)} == {"history"}

    await freeze.freeze_customer(SYSTEM.for_tenant(seeded.acme.id), subject.id, "kept", "PIPL art. 47 (2)")
    with pytest.raises(KehuError) as refused:
        await timeline.customer_timeline(reader, registry, subject.id)
    assert refused.value.code == "CUSTOMER_FROZEN"
    auditor = as_user(seeded.acme.id, people.front_desk.principal.user_id, "customer.read",
                      "real_estate.complaint.read", "privacy.audit.read")
    assert len(await timeline.customer_timeline(auditor, registry, subject.id)) == len(entries)
