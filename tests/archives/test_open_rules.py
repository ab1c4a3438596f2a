"""The archive rules of seed 000 part 1 that were still open, through the public GraphQL API with
the automotive vertical, on a controlled clock (``core.archives.common.now`` frozen) and the
real working-day calendar: late-submission explanations (S18, T3, W5) and their sweep,
rectification extensions (T6), the submission schedule and on-time report (S17, T1, T2),
structured exclusions (T2/T4, example 19), damaged archives (T4), countersigned non-conforming
records (T5) and retention counted from creation after years without service (A7, example 20)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import AsyncTestClient

from core.archives import common as archive_common
from core.archives.schedule import submission_due
from core.identity import roles
from core.identity.permissions import Scope, install_catalog
from core.jobs.timers import tick
from core.plugins.types import SubmissionSchedule
from core.verticals import service as verticals
from gateway.app import create_app
from tests.gateway.test_identity_api import gql, login
from tests.support import SYSTEM, add_user

SHANGHAI = ZoneInfo("Asia/Shanghai")
V = "automotive"


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)


@dataclass
class World:
    client: AsyncTestClient
    tokens: dict[str, str]
    ids: dict[str, str]
    tenant_id: object
    registry: object
    monkeypatch: pytest.MonkeyPatch
    app: object = None

    async def outside(self, work):
        """Run a direct call (a sweep's tick, a tenant setting) with the application stopped: on
        PostgreSQL the running application's connections belong to its own event loop."""
        await self.client.__aexit__(None, None, None)
        try:
            return await work
        finally:
            self.client = AsyncTestClient(self.app)
            await self.client.__aenter__()

    async def tick(self, moment: datetime) -> dict[str, int]:
        return await self.outside(tick(moment))

    def clock(self, moment: datetime) -> None:
        self.monkeypatch.setattr(archive_common, "now", lambda: moment)

    async def call(self, who: str, query: str, **variables) -> dict:
        body = (await gql(self.client, query, self.tokens[who], **variables)).json()
        assert not body.get("errors"), body
        return body["data"]

    async def ok(self, who: str, query: str, **variables) -> dict:
        data = await self.call(who, query, **variables)
        payload = next(iter(data.values()))
        assert payload["errors"] == [], payload
        return payload

    async def refused(self, who: str, query: str, **variables) -> str:
        payload = next(iter((await self.call(who, query, **variables)).values()))
        assert payload["errors"], payload
        return payload["errors"][0]["code"]

    async def parameters(self, **values) -> None:
        await self.outside(verticals.update_vertical_parameters(SYSTEM.for_tenant(self.tenant_id), self.registry, V,
                                                                values))

    async def kpi(self, rule_code: str | None = None, who: str = "advisor") -> list[dict]:
        data = await self.call("manager", "query($u: ID!) { kpiLedger(userId: $u, first: 100) { nodes { ruleCode "
                                          "points subjectKey archiveId at } } }", u=self.ids[who])
        return [e for e in data["kpiLedger"]["nodes"] if rule_code is None or e["ruleCode"] == rule_code]


PEOPLE = {  # username -> permissions
    "advisor": ("automotive.archive.submit",),
    "clerk": ("automotive.archive.check",),
    "manager": ("automotive.archive.check", "automotive.exception.approve"),
    "director": ("automotive.archive.check", "automotive.exception.approve"),
    "both": ("automotive.archive.submit", "automotive.exception.approve"),
}


@pytest.fixture
async def world(settings, seeded, monkeypatch):
    import plugins.automotive
    from core.plugins.testing import make_registry

    registry = make_registry(("automotive", plugins.automotive))
    acme = SYSTEM.for_tenant(seeded.acme.id)
    install_catalog(registry.permissions)  # as the app does at start
    await verticals.enable_vertical(acme, registry, V)
    ids = {}
    for username, permissions in PEOPLE.items():
        role = await roles.create_role(acme, name=f"角色-{username}", permissions=dict.fromkeys(permissions, Scope.TENANT))
        user = await add_user(seeded.acme, username)
        ids[username] = str(user.id)
        await roles.grant_role(acme, user_id=user.id, role_id=role.id)
    relaxed = settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "tick_interval_seconds": 3600})
    app = create_app(relaxed)
    client = AsyncTestClient(app)
    await client.__aenter__()
    world = World(client, {}, ids, seeded.acme.id, registry, monkeypatch, app)
    try:
        world.tokens = {u: (await login(client, username=u))["accessToken"] for u in PEOPLE}
        yield world
    finally:
        await world.client.__aexit__(None, None, None)


