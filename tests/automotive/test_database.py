"""The dealer's customer database (seed 002 part 1) over the public GraphQL API: the customer director's
weekly accuracy check (R1-03), the database modification plans (R1-06, R1-07), the monthly backup register
(R1-08) and the change and extract applications (R1-04, R1-09)."""

from __future__ import annotations

import pytest

from plugins.automotive.roles import POSTS
from tests.automotive.conftest import user_with
from tests.medical_devices.api import ok, refused

CHECK = ("mutation($w: Date!, $l: [AutomotiveAccuracyLineInput!]!) { automotiveAccuracyCheckRecord(weekOf: $w, "
         "lines: $l) { check { id weekOf } errors { code field } } }")
REPORT = ("query($s: Date!, $u: Date!) { automotiveAccuracyReport(since: $s, until: $u) { weeks { weekOf checked sample "
          "errors accuracy } weeksWithoutCheck sample found: errors accuracy byEnterer { entererId system sample errors } } }")
PLAN = "plan { id status signedBy opinions { department } } errors { code field }"
DRAFT = ('mutation { automotiveDatabasePlanDraft(title: "增加会员等级字段", content: "会员表增加等级", '
         'continuity: "旧记录等级为空，历史数据保留") { %s } }' % PLAN)
OPINION = ('mutation($id: ID!) { automotiveDatabasePlanOpinion(id: $id, department: "售后部", opinion: "同意") '
           '{ %s } }' % PLAN)
SIGN = "mutation($id: ID!) { automotiveDatabasePlanSign(id: $id) { %s } }" % PLAN
IMPLEMENT = "mutation($id: ID!) { automotiveDatabasePlanImplement(id: $id) { %s } }" % PLAN


@pytest.fixture
async def office(floor):
    for post in ("customer_director", "general_manager", "customer_dept"):
        floor[post], floor["ids"][post] = await user_with(floor["admin"], floor["tenant"], post, POSTS[post])
    return floor


async def test_r1_03_one_accuracy_check_a_week_and_a_report_of_the_weeks_without_one(office):
    """R1-03: the customer director checks weekly (one check per week); the report shows the accuracy
    rate, the weeks without a check and the totals per enterer and system."""
    lines = [{"entererId": office["ids"]["consultant"], "system": "crm", "sample": 20, "errors": 2},
             {"entererId": office["ids"]["assistant"], "system": "ism", "sample": 30, "errors": 0}]
    made = await ok(office["customer_director"], CHECK, "automotiveAccuracyCheckRecord", w="2026-10-28", l=lines)
    assert made["check"]["weekOf"] == "2026-10-26"  # stored as the week's Monday
    again = await refused(office["customer_director"], CHECK, "automotiveAccuracyCheckRecord", w="2026-10-30", l=lines)
    assert again["code"] == "AUTOMOTIVE_CHECK_EXISTS"
    assert (await refused(office["customer_dept"], CHECK, "automotiveAccuracyCheckRecord", w="2026-10-19",
                          l=lines))["code"] == "PERMISSION_DENIED"
    bad = [{"entererId": office["ids"]["consultant"], "system": "crm", "sample": 5, "errors": 6}]
    assert (await refused(office["customer_director"], CHECK, "automotiveAccuracyCheckRecord", w="2026-10-19",
                          l=bad))["code"] == "AUTOMOTIVE_INPUT_INVALID"
    report = await ok(office["general_manager"], REPORT, "automotiveAccuracyReport", s="2026-10-12", u="2026-11-01")
    assert [(w["weekOf"], w["checked"]) for w in report["weeks"]] == [
        ("2026-10-12", False), ("2026-10-19", False), ("2026-10-26", True)]
    assert report["weeksWithoutCheck"] == ["2026-10-12", "2026-10-19"]
    assert (report["sample"], report["found"], report["accuracy"]) == (50, 2, 0.96)
    assert {(t["system"], t["sample"], t["errors"]) for t in report["byEnterer"]} == {("crm", 20, 2), ("ism", 30, 0)}


