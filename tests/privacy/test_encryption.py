"""Encryption at rest: personal values are unreadable in the SQLite file and in every PostgreSQL
table, lookups by phone and resident ID still work through the blind index, keys rotate with the
privacy.rekey job, and a value sealed for one tenant does not open for another."""

from __future__ import annotations

import asyncpg
import pytest

from core.context import Context
from core.customers import service as customers
from core.db import current_database, unit_of_work
from core.customers.tables import Customer
from core.errors import KehuError
from core.plugins.testing import make_registry, plugin
from core.plugins.types import CustomerField, FieldKind, PrivacyClass, VerticalInfo
from core.privacy import crypto, rekey
from core.verticals import service as verticals
from tests.support import SYSTEM

car = plugin(
    kehu_vertical_info=lambda: VerticalInfo(id="car", name_zh="测试车", name_en="Test car", version="1.0"),
    kehu_customer_fields=lambda: [
        CustomerField(name="vin", kind=FieldKind.TEXT, privacy=PrivacyClass.PERSONAL, label_en="VIN", label_zh="车架号"),
        CustomerField(name="segment", kind=FieldKind.TEXT, privacy=PrivacyClass.NOT_PERSONAL, label_en="Segment",
                      label_zh="细分")])

PHONE, PHONE_DIGITS = "13987654321", "+8613987654321"
CONTACT_PHONE = "13611112222"
RESIDENT_ID = "11010519491231002X"
PERSON = {"kind": "person", "surname": "欧阳", "given_name": "春晓", "phones": [PHONE],
          "emails": ["chunxiao.ouyang@example.cn"], "identifier": {"type": "resident_id", "number": RESIDENT_ID},
          "address": {"province": "北京市", "city": "北京市", "county": "朝阳区", "street": "光华路甲",
                      "house_number": "77号院"},
          "credit": {"rating": "信用良好甲等"}, "extensions": {"car": {"vin": "LSVAU2180N2183294", "segment": "fleet"}}}
# Every personal value stored, in the spellings a store could hold.
SECRETS = (PHONE, PHONE_DIGITS, "8613987654321", CONTACT_PHONE, RESIDENT_ID, "chunxiao.ouyang@example.cn",
           "contact.person@example.cn", "光华路甲", "77号院", "信用良好甲等", "LSVAU2180N2183294", "13700001111")


@pytest.fixture
def registry():
    return make_registry(("car", car))


@pytest.fixture
def keys():
    """Lets a test set the process's data keys; the default keys come back afterwards."""
    before, secrets = crypto._ring, {}

    def use(*ids: str) -> None:
        crypto.configure_data_keys(crypto.keyring_from([(k, secrets.setdefault(k, crypto.new_data_key())) for k in ids]))

    yield use
    crypto._ring = before


@pytest.fixture
async def acme(seeded, registry):
    await verticals.enable_vertical(SYSTEM.for_tenant(seeded.acme.id), registry, "car")
    return seeded.acme


async def _customer(tenant_id, registry):
    system = SYSTEM.for_tenant(tenant_id)
    contact = customers.ContactInput(surname="刘", given_name="洋", phones=[CONTACT_PHONE],
                                     email="contact.person@example.cn")
    created = await customers.create_customer(system, registry, PERSON, contacts=[contact])
    updated = await customers.update_customer(system, registry, created.customer.id, version=1,
                                              changes={"phones": ["13700001111"]}, reason="new number")
    return system, updated


