"""Office management of the real-estate vertical through its public GraphQL API: follow-ups and
follow-up plans (RE20, RE32, RE36), SMS campaigns (RE33, RE34, seed 001 S08), violations (RE2, RE3,
RE10, RE11 B) and the reception report (RE35). On kehu's vertical harness (SQLite, and PostgreSQL
with CI=true); the vertical's and the attribution engine's clocks are pinned."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
import structlog

import plugins.real_estate as real_estate
from core.plugins import add_months
from plugins.real_estate import management
from tests.medical_devices.api import colleague, ok, refused

SHANGHAI = ZoneInfo("Asia/Shanghai")
ERR = "errors { field code message }"
PLAN = "plan { customerId consultantId grade lastFollowUpAt nextDueAt }"
FOLLOW = ("mutation($c: ID!, $at: DateTime!, $n: String!) { realEstateFollowUpRecord(customerId: $c, at: $at, note: $n) "
          "{ followUp { entryId customerId consultantId at note %s } %s } }" % (PLAN, ERR))
GRADE = ("mutation($c: ID!, $g: String!) { realEstateCustomerGrade(customerId: $c, grade: $g) { %s %s } }" % (PLAN, ERR))
DUE = ("query($asOf: DateTime, $u: ID) { realEstateFollowUpsDue(asOf: $asOf, consultantId: $u, first: 100) "
       "{ nodes { customerId consultantId grade nextDueAt } } }")
OVERDUE = ("query($u: ID) { realEstateFollowUpsOverdue(consultantId: $u, first: 100) "
           "{ nodes { customerId ownerId validUntil } } }")
ENTRY = ('mutation($c: ID!, $k: LedgerKind!, $at: DateTime!, $u: ID, $d: JSON, $r: ID) { attributionEntryRecord('
         'input: {customerId: $c, vertical: "real_estate", kind: $k, at: $at, consultantId: $u, data: $d, refersTo: $r}) '
         '{ entry { id } errors { code message } } }')
LEDGER = ('query($c: ID!) { attributionLedger(customerId: $c, vertical: "real_estate", first: 100) '
          '{ nodes { kind consultantId data } } }')
CREATE = ("mutation($k: RealEstateCampaignKind!, $m: String!, $d: String!) { realEstateCampaignCreate(kind: $k, "
          "message: $m, sendOn: $d) { campaign { id kind state } %s } }" % ERR)
SEND = "mutation($id: ID!) { realEstateCampaignSend(id: $id) { campaign { id state jobId } %s } }" % ERR
CAMPAIGN = ("query($id: ID!) { realEstateCampaign(id: $id) { state sentCount skippedCount "
            "outcomes { outcome count } } }")
VIOLATE = ("mutation($u: ID!, $r: String!, $n: String!, $p: String) { realEstateViolationRecord(consultantId: $u, "
           "rule: $r, note: $n, penalty: $p) { violation { id consultantId rule note penalty } %s } }" % ERR)
VIOLATIONS = ("query($u: ID) { realEstateViolations(consultantId: $u, first: 100) "
              "{ nodes { consultantId rule penalty } } }")
REPORT = ("query($f: DateTime!, $t: DateTime!) { realEstateReceptionReport(from: $f, to: $t) { validCustomers "
          "invalidCustomers grades { grade count } consultants { consultantId rotation duty designated firstVisits "
          "deals conversionRate commissionDeals splitDeals violations validCustomers invalidCustomers "
          "grades { grade count } } deals { dealId customerId closedBy rule shares } } }")
PARAMS = ('mutation($k: String!, $v: JSON) { verticalParametersUpdate(verticalId: "real_estate", parameters: '
          '[{key: $k, value: $v}]) { errors { field code } } }')
CONSULTANT = ["real_estate.follow_up.record", "real_estate.violation.read", "attribution.read"]


@pytest.fixture
def kehu_vertical():
    return ("real_estate", real_estate)


@pytest.fixture
def kehu_settings(settings):
    return settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "rate_limit_per_minute": 100_000})


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at


@pytest.fixture
def clock(monkeypatch) -> Clock:
    from core.attribution import service as attribution

    c = Clock(datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI).astimezone(UTC))
    monkeypatch.setattr(management, "now", c)
    monkeypatch.setattr(attribution, "now", c)
    return c


@pytest.fixture
def started(kehu_registry):
    from core.plugins import manager

    manager.start_verticals(kehu_registry)
    yield kehu_registry
    manager.start_verticals(None)


@pytest.fixture
async def office(kehu_client, kehu_tenant, started, clock):
    """Consultants A and B (own scope), a manager (tenant scope), and their ids."""
    a = await colleague(kehu_client, kehu_tenant, CONSULTANT, scope="OWN")
    b = await colleague(kehu_client, kehu_tenant, CONSULTANT, scope="OWN")
    manager = await colleague(kehu_client, kehu_tenant, [*CONSULTANT, "real_estate.violation.record"])
    ids = {}
    for name, client in (("a", a), ("b", b), ("manager", manager)):
        ids[name] = (await client.execute("{ me { user { id } } }"))["data"]["me"]["user"]["id"]
    return {"a": a, "b": b, "manager": manager, "ids": ids, "admin": kehu_client}


async def _customer(client: Any, *, phone: str | None = None, tags: list[str] | None = None) -> str:
    variables: dict[str, Any] = {"s": "王", "g": f"客{uuid4().hex[:4]}", "p": [phone] if phone else [], "t": tags or []}
    made = await ok(client, 'mutation($s: String!, $g: String!, $p: [String!], $t: [String!]) { customerCreate(input: '
                    '{kind: "person", surname: $s, givenName: $g, phones: $p, tags: $t}) { customer { id } '
                    'errors { code } } }', "customerCreate", **variables)
    return made["customer"]["id"]


async def _entry(client: Any, customer: str, kind: str, at: datetime, consultant: str | None, data: dict | None = None
                 ) -> str:
    """A ledger entry; a registration or visit confirmed by the sales clerk at once (RE21: only a
    confirmed register is a basis for attribution)."""
    made = await ok(client, ENTRY, "attributionEntryRecord", c=customer, k=kind, at=at.isoformat(), u=consultant,
                    d=data or {})
    if kind in ("REGISTRATION", "VISIT"):
        await ok(client, ENTRY, "attributionEntryRecord", c=customer, k="CONFIRMATION", at=at.isoformat(),
                 r=made["entry"]["id"])
    return made["entry"]["id"]


async def _on_app_loop(client: Any, function: Any, *args: Any) -> Any:
    """A service call on the app's own loop (its PostgreSQL pool belongs to that loop)."""
    return await asyncio.to_thread(client.http.blocking_portal.call, function, *args)