EXPLAIN = """mutation($s: String!, $k: String!, $r: String!, $d: Date!) { archiveLateSubmissionExplain(
  vertical: "automotive", standard: $s, subjectKey: $k, reason: $r, promisedOn: $d) {
  exception { id state kind promisedOn promisedAt } errors { code field } } }"""
DECIDE = """mutation($id: ID!, $a: Boolean!, $n: String!) { archiveExceptionDecide(id: $id, approve: $a, note: $n) {
  exception { id state decidedBy } errors { code field } } }"""
IMPORT = """mutation($s: String!, $p: String!, $rows: [ExpectedArchiveInput!]) { archiveExpectedImport(
  vertical: "automotive", standard: $s, source: "AAK", period: $p, rows: $rows) { reconciliation {
  expectedCount receivedCount excluded { key reason reasonCode } missing { subjectKey dueAt responsibleUserId } }
  errors { code field } } }"""
MISSING = "{ missingArchiveReports(openOnly: false, first: 100) { nodes { subjectKey dueAt resolvedAt } } }"
EXCEPTIONS = "query($s: String) { archiveExceptions(state: $s, first: 100) { nodes { id subjectKey state settledAt kpiCharged } } }"
FOLDER = """mutation($k: String!, $facts: JSON) { archiveFolderCreate(vertical: "automotive", subjectKey: $k,
  facts: $facts) { folder { id retentionUntil retentionRule } errors { code field } } }"""
CREATE = """mutation($f: ID!, $s: String!, $facts: JSON) { archiveCreate(folderId: $f, standard: $s, facts: $facts) {
  archive { id state } errors { code field } } }"""
ARCHIVE_FIELDS = ("archive { id state submissionDueAt submittedPunctually extendedUntil deadlineAt damagedAt } "
                  "errors { code field }")
STEP = "mutation($id: ID!) { %s(id: $id) { " + ARCHIVE_FIELDS + " } }"
REJECT = 'mutation($id: ID!) { archiveReject(id: $id, defects: ["发票抬头错误"]) { ' + ARCHIVE_FIELDS + " } }"
EXTEND = """mutation($id: ID!, $r: String!, $t: DateTime!) { archiveRectificationExtend(archiveId: $id, reason: $r,
  promisedAt: $t) { exception { id state kind promisedAt } errors { code field } } }"""


async def explained(w: World, key: str, promised: date, *, approve: bool | None = True,
                    standard: str = "sales_archive") -> str:
    made = (await w.ok("advisor", EXPLAIN, s=standard, k=key, r="发票未到", d=promised.isoformat()))["exception"]
    assert made["state"] == "pending" and made["kind"] == "late_submission"
    if approve is not None:
        decided = (await w.ok("manager", DECIDE, id=made["id"], a=approve, n="" if approve else "理由不充分"))
        assert decided["exception"]["state"] == ("approved" if approve else "refused")
    return made["id"]


async def reconcile(w: World, *keys: str, standard: str = "sales_archive", period: str = "2026-W10") -> dict:
    rows = [{"key": k, "responsible": "advisor"} for k in keys]
    return (await w.ok("clerk", IMPORT, s=standard, p=period, rows=rows))["reconciliation"]


async def handed_in(w: World, key: str, standard: str = "sales_archive", facts: dict | None = None) -> str:
    folder = (await w.ok("advisor", FOLDER, k=key, facts={}))["folder"]
    archive = (await w.ok("advisor", CREATE, f=folder["id"], s=standard, facts=facts or {}))["archive"]
    return (await w.ok("advisor", STEP % "archiveSubmit", id=archive["id"]))["archive"]["id"]


