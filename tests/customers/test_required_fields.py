"""A vertical's required customer fields, narrowed to customer kinds and statuses (D1: a dealer
needs the vehicle fields of its owners, not of its prospects)."""

from __future__ import annotations

import pytest

from core.customers import service as customers
from core.customers import validation as v
from core.errors import KehuError
from core.plugins import validation as contract
from core.plugins.testing import make_registry, plugin
from core.plugins.types import CustomerField, FieldKind, PrivacyClass, VerticalInfo
from core.verticals import service as verticals
from tests.support import SYSTEM

FIELDS = (
    CustomerField(name="vin", kind=FieldKind.TEXT, privacy=PrivacyClass.PERSONAL, label_en="VIN", label_zh="车架号",
                  required=True, required_statuses=("active",)),
    CustomerField(name="fleet_size", kind=FieldKind.INTEGER, privacy=PrivacyClass.NOT_PERSONAL, label_en="Fleet",
                  label_zh="车队规模", required=True, required_kinds=("organisation",)),
)
fleet = plugin(
    kehu_vertical_info=lambda: VerticalInfo(id="fleet", name_zh="车队", name_en="Fleet", version="1.0"),
    kehu_customer_fields=lambda: list(FIELDS),
)
PERSON = {"kind": "person", "surname": "王", "given_name": "小明", "phones": ["138 1234 5678"]}
ORGANISATION = {"kind": "organisation", "org_name": "北京星辰汽车销售有限公司", "phones": ["010-6512 3456"]}


@pytest.fixture
async def tenant(seeded):
    registry = make_registry(("fleet", fleet))
    await verticals.enable_vertical(SYSTEM.for_tenant(seeded.acme.id), registry, "fleet")
    return SYSTEM.for_tenant(seeded.acme.id), registry


async def test_a_field_required_of_active_customers_is_not_required_of_prospects(tenant):
    ctx, registry = tenant
    prospect = await customers.create_customer(ctx, registry, {**PERSON, "status": "potential"})
    assert prospect.customer.record["status"] == "potential"
    with pytest.raises(KehuError) as refused:
        await customers.create_customer(ctx, registry, {**PERSON, "status": "active", "phones": ["13900000001"]})
    assert (refused.value.code, refused.value.field) == ("FIELD_REQUIRED", "extensions.fleet.vin")
    owner = await customers.create_customer(ctx, registry, {**PERSON, "status": "active", "phones": ["13900000002"],
                                                            "extensions": {"fleet": {"vin": "LSVAB4182E2000000"}}})
    assert owner.customer.record["extensions"]["fleet"]["vin"] == "LSVAB4182E2000000"


async def test_a_field_required_of_organisations_is_not_required_of_persons(tenant):
    ctx, registry = tenant
    await customers.create_customer(ctx, registry, PERSON)
    with pytest.raises(KehuError) as refused:
        await customers.create_customer(ctx, registry, ORGANISATION)
    assert refused.value.field == "extensions.fleet.fleet_size"
    await customers.create_customer(ctx, registry, {**ORGANISATION, "extensions": {"fleet": {"fleet_size": 12}}})


def test_the_contract_knows_cores_kinds_and_statuses_and_refuses_others():
    assert contract.CUSTOMER_KINDS == v.KINDS and contract.CUSTOMER_STATUSES == v.STATUSES
    bad = CustomerField(name="x", kind=FieldKind.TEXT, privacy=PrivacyClass.PERSONAL, label_en="X", label_zh="X",
                        required=True, required_statuses=("vip",), required_kinds=("alien",))
    problems = contract.check_customer_fields([bad])
    assert any("'vip'" in p for p in problems) and any("'alien'" in p for p in problems)
    loose = CustomerField(name="y", kind=FieldKind.TEXT, privacy=PrivacyClass.PERSONAL, label_en="Y", label_zh="Y",
                          required_statuses=("active",))
    assert any("set required" in p for p in contract.check_customer_fields([loose]))
