"""Issue 18 point 7: disabling a vertical does not freeze its customers. Its extension data stays
stored, hidden from reads while the vertical is disabled (or its plugin not loaded), and comes back
when it is enabled again; a blocked plugin's fields are not masked as if personal."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.customers import service as customers
from core.errors import KehuError
from core.plugins.testing import make_registry, plugin
from core.plugins.types import CustomerField, FieldKind, PrivacyClass, VerticalInfo
from core.verticals import service as verticals
from tests.customers.conftest import PERSON
from tests.support import SYSTEM, sign_in

DEALER_DATA = {"vin": "LSVAU2180N2183791", "purchases": 2, "segment": "fleet"}

# A second vertical with a money field, so one vertical is disabled while another stays enabled.
SHOP_FIELDS = (CustomerField("credit_limit", FieldKind.DECIMAL, PrivacyClass.NOT_PERSONAL, "Credit limit", "信用额度"),)
shop = plugin(kehu_vertical_info=lambda: VerticalInfo(id="shop", name_zh="门店", name_en="Shop", version="1.0"),
              kehu_customer_fields=lambda: list(SHOP_FIELDS))


@pytest.fixture
def both(registry):
    from tests.customers.conftest import dealer

    return make_registry(("dealer", dealer), ("shop", shop))


async def _customer(acme, both):
    await verticals.enable_vertical(SYSTEM.for_tenant(acme.id), both, "shop")
    admin = await sign_in("acme", "admin")
    created = await customers.create_customer(admin, both, {
        **PERSON, "extensions": {"dealer": DEALER_DATA, "shop": {"credit_limit": "1234.56"}}})
    return admin, created.customer


async def test_a_disabled_verticals_customers_can_still_be_updated_and_its_data_returns(acme, both):
    """Issue 18 point 7: with the dealer vertical disabled, an update that does not touch its
    fields succeeds (it used to fail VERTICAL_NOT_ENABLED: the customer was frozen); its data is
    kept, hidden from reads, refused if changed, and back unchanged on re-enable."""
    admin, customer = await _customer(acme, both)
    await verticals.disable_vertical(SYSTEM.for_tenant(acme.id), both, "dealer")
    hidden = await customers.get_customer(admin, customer.id)
    assert hidden.record["extensions"] == {"shop": {"credit_limit": "1234.56"}}
    updated = await customers.update_customer(admin, both, customer.id, version=customer.version,
                                              changes={"tags": ["vip"]})
    assert updated.record["tags"] == ["vip"] and "dealer" not in updated.record["extensions"]
    # Changing the enabled vertical's fields alone (the caller sees no dealer data to send back).
    updated = await customers.update_customer(admin, both, customer.id, version=updated.version,
                                              changes={"extensions": {"shop": {"credit_limit": Decimal("99.90")}}})
    assert updated.record["extensions"] == {"shop": {"credit_limit": "99.90"}}
    page, _ = await customers.list_customers(admin, customers.CustomerFilter(), first=10)
    assert [c.record.get("extensions") for c in page] == [{"shop": {"credit_limit": "99.90"}}]
    with pytest.raises(KehuError) as refused:
        await customers.update_customer(admin, both, customer.id, version=updated.version,
                                        changes={"extensions": {"dealer": {**DEALER_DATA, "purchases": 3}}})
    assert refused.value.code == "VERTICAL_NOT_ENABLED" and refused.value.field == "extensions.dealer"
    await verticals.enable_vertical(SYSTEM.for_tenant(acme.id), both, "dealer")
    back = await customers.get_customer(admin, customer.id)
    assert back.record["extensions"] == {"dealer": DEALER_DATA, "shop": {"credit_limit": "99.90"}}
    assert back.record["tags"] == ["vip"]


async def test_a_disabled_verticals_changes_are_hidden_from_the_history_and_return(acme, both):
    """Issue 18 point 7: the history (and a past version rebuilt from it) hides a disabled
    vertical's fields like the record does, and shows them again on re-enable."""
    admin, customer = await _customer(acme, both)
    await verticals.disable_vertical(SYSTEM.for_tenant(acme.id), both, "dealer")
    history = await customers.customer_history(admin, customer.id)
    changed = {name for entry in history for name in entry.changes}
    assert "extensions.shop.credit_limit" in changed
    assert not any(name.startswith("extensions.dealer.") for name in changed)
    _, record = await customers.customer_as_of(admin, customer.id, history[-1].changed_at)
    assert record["extensions"] == {"shop": {"credit_limit": "1234.56"}}
    await verticals.enable_vertical(SYSTEM.for_tenant(acme.id), both, "dealer")
    history = await customers.customer_history(admin, customer.id)
    assert history[0].changes["extensions.dealer.vin"] == [None, DEALER_DATA["vin"]]


async def test_a_blocked_plugins_data_is_kept_on_update_and_not_masked_as_personal(acme, both):
    """Issue 18 point 7: when the dealer plugin is not loaded (blocked), the tenant's customers can
    still be updated, its data is kept, and a read shows none of it rather than its not_personal
    fields masked as if personal (a number withheld, a choice starred)."""
    from gateway.graphql.customers import Customer as CustomerType

    admin, customer = await _customer(acme, both)
    without_dealer = make_registry(("shop", shop))  # KEHU_DISABLED_PLUGINS=dealer
    updated = await customers.update_customer(admin, without_dealer, customer.id, version=customer.version,
                                              changes={"tags": ["blocked"]})
    schema = customers.extension_schema(without_dealer)
    assert CustomerType.of(updated, schema).extensions == {"shop": {"credit_limit": "1234.56"}}
    back = await customers.get_customer(admin, customer.id)  # the plugin loaded again
    assert back.record["extensions"]["dealer"] == DEALER_DATA
    assert CustomerType.of(back, customers.extension_schema(both)).extensions["dealer"]["segment"] == "fleet"


def test_a_personal_decimal_field_is_withheld_when_masked():
    """Issue 18 point 4: a personal decimal extension field, now kept as decimal text, is still
    withheld when masked (as a masked number was), not shown by its first digit."""
    from core.privacy.masking import mask_changes, mask_record

    income = CustomerField("income", FieldKind.DECIMAL, PrivacyClass.PERSONAL, "Income", "收入")
    schema = {"shop": {"income": income, "credit_limit": SHOP_FIELDS[0]}}
    record = {"extensions": {"shop": {"income": "88000.00", "credit_limit": "1234.56"}}}
    assert mask_record(record, schema) == {"extensions": {"shop": {"income": None, "credit_limit": "1234.56"}}}
    assert mask_changes({"extensions.shop.income": [None, "88000.00"]}, schema) == {
        "extensions.shop.income": [None, None]}