async def _ledger(client: Any, customer: str) -> list[dict]:
    return (await ok(client, LEDGER, "attributionLedger", c=customer))["nodes"]


# --- follow-ups (RE20, RE32, RE36) -----------------------------------------------------------------


async def test_re20_re36_a_follow_up_is_a_ledger_entry_of_the_owning_consultant(office, clock):
    """RE20/RE36: the owning consultant's follow-up is a FOLLOW_UP entry of the attribution ledger (what
    keeps the registration valid), with the note; the follow-up plan moves on from it."""
    admin, a, ids = office["admin"], office["a"], office["ids"]
    customer = await _customer(admin)
    await _entry(admin, customer, "REGISTRATION", clock.at - timedelta(days=3), ids["a"], {"first_visit": True})
    at = clock.at - timedelta(hours=2)
    done = (await ok(a, FOLLOW, "realEstateFollowUpRecord", c=customer, at=at.isoformat(), n="电话回访，周末再来"))
    follow = done["followUp"]
    assert follow["consultantId"] == ids["a"] and follow["note"] == "电话回访，周末再来"
    assert follow["plan"]["grade"] is None
    assert datetime.fromisoformat(follow["plan"]["nextDueAt"]) == at + timedelta(days=30)  # ungraded: C's interval
    kinds = [(e["kind"], e["consultantId"], e["data"]) for e in await _ledger(admin, customer)]
    assert ("FOLLOW_UP", ids["a"], {"note": "电话回访，周末再来"}) in kinds


