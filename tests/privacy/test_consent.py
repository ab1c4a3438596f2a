"""The consent ledger: processing for a purpose is allowed if and only if the customer's latest
consent for it is a grant (property test through the services and the database); sensitive data
needs its own, separate consent; withdrawal is as easy as grant and holds for every later check;
refusals write nothing; tenants and scopes kept apart; plugins and GraphQL see the same answer."""

from __future__ import annotations

from types import SimpleNamespace
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st
from litestar.testing import AsyncTestClient

from core.audit.tables import AuditEntry
from core.customers import service as customers
from core.db import unit_of_work
from core.errors import KehuError
from core.identity import roles
from core.identity.permissions import Scope
from core.jobs.tables import OutboxEvent
from core.plugins import privacy as plugin_privacy
from core.plugins.testing import make_registry
from core.privacy import consent
from core.privacy.consent import PURPOSES, SENSITIVE
from core.privacy.consent_tables import ConsentRecord
from core.tenancy import service as tenancy
from gateway.app import create_app
from tests.gateway.test_identity_api import gql, login
from tests.support import SYSTEM, add_user, sign_in

PERSON = {"kind": "person", "surname": "李", "given_name": "晓燕", "phones": ["139 1234 5678"]}
EVIDENCE = "纸质同意书编号 QX-20391 由李晓燕签字"


async def new_customer(tenant, **fields) -> customers.CustomerView:
    created = await customers.create_customer(SYSTEM.for_tenant(tenant.id), make_registry(), {**PERSON, **fields})
    return created.customer


async def written(tenant) -> tuple[int, int, int]:
    """Ledger rows, audit entries and outbox events of the tenant."""
    async with unit_of_work(SYSTEM.for_tenant(tenant.id), write=False) as uow:
        return (await uow.count(ConsentRecord), await uow.count(AuditEntry), await uow.count(OutboxEvent))


# --- acceptance 4: allowed iff the latest consent is a grant -----------------------------------

STEPS = st.lists(st.tuples(st.sampled_from(["grant", "withdraw"]),
                           st.lists(st.sampled_from(PURPOSES), min_size=1, max_size=3, unique=True)),
                 min_size=0, max_size=8)


@hypothesis_settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
async def test_processing_is_allowed_if_and_only_if_the_latest_consent_for_the_purpose_is_a_grant(seeded, steps):
    admin = await sign_in("acme", "admin")
    customer = await new_customer(seeded.acme)
    latest: dict[str, str] = {}  # the model: purpose -> last action recorded

    async def agrees() -> None:
        async with unit_of_work(admin, write=False) as uow:  # a campaign's own transaction
            for purpose in PURPOSES:
                expected = latest.get(purpose) == "grant"
                assert await consent.may_process(uow, customer.id, purpose) is expected, (purpose, latest)
                with_sensitive = expected and latest.get(SENSITIVE) == "grant"
                assert await consent.may_process(uow, customer.id, purpose, sensitive=True) is with_sensitive
        states = {s.purpose: s.granted for s in await consent.consent_state(admin, customer.id)}
        assert states == {p: latest.get(p) == "grant" for p in PURPOSES}

    await agrees()  # never consented: every purpose refused
    for action, purposes in steps:
        if action == "grant" and SENSITIVE in purposes and len(purposes) > 1:
            before = await written(seeded.acme)
            with pytest.raises(KehuError) as refused:
                await consent.grant_consent(admin, customer.id, purposes, notice_version="v1", channel="web")
            assert refused.value.code == "SEPARATE_CONSENT_REQUIRED"
            assert await written(seeded.acme) == before
        elif action == "grant":
            await consent.grant_consent(admin, customer.id, purposes, notice_version="v2", channel="app")
            latest.update(dict.fromkeys(purposes, "grant"))
        else:
            await consent.withdraw_consent(admin, customer.id, purposes, channel="phone")
            latest.update(dict.fromkeys(purposes, "withdraw"))
        await agrees()


