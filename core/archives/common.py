"""What the archive use cases share: states, constants, views, the clock, permission and
validation helpers, moves between states and KPI entries (seed-000 §1; issue #9).

Lifecycle: assembling → submitted (handover register) → under_check → accepted → archived →
sealed, with under_check → rejected → resubmitted → under_check loops. The checker is never the
submitter. Every transition is a row of ``archive_transition``, an audit entry and an outbox event.

Permissions are the vertical's: ``<vertical>.archive.submit`` (folders, archives, documents,
submission), ``<vertical>.archive.check`` (check, accept, reject, archive, fines, reconciliation),
``<vertical>.archive.seal`` and ``<vertical>.exception.approve`` (overriding a failed rule with a
reason, 特殊情况除外). A tenant that has not enabled the vertical hears VERTICAL_NOT_ENABLED.

Read-only: a sealed archive or folder (ARCHIVE_SEALED), and the archives of a frozen customer
(CUSTOMER_FROZEN, core.privacy.freeze).

Quality (per period, by first submission): completeness = archives that were complete (no
data-driven rule failed at their first check) or accepted at the first check, over expected
(archives submitted in the period plus open missing-archive reports raised in it); authenticity =
checked archives none of whose policy rules (the vertical's content checks) ever failed or was
overridden, over archives checked.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from core.archives import checks
from core.archives.tables import (Archive, ArchiveCheckResult, ArchiveDocumentRow,
                                  ArchiveFolder, ArchiveTransition, KpiEntry)
from core.audit.chain import record as audit
from core.calendar.days import Deadline, TenantCalendar
from core.context import Context
from core.customers.tables import Customer
from core.db.uow import UnitOfWork
from core.errors import KehuError, NotFound
from core.identity.access import PermissionDenied, Unauthenticated, require, require_any, require_signed_in
from core.jobs import outbox
from core.plugins.manager import VerticalDefinition, VerticalRegistry
from core.plugins.types import ArchiveStandard, ParameterValue
from core.privacy import freeze
from core.verticals.service import VerticalNotEnabled, effective_parameters
from core.verticals.tables import VerticalEnablement


ASSEMBLING, SUBMITTED, UNDER_CHECK, ACCEPTED, REJECTED, RESUBMITTED, ARCHIVED, SEALED = (
    "assembling", "submitted", "under_check", "accepted", "rejected", "resubmitted", "archived", "sealed")
STATES = (ASSEMBLING, SUBMITTED, UNDER_CHECK, ACCEPTED, REJECTED, RESUBMITTED, ARCHIVED, SEALED)
TARGET, FOLDER_TARGET, KPI_TARGET = "archive", "archive_folder", "kpi_entry"
DEFAULT_RECTIFICATION_HOURS = 24
DEFAULT_MISSING_DAYS = 2
MISSING_DAYS_PARAMETER = "missing_archive_deadline_days"
KPI_LATE, KPI_UNCHANGED = "kpi_points_late_rectification", "kpi_points_unchanged_resubmission"
KPI_MISSING, KPI_NONCONFORMING, FINE = "kpi_points_missing_archive", "kpi_points_nonconforming_archive", "fraud_fine_cny"
MAX_JSON = 200_000
RESULT_COLUMNS = ("id", "tenant_id", "created_at", "archive_id", "round", "rule_code", "kind", "status", "document",
                  "field", "message_en", "message_zh")


def now() -> datetime:
    return datetime.now(UTC)




# --- views -------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FolderView:
    id: UUID
    vertical: str
    subject_kind: str
    subject_key: str
    facts: dict[str, Any]
    owner_customer_id: UUID | None
    contact_customer_id: UUID | None
    retention_until: datetime | None
    retention_rule: str | None
    sealed_at: datetime | None
    created_at: datetime
    version: int


@dataclass(frozen=True, slots=True)
class DocumentView:
    code: str
    position: int
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CheckResultView:
    id: UUID
    round: int
    rule_code: str
    kind: str
    status: str
    document: str | None
    field: str | None
    message_en: str
    message_zh: str
    override_reason: str | None
    overridden_by: str | None


@dataclass(frozen=True, slots=True)
class TransitionView:
    from_state: str | None
    to_state: str
    actor: str
    at: datetime
    note: str


@dataclass(frozen=True, slots=True)
class ArchiveView:
    id: UUID
    folder_id: UUID
    vertical: str
    standard: str
    state: str
    facts: dict[str, Any]
    submitted_by: str | None
    submitted_at: datetime | None
    checked_by: str | None
    deadline_at: datetime | None
    rejections: int
    check_round: int
    version: int
    documents: tuple[DocumentView, ...] = ()
    results: tuple[CheckResultView, ...] = ()  # of the latest check round
    transitions: tuple[TransitionView, ...] = ()
    created_at: datetime | None = None  # the archives list's order (with the id)
    deadline_provisional: bool = False  # deadline_at counted provisional calendar days (issue 18 point 11)
    submission_due_at: datetime | None = None  # S17/T1: when the first submission was due
    submitted_on_time: bool | None = None  # None: no schedule or no event date
    extended_until: datetime | None = None  # T6: an approved extension's promised time
    damaged_at: datetime | None = None  # T4
    damage_note: str | None = None

    @property
    def passed(self) -> bool:
        return self.check_round > 0 and all(r.status != checks.FAIL for r in self.results)


@dataclass(frozen=True, slots=True)
class KpiView:
    id: UUID
    user_id: UUID
    vertical: str
    points: int
    fine_cny: int
    rule_code: str
    archive_id: UUID | None
    subject_key: str | None
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class MissingView:
    id: UUID
    reconciliation_id: UUID
    vertical: str
    standard: str
    subject_key: str
    responsible_user_id: UUID | None
    due_at: datetime
    resolved_at: datetime | None
    due_provisional: bool = False  # due_at counted provisional calendar days (issue 18 point 11)


@dataclass(frozen=True, slots=True)
class ReconciliationView:
    id: UUID
    vertical: str
    standard: str
    source: str
    period: str
    expected_count: int
    excluded: dict[str, str]
    received_count: int
    missing: tuple[MissingView, ...]


@dataclass(frozen=True, slots=True)
class QualityReport:
    vertical: str
    period: str
    expected: int
    complete: int
    checked: int
    authentic: int
    completeness_percent: float | None
    authenticity_percent: float | None
    completeness_target_percent: float
    authenticity_target_percent: float

    @property
    def completeness_met(self) -> bool | None:
        return None if self.completeness_percent is None else self.completeness_percent >= self.completeness_target_percent

    @property
    def authenticity_met(self) -> bool | None:
        return None if self.authenticity_percent is None else self.authenticity_percent >= self.authenticity_target_percent


@dataclass(frozen=True, slots=True)
class ExpectedRow:
    """One expected subject from the external system; ``excluded_reason`` puts it in 未上报记录."""

    key: str
    responsible: str | None = None  # username
    excluded_reason: str | None = None  # free text, or one of EXCLUSION_REASONS (optionally "code: note")
    excluded_code: str | None = None  # one of EXCLUSION_REASONS (T2/T4, A4)


# Structured reasons a subject is not expected (T2, T4, A4): code -> (English, Chinese).
EXCLUSION_REASONS = {"in_repair": ("still in repair", "在修"), "unsettled": ("not settled yet", "未结算"),
                     "warranty_claim": ("warranty claim", "索赔"), "no_invoice": ("invoice not issued", "未开发票")}


def exclusion_code(reason: str | None) -> str | None:
    """The structured reason an exclusion's stored text starts with (``code`` or ``code: note``)."""
    if not reason:
        return None
    head = reason.split(":", 1)[0].strip()
    return head if head in EXCLUSION_REASONS else None