async def test_re20_only_the_owner_or_a_manager_records_a_follow_up(office, clock):
    """RE20: another consultant cannot renew A's customer by a follow-up of their own (refused,
    nothing written); a manager records it for the owner."""
    admin, ids = office["admin"], office["ids"]
    customer = await _customer(admin)
    await _entry(admin, customer, "REGISTRATION", clock.at - timedelta(days=3), ids["a"])
    before = await _ledger(admin, customer)
    error = await refused(office["b"], FOLLOW, "realEstateFollowUpRecord", c=customer, at=clock.at.isoformat(), n="抢客")
    assert error["code"] == "REAL_ESTATE_NOT_OWNER"
    assert await _ledger(admin, customer) == before
    assert (await ok(admin, DUE, "realEstateFollowUpsDue", asOf="2099-01-01T00:00:00Z"))["nodes"] == []
    done = await ok(office["manager"], FOLLOW, "realEstateFollowUpRecord", c=customer, at=clock.at.isoformat(),
                    n="经理代录")
    assert done["followUp"]["consultantId"] == ids["a"]
    # bad input writes nothing either
    error = await refused(office["a"], FOLLOW, "realEstateFollowUpRecord", c=customer,
                          at=(clock.at + timedelta(days=1)).isoformat(), n="未来")
    assert (error["code"], error["field"]) == ("REAL_ESTATE_INPUT_INVALID", "at")
    assert len(await _ledger(admin, customer)) == len(before) + 1


async def test_re32_the_grade_sets_the_follow_up_interval_and_the_due_list(office, clock):
    """RE32: A/B/C grades go through kehu's grading engine; each grade has its follow-up interval
    (configurable defaults A 7, B 15, C 30 days); the due list shows a consultant's own customers
    once their next follow-up is due, a manager everyone's."""
    admin, a, b, ids = office["admin"], office["a"], office["b"], office["ids"]
    customer = await _customer(admin)
    await _entry(admin, customer, "REGISTRATION", clock.at - timedelta(days=1), ids["a"])
    at = clock.at - timedelta(hours=1)
    await ok(a, FOLLOW, "realEstateFollowUpRecord", c=customer, at=at.isoformat(), n="回访")
    plan = (await ok(a, GRADE, "realEstateCustomerGrade", c=customer, g="A"))["plan"]
    assert plan["grade"] == "A" and datetime.fromisoformat(plan["nextDueAt"]) == at + timedelta(days=7)
    grade = await admin.execute('query($c: ID!) { customerGrades(customerId: $c, first: 10) { nodes { scheme grade } } }',
                                c=customer)
    assert {"scheme": "follow_up", "grade": "A"} in grade["data"]["customerGrades"]["nodes"], grade
    assert (await ok(a, DUE, "realEstateFollowUpsDue", asOf=(at + timedelta(days=6)).isoformat()))["nodes"] == []
    due = (await ok(a, DUE, "realEstateFollowUpsDue", asOf=(at + timedelta(days=7)).isoformat()))["nodes"]
    assert [(d["customerId"], d["grade"]) for d in due] == [(customer, "A")]
    assert (await ok(b, DUE, "realEstateFollowUpsDue", asOf="2099-01-01T00:00:00Z"))["nodes"] == []  # not B's
    assert (await ok(b, DUE, "realEstateFollowUpsDue", asOf="2099-01-01T00:00:00Z", u=ids["a"]))["nodes"] == []
    assert len((await ok(office["manager"], DUE, "realEstateFollowUpsDue", asOf="2099-01-01T00:00:00Z",
                         u=ids["a"]))["nodes"]) == 1
    await ok(admin, PARAMS, "verticalParametersUpdate", k="follow_up_days_b", v=10)
    plan = (await ok(a, GRADE, "realEstateCustomerGrade", c=customer, g="B"))["plan"]
    assert datetime.fromisoformat(plan["nextDueAt"]) == at + timedelta(days=10)
    error = await refused(a, GRADE, "realEstateCustomerGrade", c=customer, g="D")
    assert error["code"] == "REAL_ESTATE_INPUT_INVALID"
    assert (await refused(b, GRADE, "realEstateCustomerGrade", c=customer, g="C"))["code"] == "REAL_ESTATE_NOT_OWNER"