async def test_r1_06_a_plan_is_signed_by_the_general_manager_or_the_director_never_its_author_before_implementing(office):
    """R1-06 / R1-07: 客户部 drafts the plan (stating continuity), records department opinions; it may not be
    implemented unsigned; its author may not sign it; the general manager signs; then it is implemented."""
    plan = (await ok(office["customer_dept"], DRAFT, "automotiveDatabasePlanDraft"))["plan"]
    assert plan["status"] == "draft"
    assert (await refused(office["customer_dept"], IMPLEMENT, "automotiveDatabasePlanImplement",
                          id=plan["id"]))["code"] == "AUTOMOTIVE_PLAN_STATE"
    assert (await refused(office["general_manager"], SIGN, "automotiveDatabasePlanSign",
                          id=plan["id"]))["code"] == "AUTOMOTIVE_PLAN_NO_OPINIONS"
    await ok(office["customer_dept"], OPINION, "automotiveDatabasePlanOpinion", id=plan["id"])
    assert (await refused(office["customer_dept"], SIGN, "automotiveDatabasePlanSign", id=plan["id"]))["code"] == \
        "PERMISSION_DENIED"
    signed = await ok(office["general_manager"], SIGN, "automotiveDatabasePlanSign", id=plan["id"])
    assert signed["plan"]["status"] == "signed" and signed["plan"]["signedBy"] == office["ids"]["general_manager"]
    done = await ok(office["customer_dept"], IMPLEMENT, "automotiveDatabasePlanImplement", id=plan["id"])
    assert done["plan"]["status"] == "implemented"


async def test_r1_06_the_author_never_signs_even_holding_the_signing_permission(office):
    """R1-06: the customer director, signing as proxy, may not sign a plan she drafted."""
    author, _ = await user_with(office["admin"], office["tenant"], "drafter",
                                {**POSTS["customer_dept"], "automotive.database.plan.sign": "tenant"})
    plan = (await ok(author, DRAFT, "automotiveDatabasePlanDraft"))["plan"]
    await ok(author, OPINION, "automotiveDatabasePlanOpinion", id=plan["id"])
    assert (await refused(author, SIGN, "automotiveDatabasePlanSign", id=plan["id"]))["code"] == "AUTOMOTIVE_PLAN_AUTHOR"
    signed = await ok(office["customer_director"], SIGN, "automotiveDatabasePlanSign", id=plan["id"])
    assert signed["plan"]["status"] == "signed"


# --- R1-08: the monthly backup register and its restore drills ---------------------------------------------

BACKUP = ("mutation($m: Date!, $t: DateTime!, $r: String!) { automotiveDatabaseBackupRecord(month: $m, takenAt: $t, "
          'medium: "加密移动硬盘，总经理办公室保险柜", reference: $r) { backup { id month takenBy restores { result } } '
          "errors { code field } } }")
RESTORE = ("mutation($id: ID!, $t: DateTime!, $res: String!, $n: String!) { automotiveDatabaseRestoreRecord(backupId: $id, "
           "restoredAt: $t, result: $res, notes: $n) { backup { id restores { result restoredBy notes } } "
           "errors { code field } } }")
BACKUP_REPORT = ("query($s: Date!, $u: Date!) { automotiveDatabaseBackupReport(since: $s, until: $u) { months { month "
                 "backup { id } } monthsWithoutBackup neverRestored { month } lastRestoreFailed { month } } }")


async def test_r1_08_a_second_backup_in_one_month_is_refused(office):
    """R1-08: one backup per month: 客户部 records September's backup (any day of it, stored as its first day);
    a second one for September is refused; other posts may not record backups."""
    made = await ok(office["customer_dept"], BACKUP, "automotiveDatabaseBackupRecord", m="2026-09-20",
                    t="2026-09-30T18:00:00+08:00", r="sha256:ab12")
    assert made["backup"]["month"] == "2026-09-01"
    assert made["backup"]["takenBy"] == office["ids"]["customer_dept"]
    again = await refused(office["customer_dept"], BACKUP, "automotiveDatabaseBackupRecord", m="2026-09-01",
                          t="2026-10-01T18:00:00+08:00", r="sha256:cd34")
    assert (again["code"], again["field"]) == ("AUTOMOTIVE_BACKUP_EXISTS", "month")
    assert (await refused(office["consultant"], BACKUP, "automotiveDatabaseBackupRecord", m="2026-10-01",
                          t="2026-10-31T18:00:00+08:00", r="x"))["code"] == "PERMISSION_DENIED"
    early = await refused(office["customer_dept"], BACKUP, "automotiveDatabaseBackupRecord", m="2026-10-01",
                          t="2026-09-30T18:00:00+08:00", r="x")
    assert (early["code"], early["field"]) == ("AUTOMOTIVE_INPUT_INVALID", "takenAt")