async def _raw_text(settings) -> str:
    """Everything stored: the SQLite files' bytes, or every row of every PostgreSQL table (read
    as the superuser, past row-level security)."""
    if settings.database.is_sqlite:
        await current_database().close()  # flush the WAL into the file
        path = settings.database.sqlite_path
        data = b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())
        return data.decode("utf-8", errors="replace")
    connection = await asyncpg.connect(settings.migrate_database_url)
    try:
        tables = [r["tablename"] for r in await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        return "\n".join([str(r[0]) for t in tables for r in await connection.fetch(f'SELECT t::text FROM "{t}" t')])
    finally:
        await connection.close()


async def test_personal_values_are_not_readable_in_storage(settings, acme, registry):
    await _customer(acme.id, registry)
    raw = await _raw_text(settings)
    assert "欧阳" in raw and "fleet" in raw  # names and business data stay clear: the scan does see the store
    found = [value for value in SECRETS if value in raw]
    assert found == [], f"personal values readable in storage: {found}"


async def test_lookups_by_phone_and_resident_id_still_find_the_customer(acme, registry):
    system, view = await _customer(acme.id, registry)
    for text in ("13700001111", "+86 137 0000 1111", RESIDENT_ID, RESIDENT_ID.lower()):
        found, _ = await customers.list_customers(system, customers.CustomerFilter(text=text), first=10)
        assert [c.id for c in found] == [view.id], text
    found, _ = await customers.list_customers(system, customers.CustomerFilter(text="欧阳"), first=10)
    assert [c.id for c in found] == [view.id]
    again = await customers.create_customer(system, registry, {"kind": "person", "surname": "李", "given_name": "雷",
                                                               "phones": ["13700001111"]})
    assert [(d.customer_id, d.matched_on) for d in again.duplicates] == [(view.id, ("phone",))]
    with pytest.raises(KehuError) as refused:
        await customers.create_customer(system, registry, {"kind": "person", "surname": "李", "given_name": "梅",
                                                           "identifier": PERSON["identifier"]})
    assert refused.value.code == "DUPLICATE_IDENTIFIER"
    # another tenant's lookup does not find acme's customer by the same number
    other = SYSTEM.for_tenant((await _tenant("globex")).id)
    found, _ = await customers.list_customers(other, customers.CustomerFilter(text="13700001111"), first=10)
    assert found == []


async def _tenant(slug):
    from core.tenancy import service as tenancy

    return await tenancy.get_tenant(SYSTEM, slug)


async def test_key_rotation_reencrypts_and_old_key_values_are_gone(acme, registry, keys):
    keys("old")
    system, view = await _customer(acme.id, registry)
    keys("new", "old")
    assert (await customers.get_customer(system, view.id)).record["phones"] == ["+8613700001111"]
    job_ctx = Context.system("test", acme.id)
    changed = await rekey.rekey_tenant(job_ctx)
    assert changed["customers"] == 1 and changed["contacts"] == 1 and changed["history"] == 2
    assert (await rekey.rekey_tenant(job_ctx)) == {"customers": 0, "contacts": 0, "history": 0, "uploads": 0,
                                                   "complaints": 0}
    async with unit_of_work(job_ctx, write=False) as uow:
        stored = await uow.fetch("SELECT c.sealed AS v FROM customer c WHERE c.tenant_id = {} UNION ALL "
                                 "SELECT k.value FROM customer_key k WHERE k.tenant_id = {} UNION ALL "
                                 "SELECT h.changes FROM customer_history h WHERE h.tenant_id = {} UNION ALL "
                                 "SELECT t.sealed FROM customer_contact t WHERE t.tenant_id = {}",
                                 acme.id, acme.id, acme.id, acme.id)
    assert stored and not [row["v"] for row in stored if row["v"] and row["v"].startswith("old:")]
    keys("new")  # the old key is dropped: everything still opens and is still found
    record = (await customers.get_customer(system, view.id)).record
    assert record["identifier"]["number"] == RESIDENT_ID and record["extensions"]["car"]["vin"] == "LSVAU2180N2183294"
    found, _ = await customers.list_customers(system, customers.CustomerFilter(text=RESIDENT_ID), first=10)
    assert [c.id for c in found] == [view.id]
    contacts = await customers.contacts_of(system, [view.id])
    assert contacts[view.id][0].phones == ("+8613611112222",)


async def test_rekey_job_runs_through_the_job_queue_with_permission(acme, registry, keys):
    from core.jobs import long_jobs, service as job_service
    from tests.support import sign_in

    keys("old")
    await _customer(acme.id, registry)
    keys("new", "old")
    admin = await sign_in("acme", "admin")
    job_id = await rekey.start_rekey(admin)
    assert await long_jobs.run_job(acme.id, job_id)
    job = await job_service.get_job(admin, job_id)
    assert job.status == "succeeded" and job.result["customers"] == 1


async def test_a_value_sealed_for_one_tenant_does_not_open_for_another(seeded, registry):
    sealed = crypto.seal_text(seeded.acme.id, "customer.sealed", PHONE)
    assert crypto.open_text(seeded.acme.id, "customer.sealed", sealed) == PHONE
    with pytest.raises(crypto.SealBroken):
        crypto.open_text(seeded.globex.id, "customer.sealed", sealed)
    with pytest.raises(crypto.SealBroken):  # nor in another column of the same tenant
        crypto.open_text(seeded.acme.id, "customer_contact.sealed", sealed)
    assert crypto.blind(seeded.acme.id, "phone", PHONE) != crypto.blind(seeded.globex.id, "phone", PHONE)
    # a sealed record copied into another tenant's row does not open there
    a = (await customers.create_customer(SYSTEM.for_tenant(seeded.acme.id), registry,
                                         {"kind": "person", "surname": "王", "given_name": "芳", "phones": [PHONE]})).customer
    g = (await customers.create_customer(SYSTEM.for_tenant(seeded.globex.id), registry,
                                         {"kind": "person", "surname": "赵", "given_name": "敏", "phones": ["13500000000"]})).customer
    async with unit_of_work(SYSTEM.for_tenant(seeded.acme.id), write=False) as uow:
        stolen = (await uow.select(Customer.sealed).where(Customer.id == a.id).first())["sealed"]
    async with unit_of_work(SYSTEM.for_tenant(seeded.globex.id)) as uow:
        await uow.update(Customer, {Customer.sealed: stolen}).where(Customer.id == g.id)
    with pytest.raises(crypto.SealBroken):
        await customers.get_customer(SYSTEM.for_tenant(seeded.globex.id), g.id)