async def test_re20_re36_overdue_lists_customers_whose_last_follow_up_is_older_than_a_month(office, clock):
    """RE20/RE36: the overdue list (from the engine's owner projection) shows a consultant's customers
    whose last follow-up is more than a (calendar) month old; the consultant sees only their own."""
    admin, a, b, ids = office["admin"], office["a"], office["b"], office["ids"]
    customer = await _customer(admin)
    registered = clock.at
    await _entry(admin, customer, "REGISTRATION", registered, ids["a"], {"first_visit": True})
    assert (await ok(a, OVERDUE, "realEstateFollowUpsOverdue"))["nodes"] == []
    clock.advance(days=20)
    await ok(a, FOLLOW, "realEstateFollowUpRecord", c=customer, at=clock.at.isoformat(), n="回访")
    clock.advance(days=25)  # 25 days after the follow-up: still valid
    assert (await ok(a, OVERDUE, "realEstateFollowUpsOverdue"))["nodes"] == []
    clock.advance(days=10)  # 35 days without a follow-up
    overdue = (await ok(a, OVERDUE, "realEstateFollowUpsOverdue"))["nodes"]
    assert [(o["customerId"], o["ownerId"]) for o in overdue] == [(customer, ids["a"])]
    until = datetime.fromisoformat(overdue[0]["validUntil"]).astimezone(SHANGHAI).date()
    assert until == add_months(registered + timedelta(days=20), 1).astimezone(SHANGHAI).date()  # a calendar month
    assert (await ok(b, OVERDUE, "realEstateFollowUpsOverdue"))["nodes"] == []
    assert len((await ok(office["manager"], OVERDUE, "realEstateFollowUpsOverdue", u=ids["a"]))["nodes"]) == 1


# --- SMS campaigns (RE33, RE34, S08) ------------------------------------------------------------------


class RecordingSender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    async def send(self, phone: str, text: str, *, idempotency_key: str) -> None:
        self.sent.append((phone, text, idempotency_key))


@pytest.fixture
def sender():
    from core.messaging import use_sender

    recording = RecordingSender()
    previous = use_sender(recording)
    yield recording
    use_sender(previous)


async def _consent(client: Any, customer: str, action: str = "Grant") -> None:
    extra = ', noticeVersion: "2026-01"' if action == "Grant" else ""
    body = await client.execute('mutation($c: ID!) { consent%s(customerId: $c, purposes: ["marketing_sms"]%s, '
                                'channel: "in_store") { errors { code } } }' % (action, extra), c=customer)
    assert body["data"][f"consent{action}"]["errors"] == [], body


async def _run(client: Any, tenant: Any, job_id: str) -> None:
    from uuid import UUID

    from core.jobs import long_jobs

    if await _on_app_loop(client, long_jobs.run_job, tenant.id, UUID(job_id)):
        return
    # the app's own job loop claimed it first (the embedded profile runs one): wait for it
    import asyncio

    deadline = asyncio.get_running_loop().time() + 60
    while (job := (await client.execute("query($id: ID!) { job(id: $id) { status } }", id=job_id))["data"]["job"]
           )["status"] in ("queued", "running"):
        assert asyncio.get_running_loop().time() < deadline, job
        await asyncio.sleep(0.1)
    assert job["status"] == "succeeded", job


