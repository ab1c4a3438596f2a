"""Erasure and archives: a customer named by an archive folder under retention (A6/A7) is not
erased (ARCHIVE_RETENTION) and a deletion request freezes it instead; folders past retention are
anonymised with the customer; customers without archives erase as before."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.archives import common as archive_common

from core.archives import folders as archive_folders

from core.archives import lifecycle as archive_lifecycle

from core.archives import retention as archive_retention
from core.archives.tables import Archive, ArchiveDocumentRow, ArchiveFolder
from core.audit.chain import verify_chain
from core.audit.tables import AuditEntry
from core.customers import service as customers
from core.db import unit_of_work
from core.errors import KehuError
from core.privacy import erasure, freeze
from core.privacy import subject_requests as sr
from tests.archives.test_automotive_flow import submitted
from tests.automotive.fixtures import PLATE, VIN, sales_archive
from tests.privacy.support import scan_everything
from tests.support import SYSTEM

OWNER = {"kind": "person", "surname": "王", "given_name": "小明", "phones": ["139 1234 5678"],
         "identifier": {"type": "resident_id", "number": "11010519491231002X"},
         "extensions": {"automotive": {"customer_category": "个人", "evaluation_category": "A", "postcode": "130000",
                                       "vin": VIN, "plate": PLATE, "product_code": "迈腾 2.0T", "series": "迈腾",
                                       "colour": "白"}}}
VALUES = ("王小明", VIN, PLATE, "13912345678", "11010519491231002X", "220102199001011234")  # the last on the ID copy


async def _customer(tenant_id, registry, record=OWNER):
    return (await customers.create_customer(SYSTEM.for_tenant(tenant_id), registry, record)).customer


async def _accepted_folder(crew, registry, owner_id, monkeypatch, at=None, contact=False):
    if at is not None:
        monkeypatch.setattr(archive_common, "now", lambda: at)
    mapping = sales_archive()
    folder = await archive_folders.create_folder(crew.advisor, registry, "automotive", VIN, facts=mapping["subject"]["facts"],
                                          **({"contact_customer_id": owner_id} if contact else
                                             {"owner_customer_id": owner_id}))
    _, archive = await submitted(crew, registry, mapping, folder.id)
    await archive_lifecycle.check_archive(crew.clerk, registry, archive.id)
    await archive_lifecycle.accept_archive(crew.clerk, registry, archive.id)
    monkeypatch.undo()
    return (await archive_folders.get_folder(crew.clerk, registry, folder.id))[0]


async def _audit_count(tenant_id):
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        return await uow.count(AuditEntry)


@pytest.mark.parametrize("contact", [False, True], ids=["owner", "contact"])
async def test_a_customer_whose_archive_is_under_retention_is_not_erased(crew, automotive, seeded, monkeypatch,
                                                                        contact):
    owner = await _customer(seeded.acme.id, automotive)
    folder = await _accepted_folder(crew, automotive, owner.id, monkeypatch, contact=contact)
    before = await _audit_count(seeded.acme.id)
    with pytest.raises(KehuError) as refused:
        await erasure.erase_subject(SYSTEM.for_tenant(seeded.acme.id), automotive, owner.id, "asked (PIPL art. 47)")
    assert refused.value.code == "ARCHIVE_RETENTION"
    assert folder.retention_until.date().isoformat() in refused.value.message_en
    assert "freeze" in refused.value.message_en and "A7" in refused.value.message_en
    assert await _audit_count(seeded.acme.id) == before  # nothing written
    assert (await customers.get_customer(SYSTEM.for_tenant(seeded.acme.id), owner.id)).display_name == "王小明"
    assert (await archive_folders.get_folder(crew.clerk, automotive, folder.id))[0].subject_key == VIN


async def test_a_deletion_request_freezes_a_customer_whose_archive_is_kept(crew, automotive, seeded, monkeypatch):
    acme = SYSTEM.for_tenant(seeded.acme.id)
    owner = await _customer(seeded.acme.id, automotive)
    folder = await _accepted_folder(crew, automotive, owner.id, monkeypatch)
    request = await sr.create_request(acme, owner.id, "deletion")
    await sr.verify_identity(acme, request.id, "ID card")
    done = await sr.fulfil_request(acme, automotive, request.id)
    assert done.outcome["frozen"] is True and done.outcome["code"] == "ARCHIVE_RETENTION"
    assert done.outcome["until"] == folder.retention_until.isoformat()
    async with unit_of_work(acme, write=False) as uow:
        assert await freeze.is_frozen(uow, owner.id)
        status = await uow.select(customers.Customer.status).where(customers.Customer.id == owner.id).first()
    assert status["status"] != "erased"
    # the frozen customer's archive is read-only too
    with pytest.raises(KehuError) as refused:
        await archive_folders.update_folder_facts(crew.advisor, automotive, folder.id, {"colour": "黑"})
    assert refused.value.code == "CUSTOMER_FROZEN"


async def test_a_deletion_request_erases_a_customer_without_archives(crew, automotive, seeded):
    acme = SYSTEM.for_tenant(seeded.acme.id)
    owner = await _customer(seeded.acme.id, automotive)
    await archive_folders.create_folder(crew.advisor, automotive, "automotive", VIN, owner_customer_id=owner.id)  # empty
    request = await sr.create_request(acme, owner.id, "deletion")
    await sr.verify_identity(acme, request.id, "ID card")
    done = await sr.fulfil_request(acme, automotive, request.id)
    assert done.outcome["erased"] is True


async def test_a_folder_past_retention_is_anonymised_with_its_customer(crew, automotive, seeded, monkeypatch):
    acme = SYSTEM.for_tenant(seeded.acme.id)
    owner = await _customer(seeded.acme.id, automotive)
    folder = await _accepted_folder(crew, automotive, owner.id, monkeypatch,
                                    at=datetime(2019, 1, 1, 2, 0, tzinfo=UTC))  # kept until 2024 (A7)
    assert await archive_retention.seal_expired(datetime.now(UTC)) == 1
    assert await scan_everything([seeded.acme.id], VALUES)  # the scan finds them before

    result = await erasure.erase_subject(acme, automotive, owner.id, "asked (PIPL art. 47)")

    assert result.rows_anonymised["archive_folder"] == 1 and result.rows_anonymised["archive_document"] == 7
    assert await scan_everything([seeded.acme.id], VALUES) == []
    async with unit_of_work(acme, write=False) as uow:
        row = await uow.select(ArchiveFolder).where(ArchiveFolder.id == folder.id).first()
        assert (row["facts"], row["subject_key"], row["owner_customer_id"]) == ("{}", f"erased:{folder.id}", owner.id)
        assert {a["state"] for a in await uow.select(Archive.state)} == {"sealed"}  # the record of it stays
        assert {d["fields"] for d in await uow.select(ArchiveDocumentRow.fields)} == {"{}"}
        assert (await verify_chain(uow)).ok
