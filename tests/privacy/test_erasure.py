"""Erasure reaches every table (acceptance 3) and leaves the audit chain verifiable."""

from __future__ import annotations

import pytest

from core.audit.chain import verify_chain
import json

from core.customers import service
from core.db import unit_of_work
from core.errors import KehuError
from core.jobs.tables import JobOutputChunk, LongJob
from core.privacy import erasure, freeze, retention
from tests.privacy.support import GaragePlate, SUBJECT_VALUES, make_subject, prepare, registry, scan_everything
from tests.support import SYSTEM, add_user, sign_in


async def earlier_export(ctx, text):
    """An export file made before the erasure, as the export job stores it."""
    async with unit_of_work(ctx) as uow:
        job = LongJob(kind="customer.export", params=json.dumps({}), status="succeeded", requested_by="user:x",
                      available_at=service.now(), output_name="customers.csv", output_media_type="text/csv")
        await uow.insert(job)
        await uow.insert(JobOutputChunk(job_id=job.id, seq=0, data=text))


@pytest.fixture
def reg():
    return registry()


async def test_after_erasure_no_table_holds_any_value_of_the_subject(settings, seeded, reg):
    await prepare(settings, seeded, reg)
    acme = SYSTEM.for_tenant(seeded.acme.id)
    subject = await make_subject(seeded.acme.id, reg)
    other = await make_subject(seeded.globex.id, registry(), {"kind": "person", "surname": "欧阳", "given_name": "春晓",
                                                              "phones": ["139 8765 4321"]})
    await service.update_customer(acme, reg, subject.id, version=1, changes={"address": {
        "province": "北京市", "city": "北京市", "county": "朝阳区", "street": "光华路甲", "house_number": "77号院",
        "village": "晓月村"}}, reason="moved")
    await earlier_export(acme, "欧阳春晓,+8613987654321,11010519491231002X\n")
    assert await scan_everything([seeded.acme.id], SUBJECT_VALUES)  # the scan does find them before

    result = await erasure.erase_subject(acme, reg, subject.id, "data subject asked (PIPL art. 47)")

    assert await scan_everything([seeded.acme.id], (*SUBJECT_VALUES, "晓月村")) == []
    assert result.exports_deleted == 1 and result.rows_deleted["garage_plate"] == 1
    async with unit_of_work(acme, write=False) as uow:
        assert (await verify_chain(uow)).ok
        assert await uow.count(GaragePlate) == 0
    view = await service.customer_history(acme, subject.id)
    assert [h.reason for h in view] == ["erased"]
    # The other tenant's customer with the same values is untouched.
    assert await scan_everything([seeded.globex.id], ("欧阳",)) != []
    assert (await service.get_customer(SYSTEM.for_tenant(seeded.globex.id), other.id)).display_name == "欧阳春晓"


async def test_erasure_needs_the_permission_and_is_refused_under_hold_or_freeze_writing_nothing(settings, seeded, reg):
    await prepare(settings, seeded, reg)
    acme = SYSTEM.for_tenant(seeded.acme.id)
    subject = await make_subject(seeded.acme.id, reg)
    await add_user(seeded.acme, "lin")
    with pytest.raises(KehuError) as denied:
        await erasure.erase_subject(await sign_in("acme", "lin"), reg, subject.id, "asked")
    assert denied.value.code == "PERMISSION_DENIED"
    await retention.place_legal_hold(acme, subject.id, "court order 2026-17")
    with pytest.raises(KehuError) as held:
        await erasure.erase_subject(acme, reg, subject.id, "asked")
    assert held.value.code == "LEGAL_HOLD"
    await retention.release_legal_hold(acme, subject.id, "case closed")
    await freeze.freeze_customer(acme, subject.id, "archive must be kept", "PIPL art. 47 (2)")
    with pytest.raises(KehuError) as frozen:
        await erasure.erase_subject(acme, reg, subject.id, "asked")
    assert frozen.value.code == "CUSTOMER_FROZEN"
    async with unit_of_work(acme, write=False) as uow:  # nothing was erased
        row = await uow.select(service.Customer.status, service.Customer.display_name).where(
            service.Customer.id == subject.id).first()
        assert row["display_name"] == "欧阳春晓" and row["status"] != "erased"
        assert await uow.count(GaragePlate) == 1


async def test_a_plugin_table_missing_from_the_database_stops_erasure(database, seeded, reg):
    acme = SYSTEM.for_tenant(seeded.acme.id)
    created = await service.create_customer(acme, reg, {"kind": "person", "surname": "李", "given_name": "雷"})
    with pytest.raises(KehuError) as error:
        await erasure.erase_subject(acme, reg, created.customer.id, "asked")
    assert error.value.code == "PERSONAL_DATA_TABLE_UNKNOWN"
    assert (await service.get_customer(acme, created.customer.id)).display_name == "李雷"