async def test_re33_s08_a_holiday_campaign_reaches_only_registered_customers_whose_marketing_consent_holds(
        office, clock, sender, kehu_tenant):
    """RE33: a holiday greeting goes to the registered customers, but only those whose marketing
    consent holds (withdrawn or never given: skipped) and who have a phone; property customers (S08)
    only when the tenant allows it. Each registered customer gets one delivery row with its outcome."""
    admin, ids = office["admin"], office["ids"]
    reached = await _customer(admin, phone="13800000001")
    silent = await _customer(admin, phone="13800000002")  # never consented
    withdrawn = await _customer(admin, phone="13800000003")
    no_phone = await _customer(admin)
    owner = await _customer(admin, phone="13800000005", tags=["property_owner"])
    unregistered = await _customer(admin, phone="13800000006")
    for customer in (reached, silent, withdrawn, no_phone, owner):
        await _entry(admin, customer, "REGISTRATION", clock.at - timedelta(days=1), ids["a"])
    for customer in (reached, withdrawn, no_phone, owner, unregistered):
        await _consent(admin, customer)
    await _consent(admin, withdrawn, "Withdraw")
    made = (await ok(admin, CREATE, "realEstateCampaignCreate", k="HOLIDAY", m="新春快乐！", d="2026-03-02"))["campaign"]
    assert made["state"] == "draft"
    started = (await ok(admin, SEND, "realEstateCampaignSend", id=made["id"]))["campaign"]
    assert started["state"] == "sending" and started["jobId"]
    await _run(admin, kehu_tenant, started["jobId"])
    assert len(sender.sent) == 1 and sender.sent[0][0].endswith("13800000001") and sender.sent[0][1] == "新春快乐！"
    found = await ok(admin, CAMPAIGN, "realEstateCampaign", id=made["id"])
    assert (found["state"], found["sentCount"], found["skippedCount"]) == ("sent", 1, 4)
    assert {o["outcome"]: o["count"] for o in found["outcomes"]} == {"sent": 1, "no_consent": 2, "no_phone": 1,
                                                                      "excluded": 1}
    # the tenant allows marketing to property customers: an ad-day reminder reaches the owner too (RE34)
    await ok(admin, PARAMS, "verticalParametersUpdate", k="property_owner_marketing", v=True)
    second = (await ok(admin, CREATE, "realEstateCampaignCreate", k="AD_DAY", m="今日开盘，欢迎莅临", d="2026-03-03"))
    job = (await ok(admin, SEND, "realEstateCampaignSend", id=second["campaign"]["id"]))["campaign"]["jobId"]
    await _run(admin, kehu_tenant, job)
    assert sorted(p[-11:] for p, text, _k in sender.sent if text.startswith("今日")) == ["13800000001", "13800000005"]


async def test_re33_a_campaign_sends_once_and_refusals_write_nothing(office, clock, sender, kehu_tenant):
    """RE33/RE34: a campaign is sent once: a second send is refused and queues no job; a consultant
    without the campaign permission cannot create or send; bad input is refused and writes nothing."""
    admin = office["admin"]
    made = (await ok(admin, CREATE, "realEstateCampaignCreate", k="HOLIDAY", m="中秋快乐", d="2026-09-25"))["campaign"]
    await ok(admin, SEND, "realEstateCampaignSend", id=made["id"])
    jobs = (await admin.execute("{ jobs(first: 100) { nodes { id } } }"))["data"]["jobs"]["nodes"]
    assert (await refused(admin, SEND, "realEstateCampaignSend", id=made["id"]))["code"] == \
        "REAL_ESTATE_CAMPAIGN_ALREADY_SENT"
    assert (await admin.execute("{ jobs(first: 100) { nodes { id } } }"))["data"]["jobs"]["nodes"] == jobs
    assert (await refused(office["a"], SEND, "realEstateCampaignSend", id=made["id"]))["code"] == "PERMISSION_DENIED"
    assert (await refused(admin, CREATE, "realEstateCampaignCreate", k="HOLIDAY", m="", d="2026-09-25"))["field"] == \
        "message"
    assert (await refused(admin, CREATE, "realEstateCampaignCreate", k="HOLIDAY", m="x", d="2026-01-01"))["field"] == \
        "sendOn"
    listed = (await admin.execute("{ realEstateCampaigns(first: 100) { nodes { id } } }"))["data"]
    assert [c["id"] for c in listed["realEstateCampaigns"]["nodes"]] == [made["id"]]