async def test_sensitive_data_needs_its_own_consent_given_on_its_own(seeded):
    admin = await sign_in("acme", "admin")
    customer = await new_customer(seeded.acme)
    others = [p for p in PURPOSES if p != SENSITIVE]
    await consent.grant_consent(admin, customer.id, others, notice_version="2026-01", channel="paper")
    assert all([await consent.may_process(admin, customer.id, p) for p in others])
    assert not await consent.may_process(admin, customer.id, SENSITIVE)
    assert not await consent.may_process(admin, customer.id, "marketing_sms", sensitive=True)
    before = await written(seeded.acme)
    with pytest.raises(KehuError) as bundled:
        await consent.grant_consent(admin, customer.id, ["marketing_sms", SENSITIVE], notice_version="2026-01",
                                    channel="paper")
    assert (bundled.value.code, bundled.value.field) == ("SEPARATE_CONSENT_REQUIRED", "purposes")
    assert await written(seeded.acme) == before
    await consent.grant_consent(admin, customer.id, [SENSITIVE], notice_version="2026-01", channel="paper")
    assert await consent.may_process(admin, customer.id, "marketing_sms", sensitive=True)


async def test_withdrawal_is_as_easy_as_grant_and_holds_for_every_later_check(seeded, audit_scan):
    admin = await sign_in("acme", "admin")
    customer = await new_customer(seeded.acme)
    granted = await consent.grant_consent(admin, customer.id, ["marketing_sms", "marketing_email"],
                                          notice_version="2026-03", channel="in_store", evidence=EVIDENCE)
    assert [(e.purpose, e.action, e.notice_version, e.channel, e.recorded_by) for e in granted] == [
        ("marketing_sms", "grant", "2026-03", "in_store", admin.actor),
        ("marketing_email", "grant", "2026-03", "in_store", admin.actor)]
    await consent.require_consent(admin, customer.id, "marketing_sms")
    # No notice version, any channel, several purposes at once.
    await consent.withdraw_consent(admin, customer.id, ["marketing_sms", "marketing_email"], channel="sms")
    for purpose in ("marketing_sms", "marketing_email"):
        assert not await consent.may_process(admin, customer.id, purpose)
        with pytest.raises(KehuError) as refused:
            await consent.require_consent(admin, customer.id, purpose)
        assert refused.value.code == "CONSENT_REQUIRED"
    history = await consent.consent_history(admin, customer.id, "marketing_sms")
    assert [(e.action, e.channel) for e in history] == [("grant", "in_store"), ("withdraw", "sms")]
    assert history[0].recorded_at <= history[1].recorded_at and history[0].evidence == EVIDENCE
    assert len(await consent.consent_history(admin, customer.id)) == 4  # append-only: nothing replaced
    async with unit_of_work(SYSTEM.for_tenant(seeded.acme.id), write=False) as uow:
        events = [r["event_type"] for r in await uow.select(OutboxEvent.event_type).where(
            OutboxEvent.aggregate_id == str(customer.id)) if r["event_type"].startswith("consent.")]
        actions = [r["action"] for r in await uow.select(AuditEntry.action).where(
            AuditEntry.target_id == str(customer.id)) if r["action"].startswith("consent.")]
    assert events == actions == ["consent.granted", "consent.withdrawn"]
    await audit_scan(EVIDENCE)  # the note stays in the access-controlled ledger


@pytest.mark.parametrize("call, code, field", [
    (lambda ctx, cid: consent.grant_consent(ctx, cid, ["newsletter"], notice_version="v1", channel="web"),
     "PURPOSE_UNKNOWN", "purpose"),
    (lambda ctx, cid: consent.grant_consent(ctx, cid, [], notice_version="v1", channel="web"),
     "PURPOSE_REQUIRED", "purposes"),
    (lambda ctx, cid: consent.grant_consent(ctx, cid, ["marketing_sms"], notice_version=" ", channel="web"),
     "NOTICE_VERSION_REQUIRED", "noticeVersion"),
    (lambda ctx, cid: consent.grant_consent(ctx, cid, ["marketing_sms"], notice_version="v1", channel="fax"),
     "CHANNEL_UNKNOWN", "channel"),
    (lambda ctx, cid: consent.withdraw_consent(ctx, cid, ["marketing_sms"], channel="fax"),
     "CHANNEL_UNKNOWN", "channel"),
    (lambda ctx, cid: consent.grant_consent(ctx, uuid4(), ["marketing_sms"], notice_version="v1", channel="web"),
     "CUSTOMER_NOT_FOUND", "customerId"),
    (lambda ctx, cid: consent.withdraw_consent(ctx, uuid4(), ["marketing_sms"], channel="web"),
     "CUSTOMER_NOT_FOUND", "customerId"),
])
async def test_a_refused_consent_writes_nothing(seeded, call, code, field):
    admin = await sign_in("acme", "admin")
    customer = await new_customer(seeded.acme)
    before = await written(seeded.acme)
    with pytest.raises(KehuError) as refused:
        await call(admin, customer.id)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert await written(seeded.acme) == before


