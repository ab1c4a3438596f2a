"""Masks of phones, resident IDs and other personal fields; customerUnmask needs the permission
and a reason, and is audited with field names, never values."""

from __future__ import annotations

import pytest

from core.audit.tables import AuditEntry
from core.customers import service as customers
from core.db import unit_of_work
from core.errors import KehuError
from core.identity import roles
from core.plugins.testing import make_registry
from core.privacy import masking
from tests.support import SYSTEM, add_user, sign_in

PHONE, RESIDENT_ID = "13812345678", "110105194912310021"


@pytest.mark.parametrize(("value", "masked"), [("+8613812345678", "138****5678"), ("13812345678", "138****5678")])
def test_phones_keep_first_three_and_last_four_digits(value, masked):
    assert masking.mask_phone(value) == masked


def test_resident_ids_keep_first_four_and_last_four():
    assert masking.mask_identifier("110101199003071234") == "1101**********1234"


def test_numbers_typed_into_free_form_data_are_masked_at_any_depth():
    """Archive documents and facts are hand-filled forms: a mobile number (bare, +86, with a dash) or a
    resident ID anywhere in their text is masked for a reader without unmask; other numbers (a VIN, a
    date, an order number, an amount) stay as they are."""
    data = {"phone": "13912345678", "note": "联系 +86 13912345678 或 客户", "owner": [{"number": "220102199001011234"}],
            "vin": "LSVAU2180N2183294", "order_no": "2-0001234", "delivered_on": "2026-03-02", "price": 158000}
    assert masking.mask_numbers_in(data) == {
        "phone": "139****5678", "note": "联系 139****5678 或 客户", "owner": [{"number": "2201**********1234"}],
        "vin": "LSVAU2180N2183294", "order_no": "2-0001234", "delivered_on": "2026-03-02", "price": 158000}


def test_a_record_masks_every_personal_field_but_names():
    record = {"kind": "person", "surname": "王", "given_name": "小明", "phones": ["+8613812345678"],
              "identifier": {"type": "resident_id", "number": "110101199003071234"}, "emails": ["wang@example.com"],
              "address": {"city": "北京市", "street": "建国路"}, "credit": {"limit": 50000, "rating": "A"},
              "status": "active"}
    masked = masking.mask_record(record)
    assert masked["surname"] == "王" and masked["status"] == "active" and masked["address"]["city"] == "北京市"
    assert masked["phones"] == ["138****5678"] and masked["identifier"]["number"] == "1101**********1234"
    assert "建国路" not in str(masked) and "50000" not in str(masked) and "wang@" not in str(masked)
    changes = masking.mask_changes({"phones": [None, ["+8613812345678"]], "status": ["potential", "active"]})
    assert changes == {"phones": [None, ["138****5678"]], "status": ["potential", "active"]}


@pytest.fixture
async def customer(seeded):
    system = SYSTEM.for_tenant(seeded.acme.id)
    ids = {r.name: r.id for r in await roles.list_roles(system)}
    await add_user(seeded.acme, "director", role_ids=[ids["客户总监"]])
    await add_user(seeded.acme, "sysadmin", role_ids=[ids["系统管理员"]])  # every permission but unmask
    created = await customers.create_customer(system, make_registry(), {
        "kind": "person", "surname": "王", "given_name": "小明", "phones": [PHONE],
        "identifier": {"type": "resident_id", "number": "11010519491231002X"}}, contacts=[
        customers.ContactInput(surname="刘", given_name="洋", phones=["13700000001"])])
    return created.customer


async def test_unmask_needs_the_permission(customer):
    admin = await sign_in("acme", "sysadmin")
    with pytest.raises(KehuError) as denied:
        await customers.unmask_customer(admin, make_registry(), customer.id, ["phones"], "customer called back")
    assert denied.value.code == "PERMISSION_DENIED"


@pytest.mark.parametrize("reason", ["", "why", "    "])
async def test_unmask_needs_a_reason_of_five_characters(customer, reason):
    director = await sign_in("acme", "director")
    with pytest.raises(KehuError) as refused:
        await customers.unmask_customer(director, make_registry(), customer.id, ["phones"], reason)
    assert refused.value.code == "REASON_REQUIRED"


async def test_unmask_returns_clear_values_and_is_audited_without_them(customer, audit_scan):
    director = await sign_in("acme", "director")
    values = await customers.unmask_customer(director, make_registry(), customer.id,
                                             ["phones", "identifier.number", "contacts.phones"], "customer called back")
    assert values["phones"] == ["+8613812345678"] and values["identifier.number"] == "11010519491231002X"
    assert list(values["contacts.phones"].values()) == [["+8613700000001"]]
    with pytest.raises(KehuError) as refused:
        await customers.unmask_customer(director, make_registry(), customer.id, ["status"], "customer called back")
    assert refused.value.code == "FIELD_NOT_PERSONAL"
    async with unit_of_work(SYSTEM.for_tenant(director.tenant_id), write=False) as uow:
        entries = await uow.select(AuditEntry.diff).where(AuditEntry.action == "customer.unmasked")
    assert len(entries) == 1 and "customer called back" in entries[0]["diff"] and "identifier.number" in entries[0]["diff"]
    await audit_scan(PHONE, "8613812345678", "11010519491231002X", "13700000001")