# --- helpers -----------------------------------------------------------------------------------

def invalid(code: str, field: str | None, en: str, zh: str) -> KehuError:
    return KehuError(code, en, zh, field=field)


def permission(vertical: str, what: str) -> str:
    return f"{vertical}.exception.approve" if what == "exception" else f"{vertical}.archive.{what}"


def holds(ctx: Context, name: str) -> bool:
    try:
        require(ctx, name)
        return True
    except (PermissionDenied, Unauthenticated):
        return False


def may_read(ctx: Context, vertical: str) -> bool:
    return any(holds(ctx, permission(vertical, w)) for w in ("submit", "check", "seal"))


def require_somewhere(ctx: Context, registry: VerticalRegistry, what: str) -> None:
    """Before loading by id: the caller holds this archive permission in some vertical, else
    PERMISSION_DENIED (an unknown id must not answer differently from a forbidden one)."""
    names = [permission(d.id, what) for d in registry.definitions if d.archive_standards]
    require_any(ctx, names or [permission("archive", what)])  # names what the caller lacks, of its vertical


def require_reader(ctx: Context, registry: VerticalRegistry) -> None:
    """Reads need a signed-in caller holding some archive permission (submit, check or seal)."""
    require_signed_in(ctx)
    if ctx.is_system:
        return
    verticals = [d.id for d in registry.definitions if d.archive_standards] or ["archive"]
    require_any(ctx, [permission(v, w) for v in verticals for w in ("submit", "check", "seal")],
                missing=[permission(v, "check") for v in verticals])


