"""Customer records: what is refused (each with its own code, nothing written), what is kept
(field history with reasons, any past state), versions, duplicates, contacts, scope, handover."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from core.audit.tables import AuditEntry
from core.customers import records
from core.customers import service as customers
from core.customers.tables import Customer, CustomerContact, CustomerHistory, CustomerKey
from core.db import unit_of_work
from core.errors import KehuError
from core.identity import roles, users
from core.identity.permissions import Scope
from core.jobs.tables import OutboxEvent
from tests.customers.conftest import ORGANISATION, PERSON
from tests.support import SYSTEM, add_user, sign_in

ADDRESS = PERSON["address"]
INVALID = [
    ("resident ID checksum", {"identifier": {"type": "resident_id", "number": "110105194912310021"}},
     "RESIDENT_ID_INVALID", "identifier.number"),
    ("placeholder name 王女士", {"surname": "王", "given_name": "女士"}, "NAME_PLACEHOLDER", "given_name"),
    ("placeholder name 某先生", {"surname": "某", "given_name": "先生"}, "NAME_PLACEHOLDER", "given_name"),
    ("malformed phone", {"phones": ["138-1234"]}, "PHONE_INVALID", "phones"),
    ("address without county", {"address": {k: val for k, val in ADDRESS.items() if k != "county"}},
     "ADDRESS_INCOMPLETE", "address.county"),
    ("address without house number", {"address": {k: val for k, val in ADDRESS.items() if k != "house_number"}},
     "ADDRESS_INCOMPLETE", "address.house_number"),
    ("email", {"emails": ["not-an-address"]}, "EMAIL_INVALID", "emails"),
    ("status", {"status": "sleeping"}, "CUSTOMER_STATUS_INVALID", "status"),
    ("unknown field", {"nickname": "明仔"}, "FIELD_UNKNOWN", "nickname"),
    ("unknown extension field", {"extensions": {"dealer": {"colour": "red"}}}, "EXTENSION_FIELD_UNKNOWN",
     "extensions.dealer.colour"),
    ("extension of an unknown vertical", {"extensions": {"bakery": {"vin": "x"}}}, "EXTENSION_FIELD_UNKNOWN",
     "extensions.bakery"),
    ("extension field of the wrong type", {"extensions": {"dealer": {"purchases": "two"}}},
     "EXTENSION_FIELD_INVALID", "extensions.dealer.purchases"),
    ("extension text in the wrong format", {"extensions": {"dealer": {"vin": "LSVAU2180N2I83791"}}},
     "EXTENSION_FIELD_INVALID", "extensions.dealer.vin"),
    ("extension choice not offered", {"extensions": {"dealer": {"segment": "rental"}}},
     "EXTENSION_FIELD_INVALID", "extensions.dealer.segment"),
    # Issue 16 point 9: control, bidi and invisible characters; future birth dates; unbounded lists.
    ("NUL in a name", {"given_name": "小\x00明"}, "TEXT_INVALID_CHARACTERS", "given_name"),
    ("bidi override in a name", {"surname": "\u202e王"}, "TEXT_INVALID_CHARACTERS", "surname"),
    ("zero-width space in a name", {"given_name": "小\u200b明"}, "TEXT_INVALID_CHARACTERS", "given_name"),
    ("bidi isolate in an address", {"address": {**ADDRESS, "street": "建国\u2067路"}}, "TEXT_INVALID_CHARACTERS",
     "address.street"),
    ("C1 control in a section", {"needs": {"budget": "十万\x85元"}}, "TEXT_INVALID_CHARACTERS", "needs.budget"),
    ("byte order mark in a tag", {"tags": ["\ufeffvip"]}, "TEXT_INVALID_CHARACTERS", "tags"),
    ("right-to-left mark in an email", {"emails": ["wang\u200f@example.com"]}, "TEXT_INVALID_CHARACTERS", "emails"),
    ("bidi override in a phone", {"phones": ["\u202e13812345678"]}, "TEXT_INVALID_CHARACTERS", "phones"),
    ("resident ID born in 2099", {"identifier": {"type": "resident_id", "number": "110105209901010020"}},
     "BIRTH_DATE_IN_FUTURE", "identifier.number"),
    ("explicit birth date in the future", {"other": {"birth_date": "2099-01-01"}}, "BIRTH_DATE_IN_FUTURE",
     "other.birth_date"),
    ("1,000 tags", {"tags": [f"t{i}" for i in range(1000)]}, "LIST_TOO_LONG", "tags"),
    ("51 tags", {"tags": [f"t{i}" for i in range(51)]}, "LIST_TOO_LONG", "tags"),
    ("21 phones", {"phones": [f"1381234{i:04d}" for i in range(21)]}, "LIST_TOO_LONG", "phones"),
]
INVALID_ORGANISATION = [
    ("credit code checksum", {"identifier": {"type": "credit_code", "number": "91110000600037341A"}},
     "CREDIT_CODE_INVALID", "identifier.number"),
    ("organisation identified by a resident ID", {"identifier": {"type": "resident_id", "number": "11010519491231002X"}},
     "IDENTIFIER_TYPE_INVALID", "identifier.type"),
    ("person's name on an organisation", {"surname": "王"}, "FIELD_NOT_FOR_KIND", "surname"),
]


async def _counts(tenant_id) -> tuple[int, ...]:
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        return tuple([await uow.count(table) for table in (Customer, CustomerContact, CustomerHistory, CustomerKey,
                                                           AuditEntry, OutboxEvent)])


@pytest.mark.parametrize(("case", "change", "code", "field"), INVALID + INVALID_ORGANISATION,
                         ids=[c[0] for c in INVALID + INVALID_ORGANISATION])
async def test_invalid_input_is_refused_with_its_own_code_and_nothing_is_written(acme, registry, case, change, code,
                                                                                  field):
    admin = await sign_in("acme", "admin")
    base = ORGANISATION if (case, change, code, field) in INVALID_ORGANISATION else PERSON
    before = await _counts(acme.id)
    with pytest.raises(KehuError) as refused:
        await customers.create_customer(admin, registry, {**base, **change})
    assert (refused.value.code, refused.value.field) == (code, field)
    assert await _counts(acme.id) == before

    existing = (await customers.create_customer(admin, registry, base, force=True)).customer
    before = await _counts(acme.id)
    with pytest.raises(KehuError) as refused_update:  # the same rule holds on update
        await customers.update_customer(admin, registry, existing.id, version=1, changes=change, reason="fix")
    assert (refused_update.value.code, refused_update.value.field) == (code, field)
    assert await _counts(acme.id) == before


async def test_extension_fields_of_a_vertical_the_tenant_has_not_enabled_are_refused(seeded, registry):
    admin = await sign_in("globex", "admin")  # globex has not enabled the dealer vertical
    with pytest.raises(KehuError) as refused:
        await customers.create_customer(admin, registry, {**PERSON, "extensions": {"dealer": {"purchases": 1}}})
    assert refused.value.code == "VERTICAL_NOT_ENABLED"


async def test_valid_input_is_normalised_and_extension_fields_are_stored_and_filterable(acme, registry):
    admin = await sign_in("acme", "admin")
    created = await customers.create_customer(admin, registry, {
        **PERSON, "phones": ["+86 138-1234-5678", "13812345678"], "emails": [" Wang@Example.COM "],
        "extensions": {"dealer": {"vin": "LSVAU2180N2183791", "purchases": 2, "segment": "fleet"}}})
    record = created.customer.record
    assert record["phones"] == ["+8613812345678"] and record["emails"] == ["wang@example.com"]
    assert record["extensions"] == {"dealer": {"vin": "LSVAU2180N2183791", "purchases": 2, "segment": "fleet"}}
    assert created.customer.display_name == "王小明" and created.customer.owner_id == admin.user_id
    await customers.create_customer(admin, registry, {**ORGANISATION, "extensions": {"dealer": {"segment": "private"}}})
    fleet, _ = await customers.list_customers(admin, customers.CustomerFilter(extension=("dealer", "segment", "fleet")),
                                              first=10)
    assert [c.id for c in fleet] == [created.customer.id]
    by_phone, _ = await customers.list_customers(admin, customers.CustomerFilter(text="13812345678"), first=10)
    assert [c.id for c in by_phone] == [created.customer.id]


async def test_a_key_field_change_needs_a_reason_and_every_change_is_kept_with_who_and_why(acme, registry):
    admin = await sign_in("acme", "admin")
    customer = (await customers.create_customer(admin, registry, PERSON)).customer
    with pytest.raises(KehuError) as refused:
        await customers.update_customer(admin, registry, customer.id, version=1, changes={"phones": ["13987654321"]})
    assert (refused.value.code, refused.value.field) == ("REASON_REQUIRED", "reason")
    updated = await customers.update_customer(admin, registry, customer.id, version=1,
                                              changes={"phones": ["13987654321"], "status": "active"},
                                              reason="customer called with a new number")
    assert updated.version == 2
    history = await customers.customer_history(admin, customer.id)
    assert [h.version for h in history] == [1, 2]
    assert history[1].changes == {"phones": [["+8613812345678"], ["+8613987654321"]], "status": ["potential", "active"]}
    assert history[1].actor == admin.actor and history[1].reason == "customer called with a new number"
    async with unit_of_work(SYSTEM.for_tenant(acme.id), write=False) as uow:
        entry = await uow.select(AuditEntry.diff).where(AuditEntry.action == "customer.updated").first()
    assert "13987654321" not in entry["diff"]  # the audit log says the phone changed, not what to


async def test_a_stale_update_is_refused(acme, registry):
    admin = await sign_in("acme", "admin")
    customer = (await customers.create_customer(admin, registry, PERSON)).customer
    await customers.update_customer(admin, registry, customer.id, version=1, changes={"status": "active"})
    with pytest.raises(KehuError) as stale:
        await customers.update_customer(admin, registry, customer.id, version=1, changes={"status": "dormant"})
    assert (stale.value.code, stale.value.field) == ("VERSION_CONFLICT", "version")
    assert (await customers.get_customer(admin, customer.id)).status == "active"


async def test_duplicates_are_reported_and_an_identifier_match_needs_force_and_its_permission(acme, registry):
    admin = await sign_in("acme", "admin")
    first = (await customers.create_customer(admin, registry, PERSON)).customer
    likely = await customers.create_customer(admin, registry, {"kind": "person", "surname": "李", "given_name": "四",
                                                               "phones": ["13812345678"]})
    assert [(d.customer_id, d.matched_on) for d in likely.duplicates] == [(first.id, ("phone",))]
    same_person = {**PERSON, "phones": ["13900000000"]}
    with pytest.raises(KehuError) as refused:
        await customers.create_customer(admin, registry, same_person)
    assert refused.value.code == "DUPLICATE_IDENTIFIER"

    clerk_user = await add_user(acme, "clerk")
    role = await roles.create_role(SYSTEM.for_tenant(acme.id), name="录入员",
                                   permissions={"customer.read": Scope.TENANT, "customer.write": Scope.TENANT})
    await roles.grant_role(SYSTEM.for_tenant(acme.id), user_id=clerk_user.id, role_id=role.id)
    clerk = await sign_in("acme", "clerk")
    with pytest.raises(KehuError) as denied:
        await customers.create_customer(clerk, registry, same_person, force=True)
    assert denied.value.code == "PERMISSION_DENIED"
    forced = await customers.create_customer(admin, registry, same_person, force=True)
    assert {d.customer_id for d in forced.duplicates} == {first.id}


async def test_key_customers_need_the_tenant_set_number_of_contacts(acme, registry):
    admin = await sign_in("acme", "admin")
    one = [customers.ContactInput(surname="刘", given_name="洋", position="采购经理", phones=["13700000001"],
                                  is_primary=True)]
    with pytest.raises(KehuError) as refused:
        await customers.create_customer(admin, registry, {**ORGANISATION, "is_key": True}, contacts=one)
    assert refused.value.code == "KEY_CUSTOMER_CONTACTS"
    two = [*one, customers.ContactInput(surname="陈", given_name="静", position="财务", phones=["13700000002"])]
    key = (await customers.create_customer(admin, registry, {**ORGANISATION, "is_key": True}, contacts=two)).customer
    contacts = (await customers.contacts_of(admin, [key.id]))[key.id]
    assert [(c.surname + c.given_name, c.is_primary) for c in contacts] == [("刘洋", True), ("陈静", False)]
    with pytest.raises(KehuError) as below:
        await customers.remove_contact(admin, contacts[1].id)
    assert below.value.code == "KEY_CUSTOMER_CONTACTS"
    await customers.update_customer_rules(admin, {"key_customer_min_contacts": 1})
    await customers.remove_contact(admin, contacts[1].id)
    assert len((await customers.contacts_of(admin, [key.id]))[key.id]) == 1


async def test_readers_see_only_what_their_scope_reaches(acme, registry):
    seller_user = await add_user(acme, "seller")
    await roles.grant_role(SYSTEM.for_tenant(acme.id), user_id=seller_user.id,
                           role_id=next(r.id for r in await roles.list_roles(SYSTEM.for_tenant(acme.id))
                                        if r.name == "销售顾问"))
    seller, admin = await sign_in("acme", "seller"), await sign_in("acme", "admin")
    own = (await customers.create_customer(seller, registry, PERSON)).customer
    other = (await customers.create_customer(admin, registry, ORGANISATION)).customer
    page, _ = await customers.list_customers(seller, customers.CustomerFilter(), first=10)
    assert [c.id for c in page] == [own.id]
    with pytest.raises(KehuError) as hidden:
        await customers.get_customer(seller, other.id)
    assert hidden.value.code == "NOT_FOUND"
    page, _ = await customers.list_customers(admin, customers.CustomerFilter(), first=10)
    assert {c.id for c in page} == {own.id, other.id}
    globex_admin = await sign_in("globex", "admin")
    assert (await customers.list_customers(globex_admin, customers.CustomerFilter(), first=10))[0] == []
    with pytest.raises(KehuError):
        await customers.get_customer(globex_admin, own.id)


async def test_transfer_and_account_handover_move_customers_and_keep_it_in_their_history(acme, registry):
    admin = await sign_in("acme", "admin")
    leaver = await add_user(acme, "leaver")
    successor = await add_user(acme, "successor")
    customer = (await customers.create_customer(admin, registry, {**PERSON, "owner_id": str(leaver.id)})).customer
    with pytest.raises(KehuError) as no_reason:
        await customers.transfer_customer(admin, customer.id, to_user_id=successor.id, reason=" ")
    assert no_reason.value.code == "REASON_REQUIRED"
    moved = await customers.transfer_customer(admin, customer.id, to_user_id=successor.id, reason="territory change")
    assert moved.owner_id == successor.id and moved.version == 2
    second = (await customers.create_customer(admin, registry, {**ORGANISATION, "owner_id": str(successor.id)})).customer
    await users.disable_user(admin, successor.id, reason="left the company", successor_id=leaver.id)
    for customer_id in (customer.id, second.id):
        history = await customers.customer_history(admin, customer_id)
        assert history[-1].changes == {"owner_id": [str(successor.id), str(leaver.id)]}
        assert history[-1].reason == "account handover"
        assert (await customers.get_customer(admin, customer_id)).owner_id == leaver.id


async def test_a_soft_deleted_customer_is_hidden_from_normal_queries(acme, registry):
    admin = await sign_in("acme", "admin")
    customer = (await customers.create_customer(admin, registry, PERSON)).customer
    await customers.delete_customer(admin, customer.id, reason="entered twice")
    assert (await customers.list_customers(admin, customers.CustomerFilter(), first=10))[0] == []
    with pytest.raises(KehuError):
        await customers.get_customer(admin, customer.id)
    shown, _ = await customers.list_customers(admin, customers.CustomerFilter(include_deleted=True), first=10)
    assert [c.id for c in shown] == [customer.id]


# --- any past state, rebuilt from history (property test) -------------------------------------

EDITS = st.lists(st.fixed_dictionaries({}, optional={
    "status": st.sampled_from(["potential", "active", "dormant", "lost"]),
    "phones": st.lists(st.sampled_from(["13812345678", "13987654321", "13700000000"]), max_size=2, unique=True),
    "given_name": st.sampled_from(["小明", "大明", "明"]),
    "tags": st.lists(st.sampled_from(["vip", "新客", "回访"]), max_size=2, unique=True),
    "business": st.one_of(st.none(), st.fixed_dictionaries({"scale": st.sampled_from(["small", "large"])})),
    "address": st.sampled_from([ADDRESS, {**ADDRESS, "county": "海淀区"}]),
    "extensions": st.one_of(st.none(), st.fixed_dictionaries({"dealer": st.fixed_dictionaries(
        {"purchases": st.integers(0, 5)})})),
}).filter(bool), min_size=1, max_size=6)


@hypothesis_settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=EDITS)
async def test_any_past_state_is_rebuilt_exactly_from_the_history(acme, registry, edits):
    admin = await sign_in("acme", "admin")
    view = (await customers.create_customer(admin, registry, PERSON, force=True)).customer
    states = [(view.version, view.record)]
    for changes in edits:
        view = await customers.update_customer(admin, registry, view.id, version=view.version, changes=changes,
                                               reason="property test")
        if view.version != states[-1][0]:
            states.append((view.version, view.record))
    history = await customers.customer_history(admin, view.id)
    for version, expected in states:
        entry = next(h for h in history if h.version == version)
        got_version, record = await customers.customer_as_of(admin, view.id, entry.changed_at)
        assert (got_version, record) == (version, expected)
    with pytest.raises(KehuError) as before_creation:
        await customers.customer_as_of(admin, view.id, history[0].changed_at - timedelta(seconds=1))
    assert before_creation.value.code == "CUSTOMER_NOT_YET_CREATED"
    assert records.replay(h.changes for h in history) == view.record


# --- merge and unmerge ----------------------------------------------------------------------------

async def _snapshot(ctx, customer_ids) -> list:
    found = []
    for customer_id in customer_ids:
        view = await customers.get_customer(ctx, customer_id)
        contacts = (await customers.contacts_of(ctx, [customer_id]))[customer_id]
        history = await customers.customer_history(ctx, customer_id)
        found.append((view, sorted(contacts, key=lambda c: str(c.id)), history))
    return found


async def test_merge_then_unmerge_returns_both_customers_to_what_they_were(acme, registry):
    from core.customers import merging

    admin = await sign_in("acme", "admin")
    contact = lambda n: customers.ContactInput(surname="刘", given_name=n, phones=["13700000001"])  # noqa: E731
    survivor = (await customers.create_customer(admin, registry, ORGANISATION, contacts=[contact("洋")])).customer
    duplicate = (await customers.create_customer(admin, registry, {**ORGANISATION, "org_name": "北京星辰汽车"},
                                                 contacts=[contact("静"), contact("伟")], force=True)).customer
    await customers.update_customer(admin, registry, duplicate.id, version=1, changes={"status": "active"})
    before = await _snapshot(admin, [survivor.id, duplicate.id])

    merge = await merging.merge_customers(admin, survivor_id=survivor.id, merged_id=duplicate.id, reason="same company")
    assert len(merge.moved["contact"]) == 2
    assert len((await customers.contacts_of(admin, [survivor.id]))[survivor.id]) == 3  # contacts carried
    with pytest.raises(KehuError):
        await customers.get_customer(admin, duplicate.id)  # the merged one is hidden
    page, _ = await customers.list_customers(admin, customers.CustomerFilter(), first=10)
    assert [c.id for c in page] == [survivor.id]
    carried = await customers.customer_history(admin, survivor.id, include_merged=True)
    assert {h.customer_id for h in carried} == {survivor.id, duplicate.id}  # history carried with it
    assert [m.id for m in await merging.merges_of(admin, survivor.id)] == [merge.id]

    undone = await merging.unmerge_customers(admin, merge.id)
    assert undone.undone_at is not None
    assert await _snapshot(admin, [survivor.id, duplicate.id]) == before
    with pytest.raises(KehuError) as again:
        await merging.unmerge_customers(admin, merge.id)
    assert again.value.code == "MERGE_ALREADY_UNDONE"


async def test_a_merge_is_refused_across_tenants_and_after_its_undo_window(acme, registry):
    from core.customers import merging

    admin, other = await sign_in("acme", "admin"), await sign_in("globex", "admin")
    ours = (await customers.create_customer(admin, registry, PERSON)).customer
    theirs = (await customers.create_customer(other, registry, {**PERSON, "given_name": "大明"})).customer
    before = await _counts(acme.id)
    for survivor, merged in ((ours.id, theirs.id), (theirs.id, ours.id)):
        with pytest.raises(KehuError) as refused:
            await merging.merge_customers(admin, survivor_id=survivor, merged_id=merged, reason="x")
        assert refused.value.code == "NOT_FOUND"
    assert await _counts(acme.id) == before

    await customers.update_customer_rules(admin, {"merge_undo_days": 0})
    second = (await customers.create_customer(admin, registry, {**PERSON, "given_name": "晓明"}, force=True)).customer
    merge = await merging.merge_customers(admin, survivor_id=ours.id, merged_id=second.id, reason="same person")
    with pytest.raises(KehuError) as expired:
        await merging.unmerge_customers(admin, merge.id)
    assert expired.value.code == "MERGE_UNDO_EXPIRED"


async def test_a_due_review_is_announced_once_and_a_review_sets_the_next_due_date(acme, registry):
    admin = await sign_in("acme", "admin")
    customer = (await customers.create_customer(admin, registry, PERSON)).customer
    months = customers.DEFAULT_RULES["review_months"]
    assert customer.review_due_at - customer.created_at > timedelta(days=months * 30 - 2)
    assert await customers.announce_due_reviews(customer.review_due_at - timedelta(minutes=1)) == 0
    assert await customers.announce_due_reviews(customer.review_due_at) == 1
    assert await customers.announce_due_reviews(customer.review_due_at + timedelta(days=1)) == 0  # once
    async with unit_of_work(SYSTEM.for_tenant(acme.id), write=False) as uow:
        events = await uow.count(OutboxEvent).where(OutboxEvent.event_type == "customer.review_due")
    assert events == 1
    reviewed = await customers.review_customer(admin, customer.id, note="checked with the customer by phone")
    assert reviewed.last_reviewed_by == admin.actor and reviewed.review_due_at > customer.review_due_at
    due, _ = await customers.list_customers(admin, customers.CustomerFilter(review_due=True), first=10)
    assert due == []
    assert await customers.announce_due_reviews(reviewed.review_due_at) == 1  # the next cycle announces again


async def test_a_birth_date_of_today_and_fifty_tags_are_still_accepted(acme, registry):
    """Issue 16 point 9: the new bounds refuse the future and the excessive, not today or a full list."""
    from stdnum.cn import ric

    from core.customers import validation

    born = validation.latest_today() - timedelta(days=1)
    body = f"110105{born:%Y%m%d}002"
    number = body + ric.calc_check_digit(body + "0")
    admin = await sign_in("acme", "admin")
    created = await customers.create_customer(admin, registry, {
        **PERSON, "identifier": {"type": "resident_id", "number": number}, "other": {"birth_date": born.isoformat()},
        "tags": [f"t{i:02d}" for i in range(50)]}, force=True)
    assert len(created.customer.record["tags"]) == 50
    assert created.customer.record["other"] == {"birth_date": born.isoformat()}


def _named(base: dict, name: str) -> dict:
    return {**base, "org_name": name}


async def test_search_text_is_bounded_and_refused_with_its_code(acme, registry):
    """Issue 16 point 8: a search text is 1-100 characters after trimming; a 50,000-character one
    answered INTERNAL_ERROR and a blank one matched everything."""
    admin = await sign_in("acme", "admin")
    await customers.create_customer(admin, registry, ORGANISATION)
    for text in ("x" * 50_000, "x" * 101, "   ", "", "王\u202e"):
        with pytest.raises(KehuError) as refused:
            await customers.list_customers(admin, customers.CustomerFilter(text=text), first=10)
        assert (refused.value.code, refused.value.field) == (
            "TEXT_INVALID_CHARACTERS" if "\u202e" in text else "SEARCH_TEXT_INVALID", "filter.text"), text[:5]
    found, _ = await customers.list_customers(admin, customers.CustomerFilter(text="  星辰" + " " * 200), first=10)
    assert [c.display_name for c in found] == [ORGANISATION["org_name"]]
    assert (await customers.list_customers(admin, customers.CustomerFilter(text="星" * 100), first=10))[0] == []


async def test_like_wildcards_in_search_text_match_only_themselves(acme, registry):
    """Issue 16 point 8: "%" matched every name, "_" any character; they (and the escape
    character) now match only names that hold them, on SQLite and PostgreSQL alike."""
    admin = await sign_in("acme", "admin")
    names = ["百分%汽车商行", "下划_线汽车商行", "反斜\\杠汽车商行", "普通汽车商行", "abc汽车商行"]
    for name in names:
        await customers.create_customer(admin, registry, _named(ORGANISATION, name), force=True)

    async def search(text: str, **more) -> list[str]:
        found, _ = await customers.list_customers(admin, customers.CustomerFilter(text=text, **more), first=50)
        return sorted(c.display_name for c in found)

    assert await search("%") == ["百分%汽车商行"]
    assert await search("_") == ["下划_线汽车商行"]
    assert await search("\\") == ["反斜\\杠汽车商行"]
    assert await search("a_c") == []
    assert await search("%汽车%") == []
    assert await search("汽车商行") == sorted(names)
    assert await search("ABC") == ["abc汽车商行"]  # still case-insensitive


async def test_like_wildcards_in_a_tag_or_extension_filter_match_only_themselves(acme, registry):
    """Issue 16 point 8: the tag and extension filters are LIKE patterns too; their wildcards are escaped."""
    admin = await sign_in("acme", "admin")
    tagged = (await customers.create_customer(admin, registry, {**PERSON, "tags": ["50%"]})).customer
    await customers.create_customer(admin, registry, {**ORGANISATION, "tags": ["500"],
                                                      "extensions": {"dealer": {"segment": "fleet"}}})
    found, _ = await customers.list_customers(admin, customers.CustomerFilter(tag="50%"), first=10)
    assert [c.id for c in found] == [tagged.id]
    assert (await customers.list_customers(admin, customers.CustomerFilter(tag="5_%"), first=10))[0] == []
    assert (await customers.list_customers(admin, customers.CustomerFilter(extension=("dealer", "segment", "f%")),
                                           first=10))[0] == []
