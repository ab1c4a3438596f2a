"""The scale benchmarks' generator (issue 27, bench/scale_data.py) writes what the app itself
reads back: customers through the import's path, organisations' contacts sealed as the customer
service seals them, persons' consent ledgers as the consent service keeps them, one audit entry
per customer on an unbroken chain."""

from __future__ import annotations

from bench.scale_data import fill_tenant
from core.audit.chain import verify_chain
from core.customers import service as customers
from core.customers.tables import Customer
from core.db import unit_of_work
from core.privacy import consent
from tests.support import SYSTEM


async def test_generated_customers_come_with_contacts_consents_and_audit_the_app_reads(database, seeded):
    tenant = SYSTEM.for_tenant(seeded.acme.id)
    assert await fill_tenant(seeded.acme.id, 60, seed=7, batch=25) == 60
    async with unit_of_work(tenant, write=False) as uow:
        rows = await uow.select(Customer.id, Customer.kind).where(Customer.tenant_id == seeded.acme.id)
        verified = await verify_chain(uow)
    assert len(rows) == 60 and verified.ok
    organisations = [r["id"] for r in rows if r["kind"] == "organisation"]
    persons = [r["id"] for r in rows if r["kind"] == "person"]
    assert organisations and persons
    contacts = await customers.contacts_of(tenant, organisations)
    assert all(1 <= len(contacts[o]) <= 2 for o in organisations)
    first = contacts[organisations[0]][0]
    assert first.is_primary and first.surname and len(first.phones) == 1 and first.phones[0].startswith("+861")
    states = [await consent.consent_state(tenant, p) for p in persons]
    sms = [next(s for s in state if s.purpose == "marketing_sms") for state in states]
    assert any(s.granted and s.latest.action == "grant" for s in sms)
    assert any(not s.granted and s.latest.action == "withdraw" and s.latest.seq == 2 for s in sms)