def user_of(actor: str | None) -> UUID | None:
    if actor and actor.startswith("user:"):
        try:
            return UUID(actor[5:])
        except ValueError:
            return None
    return None


async def enabled_vertical(uow: UnitOfWork, registry: VerticalRegistry,
                    vertical: str) -> tuple[VerticalDefinition, dict[str, ParameterValue]]:
    definition = registry.definition(vertical)
    row = await uow.select(VerticalEnablement).where(VerticalEnablement.vertical_id == vertical).first()
    if definition is None or row is None or row["status"] != "enabled":
        raise VerticalNotEnabled(vertical)
    return definition, effective_parameters(definition, json.loads(row["overrides"]))


def standard_of(definition: VerticalDefinition, standard_id: str) -> ArchiveStandard:
    for standard in definition.archive_standards:
        if standard.id == standard_id:
            return standard
    raise invalid("ARCHIVE_STANDARD_UNKNOWN", "standard", f"{definition.id} has no archive type {standard_id!r}",
                   f"{definition.id} 没有档案类型 {standard_id!r}")


def json_object(value: Any, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise invalid("ARCHIVE_FIELDS_INVALID", field, f"{field} must be an object", f"{field} 须为对象")
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    if len(text) > MAX_JSON:
        raise invalid("ARCHIVE_FIELDS_INVALID", field, f"{field} is too large", f"{field} 过大")
    return json.loads(text)


def checked_text(value: str | None, field: str, en: str, zh: str, max_length: int = 2000) -> str:
    value = (value or "").strip()
    if not value or len(value) > max_length:
        raise invalid("REASON_REQUIRED", field, en, zh)
    return value


def folder_view(row: Mapping[str, Any]) -> FolderView:
    return FolderView(id=row["id"], vertical=row["vertical"], subject_kind=row["subject_kind"],
                      subject_key=row["subject_key"], facts=json.loads(row["facts"]),
                      owner_customer_id=row["owner_customer_id"], contact_customer_id=row["contact_customer_id"],
                      retention_until=row["retention_until"], retention_rule=row["retention_rule"],
                      sealed_at=row["sealed_at"], created_at=row["created_at"], version=int(row["version"]))


def _result_view(row: Mapping[str, Any]) -> CheckResultView:
    return CheckResultView(id=row["id"], round=row["round"], rule_code=row["rule_code"], kind=row["kind"],
                           status=row["status"], document=row["document"], field=row["field"],
                           message_en=row["message_en"], message_zh=row["message_zh"],
                           override_reason=row["override_reason"], overridden_by=row["overridden_by"])


async def archive_view(uow: UnitOfWork, row: Mapping[str, Any], *, full: bool = True) -> ArchiveView:
    documents: tuple[DocumentView, ...] = ()
    results: tuple[CheckResultView, ...] = ()
    transitions: tuple[TransitionView, ...] = ()
    if full:
        documents = tuple(DocumentView(d["code"], d["position"], json.loads(d["fields"])) for d in
                          await documents_of(uow, row["id"]))
        results = tuple(_result_view(r) for r in await uow.select(ArchiveCheckResult).where(
            (ArchiveCheckResult.archive_id == row["id"]) & (ArchiveCheckResult.round == row["check_round"])
        ).order_by(ArchiveCheckResult.created_at).order_by(ArchiveCheckResult.rule_code))
        transitions = tuple(TransitionView(t["from_state"], t["to_state"], t["actor"], t["at"], t["note"]) for t in
                            await uow.select(ArchiveTransition).where(ArchiveTransition.archive_id == row["id"])
                            .order_by(ArchiveTransition.at).order_by(ArchiveTransition.created_at))
    return ArchiveView(id=row["id"], folder_id=row["folder_id"], vertical=row["vertical"], standard=row["standard"],
                       state=row["state"], facts=json.loads(row["facts"]), submitted_by=row["submitted_by"],
                       submitted_at=row["submitted_at"], checked_by=row["checked_by"], deadline_at=row["deadline_at"],
                       rejections=row["rejections"], check_round=row["check_round"], version=row["version"],
                       documents=documents, results=results, transitions=transitions, created_at=row.get("created_at"),
                       deadline_provisional=bool(row.get("deadline_provisional")),
                       submission_due_at=row.get("submission_due_at"),
                       submitted_on_time=None if row.get("submitted_on_time") is None else bool(row["submitted_on_time"]),
                       extended_until=row.get("extended_until"), damaged_at=row.get("damaged_at"),
                       damage_note=row.get("damage_note"))


async def documents_of(uow: UnitOfWork, archive_id: UUID) -> list[dict[str, Any]]:
    return await uow.select(ArchiveDocumentRow).where(ArchiveDocumentRow.archive_id == archive_id).order_by(
        ArchiveDocumentRow.position).order_by(ArchiveDocumentRow.code)


def documents_hash(documents: Sequence[Mapping[str, Any]]) -> str:
    content = [[d["code"], d["position"], json.loads(d["fields"])] for d in documents]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


async def folder_row(uow: UnitOfWork, folder_id: UUID) -> dict[str, Any]:
    row = await uow.select(ArchiveFolder).where(ArchiveFolder.id == folder_id).first()
    if row is None:
        raise NotFound("archive folder", folder_id)
    return row


async def archive_row(uow: UnitOfWork, archive_id: UUID) -> dict[str, Any]:
    row = await uow.select(Archive).where(Archive.id == archive_id).first()
    if row is None:
        raise NotFound("archive", archive_id)
    return row


def require_vertical_permission(ctx: Context, vertical: str, what: str, archive_id: UUID | None = None) -> None:
    """The permission, else PERMISSION_DENIED; a caller who may not even read the vertical's
    archives hears NOT_FOUND for an archive, so ids in another's reach are not confirmed."""
    if archive_id is not None and not may_read(ctx, vertical):
        raise NotFound("archive", archive_id)
    require(ctx, permission(vertical, what))


async def refuse_read_only(uow: UnitOfWork, folder: Mapping[str, Any], archive: Mapping[str, Any] | None = None) -> None:
    if folder["sealed_at"] is not None or (archive is not None and archive["state"] == SEALED):
        raise invalid("ARCHIVE_SEALED", None, "the archive is sealed (封存) and read-only", "档案已封存，只读")
    for customer_id in (folder["owner_customer_id"], folder["contact_customer_id"]):
        if customer_id is not None:
            await freeze.refuse_if_frozen(uow, customer_id)


async def move(uow: UnitOfWork, archive: Mapping[str, Any], sources: Sequence[str], target: str,
                values: Mapping[Any, Any] | None = None, note: str = "", at: datetime | None = None) -> datetime:
    """Move the archive to ``target`` if it is still in one of ``sources`` (concurrent moves lose)."""
    if archive["state"] not in sources:
        raise invalid("ARCHIVE_STATE_INVALID", "state", f"an archive in state {archive['state']} cannot become {target}",
                       f"处于 {archive['state']} 状态的档案不能转为 {target}")
    at = at or now()
    moved = await uow.update(Archive, {Archive.state: target, Archive.version: archive["version"] + 1,
                                       **(values or {})}).where(
        (Archive.id == archive["id"]) & (Archive.version == archive["version"])).returning(Archive.id)
    if not moved:
        raise invalid("VERSION_CONFLICT", "version", "the archive changed meanwhile; reload it", "档案已被他人修改，请刷新")
    await uow.insert(ArchiveTransition(archive_id=archive["id"], from_state=archive["state"], to_state=target,
                                       actor=uow.ctx.actor, at=at, note=note))
    await audit(uow, f"archive.{target}", TARGET, archive["id"], {"state": (archive["state"], target),
                                                                  **({"note": note} if note else {})})
    await outbox.add(uow, f"archive.{target}", TARGET, archive["id"], ("state",))
    return at


async def add_kpi_entry(uow: UnitOfWork, vertical: str, user_id: UUID | None, rule_code: str, reason: str, *,
               points: int = 0, fine_cny: int = 0, archive_id: UUID | None = None,
               subject_key: str | None = None, at: datetime | None = None) -> None:
    """A ledger entry for one person; nothing when nobody is responsible or the tenant set 0."""
    if user_id is None or (not points and not fine_cny):
        return
    entry = KpiEntry(user_id=user_id, vertical=vertical, points=points, fine_cny=fine_cny, rule_code=rule_code,
                     archive_id=archive_id, subject_key=subject_key, reason=reason, at=at or now(),
                     recorded_by=uow.ctx.actor)
    await uow.insert(entry)
    await audit(uow, "kpi.recorded", KPI_TARGET, entry.id, {"user_id": str(user_id), "points": points,
                                                             "fine_cny": fine_cny, "rule_code": rule_code,
                                                             "archive_id": str(archive_id) if archive_id else None})
    await outbox.add(uow, "kpi.recorded", KPI_TARGET, entry.id, ("points", "fine_cny"))


def int_parameter(parameters: Mapping[str, ParameterValue], key: str, default: int) -> int:
    """A numeric parameter as a whole number. KPI points and fines pass 0 as ``default``: a vertical
    that declares no such parameter has no such entry charged (docs/plugins.md, "KPI entries")."""
    value = parameters.get(key, default)
    return int(value) if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool) else default


