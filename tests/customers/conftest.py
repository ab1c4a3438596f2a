"""A registry with a test-only vertical that adds customer fields, enabled for tenant acme."""

from __future__ import annotations

import pytest

from core.plugins.testing import make_registry, plugin
from core.plugins.types import CustomerField, FieldKind, PrivacyClass, VerticalInfo
from core.verticals import service as verticals
from tests.support import SYSTEM

DEALER_FIELDS = (
    CustomerField(name="vin", kind=FieldKind.TEXT, privacy=PrivacyClass.PERSONAL, label_en="VIN", label_zh="车架号",
                  max_length=17, pattern=r"[A-HJ-NPR-Z0-9]{17}"),
    CustomerField(name="purchases", kind=FieldKind.INTEGER, privacy=PrivacyClass.NOT_PERSONAL,
                  label_en="Vehicles bought", label_zh="购车数量"),
    CustomerField(name="segment", kind=FieldKind.CHOICE, privacy=PrivacyClass.NOT_PERSONAL, label_en="Segment",
                  label_zh="细分", choices=("fleet", "private")),
)

dealer = plugin(
    kehu_vertical_info=lambda: VerticalInfo(id="dealer", name_zh="测试经销商", name_en="Test dealer", version="1.0"),
    kehu_customer_fields=lambda: list(DEALER_FIELDS),
)


@pytest.fixture
def registry():
    return make_registry(("dealer", dealer))


@pytest.fixture
async def acme(seeded, registry):
    """Tenant acme with the test dealer vertical enabled."""
    await verticals.enable_vertical(SYSTEM.for_tenant(seeded.acme.id), registry, "dealer")
    return seeded.acme


PERSON = {"kind": "person", "surname": "王", "given_name": "小明", "phones": ["138 1234 5678"],
          "identifier": {"type": "resident_id", "number": "11010519491231002X"},
          "address": {"province": "北京市", "city": "北京市", "county": "朝阳区", "street": "建国路", "house_number": "88号"}}
ORGANISATION = {"kind": "organisation", "org_name": "北京星辰汽车销售有限公司", "legal_representative": "张伟",
                "identifier": {"type": "credit_code", "number": "91110000600037341L"}, "phones": ["010-6512 3456"],
                "business": {"scope": "汽车销售", "scale": "medium"}}