async def test_w5_a_late_archive_with_an_approved_promised_date_costs_no_kpi_point_until_that_date_passes(world):
    """W5 / S18 (acceptance): the advisor explains on Mon 2026-03-02 that VIN-A's sales archive
    comes by Fri 03-06, the manager signs; the Thursday reconciliation finds VIN-A and VIN-B
    missing: VIN-B costs the missing-archive point at once (its report due two working days
    later, Mon 03-09 18:00), VIN-A costs nothing and its report is due at the end of the promised
    date. The sweep on Fri 20:00 charges nothing; after midnight it charges VIN-A once."""
    w = world
    w.clock(at(2026, 3, 2, 9, 0))
    exception = await explained(w, "VIN-A", date(2026, 3, 6))
    w.clock(at(2026, 3, 5, 10, 0))
    result = await reconcile(w, "VIN-A", "VIN-B")
    due = {m["subjectKey"]: datetime.fromisoformat(m["dueAt"]) for m in result["missing"]}
    assert due == {"VIN-A": at(2026, 3, 7, 0, 0), "VIN-B": at(2026, 3, 9, 18, 0)}
    assert [e["subjectKey"] for e in await w.kpi("missing_archive")] == ["VIN-B"]

    w.clock(at(2026, 3, 6, 20, 0))
    assert (await w.tick(at(2026, 3, 6, 20, 0)))["archive_late_submissions"] == 0
    assert [e["subjectKey"] for e in await w.kpi("missing_archive")] == ["VIN-B"]

    assert (await w.tick(at(2026, 3, 7, 0, 1)))["archive_late_submissions"] == 1
    assert sorted(e["subjectKey"] for e in await w.kpi("missing_archive")) == ["VIN-A", "VIN-B"]
    assert (await w.tick(at(2026, 3, 8, 9, 0)))["archive_late_submissions"] == 0  # once
    assert len(await w.kpi("missing_archive")) == 2
    [settled] = [e for e in (await w.call("clerk", EXCEPTIONS, s="approved"))["archiveExceptions"]["nodes"]
                 if e["id"] == exception]
    assert settled["kpiCharged"] is True and settled["settledAt"] is not None


async def test_w5_an_explanation_that_is_pending_or_refused_suspends_nothing(world):
    """W5 negative: a pending explanation (VIN-P) and a refused one (VIN-R) leave the
    reconciliation's missing-archive point where it was; their reports keep the working-day due."""
    w = world
    w.clock(at(2026, 3, 2, 9, 0))
    await explained(w, "VIN-P", date(2026, 3, 6), approve=None)
    await explained(w, "VIN-R", date(2026, 3, 6), approve=False)
    w.clock(at(2026, 3, 5, 10, 0))
    result = await reconcile(w, "VIN-P", "VIN-R")
    assert {datetime.fromisoformat(m["dueAt"]) for m in result["missing"]} == {at(2026, 3, 9, 18, 0)}
    assert sorted(e["subjectKey"] for e in await w.kpi("missing_archive")) == ["VIN-P", "VIN-R"]


async def test_w5_a_promise_kept_costs_nothing_and_a_report_raised_before_approval_moves_to_the_promised_date(world):
    """W5: the reconciliation on Thu raises VIN-K's report (a point) before the explanation; once
    approved the report is due on the promised date, and the sweep after that date charges no
    second point. VIN-H, explained and approved before the reconciliation, is handed in before
    its promised date: its report is resolved and the sweep charges nothing."""
    w = world
    w.clock(at(2026, 3, 2, 9, 0))
    await explained(w, "VIN-H", date(2026, 3, 6))
    w.clock(at(2026, 3, 3, 9, 0))
    await reconcile(w, "VIN-K", "VIN-H")
    assert [e["subjectKey"] for e in await w.kpi("missing_archive")] == ["VIN-K"]
    await explained(w, "VIN-K", date(2026, 3, 10))
    reports = {m["subjectKey"]: m for m in (await w.call("clerk", MISSING))["missingArchiveReports"]["nodes"]}
    assert datetime.fromisoformat(reports["VIN-K"]["dueAt"]) == at(2026, 3, 11, 0, 0)
    w.clock(at(2026, 3, 5, 15, 0))
    await handed_in(w, "VIN-H")
    assert (await w.tick(at(2026, 3, 12, 0, 0)))["archive_late_submissions"] == 0
    assert [e["subjectKey"] for e in await w.kpi("missing_archive")] == ["VIN-K"]