async def test_another_tenants_campaign_cannot_be_sent_or_read(office, kehu_settings, kehu_registry, clock):
    """Isolation: a campaign id of another tenant is not found, to read or to send (the suite cannot
    repeat a send of its own, so this probes it)."""
    from core.context import Context
    from core.plugins.testing import GraphQLClient
    from core.tenancy import service as tenancy
    from core.verticals.service import enable_vertical

    admin = office["admin"]
    made = (await ok(admin, CREATE, "realEstateCampaignCreate", k="HOLIDAY", m="元旦快乐", d="2026-12-31"))["campaign"]
    slug = f"o{uuid4().hex[:8]}"

    async def other_office() -> None:
        other = await tenancy.create_tenant(Context.system(), slug=slug, name="other office",
                                            admin=tenancy.TenantAdmin(username="admin", password="other-office-pass-1"))
        await enable_vertical(Context.system().for_tenant(other.id), kehu_registry, "real_estate")

    await _on_app_loop(admin, other_office)
    login = await admin.http.post("/graphql", json={"query": 'mutation($t: String!) { login(tenant: $t, username: '
                                                             '"admin", password: "other-office-pass-1") { accessToken } }',
                                                    "variables": {"t": slug}})
    intruder = GraphQLClient(admin.http, login.json()["data"]["login"]["accessToken"])
    assert (await refused(intruder, SEND, "realEstateCampaignSend", id=made["id"]))["code"] == \
        "REAL_ESTATE_CAMPAIGN_NOT_FOUND"
    assert (await intruder.execute(CAMPAIGN, id=made["id"]))["data"]["realEstateCampaign"] is None
    assert (await ok(admin, CAMPAIGN, "realEstateCampaign", id=made["id"]))["state"] == "draft"


async def test_the_log_only_sender_never_logs_the_phone_number():
    """The default SMS sender sends nothing and logs the number masked (its last two digits), never in clear."""
    from core.messaging import LogOnlySender

    with structlog.testing.capture_logs() as logs:
        await LogOnlySender().send("+8613812345678", "新春快乐", idempotency_key="k1")
    assert logs and "13812345678" not in repr(logs) and logs[0]["to"].endswith("78")


# --- violations (RE2, RE3, RE10, RE11 B) ---------------------------------------------------------------


async def test_re2_re3_re10_the_manager_records_violations_and_each_consultant_reads_their_own(office, clock):
    """RE2/RE3/RE10/RE11 B: the manager records a consultant's violation with the rule and a penalty
    text (no deduction is made); a consultant reads their own only; a consultant cannot record one;
    an unknown consultant or rule is refused and writes nothing."""
    manager, a, b, ids = office["manager"], office["a"], office["b"], office["ids"]
    made = (await ok(manager, VIOLATE, "realEstateViolationRecord", u=ids["a"], r="RE2", n="接待中途离开取资料",
                     p="罚款 50 元"))["violation"]
    assert (made["consultantId"], made["rule"], made["penalty"]) == (ids["a"], "RE2", "罚款 50 元")
    await ok(manager, VIOLATE, "realEstateViolationRecord", u=ids["b"], r="RE11-B", n="客户投诉服务态度")
    mine = (await ok(a, VIOLATIONS, "realEstateViolations"))["nodes"]
    assert [(v["consultantId"], v["rule"]) for v in mine] == [(ids["a"], "RE2")]
    assert (await ok(b, VIOLATIONS, "realEstateViolations", u=ids["a"]))["nodes"] == []
    assert len((await ok(manager, VIOLATIONS, "realEstateViolations"))["nodes"]) == 2
    assert (await refused(a, VIOLATE, "realEstateViolationRecord", u=ids["b"], r="RE10", n="抢客"))["code"] == \
        "PERMISSION_DENIED"
    assert (await refused(manager, VIOLATE, "realEstateViolationRecord", u=str(uuid4()), r="RE3", n="x"))["code"] == \
        "USER_UNKNOWN"
    assert (await refused(manager, VIOLATE, "realEstateViolationRecord", u=ids["a"], r="RE99", n="x"))["field"] == "rule"
    assert len((await ok(manager, VIOLATIONS, "realEstateViolations"))["nodes"]) == 2