async def test_r1_08_the_report_lists_months_without_a_backup_and_backups_never_restore_tested(office):
    """R1-08: the restore record of a backup (ok or failed, notes required when it failed); the report shows the
    months without a backup, the backups never restore-tested and those whose last drill failed."""
    aug = (await ok(office["customer_dept"], BACKUP, "automotiveDatabaseBackupRecord", m="2026-08-01",
                    t="2026-08-31T18:00:00+08:00", r="ref-08"))["backup"]
    oct_ = (await ok(office["customer_dept"], BACKUP, "automotiveDatabaseBackupRecord", m="2026-10-01",
                     t="2026-10-31T18:00:00+08:00", r="ref-10"))["backup"]
    missing = await refused(office["customer_dept"], RESTORE, "automotiveDatabaseRestoreRecord", id=aug["id"],
                            t="2026-09-02T10:00:00+08:00", res="failed", n="")
    assert (missing["code"], missing["field"]) == ("AUTOMOTIVE_INPUT_INVALID", "notes")
    drilled = await ok(office["customer_dept"], RESTORE, "automotiveDatabaseRestoreRecord", id=aug["id"],
                       t="2026-09-02T10:00:00+08:00", res="ok", n="测试库恢复成功")
    assert drilled["backup"]["restores"] == [{"result": "ok", "restoredBy": office["ids"]["customer_dept"],
                                              "notes": "测试库恢复成功"}]
    await ok(office["customer_dept"], RESTORE, "automotiveDatabaseRestoreRecord", id=aug["id"],
             t="2026-10-02T10:00:00+08:00", res="failed", n="文件损坏")
    report = await ok(office["general_manager"], BACKUP_REPORT, "automotiveDatabaseBackupReport", s="2026-08-15",
                      u="2026-11-01")
    assert [(m["month"], m["backup"] is not None) for m in report["months"]] == [
        ("2026-08-01", True), ("2026-09-01", False), ("2026-10-01", True), ("2026-11-01", False)]
    assert report["monthsWithoutBackup"] == ["2026-09-01", "2026-11-01"]
    assert report["neverRestored"] == [{"month": "2026-10-01"}]
    assert report["lastRestoreFailed"] == [{"month": "2026-08-01"}]
    assert oct_["restores"] == []
    gone = await refused(office["customer_dept"], RESTORE, "automotiveDatabaseRestoreRecord",
                         id="00000000-0000-0000-0000-000000000000", t="2026-10-02T10:00:00+08:00", res="ok", n="")
    assert gone["code"] == "AUTOMOTIVE_BACKUP_NOT_FOUND"


# --- R1-04 / R1-09: change and extract applications --------------------------------------------------------

APPLICATION = ("application { id kind status appliedBy decidedBy refusal releasedBy releasedAt } "
               "errors { code field }")
APPLY = ('mutation($k: String!) { automotiveDatabaseApply(kind: $k, department: "售后部", what: "2026年保养到期客户名单", '
         'why: "十一月保养提醒", scope: "姓名、电话、车牌") { %s } }' % APPLICATION)
APP_SIGN = "mutation($id: ID!) { automotiveDatabaseApplicationSign(id: $id) { %s } }" % APPLICATION
APP_REFUSE = ("mutation($id: ID!, $r: String!) { automotiveDatabaseApplicationRefuse(id: $id, reason: $r) { %s } }"
              % APPLICATION)
RELEASE = "mutation($id: ID!) { automotiveDatabaseExtractRelease(id: $id) { %s } }" % APPLICATION
APPLICATIONS = ("query($s: String) { automotiveDatabaseApplications(status: $s, first: 20) { nodes { id kind status } } }")