async def test_s18_who_may_file_and_sign_an_explanation(world):
    """S18/T3: only a holder of archive.submit files; the promised date is from today on; the
    manager who signs needs exception.approve and is never the person who filed it; a decided
    explanation is not decided again."""
    w = world
    w.clock(at(2026, 3, 2, 9, 0))
    assert await w.refused("clerk", EXPLAIN, s="sales_archive", k="VIN-X", r="r", d="2026-03-06") == "PERMISSION_DENIED"
    assert await w.refused("advisor", EXPLAIN, s="sales_archive", k="VIN-X", r="r", d="2026-03-01") == (
        "PROMISED_DATE_INVALID")
    own = (await w.ok("both", EXPLAIN, s="sales_archive", k="VIN-X", r="r", d="2026-03-06"))["exception"]["id"]
    assert await w.refused("both", DECIDE, id=own, a=True, n="") == "SEPARATION_OF_DUTIES"
    filed = (await w.ok("advisor", EXPLAIN, s="sales_archive", k="VIN-Y", r="r", d="2026-03-06"))["exception"]["id"]
    assert await w.refused("clerk", DECIDE, id=filed, a=True, n="") == "PERMISSION_DENIED"
    assert await w.refused("manager", DECIDE, id=filed, a=False, n="") == "REASON_REQUIRED"
    await w.ok("manager", DECIDE, id=filed, a=True, n="")
    assert await w.refused("director", DECIDE, id=filed, a=False, n="不同意") == "EXCEPTION_STATE_INVALID"


async def _rejected(w: World, key: str) -> str:
    archive = await handed_in(w, key, standard="service_archive")
    await w.ok("clerk", STEP % "archiveCheck", id=archive)
    return (await w.ok("clerk", REJECT, id=archive))["archive"]["id"]


async def test_t6_an_approved_extension_spares_the_late_rectification_point(world):
    """T6: rejected Tue 2026-03-03 09:00 (due Wed 09:00, 24 working hours); the advisor asks to
    return it by Thu 12:00 and the service manager signs: resubmitted Thu 10:00, no point. The
    same resubmission with the extension only asked for (pending) costs the point."""
    w = world
    w.clock(at(2026, 3, 3, 9, 0))
    signed = await _rejected(w, "VIN-T6A")
    asked = await _rejected(w, "VIN-T6B")
    for archive in (signed, asked):
        extension = (await w.ok("advisor", EXTEND, id=archive, r="客户签字需补", t=at(2026, 3, 5, 12).isoformat()))
        if archive == signed:
            assert await w.refused("advisor", DECIDE, id=extension["exception"]["id"], a=True, n="") == (
                "PERMISSION_DENIED")
            await w.ok("manager", DECIDE, id=extension["exception"]["id"], a=True, n="")
    shown = (await w.call("clerk", "query($id: ID!) { archive(id: $id) { deadlineAt extendedUntil } }",
                          id=signed))["archive"]
    assert datetime.fromisoformat(shown["deadlineAt"]) == at(2026, 3, 4, 9, 0)
    assert datetime.fromisoformat(shown["extendedUntil"]) == at(2026, 3, 5, 12, 0)
    w.clock(at(2026, 3, 5, 10, 0))
    await w.ok("advisor", STEP % "archiveResubmit", id=signed)
    assert await w.kpi("late_rectification") == []
    await w.ok("advisor", STEP % "archiveResubmit", id=asked)
    assert [e["archiveId"] for e in await w.kpi("late_rectification")] == [asked]


async def test_t6_an_extension_is_asked_for_a_rejected_archive_and_a_later_time(world):
    """T6: an extension needs a rejected archive and a promised time after now."""
    w = world
    w.clock(at(2026, 3, 3, 9, 0))
    archive = await handed_in(w, "VIN-T6C", standard="service_archive")
    assert await w.refused("advisor", EXTEND, id=archive, r="r", t=at(2026, 3, 5).isoformat()) == "ARCHIVE_STATE_INVALID"
    await w.ok("clerk", STEP % "archiveCheck", id=archive)
    await w.ok("clerk", REJECT, id=archive)
    assert await w.refused("advisor", EXTEND, id=archive, r="r", t=at(2026, 3, 3, 8).isoformat()) == (
        "PROMISED_DATE_INVALID")