# --- the reception report (RE35) ----------------------------------------------------------------------


async def test_re35_the_reception_report_per_consultant(office, clock):
    """RE35 / §2 Reports: receptions per consultant by kind (rotation, duty, designated), first visits,
    deals and conversion, each deal's commission split, violations, valid vs invalid customers and the
    A/B/C distribution; outside the range nothing counts; a consultant may not read it."""
    admin, a, ids = office["admin"], office["a"], office["ids"]
    start = clock.at
    first = await _customer(admin)
    second = await _customer(admin)
    await _entry(admin, first, "REGISTRATION", start, ids["a"], {"first_visit": True})
    await _entry(admin, first, "VISIT", start, ids["a"], {"reception": "rotation"})
    await _entry(admin, second, "REGISTRATION", start, ids["a"], {"first_visit": True})
    await _entry(admin, second, "VISIT", start, ids["a"], {"reception": "designated", "designated": True})
    clock.advance(days=2)
    await _entry(admin, first, "VISIT", clock.at, ids["b"], {"reception": "duty", "on_behalf_of": ids["a"]})
    await _entry(admin, first, "DEAL", clock.at, ids["a"], {"unit": "3-1201", "buyer_name": "王某", "on_the_spot": False})
    await ok(a, GRADE, "realEstateCustomerGrade", c=first, g="A")
    await ok(a, GRADE, "realEstateCustomerGrade", c=second, g="C")
    await ok(office["manager"], VIOLATE, "realEstateViolationRecord", u=ids["b"], r="RE3", n="未核对销控")
    report = await ok(admin, REPORT, "realEstateReceptionReport", f=(start - timedelta(days=1)).isoformat(),
                      t=(clock.at + timedelta(days=1)).isoformat())
    by = {c["consultantId"]: c for c in report["consultants"]}
    assert (by[ids["a"]]["rotation"], by[ids["a"]]["designated"], by[ids["a"]]["duty"]) == (1, 1, 0)
    assert (by[ids["b"]]["rotation"], by[ids["b"]]["duty"]) == (0, 1)
    assert (by[ids["a"]]["firstVisits"], by[ids["a"]]["deals"], by[ids["a"]]["conversionRate"]) == (2, 1, 0.5)
    assert by[ids["a"]]["commissionDeals"] == 1.0 and by[ids["b"]]["violations"] == 1
    assert [(d["customerId"], d["shares"]) for d in report["deals"]] == [(first, {ids["a"]: 100})]
    assert (report["validCustomers"], by[ids["a"]]["validCustomers"]) == (2, 2)
    assert {g["grade"]: g["count"] for g in report["grades"]} == {"A": 1, "B": 0, "C": 1}
    assert {g["grade"]: g["count"] for g in by[ids["a"]]["grades"]} == {"A": 1, "B": 0, "C": 1}
    later = await ok(admin, REPORT, "realEstateReceptionReport", f=(clock.at + timedelta(days=1)).isoformat(),
                     t=(clock.at + timedelta(days=30)).isoformat())
    assert all(c["rotation"] == c["deals"] == 0 for c in later["consultants"]) and later["deals"] == []
    body = await a.execute(REPORT, f=start.isoformat(), t=clock.at.isoformat())
    assert body["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    body = await admin.execute(REPORT, f=start.isoformat(), t=(start + timedelta(days=400)).isoformat())
    assert body["errors"][0]["extensions"]["code"] == "REAL_ESTATE_REPORT_RANGE_INVALID"