def rectification_deadline(calendar: TenantCalendar, start: datetime, hours: int) -> Deadline:
    """:func:`rectification_due` and whether it is provisional: a day from the start's local date
    to the due date is classified by a provisional schedule (issue 18 point 11)."""
    at = rectification_due(calendar, start, hours)
    last = at - timedelta(microseconds=1)  # a deadline at midnight counted no hour of the day it names
    return Deadline(at, calendar.crosses_provisional(start, max(start, last)))


def rectification_due(calendar: TenantCalendar, start: datetime, hours: int) -> datetime:
    """``hours`` elapsed hours counted on working days only: a rejection on Friday 16:00 with 24
    hours is due Monday 16:00 (weekends and holidays of the tenant's calendar do not count)."""
    zone = calendar.zone
    cursor = start.astimezone(zone)
    remaining = timedelta(hours=hours)
    while True:
        day = cursor.date()
        midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        if not calendar.is_working_day(day):
            cursor = midnight
            continue
        if cursor + remaining <= midnight:
            return (cursor + remaining).astimezone(UTC)
        remaining -= midnight - cursor
        cursor = midnight


def archive_mapping(folder: Mapping[str, Any], archive: Mapping[str, Any], state: str,
                     documents: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The plain mapping a check policy receives (docs/plugins.md, "Archive checks")."""
    return {"id": str(archive["id"]), "standard": archive["standard"], "state": state,
            "subject": {"key": folder["subject_key"], "facts": json.loads(folder["facts"])},
            "facts": json.loads(archive["facts"]),
            "documents": [{"code": d["code"], "position": d["position"], "fields": json.loads(d["fields"])}
                          for d in documents]}


def _add_years(at: datetime, years: int) -> datetime:
    try:
        return at.replace(year=at.year + years)
    except ValueError:  # 29 February
        return at.replace(year=at.year + years, day=28)


def _date_fact(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def event_standards(event: str) -> tuple[str, str]:
    """The archive types whose acceptance is the event ``last_<name>``: ``<name>`` and ``<name>_archive``
    (``last_service``: a ``service`` or ``service_archive`` archive), by exact id."""
    name = event.removeprefix("last_")
    return name, f"{name}_archive"


@dataclass(frozen=True, slots=True)
class RetentionPlan:
    """A folder's retention now (``until`` by ``rule``) and, when a rule applies only after the
    vehicle has been idle (A7), from when (``idle_at``) its end (``idle_until``) alone applies."""

    until: datetime | None
    rule: str | None
    idle_at: datetime | None = None
    idle_until: datetime | None = None
    idle_rule: str | None = None


def retention_plan(definition: VerticalDefinition, parameters: Mapping[str, ParameterValue],
                   folder: Mapping[str, Any], archives: Sequence[Mapping[str, Any]],
                   at: datetime | None = None) -> RetentionPlan:
    """The latest end over the retention rules of the folder's archive types (seed-000 §1.10:
    max(last service + 5y, created + 5y)). ``counted_from``: ``created`` is the folder's creation;
    ``last_<name>`` the latest acceptance in the folder of an archive of type ``<name>`` or
    ``<name>_archive`` (event_standards), else the folder's date fact of that name (a service
    before kehu); any other name a date fact of the folder.

    A rule with an ``idle_event`` (A7: 3 years without service here, ``no_service_years``) applies
    alone once the folder has had no such event for its idle years, counted from the latest event
    (or from the folder's creation if there was none): from ``idle_at`` its end replaces the
    others'. ``at`` (now) says which of the two holds today."""
    facts = json.loads(folder["facts"])
    done = [a for a in archives if a["accepted_at"] is not None]
    used = {a["standard"] for a in archives}

    def event(name: str) -> datetime | None:
        if name == "created":
            return folder["created_at"]
        if name.startswith("last_"):
            events = event_standards(name)
            return max((a["accepted_at"] for a in done if a["standard"] in events), default=None) or _date_fact(
                facts.get(name))
        return _date_fact(facts.get(name))

    best: tuple[datetime | None, str | None] = (None, None)
    idle: tuple[datetime, datetime, str] | None = None
    for standard in definition.archive_standards:
        if standard.id not in used:
            continue
        for rule in standard.retention:
            years = int_parameter(parameters, rule.parameter, rule.years) if rule.parameter else rule.years
            start = event(rule.counted_from)
            if start is None:
                continue
            end = _add_years(start, years)
            if best[0] is None or end > best[0]:
                best = (end, rule.code)
            if rule.idle_event is not None and rule.idle_years is not None:
                idle_years = (int_parameter(parameters, rule.idle_years_parameter, rule.idle_years)
                              if rule.idle_years_parameter else rule.idle_years)
                idle_at = _add_years(event(rule.idle_event) or folder["created_at"], max(idle_years, 1))
                if idle is None or idle_at < idle[0]:
                    idle = (idle_at, end, rule.code)
    if idle is None or best[0] is None or best[1] == idle[2] and best[0] == idle[1]:
        return RetentionPlan(best[0], best[1])
    if at is not None and at >= idle[0]:
        return RetentionPlan(idle[1], idle[2])
    return RetentionPlan(best[0], best[1], *idle)


def retention_end(definition: VerticalDefinition, parameters: Mapping[str, ParameterValue],
                  folder: Mapping[str, Any], archives: Sequence[Mapping[str, Any]],
                  at: datetime | None = None) -> tuple[datetime | None, str | None]:
    """The folder's retention end and the rule giving it (see :func:`retention_plan`)."""
    plan = retention_plan(definition, parameters, folder, archives, at)
    return plan.until, plan.rule


async def recompute_folder_retention(uow: UnitOfWork, definition: VerticalDefinition, parameters: Mapping[str, ParameterValue],
                     folder: Mapping[str, Any]) -> FolderView:
    archives = await uow.select(Archive.standard, Archive.accepted_at).where(Archive.folder_id == folder["id"])
    plan = retention_plan(definition, parameters, folder, archives, now())
    until, rule = plan.until, plan.rule
    await uow.update(ArchiveFolder, {ArchiveFolder.retention_idle_at: plan.idle_at,
                                     ArchiveFolder.retention_idle_until: plan.idle_until,
                                     ArchiveFolder.retention_idle_rule: plan.idle_rule}).where(
        ArchiveFolder.id == folder["id"])
    if until != folder["retention_until"] or rule != folder["retention_rule"]:
        await uow.update(ArchiveFolder, {ArchiveFolder.retention_until: until, ArchiveFolder.retention_rule: rule}).where(
            ArchiveFolder.id == folder["id"])
        await audit(uow, "archive_folder.retention_changed", FOLDER_TARGET, folder["id"],
                    {"retention_until": (str(folder["retention_until"]) if folder["retention_until"] else None,
                                         str(until) if until else None), "retention_rule": rule})
    return folder_view(await folder_row(uow, folder["id"]))


async def check_customer(uow: UnitOfWork, customer_id: UUID | None, field: str) -> None:
    if customer_id is not None and not await uow.exists(Customer).where(
            (Customer.id == customer_id) & Customer.deleted_at.is_null()):
        raise invalid("CUSTOMER_UNKNOWN", field, "no such customer in this tenant", "本租户没有该客户")