async def test_r1_04_any_department_applies_to_change_or_extract_and_the_list_filters_by_state(office):
    """R1-04: a department (here a consultant) applies to 客户部 to change or extract data (what, why, scope); the
    applications are listed with a state filter; the cashier's post holds no right to apply."""
    change = (await ok(office["consultant"], APPLY, "automotiveDatabaseApply", k="change"))["application"]
    extract = (await ok(office["leader"], APPLY, "automotiveDatabaseApply", k="extract"))["application"]
    assert (change["status"], change["appliedBy"]) == ("applied", office["ids"]["consultant"])
    assert (await refused(office["cashier"], APPLY, "automotiveDatabaseApply", k="extract"))["code"] == \
        "PERMISSION_DENIED"
    assert (await refused(office["consultant"], APPLY, "automotiveDatabaseApply", k="delete"))["code"] == \
        "AUTOMOTIVE_INPUT_INVALID"
    await ok(office["general_manager"], APP_SIGN, "automotiveDatabaseApplicationSign", id=change["id"])
    listed = await ok(office["customer_dept"], APPLICATIONS, "automotiveDatabaseApplications", s="applied")
    assert [n["id"] for n in listed["nodes"]] == [extract["id"]]
    listed = await ok(office["customer_dept"], APPLICATIONS, "automotiveDatabaseApplications", s="signed")
    assert [(n["id"], n["kind"]) for n in listed["nodes"]] == [(change["id"], "change")]
    assert len((await ok(office["customer_dept"], APPLICATIONS, "automotiveDatabaseApplications", s=None))["nodes"]) == 2


async def test_r1_09_extract_released_only_after_general_manager_signs(office):
    """R1-09: nobody retrieves data unless the general manager or the customer director signed: 客户部 may not
    release an unsigned extract; the applicant's own post may not sign; the general manager signs; 客户部
    releases it and who released it is kept; a change is never "released"."""
    extract = (await ok(office["consultant"], APPLY, "automotiveDatabaseApply", k="extract"))["application"]
    early = await refused(office["customer_dept"], RELEASE, "automotiveDatabaseExtractRelease", id=extract["id"])
    assert early["code"] == "AUTOMOTIVE_APPLICATION_STATE"
    for who in ("customer_dept", "manager", "consultant"):
        assert (await refused(office[who], APP_SIGN, "automotiveDatabaseApplicationSign",
                              id=extract["id"]))["code"] == "PERMISSION_DENIED"
    signed = await ok(office["general_manager"], APP_SIGN, "automotiveDatabaseApplicationSign", id=extract["id"])
    assert (signed["application"]["status"], signed["application"]["decidedBy"]) == (
        "signed", office["ids"]["general_manager"])
    assert (await refused(office["customer_director"], APP_SIGN, "automotiveDatabaseApplicationSign",
                          id=extract["id"]))["code"] == "AUTOMOTIVE_APPLICATION_STATE"
    released = await ok(office["customer_dept"], RELEASE, "automotiveDatabaseExtractRelease", id=extract["id"])
    assert released["application"]["status"] == "released"
    assert released["application"]["releasedBy"] == office["ids"]["customer_dept"]
    assert released["application"]["releasedAt"]
    change = (await ok(office["consultant"], APPLY, "automotiveDatabaseApply", k="change"))["application"]
    await ok(office["customer_director"], APP_SIGN, "automotiveDatabaseApplicationSign", id=change["id"])
    assert (await refused(office["customer_dept"], RELEASE, "automotiveDatabaseExtractRelease",
                          id=change["id"]))["code"] == "AUTOMOTIVE_APPLICATION_NOT_EXTRACT"


async def test_r1_09_the_applicant_never_signs_and_a_refusal_keeps_its_reason(office):
    """R1-09: the customer director, applying herself, may not sign her own application (even holding the
    signing permission); the general manager refuses it with a reason; a refused extract is never released."""
    director, _ = await user_with(office["admin"], office["tenant"], "director-applies",
                                  {**POSTS["customer_director"], "automotive.database.apply": "tenant"})
    own = (await ok(director, APPLY, "automotiveDatabaseApply", k="extract"))["application"]
    assert (await refused(director, APP_SIGN, "automotiveDatabaseApplicationSign",
                          id=own["id"]))["code"] == "AUTOMOTIVE_APPLICATION_SELF"
    assert (await refused(office["general_manager"], APP_REFUSE, "automotiveDatabaseApplicationRefuse", id=own["id"],
                          r=" "))["code"] == "AUTOMOTIVE_INPUT_INVALID"
    no = await ok(office["general_manager"], APP_REFUSE, "automotiveDatabaseApplicationRefuse", id=own["id"],
                  r="范围过大，请缩小到本月")
    assert (no["application"]["status"], no["application"]["refusal"]) == ("refused", "范围过大，请缩小到本月")
    assert (await refused(office["customer_dept"], RELEASE, "automotiveDatabaseExtractRelease",
                          id=own["id"]))["code"] == "AUTOMOTIVE_APPLICATION_STATE"