NONCONFORMITIES = """query($w: Boolean!) { archiveNonconformities(awaitingCountersignature: $w, first: 100) {
  nodes { id archiveId defects rejectedBy countersignedBy responsibleUserId } } }"""
COUNTERSIGN = """mutation($id: ID!) { archiveRejectionCountersign(id: $id, note: "已核") { record { id countersignedBy
  countersignedAt } errors { code field } } }"""


async def test_t5_each_rejection_is_a_record_the_service_manager_countersigns(world):
    """T5: a rejection by the manager is a non-conforming archive record awaiting countersignature;
    the manager who rejected it may not countersign, a clerk without exception.approve may not, the
    director does, once; the KPI deduction per archive stays one entry."""
    w = world
    w.clock(at(2026, 3, 3, 9, 0))
    archive = await handed_in(w, "VIN-T5", standard="service_archive")
    await w.ok("manager", STEP % "archiveCheck", id=archive)
    await w.ok("manager", REJECT, id=archive)
    [record] = (await w.call("clerk", NONCONFORMITIES, w=True))["archiveNonconformities"]["nodes"]
    assert record["archiveId"] == archive and "发票抬头错误" in record["defects"]
    assert record["responsibleUserId"] == w.ids["advisor"]
    assert await w.refused("manager", COUNTERSIGN, id=record["id"]) == "SEPARATION_OF_DUTIES"
    assert await w.refused("clerk", COUNTERSIGN, id=record["id"]) == "PERMISSION_DENIED"
    signed = (await w.ok("director", COUNTERSIGN, id=record["id"]))["record"]
    assert signed["countersignedBy"] == f"user:{w.ids['director']}"
    assert await w.refused("director", COUNTERSIGN, id=record["id"]) == "ALREADY_COUNTERSIGNED"
    assert (await w.call("clerk", NONCONFORMITIES, w=True))["archiveNonconformities"]["nodes"] == []
    assert len((await w.call("clerk", NONCONFORMITIES, w=False))["archiveNonconformities"]["nodes"]) == 1
    assert len(await w.kpi("nonconforming_archive")) == 1


DAMAGE = """mutation($id: ID!, $n: String!) { archiveDamageRecord(id: $id, note: $n) { """ + ARCHIVE_FIELDS + " } }"


async def test_t4_a_damaged_archive_costs_the_responsible_person_the_missing_archive_points(world):
    """T4: the clerk records a handed-in archive damaged (破损): the advisor who handed it in gets
    the missing-archive points (the tenant's 2 here); once per archive; an archive still being
    assembled cannot be damaged in the archive department's hands."""
    w = world
    w.clock(at(2026, 3, 3, 15, 0))
    await w.parameters(kpi_points_missing_archive=2)
    archive = await handed_in(w, "VIN-T4", standard="service_archive")
    damaged = (await w.ok("clerk", DAMAGE, id=archive, n="结算单撕裂"))["archive"]
    assert datetime.fromisoformat(damaged["damagedAt"]) == at(2026, 3, 3, 15, 0)
    assert [(e["points"], e["archiveId"]) for e in await w.kpi("damaged_archive")] == [(2, archive)]
    assert await w.refused("clerk", DAMAGE, id=archive, n="again") == "ARCHIVE_ALREADY_DAMAGED"
    folder = (await w.ok("advisor", FOLDER, k="VIN-T4B", facts={}))["folder"]
    assembling = (await w.ok("advisor", CREATE, f=folder["id"], s="service_archive", facts={}))["archive"]["id"]
    assert await w.refused("clerk", DAMAGE, id=assembling, n="x") == "ARCHIVE_STATE_INVALID"
    assert await w.refused("advisor", DAMAGE, id=archive, n="x") == "PERMISSION_DENIED"