async def test_another_tenants_customer_is_not_found_and_its_consent_counts_for_nothing_here(seeded):
    acme_admin, globex_admin = await sign_in("acme", "admin"), await sign_in("globex", "admin")
    customer = await new_customer(seeded.acme)
    await consent.grant_consent(acme_admin, customer.id, ["marketing_phone"], notice_version="v1", channel="phone")
    before = await written(seeded.globex)
    for call in (lambda: consent.grant_consent(globex_admin, customer.id, ["marketing_phone"], notice_version="v1",
                                               channel="web"),
                 lambda: consent.withdraw_consent(globex_admin, customer.id, ["marketing_phone"], channel="web"),
                 lambda: consent.consent_state(globex_admin, customer.id),
                 lambda: consent.consent_history(globex_admin, customer.id),
                 lambda: consent.check_consent(globex_admin, customer.id, "marketing_phone")):
        with pytest.raises(KehuError) as refused:
            await call()
        assert refused.value.code == "CUSTOMER_NOT_FOUND"
    assert not await consent.may_process(globex_admin, customer.id, "marketing_phone")
    assert await consent.may_process(acme_admin, customer.id, "marketing_phone")
    assert await written(seeded.globex) == before


async def test_consent_needs_its_permission_and_reaches_only_the_callers_scope(seeded):
    admin = await sign_in("acme", "admin")
    everyone = {r.name: r.id for r in await roles.list_roles(admin)}
    departments = {d.name: d.id for d in await tenancy.list_departments(admin)}
    await add_user(seeded.acme, "plain")
    await add_user(seeded.acme, "archivist", role_ids=[everyone["客服部档案管理员"]],
                   department_ids=[departments["客服部"]])
    mine = await new_customer(seeded.acme, department_id=str(departments["客服部"]))
    theirs = await new_customer(seeded.acme, department_id=str(departments["销售部"]), phones=["13912345679"])
    plain, archivist = await sign_in("acme", "plain"), await sign_in("acme", "archivist")
    with pytest.raises(KehuError) as denied:
        await consent.grant_consent(plain, mine.id, ["marketing_sms"], notice_version="v1", channel="web")
    assert denied.value.code == "PERMISSION_DENIED"
    with pytest.raises(KehuError) as denied:
        await consent.consent_state(plain, mine.id)
    assert denied.value.code == "PERMISSION_DENIED"
    await consent.grant_consent(archivist, mine.id, ["marketing_sms"], notice_version="v1", channel="web")
    with pytest.raises(KehuError) as hidden:
        await consent.grant_consent(archivist, theirs.id, ["marketing_sms"], notice_version="v1", channel="web")
    assert hidden.value.code == "CUSTOMER_NOT_FOUND"
    # Asking whether processing is allowed needs no consent permission: campaigns of any user ask it.
    assert await consent.may_process(plain, mine.id, "marketing_sms")
    assert roles.DEFAULT_ROLES["客服部档案管理员"][1]["privacy.consent.manage"] is Scope.DEPARTMENT


async def test_a_plugin_asks_through_core_plugins_and_sees_withdrawals(seeded):
    admin = await sign_in("acme", "admin")
    customer = await new_customer(seeded.acme)
    info = SimpleNamespace(context=SimpleNamespace(ctx=admin))  # what a vertical's resolver holds
    assert plugin_privacy.PURPOSES is consent.PURPOSES
    assert not await plugin_privacy.may_process(info, customer.id, "third_party_sharing")
    await consent.grant_consent(admin, customer.id, ["third_party_sharing"], notice_version="v1", channel="app")
    assert await plugin_privacy.may_process(info, customer.id, "third_party_sharing")
    assert await plugin_privacy.may_process(admin, customer.id, "third_party_sharing")  # or its context
    await consent.withdraw_consent(admin, customer.id, ["third_party_sharing"], channel="app")
    assert not await plugin_privacy.may_process(info, customer.id, "third_party_sharing")
    with pytest.raises(KehuError) as unknown:
        await plugin_privacy.may_process(info, customer.id, "telepathy")
    assert unknown.value.code == "PURPOSE_UNKNOWN"