# --- R1-15: the archivist's formal handover; R1-01: the customer director approves user permissions ---------

HANDOVER = ("mutation($a: ID!, $s: ID!, $t: DateTime!) { automotiveArchivistHandoverRecord(archivistId: $a, "
            'successorId: $s, handedOverAt: $t, items: "借阅登记表、档案室钥匙、未归还借阅2笔") { handover { id '
            "archivistId successorId acknowledgedAt } errors { code field } } }")
ACKNOWLEDGE = ("mutation($id: ID!) { automotiveArchivistHandoverAcknowledge(id: $id) { handover { id acknowledgedAt } "
               "errors { code field } } }")


async def test_r1_15_an_archivists_transfer_is_a_formal_handover_the_successor_acknowledges(office):
    """R1-15: on an archivist's transfer the leader (customer director) records the formal handover (who, to whom,
    when, what); only the successor acknowledges it, once; 客户部 itself may not record one."""
    archivist, successor = office["ids"]["assistant"], office["ids"]["customer_dept"]
    assert (await refused(office["customer_dept"], HANDOVER, "automotiveArchivistHandoverRecord", a=archivist,
                          s=successor, t="2026-11-01T17:00:00+08:00"))["code"] == "PERMISSION_DENIED"
    same = await refused(office["customer_director"], HANDOVER, "automotiveArchivistHandoverRecord", a=archivist,
                         s=archivist, t="2026-11-01T17:00:00+08:00")
    assert (same["code"], same["field"]) == ("AUTOMOTIVE_HANDOVER_SAME_PERSON", "successorId")
    made = (await ok(office["customer_director"], HANDOVER, "automotiveArchivistHandoverRecord", a=archivist,
                     s=successor, t="2026-11-01T17:00:00+08:00"))["handover"]
    assert (made["archivistId"], made["successorId"], made["acknowledgedAt"]) == (archivist, successor, None)
    assert (await refused(office["general_manager"], ACKNOWLEDGE, "automotiveArchivistHandoverAcknowledge",
                          id=made["id"]))["code"] == "AUTOMOTIVE_HANDOVER_NOT_SUCCESSOR"
    done = await ok(office["customer_dept"], ACKNOWLEDGE, "automotiveArchivistHandoverAcknowledge", id=made["id"])
    assert done["handover"]["acknowledgedAt"]
    assert (await refused(office["customer_dept"], ACKNOWLEDGE, "automotiveArchivistHandoverAcknowledge",
                          id=made["id"]))["code"] == "AUTOMOTIVE_HANDOVER_ACKNOWLEDGED"


ROLES = "{ roles(first: 100) { nodes { id name } } }"
CHANGE = ("mutation($r: ID!, $p: [GrantInput!]!) { roleChangeRequest(roleId: $r, permissions: $p, reason: \"R1-04\") "
          "{ change { id state } errors { code } } }")
APPROVE = "mutation($id: ID!) { roleChangeApprove(id: $id) { change { id state } errors { code } } }"


async def test_r1_01_the_customer_director_approves_user_permissions(office):
    """R1-01: widening a post's permissions waits for an approval (core's roleChangeRequest); the customer
    director's post approves it (roleChangeApprove, role.grant); a team leader's post may not."""
    roles = (await ok(office["admin"], ROLES, "roles"))["nodes"]
    role = next(r["id"] for r in roles if r["name"] == "r-consultant")
    wider = {**POSTS["consultant"], "automotive.database.read": "tenant"}
    change = (await ok(office["admin"], CHANGE, "roleChangeRequest", r=role,
                       p=[{"permission": p, "scope": s.upper()} for p, s in wider.items()]))["change"]
    assert change["state"] == "PENDING"
    assert (await refused(office["leader"], APPROVE, "roleChangeApprove", id=change["id"]))["code"] == \
        "PERMISSION_DENIED"
    approved = await ok(office["customer_director"], APPROVE, "roleChangeApprove", id=change["id"])
    assert approved["change"]["state"] == "APPROVED"