async def test_t2_t4_example_19_twelve_orders_one_in_repair_one_claim_ten_expected(world):
    """T2/T4 (seed example 19): 12 小R3 work orders of day D−1, one still in repair and one a
    warranty claim: the 15:00 collection on day D expects 10; the two are in 未上报记录 with their
    structured reasons; free text still works (A4)."""
    w = world
    w.clock(at(2026, 3, 3, 15, 0))
    rows = [{"key": f"2-{n:04d}", "responsible": "advisor"} for n in range(1, 13)]
    rows[3]["excluded"] = "IN_REPAIR"
    rows[7]["excluded"] = "WARRANTY_CLAIM"
    rows[7]["excludedReason"] = "索赔单号 C-88"
    result = (await w.ok("clerk", IMPORT, s="service_archive", p="2026-03-02", rows=rows))["reconciliation"]
    assert result["expectedCount"] == 10
    assert result["excluded"] == [{"key": "2-0004", "reason": "in_repair", "reasonCode": "in_repair"},
                                  {"key": "2-0008", "reason": "warranty_claim: 索赔单号 C-88",
                                   "reasonCode": "warranty_claim"}]
    assert len(result["missing"]) == 10
    free = [{"key": "VIN-F", "excludedReason": "未开发票"}, {"key": "VIN-G", "excludedReason": "unsettled"}]
    result = (await w.ok("clerk", IMPORT, s="sales_archive", p="2026-W10", rows=free))["reconciliation"]
    assert result["expectedCount"] == 0
    assert result["excluded"] == [{"key": "VIN-F", "reason": "未开发票", "reasonCode": None},
                                  {"key": "VIN-G", "reason": "unsettled", "reasonCode": "unsettled"}]


def test_s17_t1_the_due_moment_of_a_submission():
    """S17/T1 (pure): a service archive settled on Mon 03-02 is due Tue 03-03 at the handover hour
    (10:00, or the tenant's 11); a sales archive delivered on Wed 03-04 is due by the end of the
    Monday after (03-09), or the Tuesday with sales_submission_weekday 2; no event date, no due."""
    service = SubmissionSchedule(frequency="daily", at="10:00", hour_parameter="service_handover_hour",
                                 collection_hour_parameter="service_collection_hour", event_fact="settled_at")
    sales = SubmissionSchedule(frequency="weekly", weekday=1, weekday_parameter="sales_submission_weekday",
                               event_fact="delivered_at")
    assert submission_due(service, {"service_handover_hour": 10}, date(2026, 3, 2), SHANGHAI) == at(2026, 3, 3, 10)
    assert submission_due(service, {"service_handover_hour": 11}, date(2026, 3, 2), SHANGHAI) == at(2026, 3, 3, 11)
    assert submission_due(sales, {"sales_submission_weekday": 1}, date(2026, 3, 4), SHANGHAI) == at(2026, 3, 10)
    assert submission_due(sales, {"sales_submission_weekday": 1}, date(2026, 3, 8), SHANGHAI) == at(2026, 3, 10)
    assert submission_due(sales, {"sales_submission_weekday": 2}, date(2026, 3, 4), SHANGHAI) == at(2026, 3, 11)
    assert submission_due(sales, {}, None, SHANGHAI) is None


REPORT = """query($s: String!) { archiveSubmissionReport(vertical: "automotive", standard: $s, period: "2026-03") {
  submitted onTime late unscheduled onTimePercent collectedPunctually } }"""


async def test_s17_t1_t2_each_submission_records_whether_it_was_on_time_and_the_report_counts_them(world):
    """T1/T2: service archives settled Mon 03-02, handed in Tue 09:30 (on time), 11:00 (late, but
    by the 15:00 collection) and 16:00 (late, after the collection); one without a settlement date
    is unscheduled. S17: a sales archive delivered Wed 03-04 handed in Mon 03-09 17:00 is on time,
    on Tue 03-10 late; with the tenant's weekday 2 the Tuesday one is on time."""
    w = world
    outcomes = []
    for n, moment in enumerate((at(2026, 3, 3, 9, 30), at(2026, 3, 3, 11), at(2026, 3, 3, 16))):
        w.clock(moment)
        archive = (await w.call("clerk", "query($id: ID!) { archive(id: $id) { submittedPunctually submissionDueAt } }",
                                id=await handed_in(w, f"VIN-S{n}", "service_archive", {"settled_at": "2026-03-02"})))
        outcomes.append(archive["archive"]["submittedPunctually"])
    assert outcomes == [True, False, False]
    await handed_in(w, "VIN-S9", "service_archive")
    report = (await w.call("manager", REPORT, s="service_archive"))["archiveSubmissionReport"]
    assert report == {"submitted": 4, "onTime": 1, "late": 2, "unscheduled": 1, "onTimePercent": 33.33,
                      "collectedPunctually": 2}

    w.clock(at(2026, 3, 9, 17, 0))
    await handed_in(w, "VIN-M1", facts={"delivered_at": "2026-03-04"})
    w.clock(at(2026, 3, 10, 9, 0))
    await handed_in(w, "VIN-M2", facts={"delivered_at": "2026-03-04"})
    await w.parameters(sales_submission_weekday=2)
    await handed_in(w, "VIN-M3", facts={"delivered_at": "2026-03-04"})
    report = (await w.call("manager", REPORT, s="sales_archive"))["archiveSubmissionReport"]
    assert (report["onTime"], report["late"], report["collectedPunctually"]) == (2, 1, None)


