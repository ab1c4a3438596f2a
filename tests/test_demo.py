"""The demo a newcomer meets (issue 17 point 11): each demo tenant holds realistic data of its
vertical, made through the service functions, the same every time, and only once."""

from __future__ import annotations

import json
from collections import Counter

import phonenumbers
from stdnum.cn import ric, uscc

from core.archives.tables import Archive
from core.audit.tables import AuditEntry
from core.context import Context
from core.customers import service as customers
from core.customers.tables import Customer, CustomerContact
from core.db import unit_of_work
from core.jobs.tables import OutboxEvent
from core.privacy.consent_tables import ConsentRecord
from core.tenancy import service as tenancy
from core.verticals import service as verticals
from gateway import demo_data
from gateway.cli import DEMO_TENANTS, _seed_demo

TABLES = (Customer, CustomerContact, ConsentRecord, Archive, AuditEntry, OutboxEvent)


async def _counts(tenant_id) -> dict[str, int]:
    async with unit_of_work(Context.system("test", tenant_id), write=False) as uow:
        return {table._meta.tablename: await uow.count(table) for table in TABLES}


async def _customers(tenant_id) -> list[customers.CustomerView]:
    async with unit_of_work(Context.system("test", tenant_id), write=False) as uow:
        ids = [row["id"] for row in await uow.select(Customer.id)]
    return [await customers.get_customer(Context.system("test", tenant_id), customer_id) for customer_id in ids]


async def test_each_demo_tenant_gets_realistic_data_of_its_vertical_once(settings, database):
    """Issue 17 point 11: every demo tenant (one per vertical) has ~20 customers with valid resident
    IDs or credit codes and valid mobile numbers, contacts and consents, its vertical enabled; the
    automotive tenant has sales archives in several workflow states; `kehu demo` run again adds
    nothing (no customer, consent, archive, audit entry or event)."""
    slugs = await _seed_demo(settings)
    assert sorted(slugs) == sorted(slug for slug, _ in DEMO_TENANTS.values())
    tenants = {t.slug: t.id for t in await tenancy.list_tenants(Context.system("test"))}
    before = {}
    for vertical, (slug, _) in DEMO_TENANTS.items():
        tenant_id = tenants[slug]
        counts = before[slug] = await _counts(tenant_id)
        assert counts["customer"] >= 20, (slug, counts)
        assert counts["customer_contact"] > 0 and counts["consent_record"] > 0, (slug, counts)
        kinds = Counter()
        for customer in await _customers(tenant_id):
            record = customer.record
            kinds[record["kind"]] += 1
            number = record["identifier"]["number"]
            if record["kind"] == "person":
                assert record["identifier"]["type"] == "resident_id" and ric.is_valid(number), number
            else:
                assert record["identifier"]["type"] == "credit_code" and uscc.is_valid(number), number
            for phone in record["phones"]:
                assert phonenumbers.is_valid_number(phonenumbers.parse(phone)), phone
            assert demo_data.DEMO_TAG in record["tags"]
        assert kinds["person"] and kinds["organisation"], (slug, kinds)
        assert vertical in await verticals.enabled_vertical_ids(Context.system("test", tenant_id))
        async with unit_of_work(Context.system("test", tenant_id), write=False) as uow:
            states = Counter(row["state"] for row in await uow.select(Archive.state))
        if vertical == "automotive":
            assert len(states) >= 2 and {"archived", "sealed", "rejected"} <= set(states), states
        else:
            assert not states

    # The automotive tenant's owners carry the dealer master fields (D1), their vehicles' VINs valid.
    from plugins.automotive.vehicles import vin_valid

    owners = [c for c in await _customers(tenants["demo-automotive"]) if c.record["status"] == "active"]
    assert owners and all(vin_valid(c.record["extensions"]["automotive"]["vin"]) for c in owners)

    await _seed_demo(settings)  # the second `kehu demo`
    for slug, counts in before.items():
        assert await _counts(tenants[slug]) == counts, slug


def test_the_demo_data_is_the_same_every_time():
    """Issue 17 point 11: generated from a fixed seed, so every demo database holds the same people."""
    for vertical in demo_data.PLANS:
        first = [json.dumps(p.fields, ensure_ascii=False, sort_keys=True) for p in demo_data.plan(vertical)]
        again = [json.dumps(p.fields, ensure_ascii=False, sort_keys=True) for p in demo_data.plan(vertical)]
        assert first == again and len(first) == demo_data.CUSTOMERS_PER_TENANT
        numbers = [json.loads(f)["identifier"]["number"] for f in first]
        assert len(set(numbers)) == len(numbers), vertical  # one identifier per customer: reruns skip them
