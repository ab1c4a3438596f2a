"""Impact assessments and incident records: audited on every change, versioned, kept three years;
the incident report deadline follows the tenant's setting and overdue incidents are flagged;
refusals write nothing; tenants kept apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient

from core.audit.tables import AuditEntry
from core.db import unit_of_work
from core.errors import KehuError
from core.jobs.tables import OutboxEvent
from core.privacy import assessments
from core.privacy.consent_tables import PrivacyAssessment, PrivacyIncident
from gateway.app import create_app
from tests.gateway.test_identity_api import gql, login
from tests.support import SYSTEM, add_user, sign_in

ASSESSMENT = {"subject": "短信营销外包", "processing": "向短信服务商提供客户手机号用于活动通知",
              "risks": "服务商泄露号码", "measures": "合同约束、号码脱敏传输、到期删除", "conclusion": "风险可控，可实施",
              "assessor": "合规部 周敏"}


def ago(**delta) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


async def written(tenant) -> tuple[int, int, int, int]:
    async with unit_of_work(SYSTEM.for_tenant(tenant.id), write=False) as uow:
        return (await uow.count(PrivacyAssessment), await uow.count(PrivacyIncident), await uow.count(AuditEntry),
                await uow.count(OutboxEvent))


async def audit_of(tenant, target_id) -> list[tuple[str, dict]]:
    import json

    async with unit_of_work(SYSTEM.for_tenant(tenant.id), write=False) as uow:
        rows = await uow.select(AuditEntry.action, AuditEntry.diff).where(
            AuditEntry.target_id == str(target_id)).order_by(AuditEntry.seq)
    return [(r["action"], json.loads(r["diff"])) for r in rows]


async def test_an_assessment_is_kept_three_years_and_every_change_is_audited(seeded):
    admin = await sign_in("acme", "admin")
    assessed = ago(days=2)
    created = await assessments.create_assessment(admin, {**ASSESSMENT, "assessed_at": assessed})
    assert created.version == 1 and created.subject == ASSESSMENT["subject"]
    assert created.keep_until == assessed.replace(year=assessed.year + 3)
    updated = await assessments.update_assessment(admin, created.id, version=1,
                                                  changes={"conclusion": "风险较高，补充加密后实施"})
    assert updated.version == 2 and updated.conclusion == "风险较高，补充加密后实施"
    assert updated.updated_by == admin.actor and updated.keep_until == created.keep_until
    trail = await audit_of(seeded.acme, created.id)
    assert [a for a, _ in trail] == ["assessment.created", "assessment.updated"]
    assert trail[1][1]["conclusion"] == {"from": "风险可控，可实施", "to": "风险较高，补充加密后实施"}
    assert [a.id for a in await assessments.list_assessments(admin)] == [created.id]


@pytest.mark.parametrize("fields, code, field", [
    ({k: v for k, v in ASSESSMENT.items() if k != "risks"}, "FIELD_REQUIRED", "risks"),
    ({**ASSESSMENT, "assessor": "  "}, "FIELD_REQUIRED", "assessor"),
    ({**ASSESSMENT, "score": 3}, "FIELD_UNKNOWN", "score"),
    ({**ASSESSMENT, "subject": "长" * 201}, "FIELD_TOO_LONG", "subject"),
])
async def test_an_incomplete_assessment_is_refused_and_writes_nothing(seeded, fields, code, field):
    admin = await sign_in("acme", "admin")
    before = await written(seeded.acme)
    with pytest.raises(KehuError) as refused:
        await assessments.create_assessment(admin, {"assessed_at": ago(hours=1), **fields})
    assert (refused.value.code, refused.value.field) == (code, field)
    assert await written(seeded.acme) == before


async def test_a_stale_or_future_change_is_refused_and_writes_nothing(seeded):
    admin = await sign_in("acme", "admin")
    created = await assessments.create_assessment(admin, {**ASSESSMENT, "assessed_at": ago(days=1)})
    await assessments.update_assessment(admin, created.id, version=1, changes={"risks": "号码泄露、超范围使用"})
    incident = await assessments.create_incident(admin, {"summary": "U 盘遗失", "discovered_at": ago(hours=1)})
    before = await written(seeded.acme)
    for call, code in ((lambda: assessments.update_assessment(admin, created.id, version=1, changes={"risks": "x"}),
                        "VERSION_CONFLICT"),
                       (lambda: assessments.update_assessment(admin, created.id, version=2,
                                                              changes={"assessed_at": datetime.now(UTC) + timedelta(days=1)}),
                        "TIME_IN_FUTURE"),
                       (lambda: assessments.update_incident(admin, incident.id, version=1,
                                                            changes={"reported_at": ago(hours=2)}),
                        "TIME_BEFORE_DISCOVERY"),
                       (lambda: assessments.update_incident(admin, incident.id, version=1,
                                                            changes={"affected_count": -1}), "FIELD_INVALID")):
        with pytest.raises(KehuError) as refused:
            await call()
        assert refused.value.code == code
    assert await written(seeded.acme) == before


async def test_the_incident_report_deadline_follows_the_tenant_setting_and_overdue_is_flagged(seeded):
    admin = await sign_in("acme", "admin")
    discovered = ago(hours=30)
    default = await assessments.create_incident(admin, {"summary": "客服工号被盗用，导出客户名单", "discovered_at": discovered,
                                                        "affected_count": 320, "categories": ["姓名", "手机号"]})
    assert default.report_due_at == discovered + timedelta(hours=72) and not default.overdue
    await assessments.update_privacy_settings(admin, {"privacy.incident_report_hours": 24})
    tight = await assessments.create_incident(admin, {"summary": "邮件误发客户清单", "discovered_at": discovered})
    assert tight.report_due_at == discovered + timedelta(hours=24) and tight.overdue and not tight.reported_late
    assert [i.id for i in await assessments.list_incidents(admin, overdue=True)] == [tight.id]
    assert [i.id for i in await assessments.list_incidents(admin, overdue=False)] == [default.id]
    reported = await assessments.update_incident(admin, tight.id, version=1, changes={
        "reported_at": ago(hours=1), "subjects_notified_at": ago(minutes=30), "measures": "已撤回邮件并通知客户"})
    assert not reported.overdue and reported.reported_late and reported.version == 2
    assert await assessments.list_incidents(admin, overdue=True) == []
    # A corrected discovery time moves the deadline (with the window in force now).
    moved = await assessments.update_incident(admin, default.id, version=1, changes={"discovered_at": ago(hours=10)})
    assert moved.report_due_at == moved.discovered_at + timedelta(hours=24)
    trail = await audit_of(seeded.acme, tight.id)
    assert [a for a, _ in trail] == ["incident.created", "incident.updated"]
    assert set(trail[1][1]) >= {"reported_at", "subjects_notified_at", "measures"}
    with pytest.raises(KehuError) as invalid:
        await assessments.update_privacy_settings(admin, {"privacy.incident_report_hours": 0})
    assert invalid.value.code == "SETTING_INVALID"


async def test_registers_are_kept_per_tenant_and_need_their_permission(seeded):
    admin, globex = await sign_in("acme", "admin"), await sign_in("globex", "admin")
    assessment = await assessments.create_assessment(admin, {**ASSESSMENT, "assessed_at": ago(days=1)})
    incident = await assessments.create_incident(admin, {"summary": "服务器被入侵", "discovered_at": ago(hours=2)})
    assert await assessments.list_assessments(globex) == [] and await assessments.list_incidents(globex) == []
    before = await written(seeded.globex)
    for call in (lambda: assessments.update_assessment(globex, assessment.id, version=1, changes={"risks": "x"}),
                 lambda: assessments.update_incident(globex, incident.id, version=1, changes={"measures": "x"})):
        with pytest.raises(KehuError) as refused:
            await call()
        assert refused.value.code == "NOT_FOUND"
    assert await written(seeded.globex) == before
    await add_user(seeded.acme, "plain")
    plain = await sign_in("acme", "plain")
    for call in (lambda: assessments.list_assessments(plain), lambda: assessments.list_incidents(plain),
                 lambda: assessments.create_incident(plain, {"summary": "x", "discovered_at": ago(hours=1)})):
        with pytest.raises(KehuError) as denied:
            await call()
        assert denied.value.code == "PERMISSION_DENIED"


# --- over GraphQL ------------------------------------------------------------------------------

CREATE_ASSESSMENT = """mutation($i: AssessmentInput!) { assessmentCreate(input: $i) {
  assessment { id version subject keepUntil } errors { code field } } }"""
UPDATE_ASSESSMENT = """mutation($id: ID!, $v: Int!, $i: AssessmentInput!) { assessmentUpdate(id: $id, version: $v, input: $i) {
  assessment { version measures } errors { code field } } }"""
CREATE_INCIDENT = """mutation($i: IncidentInput!) { incidentCreate(input: $i) {
  incident { id version reportDueAt overdue categories } errors { code field } } }"""
UPDATE_INCIDENT = """mutation($id: ID!, $v: Int!, $i: IncidentInput!) { incidentUpdate(id: $id, version: $v, input: $i) {
  incident { version overdue reportedLate } errors { code field } } }"""


@pytest.fixture
async def client(settings, seeded):
    relaxed = settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000})
    async with AsyncTestClient(create_app(relaxed)) as test_client:
        yield test_client


async def test_assessments_and_incidents_round_trip_over_graphql(client):
    token = (await login(client))["accessToken"]
    created = (await gql(client, CREATE_ASSESSMENT, token, i={**ASSESSMENT, "assessedAt": ago(days=1).isoformat()})
               ).json()["data"]["assessmentCreate"]
    assert created["errors"] == [] and created["assessment"]["version"] == 1
    aid = created["assessment"]["id"]
    updated = (await gql(client, UPDATE_ASSESSMENT, token, id=aid, v=1, i={"measures": "加密传输"})).json()
    assert updated["data"]["assessmentUpdate"] == {"assessment": {"version": 2, "measures": "加密传输"}, "errors": []}
    stale = (await gql(client, UPDATE_ASSESSMENT, token, id=aid, v=1, i={"measures": "x"})).json()
    assert stale["data"]["assessmentUpdate"]["errors"] == [{"code": "VERSION_CONFLICT", "field": "version"}]
    listed = (await gql(client, "{ assessments { nodes { id measures } } }", token)).json()["data"]["assessments"]["nodes"]
    assert listed == [{"id": aid, "measures": "加密传输"}]

    discovered = ago(hours=100)
    incident = (await gql(client, CREATE_INCIDENT, token, i={"summary": "客户资料外泄", "discoveredAt": discovered.isoformat(),
                                                            "categories": ["手机号"]})).json()["data"]["incidentCreate"]
    assert incident["errors"] == [] and incident["incident"]["overdue"] is True
    assert datetime.fromisoformat(incident["incident"]["reportDueAt"]) == discovered + timedelta(hours=72)
    overdue = (await gql(client, "{ incidents(overdue: true) { nodes { id } } }", token)).json()["data"]["incidents"]["nodes"]
    assert overdue == [{"id": incident["incident"]["id"]}]
    reported = (await gql(client, UPDATE_INCIDENT, token, id=incident["incident"]["id"], v=1,
                          i={"reportedAt": ago(hours=1).isoformat()})).json()["data"]["incidentUpdate"]
    assert reported == {"incident": {"version": 2, "overdue": False, "reportedLate": True}, "errors": []}
    missing = (await gql(client, CREATE_INCIDENT, token, i={"summary": "无发现时间"})).json()["data"]["incidentCreate"]
    assert missing["errors"] == [{"code": "FIELD_REQUIRED", "field": "discoveredAt"}]  # the input's name (issue 17 point 4)
