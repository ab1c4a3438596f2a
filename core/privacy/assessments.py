"""Personal-information impact assessments (PIPL art. 55-56, kept at least three years) and
incident records (art. 57) with the report deadline clock: due = discovered_at + the tenant's
``privacy.incident_report_hours`` (default 72). Both are plain documents, versioned, and audited
on every change."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from core.audit.chain import record as audit
from core.context import Context
from core.db import keyset, unit_of_work
from core.db.keyset import Window
from core.db.uow import UnitOfWork
from core.errors import KehuError, NotFound
from core.identity.access import require
from core.identity.policies import write_setting
from core.identity.tables import TenantSetting
from core.jobs import outbox
from core.privacy.consent_tables import PrivacyAssessment, PrivacyIncident

ASSESSMENT, INCIDENT = "privacy_assessment", "privacy_incident"
KEEP_YEARS = 3
# Tenant settings of the privacy registers: key -> (default, lowest, highest).
# The tenant's privacy settings: key -> (default, lowest, highest). The subject-request due days
# and the retention years are read where they are used (subject_requests, retention) with the
# same defaults; a test keeps them equal.
SETTINGS: dict[str, tuple[int, int, int]] = {"privacy.incident_report_hours": (72, 1, 720),
                                             "privacy.loan_days": (7, 1, 365),
                                             "privacy.loan_approvals": (0, 0, 1),
                                             "privacy.approved_loan_days": (1, 1, 365),
                                             "privacy.loan_ban": (1, 0, 1),
                                             "privacy.request_days": (15, 1, 90),
                                             "privacy.request_working_days": (0, 0, 1),
                                             "privacy.retention_years": (5, 1, 50)}
MAX_TEXT = 20_000


def now() -> datetime:
    return datetime.now(UTC)


# --- tenant settings ---------------------------------------------------------------------------

async def setting(uow: UnitOfWork, key: str) -> int:
    row = await uow.select(TenantSetting.value).where(TenantSetting.key == key).first()
    return int(json.loads(row["value"])) if row else SETTINGS[key][0]


async def privacy_settings(ctx: Context) -> dict[str, int]:
    require(ctx, "tenant.settings.manage")
    async with unit_of_work(ctx, write=False) as uow:
        return {key: await setting(uow, key) for key in SETTINGS}


async def update_privacy_settings(ctx: Context, changes: Mapping[str, int]) -> dict[str, int]:
    """The incident report window (hours), the archive loan period (days), the due time of
    data-subject requests (days) and the retention of inactive customers (years)."""
    require(ctx, "tenant.settings.manage")
    for key, value in changes.items():
        if key not in SETTINGS:
            raise KehuError("SETTING_UNKNOWN", f"no privacy setting {key!r}", f"没有隐私设置 {key!r}", field=key)
        _, low, high = SETTINGS[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise KehuError("SETTING_INVALID", f"{key} must be a whole number from {low} to {high}",
                            f"{key} 须为 {low} 至 {high} 的整数", field=key)
    async with unit_of_work(ctx) as uow:
        before = {key: await setting(uow, key) for key in SETTINGS}
        for key, value in changes.items():
            if before[key] != value:
                await write_setting(uow, key, value)  # type: ignore[arg-type]  # a bare number
                await audit(uow, "setting.updated", "tenant_setting", key, {key: (before[key], value)})
                await outbox.add(uow, "setting.updated", "tenant_setting", key, (key,))
        return {**before, **changes}


# --- shared checks -----------------------------------------------------------------------------

def _text(fields: Mapping[str, Any], name: str, *, max_length: int = MAX_TEXT, required: bool = True) -> str:
    value = fields.get(name)
    text = value.strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        raise KehuError("FIELD_INVALID", f"{name} must be text", f"{name} 须为文本", field=name)
    if required and not text:
        raise KehuError("FIELD_REQUIRED", f"{name} is required", f"{name} 为必填项", field=name)
    if len(text) > max_length:
        raise KehuError("FIELD_TOO_LONG", f"{name} has at most {max_length} characters",
                        f"{name} 最多 {max_length} 字", field=name)
    return text


def _moment(fields: Mapping[str, Any], name: str, *, required: bool = True, not_before: datetime | None = None,
            at: datetime) -> datetime | None:
    value = fields.get(name)
    if value is None:
        if required:
            raise KehuError("FIELD_REQUIRED", f"{name} is required", f"{name} 为必填项", field=name)
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise KehuError("FIELD_INVALID", f"{name} must be a time with its zone", f"{name} 须为带时区的时间",
                        field=name)
    if value > at + timedelta(minutes=5):  # a little clock skew between client and server
        raise KehuError("TIME_IN_FUTURE", f"{name} cannot lie in the future", f"{name} 不能晚于当前时间", field=name)
    if not_before is not None and value < not_before:
        raise KehuError("TIME_BEFORE_DISCOVERY", f"{name} cannot lie before the incident was discovered",
                        f"{name} 不能早于事件发现时间", field=name)
    return value


def _stale(what: str, expected: int, actual: int) -> KehuError:
    return KehuError("VERSION_CONFLICT", f"the {what} changed since you read it (version {expected}, now {actual}); "
                     "read it again and redo your change",
                     f"记录已被他人修改（您读取的是第 {expected} 版，现为第 {actual} 版），请重新读取后再修改", field="version")


def _diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {k: (before.get(k), after[k]) for k in after if before.get(k) != after[k]}


async def _save(uow: UnitOfWork, table: Any, target: str, row_id: UUID, version: int,
                values: Mapping[str, Any], diff: Mapping[str, Any]) -> None:
    """Write a changed document if it is still at ``version``; audit and announce the change."""
    at = now()
    updated = await uow.update(table, {**{getattr(table, k): v for k, v in values.items()},
                                       table.version: version + 1, table.updated_at: at,
                                       table.updated_by: uow.ctx.actor}).where(
        (table.id == row_id) & (table.version == version)).returning(table.id)
    if not updated:  # a concurrent writer got there between our read and write
        raise _stale(target.replace("privacy_", ""), version, version + 1)
    await audit(uow, f"{target.replace('privacy_', '')}.updated", target, row_id, {**diff, "version": version + 1})
    await outbox.add(uow, f"{target.replace('privacy_', '')}.updated", target, row_id, diff)


# --- impact assessments ------------------------------------------------------------------------

ASSESSMENT_TEXTS = {"subject": 200, "processing": MAX_TEXT, "risks": MAX_TEXT, "measures": MAX_TEXT,
                    "conclusion": MAX_TEXT, "assessor": 100}


@dataclass(frozen=True, slots=True)
class AssessmentView:
    id: UUID
    version: int
    subject: str
    processing: str
    risks: str
    measures: str
    conclusion: str
    assessor: str
    assessed_at: datetime
    keep_until: datetime
    created_at: datetime
    updated_at: datetime
    updated_by: str


def _keep_until(assessed_at: datetime) -> datetime:
    try:
        return assessed_at.replace(year=assessed_at.year + KEEP_YEARS)
    except ValueError:  # 29 February
        return assessed_at.replace(year=assessed_at.year + KEEP_YEARS, day=28)


def _assessment_view(row: Mapping[str, Any]) -> AssessmentView:
    return AssessmentView(**{name: row[name] for name in AssessmentView.__slots__ if name != "version"},
                          version=int(row["version"]))


def _assessment_fields(fields: Mapping[str, Any], at: datetime) -> dict[str, Any]:
    unknown = set(fields) - set(ASSESSMENT_TEXTS) - {"assessed_at"}
    if unknown:
        name = sorted(unknown)[0]
        raise KehuError("FIELD_UNKNOWN", f"an assessment has no field {name}", f"评估没有字段 {name}", field=name)
    values: dict[str, Any] = {name: _text(fields, name, max_length=limit) for name, limit in ASSESSMENT_TEXTS.items()}
    values["assessed_at"] = _moment(fields, "assessed_at", at=at)
    values["keep_until"] = _keep_until(values["assessed_at"])
    return values


async def create_assessment(ctx: Context, fields: Mapping[str, Any]) -> AssessmentView:
    """Record an impact assessment: subject, processing described, risks, measures, conclusion,
    assessor and when it was made; it is kept three years from then."""
    require(ctx, "privacy.assessment.manage")
    at = now()
    values = _assessment_fields(fields, at)
    async with unit_of_work(ctx) as uow:
        row_id = uuid4()
        await uow.insert(PrivacyAssessment(id=row_id, version=1, updated_at=at, updated_by=ctx.actor, **values))
        await audit(uow, "assessment.created", ASSESSMENT, row_id, {k: (None, v) for k, v in values.items()})
        await outbox.add(uow, "assessment.created", ASSESSMENT, row_id, values)
        return _assessment_view(await uow.select(PrivacyAssessment).where(PrivacyAssessment.id == row_id).first())


async def update_assessment(ctx: Context, assessment_id: UUID, *, version: int,
                            changes: Mapping[str, Any]) -> AssessmentView:
    """Change some fields of an assessment last read at ``version``."""
    require(ctx, "privacy.assessment.manage")
    async with unit_of_work(ctx) as uow:
        row = await uow.select(PrivacyAssessment).where(PrivacyAssessment.id == assessment_id).first()
        if row is None:
            raise NotFound("assessment", assessment_id)
        if int(row["version"]) != version:
            raise _stale("assessment", version, int(row["version"]))
        before = {k: row[k] for k in (*ASSESSMENT_TEXTS, "assessed_at", "keep_until")}
        after = _assessment_fields({k: v for k, v in {**before, **changes}.items() if k != "keep_until"}, now())
        diff = _diff(before, after)
        if diff:
            await _save(uow, PrivacyAssessment, ASSESSMENT, assessment_id, version, after, diff)
        return _assessment_view(await uow.select(PrivacyAssessment).where(
            PrivacyAssessment.id == assessment_id).first())


async def list_assessments(ctx: Context) -> list[AssessmentView]:
    """Every assessment of the tenant, newest first."""
    require(ctx, "privacy.assessment.manage")
    async with unit_of_work(ctx, write=False) as uow:
        rows = await uow.select(PrivacyAssessment).order_by(PrivacyAssessment.assessed_at, PrivacyAssessment.id,
                                                            ascending=False)
    return [_assessment_view(row) for row in rows]


async def assessments_page(ctx: Context, window: Window) -> tuple[list[AssessmentView], bool]:
    """A window of list_assessments (keyset on assessed_at, id, newest first) and whether more lie beyond it."""
    require(ctx, "privacy.assessment.manage")
    async with unit_of_work(ctx, write=False) as uow:
        rows, more = await keyset.fetch(uow.select(PrivacyAssessment),
                                        [PrivacyAssessment.assessed_at, PrivacyAssessment.id], window, descending=True)
    return [_assessment_view(row) for row in rows], more


# --- incidents ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class IncidentView:
    id: UUID
    version: int
    summary: str
    discovered_at: datetime
    report_due_at: datetime
    affected_count: int
    categories: tuple[str, ...]
    measures: str
    reported_at: datetime | None
    subjects_notified_at: datetime | None
    created_at: datetime
    updated_at: datetime
    updated_by: str
    overdue: bool  # not reported to the authority and the deadline has passed
    reported_late: bool  # reported, but after the deadline
    status: str = "investigating"  # investigating | closed (closing needs the review, CSM-29)
    closed_at: datetime | None = None
    review_summary: str = ""
    review_effectiveness: str = ""
    review_improvements: str = ""


def _incident_view(row: Mapping[str, Any], at: datetime) -> IncidentView:
    due, reported = row["report_due_at"], row["reported_at"]
    return IncidentView(id=row["id"], version=int(row["version"]), summary=row["summary"],
                        discovered_at=row["discovered_at"], report_due_at=due,
                        affected_count=int(row["affected_count"]), categories=tuple(json.loads(row["categories"])),
                        measures=row["measures"], reported_at=reported, subjects_notified_at=row["subjects_notified_at"],
                        created_at=row["created_at"], updated_at=row["updated_at"], updated_by=row["updated_by"],
                        overdue=reported is None and at > due, reported_late=reported is not None and reported > due,
                        status=row.get("status") or "investigating", closed_at=row.get("closed_at"),
                        review_summary=row.get("review_summary") or "",
                        review_effectiveness=row.get("review_effectiveness") or "",
                        review_improvements=row.get("review_improvements") or "")


INCIDENT_FIELDS = {"summary", "discovered_at", "affected_count", "categories", "measures", "reported_at",
                   "subjects_notified_at"}


def _categories(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise KehuError("FIELD_INVALID", "categories is a list of data categories", "categories 须为数据类别列表",
                        field="categories")
    cleaned = [c.strip() for c in value if isinstance(c, str) and c.strip()]
    if len(cleaned) != len(value) or len(cleaned) > 30 or any(len(c) > 50 for c in cleaned):
        raise KehuError("FIELD_INVALID", "categories: at most 30 names of at most 50 characters each",
                        "categories 最多 30 项，每项最多 50 字", field="categories")
    return list(dict.fromkeys(cleaned))


def _incident_fields(fields: Mapping[str, Any], at: datetime) -> dict[str, Any]:
    unknown = set(fields) - INCIDENT_FIELDS
    if unknown:
        name = sorted(unknown)[0]
        raise KehuError("FIELD_UNKNOWN", f"an incident has no field {name}", f"事件没有字段 {name}", field=name)
    count = fields.get("affected_count", 0)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise KehuError("FIELD_INVALID", "affected_count is a whole number of people, 0 or more",
                        "affected_count 须为不小于 0 的整数", field="affected_count")
    discovered = _moment(fields, "discovered_at", at=at)
    return {"summary": _text(fields, "summary"), "discovered_at": discovered, "affected_count": count,
            "categories": _categories(fields.get("categories")),
            "measures": _text(fields, "measures", required=False),
            "reported_at": _moment(fields, "reported_at", required=False, not_before=discovered, at=at),
            "subjects_notified_at": _moment(fields, "subjects_notified_at", required=False, not_before=discovered,
                                            at=at)}


def _incident_columns(values: Mapping[str, Any]) -> dict[str, Any]:
    return {**values, "categories": json.dumps(values["categories"], ensure_ascii=False)}


async def create_incident(ctx: Context, fields: Mapping[str, Any]) -> IncidentView:
    """Record an incident; its report to the authority falls due the tenant's
    ``privacy.incident_report_hours`` after it was discovered."""
    require(ctx, "privacy.incident.manage")
    at = now()
    values = _incident_fields(fields, at)
    async with unit_of_work(ctx) as uow:
        due = values["discovered_at"] + timedelta(hours=await setting(uow, "privacy.incident_report_hours"))
        row_id = uuid4()
        await uow.insert(PrivacyIncident(id=row_id, version=1, report_due_at=due, updated_at=at,
                                         updated_by=ctx.actor, **_incident_columns(values)))
        await audit(uow, "incident.created", INCIDENT, row_id,
                    {**{k: (None, v) for k, v in values.items()}, "report_due_at": (None, due)})
        await outbox.add(uow, "incident.created", INCIDENT, row_id, values)
        return _incident_view(await uow.select(PrivacyIncident).where(PrivacyIncident.id == row_id).first(), at)


async def update_incident(ctx: Context, incident_id: UUID, *, version: int, changes: Mapping[str, Any]) -> IncidentView:
    """Change an incident last read at ``version``: measures taken, when it was reported, when the
    people affected were told. A new discovery time moves the deadline."""
    require(ctx, "privacy.incident.manage")
    at = now()
    async with unit_of_work(ctx) as uow:
        row = await uow.select(PrivacyIncident).where(PrivacyIncident.id == incident_id).first()
        if row is None:
            raise NotFound("incident", incident_id)
        if int(row["version"]) != version:
            raise _stale("incident", version, int(row["version"]))
        before = {k: row[k] for k in INCIDENT_FIELDS}
        before["categories"] = json.loads(before["categories"])
        after = _incident_fields({**before, **changes}, at)
        if after["discovered_at"] != before["discovered_at"]:
            after["report_due_at"] = after["discovered_at"] + timedelta(
                hours=await setting(uow, "privacy.incident_report_hours"))
            before["report_due_at"] = row["report_due_at"]
        diff = _diff(before, after)
        if diff:
            await _save(uow, PrivacyIncident, INCIDENT, incident_id, version, _incident_columns(after), diff)
        return _incident_view(await uow.select(PrivacyIncident).where(PrivacyIncident.id == incident_id).first(), at)


REVIEW_PARTS = ("summary", "effectiveness", "improvements")


async def close_incident(ctx: Context, incident_id: UUID, *, version: int,
                         review: Mapping[str, Any] | None = None) -> IncidentView:
    """Close an incident last read at ``version`` with its post-incident review (seed-004 §4.5.2,
    CSM-29): a summary, an evaluation of how effective the response was and suggestions for
    improvement, all three required. Without them closing is refused (INCIDENT_REVIEW_REQUIRED
    naming the missing part) and the incident stays as it was."""
    require(ctx, "privacy.incident.manage")
    at = now()
    given = dict(review or {})
    unknown = set(given) - set(REVIEW_PARTS)
    if unknown:
        name = sorted(unknown)[0]
        raise KehuError("FIELD_UNKNOWN", f"a review has no part {name}", f"复盘没有 {name} 项", field=name)
    parts = {name: _text(given, name, required=False) for name in REVIEW_PARTS}
    for name in REVIEW_PARTS:
        if not parts[name]:
            raise KehuError("INCIDENT_REVIEW_REQUIRED",
                            f"an incident closes only with its post-incident review; {name} is missing",
                            f"安全事件须完成事后复盘（总结、有效性评估、改进建议）方可关闭，缺少 {name}",
                            field=f"review.{name}")
    async with unit_of_work(ctx) as uow:
        row = await uow.select(PrivacyIncident).where(PrivacyIncident.id == incident_id).first()
        if row is None:
            raise NotFound("incident", incident_id)
        if int(row["version"]) != version:
            raise _stale("incident", version, int(row["version"]))
        if row["status"] == "closed":
            raise KehuError("INCIDENT_CLOSED", "the incident is already closed", "该安全事件已关闭", field="id")
        values = {"status": "closed", "closed_at": at, **{f"review_{k}": v for k, v in parts.items()}}
        diff = {k: (row[k], v) for k, v in values.items()}
        await _save(uow, PrivacyIncident, INCIDENT, incident_id, version, values, diff)
        return _incident_view(await uow.select(PrivacyIncident).where(PrivacyIncident.id == incident_id).first(), at)


async def list_incidents(ctx: Context, *, overdue: bool | None = None) -> list[IncidentView]:
    """The tenant's incidents, newest discovery first; ``overdue`` keeps only those (not) past their
    report deadline unreported."""
    require(ctx, "privacy.incident.manage")
    at = now()
    async with unit_of_work(ctx, write=False) as uow:
        query = _incidents_query(uow, overdue, at)
        rows = await query.order_by(PrivacyIncident.discovered_at, ascending=False)
    return [_incident_view(row, at) for row in rows]


def _incidents_query(uow: UnitOfWork, overdue: bool | None, at: datetime) -> Any:
    query = uow.select(PrivacyIncident)
    if overdue is True:
        query = query.where(PrivacyIncident.reported_at.is_null() & (PrivacyIncident.report_due_at < at))
    elif overdue is False:
        query = query.where(PrivacyIncident.reported_at.is_not_null() | (PrivacyIncident.report_due_at >= at))
    return query


async def incidents_page(ctx: Context, window: Window, *,
                         overdue: bool | None = None) -> tuple[list[IncidentView], bool]:
    """A window of list_incidents (keyset on discovered_at, id, newest first) and whether more lie beyond it."""
    require(ctx, "privacy.incident.manage")
    at = now()
    async with unit_of_work(ctx, write=False) as uow:
        rows, more = await keyset.fetch(_incidents_query(uow, overdue, at),
                                        [PrivacyIncident.discovered_at, PrivacyIncident.id], window, descending=True)
    return [_incident_view(row, at) for row in rows], more