RETENTION = "query($id: ID!) { archiveFolder(id: $id) { retentionUntil retentionRule sealedAt } }"


async def _folder_with_sales_archive(w: World, key: str, facts: dict) -> str:
    folder = (await w.ok("advisor", FOLDER, k=key, facts=facts))["folder"]
    await w.ok("advisor", CREATE, f=folder["id"], s="sales_archive", facts={})
    return folder["id"]


async def _retention(w: World, folder: str) -> tuple[datetime, str, str | None]:
    shown = (await w.call("clerk", RETENTION, id=folder))["archiveFolder"]
    return datetime.fromisoformat(shown["retentionUntil"]), shown["retentionRule"], shown["sealedAt"]


async def test_a7_example_20_retention_counts_from_creation_after_years_without_service(world):
    """A6/A7 (seed example 20): a vehicle last serviced 2020-06-01 is kept until 2025-06-01 (A6);
    an archive created 2019-01-01 with no service here is kept until 2024-01-01 (A7) and sealed by
    the sweep after that date. The vehicle last serviced 2020-06-01 (archive created 2019-01-01)
    has had no service for the tenant's 3 years on 2023-06-01: from then its retention counts
    from creation (2024-01-01) and it is sealed then; with no_service_years 5 it stays A6."""
    w = world
    w.clock(at(2019, 1, 1, 9, 0))
    serviced = await _folder_with_sales_archive(w, "VIN-A6", {"last_service": "2020-06-01T00:00:00+08:00"})
    never = await _folder_with_sales_archive(w, "VIN-A7", {})
    assert await _retention(w, serviced) == (at(2025, 6, 1), "A6", None)
    assert await _retention(w, never) == (at(2024, 1, 1, 9, 0), "A7", None)

    await w.tick(at(2023, 5, 31, 12, 0))
    assert (await _retention(w, serviced))[:2] == (at(2025, 6, 1), "A6")  # not yet 3 years without service
    await w.tick(at(2023, 6, 1, 0, 1))
    assert (await _retention(w, serviced))[:2] == (at(2024, 1, 1, 9, 0), "A7")
    await w.tick(at(2024, 1, 1, 9, 1))
    assert (await _retention(w, never))[2] is not None and (await _retention(w, serviced))[2] is not None
    sealed = (await w.call("clerk", "{ archives(first: 10) { nodes { state } } }"))["archives"]["nodes"]
    assert {a["state"] for a in sealed} == {"sealed"}


async def test_a7_no_service_years_is_the_tenants(world):
    """A7: with the tenant's no_service_years at 5, the vehicle last serviced 2020-06-01 is not idle
    on 2023-06-01 and keeps its A6 retention (2025-06-01): the parameter decides."""
    w = world
    await w.parameters(no_service_years=5)
    w.clock(at(2019, 1, 1, 9, 0))
    serviced = await _folder_with_sales_archive(w, "VIN-A6B", {"last_service": "2020-06-01T00:00:00+08:00"})
    await w.tick(at(2023, 6, 1, 0, 1))
    assert await _retention(w, serviced) == (at(2025, 6, 1), "A6", None)
    await w.tick(at(2025, 6, 1, 0, 1))
    assert (await _retention(w, serviced))[2] is not None
