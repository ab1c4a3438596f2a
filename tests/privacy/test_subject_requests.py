"""Subject requests: states, due date from the tenant setting, reminders once, identity before
fulfilment, the export's JSON and CSV, correction through the customer service."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest

from core.plugins import manager
from core.customers import service
from core.db import unit_of_work
from core.errors import KehuError
from core.identity.policies import write_setting
from core.jobs import long_jobs
from core.jobs import service as job_service
from core.jobs.tables import OutboxEvent
from core.privacy import subject_requests as sr
from tests.privacy.support import make_subject, prepare, registry
from tests.support import SYSTEM


@pytest.fixture
def reg():
    r = registry()
    manager.start_verticals(r)
    yield r
    manager.start_verticals(None)


async def test_due_date_follows_the_setting_and_reminders_go_once(database, seeded, reg):
    acme = SYSTEM.for_tenant(seeded.acme.id)
    customer = (await service.create_customer(acme, reg, {"kind": "person", "surname": "钱", "given_name": "多"})).customer
    default = await sr.create_request(acme, customer.id, "access")
    assert default.due_at - default.received_at == timedelta(days=15)
    async with unit_of_work(acme) as uow:
        await write_setting(uow, sr.DAYS_KEY, 10)
    request = await sr.create_request(acme, customer.id, "access")
    assert request.due_at - request.received_at == timedelta(days=10)

    async def events(kind):
        async with unit_of_work(acme, write=False) as uow:
            return await uow.count(OutboxEvent).where(OutboxEvent.event_type == kind)

    early = request.due_at - timedelta(days=5)
    assert await sr.remind_due_requests(early) == 0
    soon = request.due_at - timedelta(days=1)
    await sr.remind_due_requests(soon)
    await sr.remind_due_requests(soon + timedelta(hours=1))
    assert await events("privacy.request_due_soon") == 1
    late = default.due_at + timedelta(days=1)
    await sr.remind_due_requests(late)
    await sr.remind_due_requests(late + timedelta(days=1))
    assert await events("privacy.request_overdue") == 2  # one per request, once each
    assert await events("privacy.request_due_soon") == 1  # a request already overdue is not "due soon"


async def test_nothing_is_fulfilled_before_identity_is_verified(database, seeded, reg):
    acme = SYSTEM.for_tenant(seeded.acme.id)
    customer = (await service.create_customer(acme, reg, {"kind": "person", "surname": "孙", "given_name": "悟"})).customer
    request = await sr.create_request(acme, customer.id, "correction", changes={"given_name": "悟空"})
    with pytest.raises(KehuError) as error:
        await sr.fulfil_request(acme, reg, request.id)
    assert error.value.code == "IDENTITY_NOT_VERIFIED"
    assert (await service.get_customer(acme, customer.id)).display_name == "孙悟"
    verified = await sr.verify_identity(acme, request.id, "resident ID card at the counter")
    assert verified.state == sr.VERIFIED
    done = await sr.fulfil_request(acme, reg, request.id)
    assert done.state == sr.FULFILLED
    assert (await service.get_customer(acme, customer.id)).display_name == "孙悟空"
    history = await service.customer_history(acme, customer.id)
    assert history[-1].reason == f"subject request {request.id}"
    with pytest.raises(KehuError) as again:
        await sr.fulfil_request(acme, reg, request.id)
    assert again.value.code == "REQUEST_STATE"
    rejected = await sr.reject_request(acme, (await sr.create_request(acme, customer.id, "access")).id, "not the subject")
    assert rejected.state == sr.REJECTED
    assert [r.id for r in await sr.list_requests(acme, sr.REJECTED)] == [rejected.id]


async def test_access_exports_the_subjects_data_as_json_and_csv(settings, seeded, reg):
    await prepare(settings, seeded, reg)
    acme = SYSTEM.for_tenant(seeded.acme.id)
    subject = await make_subject(seeded.acme.id, reg)
    request = await sr.create_request(acme, subject.id, "portability", channel="email")
    await sr.verify_identity(acme, request.id, "call back on the registered phone")
    done = await sr.fulfil_request(acme, reg, request.id)
    assert await long_jobs.run_job(seeded.acme.id, done.job_id)
    output = await job_service.open_output(acme, done.job_id)
    body = json.loads("".join([chunk async for chunk in output.chunks]))
    data = body["json"]
    assert data["customer"]["surname"] == "欧阳" and data["customer"]["identifier"]["number"] == "11010519491231002X"
    assert data["contacts"][0]["email"] == "qiushi@example.cn"
    assert data["garage_plate"] == [{"plate": "京A·88S99", "note": "欧阳春晓的车"}]
    rows = list(csv.DictReader(io.StringIO(body["csv"])))
    assert {"section": "customer", "row": "0", "field": "given_name", "value": "春晓"} in rows
    assert any(r["section"] == "garage_plate" and r["value"] == "京A·88S99" for r in rows)


async def test_deletion_erases_the_subject(settings, seeded, reg):
    await prepare(settings, seeded, reg)
    acme = SYSTEM.for_tenant(seeded.acme.id)
    subject = await make_subject(seeded.acme.id, reg)
    request = await sr.create_request(acme, subject.id, "deletion")
    await sr.verify_identity(acme, request.id, "ID card")
    done = await sr.fulfil_request(acme, reg, request.id)
    assert done.outcome["erased"] is True
    async with unit_of_work(acme, write=False) as uow:
        row = await uow.select(service.Customer.status).where(service.Customer.id == subject.id).first()
    assert row["status"] == "erased"