# --- over GraphQL ------------------------------------------------------------------------------

GRANT = """mutation($c: ID!, $p: [String!]!) { consentGrant(customerId: $c, purposes: $p, noticeVersion: "2026-05",
  channel: "web", evidence: "网页勾选") { entries { purpose action noticeVersion channel recordedBy } errors { code field } } }"""
WITHDRAW = """mutation($c: ID!, $p: [String!]!) { consentWithdraw(customerId: $c, purposes: $p, channel: "phone")
  { entries { purpose action } errors { code field } } }"""
MAY = """query($c: ID!, $p: String!, $s: Boolean!) { mayProcess(customerId: $c, purpose: $p, sensitive: $s) }"""
STATE = """query($c: ID!) { customerConsents(customerId: $c) { nodes { purpose granted latest { action channel } } } }"""
HISTORY = """query($c: ID!) { consentHistory(customerId: $c, purpose: "cross_border") { nodes { seq action channel } } }"""


@pytest.fixture
async def client(settings, seeded):
    customer = await new_customer(seeded.acme)
    relaxed = settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000})
    async with AsyncTestClient(create_app(relaxed)) as test_client:
        test_client.customer_id = str(customer.id)
        yield test_client


async def test_consent_round_trip_over_graphql(client):
    token = (await login(client))["accessToken"]
    cid = client.customer_id

    async def may(purpose: str, sensitive: bool = False) -> bool:
        body = (await gql(client, MAY, token, c=cid, p=purpose, s=sensitive)).json()
        return body["data"]["mayProcess"]

    assert not await may("cross_border")
    body = (await gql(client, GRANT, token, c=cid, p=["cross_border"])).json()["data"]["consentGrant"]
    assert body["errors"] == [] and body["entries"][0]["action"] == "grant"
    assert body["entries"][0]["noticeVersion"] == "2026-05" and body["entries"][0]["recordedBy"].startswith("user:")
    assert await may("cross_border") and not await may("cross_border", sensitive=True)
    bundled = (await gql(client, GRANT, token, c=cid, p=["cross_border", SENSITIVE])).json()["data"]["consentGrant"]
    assert bundled == {"entries": [], "errors": [{"code": "SEPARATE_CONSENT_REQUIRED", "field": "purposes"}]}
    state = (await gql(client, STATE, token, c=cid)).json()["data"]["customerConsents"]["nodes"]
    assert {s["purpose"]: s["granted"] for s in state} == {p: p == "cross_border" for p in PURPOSES}
    withdrawn = (await gql(client, WITHDRAW, token, c=cid, p=["cross_border"])).json()["data"]["consentWithdraw"]
    assert withdrawn["errors"] == [] and not await may("cross_border")
    history = (await gql(client, HISTORY, token, c=cid)).json()["data"]["consentHistory"]["nodes"]
    assert [(h["action"], h["channel"]) for h in history] == [("grant", "web"), ("withdraw", "phone")]
    globex = (await login(client, tenant="globex"))["accessToken"]
    foreign = (await gql(client, GRANT, globex, c=cid, p=["cross_border"])).json()["data"]["consentGrant"]
    assert foreign["errors"] == [{"code": "CUSTOMER_NOT_FOUND", "field": "customerId"}]
    answer = (await gql(client, MAY, globex, c=cid, p="cross_border", s=False)).json()
    assert answer["data"] is None and answer["errors"][0]["extensions"]["code"] == "CUSTOMER_NOT_FOUND"


async def test_a_frozen_customer_may_not_be_processed_whatever_its_consents_say(seeded):
    from core.privacy import freeze

    admin = await sign_in("acme", "admin")
    customer = await new_customer(seeded.acme)
    await consent.grant_consent(admin, customer.id, ["marketing_sms"], notice_version="2026-01", channel="paper")
    assert await consent.may_process(admin, customer.id, "marketing_sms")
    await freeze.freeze_customer(admin, customer.id, "kept for a tax audit", "PIPL art. 47")
    assert not await consent.may_process(admin, customer.id, "marketing_sms")
    with pytest.raises(KehuError) as refused:
        await consent.require_consent(admin, customer.id, "marketing_sms")
    assert refused.value.code == "CONSENT_REQUIRED"
