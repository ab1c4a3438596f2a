"""Use cases on archives of a type a vertical defines (seed-000 §1; issue #9).

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

import csv
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid4

from core.archives import checks
from core.archives.tables import (
    Archive,
    ArchiveCheckResult,
    ArchiveDocumentRow,
    ArchiveFolder,
    ArchiveTransition,
    KpiEntry,
    MissingReport,
    Reconciliation,
)
from core.audit.chain import record as audit
from core.context import Context
from core.customers.tables import Customer
from core.db import keyset, unit_of_work
from core.db.keyset import Window
from core.db.uow import UnitOfWork
from core.errors import KehuError, NotFound
from core.filters import one_of
from core.identity.access import (PermissionDenied, Unauthenticated, require, require_different_actor,
                                  require_signed_in)
from core.identity.tables import User
from core.jobs import outbox
from core.calendar.days import DeadlineUnit, Duration, TenantCalendar
from core.calendar.settings import load_calendar as tenant_calendar
from core.jobs.timers import register_sweep
from core.plugins.manager import VerticalDefinition, VerticalRegistry
from core.plugins.types import ArchiveStandard, ParameterValue
from core.privacy import freeze
from core.tenancy.every_tenant import tenant_ids
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
    excluded_reason: str | None = None


# --- helpers -----------------------------------------------------------------------------------

def _invalid(code: str, field: str | None, en: str, zh: str) -> KehuError:
    return KehuError(code, en, zh, field=field)


def permission(vertical: str, what: str) -> str:
    return f"{vertical}.exception.approve" if what == "exception" else f"{vertical}.archive.{what}"


def _holds(ctx: Context, name: str) -> bool:
    try:
        require(ctx, name)
        return True
    except (PermissionDenied, Unauthenticated):
        return False


def _may_read(ctx: Context, vertical: str) -> bool:
    return any(_holds(ctx, permission(vertical, w)) for w in ("submit", "check", "seal"))


def _require_somewhere(ctx: Context, registry: VerticalRegistry, what: str) -> None:
    """Before loading by id: the caller holds this archive permission in some vertical, else
    PERMISSION_DENIED (an unknown id must not answer differently from a forbidden one)."""
    names = [permission(d.id, what) for d in registry.definitions if d.archive_standards]
    if not any(_holds(ctx, name) for name in names):
        require(ctx, names[0] if names else permission("archive", what))


def _require_reader(ctx: Context, registry: VerticalRegistry) -> None:
    """Reads need a signed-in caller holding some archive permission (submit, check or seal)."""
    require_signed_in(ctx)
    if ctx.is_system:
        return
    verticals = [d.id for d in registry.definitions if d.archive_standards]
    if not any(_may_read(ctx, v) for v in verticals):
        require(ctx, permission(verticals[0] if verticals else "archive", "check"))


def _user_of(actor: str | None) -> UUID | None:
    if actor and actor.startswith("user:"):
        try:
            return UUID(actor[5:])
        except ValueError:
            return None
    return None


async def _vertical(uow: UnitOfWork, registry: VerticalRegistry,
                    vertical: str) -> tuple[VerticalDefinition, dict[str, ParameterValue]]:
    definition = registry.definition(vertical)
    row = await uow.select(VerticalEnablement).where(VerticalEnablement.vertical_id == vertical).first()
    if definition is None or row is None or row["status"] != "enabled":
        raise VerticalNotEnabled(vertical)
    return definition, effective_parameters(definition, json.loads(row["overrides"]))


def _standard(definition: VerticalDefinition, standard_id: str) -> ArchiveStandard:
    for standard in definition.archive_standards:
        if standard.id == standard_id:
            return standard
    raise _invalid("ARCHIVE_STANDARD_UNKNOWN", "standard", f"{definition.id} has no archive type {standard_id!r}",
                   f"{definition.id} 没有档案类型 {standard_id!r}")


def _json_object(value: Any, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _invalid("ARCHIVE_FIELDS_INVALID", field, f"{field} must be an object", f"{field} 须为对象")
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    if len(text) > MAX_JSON:
        raise _invalid("ARCHIVE_FIELDS_INVALID", field, f"{field} is too large", f"{field} 过大")
    return json.loads(text)


def _text(value: str | None, field: str, en: str, zh: str, max_length: int = 2000) -> str:
    value = (value or "").strip()
    if not value or len(value) > max_length:
        raise _invalid("REASON_REQUIRED", field, en, zh)
    return value


def _folder_view(row: Mapping[str, Any]) -> FolderView:
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


async def _archive_view(uow: UnitOfWork, row: Mapping[str, Any], *, full: bool = True) -> ArchiveView:
    documents: tuple[DocumentView, ...] = ()
    results: tuple[CheckResultView, ...] = ()
    transitions: tuple[TransitionView, ...] = ()
    if full:
        documents = tuple(DocumentView(d["code"], d["position"], json.loads(d["fields"])) for d in
                          await _documents(uow, row["id"]))
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
                       documents=documents, results=results, transitions=transitions, created_at=row.get("created_at"))


async def _documents(uow: UnitOfWork, archive_id: UUID) -> list[dict[str, Any]]:
    return await uow.select(ArchiveDocumentRow).where(ArchiveDocumentRow.archive_id == archive_id).order_by(
        ArchiveDocumentRow.position).order_by(ArchiveDocumentRow.code)


def _documents_hash(documents: Sequence[Mapping[str, Any]]) -> str:
    content = [[d["code"], d["position"], json.loads(d["fields"])] for d in documents]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


async def _folder(uow: UnitOfWork, folder_id: UUID) -> dict[str, Any]:
    row = await uow.select(ArchiveFolder).where(ArchiveFolder.id == folder_id).first()
    if row is None:
        raise NotFound("archive folder", folder_id)
    return row


async def _archive(uow: UnitOfWork, archive_id: UUID) -> dict[str, Any]:
    row = await uow.select(Archive).where(Archive.id == archive_id).first()
    if row is None:
        raise NotFound("archive", archive_id)
    return row


def _require(ctx: Context, vertical: str, what: str, archive_id: UUID | None = None) -> None:
    """The permission, else PERMISSION_DENIED; a caller who may not even read the vertical's
    archives hears NOT_FOUND for an archive, so ids in another's reach are not confirmed."""
    if archive_id is not None and not _may_read(ctx, vertical):
        raise NotFound("archive", archive_id)
    require(ctx, permission(vertical, what))


async def _refuse_read_only(uow: UnitOfWork, folder: Mapping[str, Any], archive: Mapping[str, Any] | None = None) -> None:
    if folder["sealed_at"] is not None or (archive is not None and archive["state"] == SEALED):
        raise _invalid("ARCHIVE_SEALED", None, "the archive is sealed (封存) and read-only", "档案已封存，只读")
    for customer_id in (folder["owner_customer_id"], folder["contact_customer_id"]):
        if customer_id is not None:
            await freeze.refuse_if_frozen(uow, customer_id)


async def _move(uow: UnitOfWork, archive: Mapping[str, Any], sources: Sequence[str], target: str,
                values: Mapping[Any, Any] | None = None, note: str = "", at: datetime | None = None) -> datetime:
    """Move the archive to ``target`` if it is still in one of ``sources`` (concurrent moves lose)."""
    if archive["state"] not in sources:
        raise _invalid("ARCHIVE_STATE_INVALID", "state", f"an archive in state {archive['state']} cannot become {target}",
                       f"处于 {archive['state']} 状态的档案不能转为 {target}")
    at = at or now()
    moved = await uow.update(Archive, {Archive.state: target, Archive.version: archive["version"] + 1,
                                       **(values or {})}).where(
        (Archive.id == archive["id"]) & (Archive.version == archive["version"])).returning(Archive.id)
    if not moved:
        raise _invalid("VERSION_CONFLICT", "version", "the archive changed meanwhile; reload it", "档案已被他人修改，请刷新")
    await uow.insert(ArchiveTransition(archive_id=archive["id"], from_state=archive["state"], to_state=target,
                                       actor=uow.ctx.actor, at=at, note=note))
    await audit(uow, f"archive.{target}", TARGET, archive["id"], {"state": (archive["state"], target),
                                                                  **({"note": note} if note else {})})
    await outbox.add(uow, f"archive.{target}", TARGET, archive["id"], ("state",))
    return at


async def _kpi(uow: UnitOfWork, vertical: str, user_id: UUID | None, rule_code: str, reason: str, *,
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


def _int(parameters: Mapping[str, ParameterValue], key: str, default: int) -> int:
    value = parameters.get(key, default)
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


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


def _archive_mapping(folder: Mapping[str, Any], archive: Mapping[str, Any], state: str,
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


def retention_end(definition: VerticalDefinition, parameters: Mapping[str, ParameterValue],
                  folder: Mapping[str, Any], archives: Sequence[Mapping[str, Any]]) -> tuple[datetime | None, str | None]:
    """The latest end over the retention rules of the folder's archive types (seed-000 §1.10:
    max(last service + 5y, created + 5y)). ``counted_from``: ``created`` is the folder's creation;
    ``last_<name>`` the latest acceptance in the folder of an archive of type ``<name>`` or
    ``<name>_archive`` (event_standards), else the folder's date fact of that name (a service
    before kehu); any other name a date fact of the folder."""
    facts = json.loads(folder["facts"])
    done = [a for a in archives if a["accepted_at"] is not None]
    used = {a["standard"] for a in archives}
    best: tuple[datetime | None, str | None] = (None, None)
    for standard in definition.archive_standards:
        if standard.id not in used:
            continue
        for rule in standard.retention:
            years = _int(parameters, rule.parameter, rule.years) if rule.parameter else rule.years
            if rule.counted_from == "created":
                start = folder["created_at"]
            elif rule.counted_from.startswith("last_"):
                events = event_standards(rule.counted_from)
                start = (max((a["accepted_at"] for a in done if a["standard"] in events), default=None)
                         or _date_fact(facts.get(rule.counted_from)))
            else:
                start = _date_fact(facts.get(rule.counted_from))
            if start is not None:
                end = _add_years(start, years)
                if best[0] is None or end > best[0]:
                    best = (end, rule.code)
    return best


async def _recompute(uow: UnitOfWork, definition: VerticalDefinition, parameters: Mapping[str, ParameterValue],
                     folder: Mapping[str, Any]) -> FolderView:
    archives = await uow.select(Archive.standard, Archive.accepted_at).where(Archive.folder_id == folder["id"])
    until, rule = retention_end(definition, parameters, folder, archives)
    if until != folder["retention_until"] or rule != folder["retention_rule"]:
        await uow.update(ArchiveFolder, {ArchiveFolder.retention_until: until, ArchiveFolder.retention_rule: rule}).where(
            ArchiveFolder.id == folder["id"])
        await audit(uow, "archive_folder.retention_changed", FOLDER_TARGET, folder["id"],
                    {"retention_until": (str(folder["retention_until"]) if folder["retention_until"] else None,
                                         str(until) if until else None), "retention_rule": rule})
    return _folder_view(await _folder(uow, folder["id"]))


async def _check_customer(uow: UnitOfWork, customer_id: UUID | None, field: str) -> None:
    if customer_id is not None and not await uow.exists(Customer).where(
            (Customer.id == customer_id) & Customer.deleted_at.is_null()):
        raise _invalid("CUSTOMER_UNKNOWN", field, "no such customer in this tenant", "本租户没有该客户")


# --- folders -----------------------------------------------------------------------------------

async def create_folder(ctx: Context, registry: VerticalRegistry, vertical: str, subject_key: str, *,
                        facts: Mapping[str, Any] | None = None, owner_customer_id: UUID | None = None,
                        contact_customer_id: UUID | None = None) -> FolderView:
    """One folder per subject (一车一档): the key (a VIN) is unique in the tenant."""
    require(ctx, permission(vertical, "submit"))
    key = (subject_key or "").strip()
    if not key or len(key) > 100:
        raise _invalid("SUBJECT_KEY_INVALID", "subjectKey", "the subject key has 1 to 100 characters",
                       "档案主体编号须为 1 至 100 个字符")
    facts = _json_object(facts, "facts")
    async with unit_of_work(ctx) as uow:
        definition, _ = await _vertical(uow, registry, vertical)
        if await uow.exists(ArchiveFolder).where(ArchiveFolder.subject_key == key):
            raise _invalid("ARCHIVE_FOLDER_EXISTS", "subjectKey", f"a folder for {key} exists (one folder per subject)",
                           f"{key} 已建档（一车一档）")
        await _check_customer(uow, owner_customer_id, "ownerCustomerId")
        await _check_customer(uow, contact_customer_id, "contactCustomerId")
        subject = next((s.subject for s in definition.archive_standards), "subject")
        folder = ArchiveFolder(vertical=vertical, subject_kind=subject, subject_key=key,
                               facts=json.dumps(facts, ensure_ascii=False), owner_customer_id=owner_customer_id,
                               contact_customer_id=contact_customer_id, created_by=ctx.actor, created_at=now())
        await uow.insert(folder)
        # no key: a VIN is personal data and the audit chain is never edited (erasure)
        await audit(uow, "archive_folder.created", FOLDER_TARGET, folder.id,
                    {"vertical": vertical, "facts": sorted(facts)})
        await outbox.add(uow, "archive_folder.created", FOLDER_TARGET, folder.id, ("subject_key", "facts"))
        return _folder_view(await _folder(uow, folder.id))


async def update_folder_facts(ctx: Context, registry: VerticalRegistry, folder_id: UUID,
                              facts: Mapping[str, Any]) -> FolderView:
    """Change some facts of the subject (a key set to None is removed); retention is recomputed."""
    _require_somewhere(ctx, registry, "submit")
    async with unit_of_work(ctx) as uow:
        folder = await _folder(uow, folder_id)
        _require(ctx, folder["vertical"], "submit")
        definition, parameters = await _vertical(uow, registry, folder["vertical"])
        await _refuse_read_only(uow, folder)
        before = json.loads(folder["facts"])
        after = {k: v for k, v in {**before, **_json_object(facts, "facts")}.items() if v is not None}
        await uow.update(ArchiveFolder, {ArchiveFolder.facts: json.dumps(after, ensure_ascii=False),
                                         ArchiveFolder.version: folder["version"] + 1}).where(
            ArchiveFolder.id == folder_id)
        await audit(uow, "archive_folder.updated", FOLDER_TARGET, folder_id,
                    {"facts": sorted(k for k in {*before, *after} if before.get(k) != after.get(k))})
        await outbox.add(uow, "archive_folder.updated", FOLDER_TARGET, folder_id, ("facts",))
        return await _recompute(uow, definition, parameters, await _folder(uow, folder_id))


async def recompute_retention(ctx: Context, registry: VerticalRegistry, folder_id: UUID) -> FolderView:
    _require_somewhere(ctx, registry, "check")
    async with unit_of_work(ctx) as uow:
        folder = await _folder(uow, folder_id)
        _require(ctx, folder["vertical"], "check")
        definition, parameters = await _vertical(uow, registry, folder["vertical"])
        await _refuse_read_only(uow, folder)
        return await _recompute(uow, definition, parameters, folder)


async def list_folders(ctx: Context, registry: VerticalRegistry, vertical: str | None = None) -> list[FolderView]:
    _require_reader(ctx, registry)
    async with unit_of_work(ctx, write=False) as uow:
        verticals = await _readable(ctx, uow, registry, vertical)
        rows = await uow.select(ArchiveFolder).where(ArchiveFolder.vertical.is_in(verticals)).order_by(
            ArchiveFolder.subject_key) if verticals else []
    return [_folder_view(r) for r in rows]


async def folders_page(ctx: Context, registry: VerticalRegistry, window: Window,
                       vertical: str | None = None) -> tuple[list[FolderView], bool]:
    """A window of list_folders (keyset on subject_key, id) and whether more lie beyond it."""
    _require_reader(ctx, registry)
    async with unit_of_work(ctx, write=False) as uow:
        verticals = await _readable(ctx, uow, registry, vertical)
        if not verticals:
            return [], False
        rows, more = await keyset.fetch(uow.select(ArchiveFolder).where(ArchiveFolder.vertical.is_in(verticals)),
                                        [ArchiveFolder.subject_key, ArchiveFolder.id], window)
    return [_folder_view(r) for r in rows], more


async def get_folder(ctx: Context, registry: VerticalRegistry, folder_id: UUID) -> tuple[FolderView, list[ArchiveView]]:
    _require_reader(ctx, registry)
    async with unit_of_work(ctx, write=False) as uow:
        folder = await uow.select(ArchiveFolder).where(ArchiveFolder.id == folder_id).first()
        if folder is None or not _may_read(ctx, folder["vertical"]):
            if folder is not None:
                require(ctx, permission(folder["vertical"], "check"))
            raise NotFound("archive folder", folder_id)
        await _vertical(uow, registry, folder["vertical"])
        rows = await uow.select(Archive).where(Archive.folder_id == folder_id).order_by(Archive.created_at)
        return _folder_view(folder), [await _archive_view(uow, r, full=False) for r in rows]


async def _readable(ctx: Context, uow: UnitOfWork, registry: VerticalRegistry, vertical: str | None) -> list[str]:
    """Enabled verticals whose archives the caller may read (one, if named)."""
    if vertical is not None:
        await _vertical(uow, registry, vertical)
        if not _may_read(ctx, vertical):
            require(ctx, permission(vertical, "check"))
        return [vertical]
    enabled = {r["vertical_id"] for r in await uow.select(VerticalEnablement.vertical_id).where(
        VerticalEnablement.status == "enabled")}
    readable = [d.id for d in registry.definitions if d.id in enabled and d.archive_standards and _may_read(ctx, d.id)]
    if not readable and ctx.principal is None and not ctx.is_system:
        raise Unauthenticated()
    return readable


# --- archives ----------------------------------------------------------------------------------

async def create_archive(ctx: Context, registry: VerticalRegistry, folder_id: UUID, standard: str, *,
                         facts: Mapping[str, Any] | None = None) -> ArchiveView:
    _require_somewhere(ctx, registry, "submit")
    async with unit_of_work(ctx) as uow:
        folder = await _folder(uow, folder_id)
        _require(ctx, folder["vertical"], "submit")
        definition, parameters = await _vertical(uow, registry, folder["vertical"])
        _standard(definition, standard)
        await _refuse_read_only(uow, folder)
        facts = _json_object(facts, "facts")
        archive = Archive(folder_id=folder_id, vertical=folder["vertical"], standard=standard, state=ASSEMBLING,
                          facts=json.dumps(facts, ensure_ascii=False), created_by=ctx.actor, created_at=now())
        await uow.insert(archive)
        await uow.insert(ArchiveTransition(archive_id=archive.id, from_state=None, to_state=ASSEMBLING,
                                           actor=ctx.actor, at=archive.created_at, note=""))
        await audit(uow, "archive.created", TARGET, archive.id, {"folder_id": str(folder_id), "standard": standard})
        await outbox.add(uow, "archive.created", TARGET, archive.id, ("standard", "facts"))
        await _recompute(uow, definition, parameters, folder)  # kept from its creation on (A7)
        return await _archive_view(uow, await _archive(uow, archive.id))


async def put_document(ctx: Context, registry: VerticalRegistry, archive_id: UUID, code: str,
                       fields: Mapping[str, Any], *, position: int | None = None) -> ArchiveView:
    """File or replace one document (while assembling, or when rejected for rectification)."""
    _require_somewhere(ctx, registry, "submit")
    async with unit_of_work(ctx) as uow:
        archive = await _archive(uow, archive_id)
        _require(ctx, archive["vertical"], "submit", archive_id)
        definition, _ = await _vertical(uow, registry, archive["vertical"])
        standard = _standard(definition, archive["standard"])
        await _refuse_read_only(uow, await _folder(uow, archive["folder_id"]), archive)
        if archive["state"] not in (ASSEMBLING, REJECTED):
            raise _invalid("ARCHIVE_STATE_INVALID", "state", f"documents change only while assembling or rejected, "
                           f"not {archive['state']}", f"仅在整理中或被退回时可修改文件（当前 {archive['state']}）")
        if code not in {d.code for d in standard.documents}:
            raise _invalid("ARCHIVE_DOCUMENT_UNKNOWN", "code", f"{standard.id} has no document {code!r}",
                           f"{standard.id} 没有文件 {code!r}")
        fields = _json_object(fields, "fields")
        existing = {d["code"]: d for d in await _documents(uow, archive_id)}
        if position is None:
            position = existing[code]["position"] if code in existing else \
                max((d["position"] for d in existing.values()), default=0) + 1
        if not isinstance(position, int) or not 1 <= position <= 1000:
            raise _invalid("POSITION_INVALID", "position", "position is from 1 to 1000", "位置须为 1 至 1000")
        text = json.dumps(fields, ensure_ascii=False)
        if code in existing:
            await uow.update(ArchiveDocumentRow, {ArchiveDocumentRow.fields: text, ArchiveDocumentRow.position: position,
                                                  ArchiveDocumentRow.updated_by: ctx.actor}).where(
                ArchiveDocumentRow.id == existing[code]["id"])
        else:
            await uow.insert(ArchiveDocumentRow(archive_id=archive_id, code=code, position=position, fields=text,
                                                updated_by=ctx.actor))
        await uow.update(Archive, {Archive.version: archive["version"] + 1}).where(Archive.id == archive_id)
        # field names only: documents hold names, signatures and ID numbers
        await audit(uow, "archive.document_put", TARGET, archive_id, {"document": code, "position": position,
                                                                      "fields": sorted(fields)})
        await outbox.add(uow, "archive.document_put", TARGET, archive_id, ("documents",))
        return await _archive_view(uow, await _archive(uow, archive_id))


async def submit_archive(ctx: Context, registry: VerticalRegistry, archive_id: UUID, note: str = "") -> ArchiveView:
    """Hand the archive to the archive department: an entry of the handover register (档案交接表);
    an open missing-archive report for the subject is resolved."""
    _require_somewhere(ctx, registry, "submit")
    async with unit_of_work(ctx) as uow:
        archive = await _archive(uow, archive_id)
        _require(ctx, archive["vertical"], "submit", archive_id)
        await _vertical(uow, registry, archive["vertical"])
        folder = await _folder(uow, archive["folder_id"])
        await _refuse_read_only(uow, folder, archive)
        at = now()
        await _move(uow, archive, (ASSEMBLING,), SUBMITTED,
                    {Archive.submitted_by: ctx.actor, Archive.submitted_at: at}, note=note.strip(), at=at)
        await uow.update(MissingReport, {MissingReport.resolved_at: at}).where(
            (MissingReport.subject_key == folder["subject_key"]) & (MissingReport.standard == archive["standard"])
            & MissingReport.resolved_at.is_null())
        return await _archive_view(uow, await _archive(uow, archive_id))


async def check_archive(ctx: Context, registry: VerticalRegistry, archive_id: UUID) -> ArchiveView:
    """Start the check: run every rule (data-driven, then the vertical's policies) and keep each
    outcome. The checker is never the submitter."""
    _require_somewhere(ctx, registry, "check")
    async with unit_of_work(ctx) as uow:
        archive = await _archive(uow, archive_id)
        _require(ctx, archive["vertical"], "check", archive_id)
        definition, parameters = await _vertical(uow, registry, archive["vertical"])
        standard = _standard(definition, archive["standard"])
        folder = await _folder(uow, archive["folder_id"])
        await _refuse_read_only(uow, folder, archive)
        require_different_actor(ctx, archive["submitted_by"] or "", "checking an archive")
        round_ = archive["check_round"] + 1
        outcomes = checks.run_checks(standard, _archive_mapping(folder, archive, UNDER_CHECK,
                                                                await _documents(uow, archive_id)), parameters)
        await _move(uow, archive, (SUBMITTED, RESUBMITTED), UNDER_CHECK,
                    {Archive.checked_by: ctx.actor, Archive.check_round: round_})
        at = now()
        # plain value tuples: ~50 rows a check, the query builder's objects cost more than the rules
        await uow.insert_many("archive_check_result", RESULT_COLUMNS, [
            (uuid4(), ctx.tenant_id, at, archive_id, round_, o.rule_code, o.kind, o.status, o.document, o.field,
             o.message_en, o.message_zh) for o in outcomes])
        failed = sorted({o.rule_code for o in outcomes if o.status == checks.FAIL})
        await audit(uow, "archive.checked", TARGET, archive_id, {"round": round_, "failed": failed})
        return await _archive_view(uow, await _archive(uow, archive_id))


async def override_rule(ctx: Context, registry: VerticalRegistry, result_id: UUID, reason: str) -> ArchiveView:
    """Let a failed rule pass for a stated reason (特殊情况除外); needs ``<vertical>.exception.approve``
    and is never done by the submitter."""
    _require_somewhere(ctx, registry, "exception")
    async with unit_of_work(ctx) as uow:
        result = await uow.select(ArchiveCheckResult).where(ArchiveCheckResult.id == result_id).first()
        if result is None:
            raise NotFound("check result", result_id)
        archive = await _archive(uow, result["archive_id"])
        _require(ctx, archive["vertical"], "exception", archive["id"])
        await _vertical(uow, registry, archive["vertical"])
        await _refuse_read_only(uow, await _folder(uow, archive["folder_id"]), archive)
        reason = _text(reason, "reason", "an override needs a reason", "特殊情况须说明理由")
        require_different_actor(ctx, archive["submitted_by"] or "", "overriding a check")
        if archive["state"] != UNDER_CHECK or result["round"] != archive["check_round"] or result["status"] != checks.FAIL:
            raise _invalid("ARCHIVE_STATE_INVALID", "resultId", "only a failed rule of an archive under check can be "
                           "overridden", "仅可对审核中档案未通过的规则作例外处理")
        await uow.update(ArchiveCheckResult, {ArchiveCheckResult.status: checks.OVERRIDDEN,
                                              ArchiveCheckResult.override_reason: reason,
                                              ArchiveCheckResult.overridden_by: ctx.actor,
                                              ArchiveCheckResult.overridden_at: now()}).where(
            ArchiveCheckResult.id == result_id)
        await audit(uow, "archive.rule_overridden", TARGET, archive["id"],
                    {"rule_code": result["rule_code"], "document": result["document"], "field": result["field"],
                     "reason": reason})
        await outbox.add(uow, "archive.rule_overridden", TARGET, archive["id"], ("results",))
        return await _archive_view(uow, archive)


async def accept_archive(ctx: Context, registry: VerticalRegistry, archive_id: UUID) -> ArchiveView:
    """Accept when every rule passed or was overridden; manual checklist items are confirmed by
    the accepting checker. Retention of the folder is recomputed."""
    _require_somewhere(ctx, registry, "check")
    async with unit_of_work(ctx) as uow:
        archive = await _archive(uow, archive_id)
        _require(ctx, archive["vertical"], "check", archive_id)
        definition, parameters = await _vertical(uow, registry, archive["vertical"])
        folder = await _folder(uow, archive["folder_id"])
        await _refuse_read_only(uow, folder, archive)
        require_different_actor(ctx, archive["submitted_by"] or "", "accepting an archive")
        if archive["state"] == UNDER_CHECK:
            failed = await uow.select(ArchiveCheckResult.rule_code).where(
                (ArchiveCheckResult.archive_id == archive_id) & (ArchiveCheckResult.round == archive["check_round"])
                & (ArchiveCheckResult.status == checks.FAIL))
            if failed:
                codes = ", ".join(sorted({r["rule_code"] for r in failed}))
                raise _invalid("ARCHIVE_CHECKS_FAILED", None, f"rules failed and are not overridden: {codes}",
                               f"以下规则未通过且未作例外处理：{codes}")
        at = await _move(uow, archive, (UNDER_CHECK,), ACCEPTED, {Archive.accepted_at: now()})
        await uow.update(ArchiveCheckResult, {ArchiveCheckResult.status: checks.PASS,
                                              ArchiveCheckResult.overridden_by: ctx.actor,
                                              ArchiveCheckResult.overridden_at: at}).where(
            (ArchiveCheckResult.archive_id == archive_id) & (ArchiveCheckResult.round == archive["check_round"])
            & (ArchiveCheckResult.status == checks.MANUAL))
        await _recompute(uow, definition, parameters, folder)
        return await _archive_view(uow, await _archive(uow, archive_id))


async def reject_archive(ctx: Context, registry: VerticalRegistry, archive_id: UUID,
                         defects: Sequence[str] = ()) -> ArchiveView:
    """Send back for rectification (不合格档案记录): the defects are the failed rules plus any the
    checker lists; the deadline is the vertical's rectification hours on working days; the
    submitter gets the non-conforming-archive KPI entry."""
    _require_somewhere(ctx, registry, "check")
    async with unit_of_work(ctx) as uow:
        archive = await _archive(uow, archive_id)
        _require(ctx, archive["vertical"], "check", archive_id)
        definition, parameters = await _vertical(uow, registry, archive["vertical"])
        standard = _standard(definition, archive["standard"])
        await _refuse_read_only(uow, await _folder(uow, archive["folder_id"]), archive)
        require_different_actor(ctx, archive["submitted_by"] or "", "rejecting an archive")
        listed = [d.strip() for d in defects if d and d.strip()]
        failed = sorted({r["rule_code"] for r in await uow.select(ArchiveCheckResult.rule_code).where(
            (ArchiveCheckResult.archive_id == archive_id) & (ArchiveCheckResult.round == archive["check_round"])
            & (ArchiveCheckResult.status == checks.FAIL))})
        if not listed and not failed:
            raise _invalid("DEFECTS_REQUIRED", "defects", "name the defects: no rule failed",
                           "请列明不合格项：没有未通过的规则")
        at = now()
        hours = _int(parameters, standard.rectification_hours_parameter or "", DEFAULT_RECTIFICATION_HOURS)
        deadline = rectification_due(await tenant_calendar(uow), at, hours)
        note = "; ".join([*failed, *listed])[:4000]
        await _move(uow, archive, (UNDER_CHECK,), REJECTED,
                    {Archive.deadline_at: deadline, Archive.rejections: archive["rejections"] + 1,
                     Archive.rejected_hash: _documents_hash(await _documents(uow, archive_id))}, note=note, at=at)
        await _kpi(uow, archive["vertical"], _user_of(archive["submitted_by"]), "nonconforming_archive",
                   f"non-conforming archive: {note}", points=_int(parameters, KPI_NONCONFORMING, 1),
                   archive_id=archive_id, at=at)
        return await _archive_view(uow, await _archive(uow, archive_id))


async def resubmit_archive(ctx: Context, registry: VerticalRegistry, archive_id: UUID, note: str = "") -> ArchiveView:
    """Return a rectified archive. After the deadline, the submitter gets the late-rectification
    KPI entry (T6); unchanged since the rejection (原封返回), the unchanged-resubmission one (T7)."""
    _require_somewhere(ctx, registry, "submit")
    async with unit_of_work(ctx) as uow:
        archive = await _archive(uow, archive_id)
        _require(ctx, archive["vertical"], "submit", archive_id)
        _, parameters = await _vertical(uow, registry, archive["vertical"])
        await _refuse_read_only(uow, await _folder(uow, archive["folder_id"]), archive)
        at = now()
        unchanged = _documents_hash(await _documents(uow, archive_id)) == archive["rejected_hash"]
        late = archive["deadline_at"] is not None and at > archive["deadline_at"]
        await _move(uow, archive, (REJECTED,), RESUBMITTED, {Archive.submitted_at: at}, note=note.strip(), at=at)
        person = _user_of(archive["submitted_by"])
        if late:
            await _kpi(uow, archive["vertical"], person, "late_rectification",
                       f"resubmitted after the deadline {archive['deadline_at'].isoformat()}",
                       points=_int(parameters, KPI_LATE, 1), archive_id=archive_id, at=at)
        if unchanged:
            await _kpi(uow, archive["vertical"], person, "unchanged_resubmission", "resubmitted unchanged (原封返回)",
                       points=_int(parameters, KPI_UNCHANGED, 1), archive_id=archive_id, at=at)
        return await _archive_view(uow, await _archive(uow, archive_id))


async def file_archive(ctx: Context, registry: VerticalRegistry, archive_id: UUID) -> ArchiveView:
    """Move an accepted archive into the archive store (归档)."""
    _require_somewhere(ctx, registry, "check")
    async with unit_of_work(ctx) as uow:
        archive = await _archive(uow, archive_id)
        _require(ctx, archive["vertical"], "check", archive_id)
        await _vertical(uow, registry, archive["vertical"])
        await _refuse_read_only(uow, await _folder(uow, archive["folder_id"]), archive)
        await _move(uow, archive, (ACCEPTED,), ARCHIVED)
        return await _archive_view(uow, await _archive(uow, archive_id))


async def seal_archive(ctx: Context, registry: VerticalRegistry, archive_id: UUID, note: str = "") -> ArchiveView:
    """Seal (封存): read-only from now on."""
    _require_somewhere(ctx, registry, "seal")
    async with unit_of_work(ctx) as uow:
        archive = await _archive(uow, archive_id)
        _require(ctx, archive["vertical"], "seal", archive_id)
        await _vertical(uow, registry, archive["vertical"])
        await _refuse_read_only(uow, await _folder(uow, archive["folder_id"]), archive)
        await _move(uow, archive, (ARCHIVED,), SEALED, {Archive.sealed_at: now()}, note=note.strip())
        return await _archive_view(uow, await _archive(uow, archive_id))


async def list_archives(ctx: Context, registry: VerticalRegistry, *, state: str | None = None,
                        standard: str | None = None, vertical: str | None = None) -> list[ArchiveView]:
    _require_reader(ctx, registry)
    one_of(state, STATES, "state")  # unknown values are refused, not answered with an empty list
    async with unit_of_work(ctx, write=False) as uow:
        verticals = await _readable(ctx, uow, registry, vertical)
        if not verticals:
            return []
        rows = await uow.select(Archive).where(_archives_where(verticals, state, standard)).order_by(Archive.created_at)
        return [await _archive_view(uow, r, full=False) for r in rows]


def _archives_where(verticals: list[str], state: str | None, standard: str | None) -> Any:
    where = Archive.vertical.is_in(verticals)
    if state is not None:
        where &= Archive.state == state
    if standard is not None:
        where &= Archive.standard == standard
    return where


async def archives_page(ctx: Context, registry: VerticalRegistry, window: Window, *, state: str | None = None,
                        standard: str | None = None, vertical: str | None = None) -> tuple[list[ArchiveView], bool]:
    """A window of list_archives (keyset on created_at, id, oldest first) and whether more lie beyond it."""
    _require_reader(ctx, registry)
    one_of(state, STATES, "state")  # unknown values are refused, not answered with an empty list
    async with unit_of_work(ctx, write=False) as uow:
        verticals = await _readable(ctx, uow, registry, vertical)
        if not verticals:
            return [], False
        rows, more = await keyset.fetch(uow.select(Archive).where(_archives_where(verticals, state, standard)),
                                        [Archive.created_at, Archive.id], window)
        return [await _archive_view(uow, r, full=False) for r in rows], more


async def get_archive(ctx: Context, registry: VerticalRegistry, archive_id: UUID) -> ArchiveView:
    _require_reader(ctx, registry)
    async with unit_of_work(ctx, write=False) as uow:
        archive = await uow.select(Archive).where(Archive.id == archive_id).first()
        if archive is None or not _may_read(ctx, archive["vertical"]):
            raise NotFound("archive", archive_id)
        await _vertical(uow, registry, archive["vertical"])
        return await _archive_view(uow, archive)


async def handover_register(ctx: Context, registry: VerticalRegistry, vertical: str, start: datetime,
                            end: datetime) -> list[tuple[UUID, TransitionView]]:
    """档案交接表: the submissions and resubmissions between ``start`` and ``end``."""
    _require_reader(ctx, registry)
    async with unit_of_work(ctx, write=False) as uow:
        await _readable(ctx, uow, registry, vertical)
        archives = {r["id"] for r in await uow.select(Archive.id).where(Archive.vertical == vertical)}
        rows = await uow.select(ArchiveTransition).where(
            ArchiveTransition.to_state.is_in([SUBMITTED, RESUBMITTED]) & (ArchiveTransition.at >= start)
            & (ArchiveTransition.at < end)).order_by(ArchiveTransition.at)
    return [(t["archive_id"], TransitionView(t["from_state"], t["to_state"], t["actor"], t["at"], t["note"]))
            for t in rows if t["archive_id"] in archives]


# --- KPI and fines -----------------------------------------------------------------------------

async def record_fine(ctx: Context, registry: VerticalRegistry, archive_id: UUID, user_ids: Sequence[UUID],
                      reason: str) -> list[KpiView]:
    """Fine each named person the tenant's amount per archive (徇私舞弊, T8)."""
    _require_somewhere(ctx, registry, "check")
    async with unit_of_work(ctx) as uow:
        archive = await _archive(uow, archive_id)
        _require(ctx, archive["vertical"], "check", archive_id)
        _, parameters = await _vertical(uow, registry, archive["vertical"])
        reason = _text(reason, "reason", "a fine needs a reason", "罚款须说明理由")
        people = list(dict.fromkeys(user_ids))
        if not people:
            raise _invalid("USERS_REQUIRED", "userIds", "name who is fined", "请指明被罚款人")
        known = {r["id"] for r in await uow.select(User.id).where(User.id.is_in(people))}
        if set(people) - known:
            raise _invalid("USER_UNKNOWN", "userIds", "no such user in this tenant", "本租户没有该用户")
        at = now()
        amount = _int(parameters, FINE, 10)
        if amount <= 0:
            raise _invalid("FINE_NOT_SET", "userIds", "the tenant's fine amount is 0", "本单位罚款金额为 0")
        for person in people:
            await _kpi(uow, archive["vertical"], person, "fraud", reason, fine_cny=amount, archive_id=archive_id, at=at)
        rows = await uow.select(KpiEntry).where((KpiEntry.archive_id == archive_id) & (KpiEntry.at == at))
    return [_kpi_view(r) for r in rows]


def _kpi_view(row: Mapping[str, Any]) -> KpiView:
    return KpiView(id=row["id"], user_id=row["user_id"], vertical=row["vertical"], points=row["points"],
                   fine_cny=row["fine_cny"], rule_code=row["rule_code"], archive_id=row["archive_id"],
                   subject_key=row["subject_key"], reason=row["reason"], at=row["at"])


async def kpi_ledger(ctx: Context, registry: VerticalRegistry, *, user_id: UUID | None = None,
                     start: datetime | None = None, end: datetime | None = None) -> list[KpiView]:
    """Entries of the verticals whose archives the caller checks; anyone sees their own."""
    _require_reader(ctx, registry)
    async with unit_of_work(ctx, write=False) as uow:
        where = await _kpi_where(ctx, uow, registry, user_id, start, end)
        if where is None:
            return []
        rows = await uow.select(KpiEntry).where(where).order_by(KpiEntry.at)
    return [_kpi_view(r) for r in rows]


async def _kpi_where(ctx: Context, uow: UnitOfWork, registry: VerticalRegistry, user_id: UUID | None,
                     start: datetime | None, end: datetime | None) -> Any:
    """The entries the caller may read (None: none); only enabled verticals', filtered in SQL so a
    keyset page is never cut short by rows dropped after reading."""
    enabled = {r["vertical_id"] for r in await uow.select(VerticalEnablement.vertical_id).where(
        VerticalEnablement.status == "enabled")}
    checked = [d.id for d in registry.definitions if d.id in enabled and _holds(ctx, permission(d.id, "check"))]
    own = ctx.user_id
    if not checked and own is None and not ctx.is_system:
        raise Unauthenticated()
    where = KpiEntry.vertical.is_in(checked) if checked else None
    if own is not None:
        mine = KpiEntry.user_id == own
        where = mine if where is None else (where | mine)
    if where is None or not enabled:
        return None
    where &= KpiEntry.vertical.is_in(sorted(enabled))
    if user_id is not None:
        where &= KpiEntry.user_id == user_id
    if start is not None:
        where &= KpiEntry.at >= start
    if end is not None:
        where &= KpiEntry.at < end
    return where


async def kpi_page(ctx: Context, registry: VerticalRegistry, window: Window, *, user_id: UUID | None = None,
                   start: datetime | None = None, end: datetime | None = None) -> tuple[list[KpiView], bool]:
    """A window of kpi_ledger (keyset on at, id, oldest first) and whether more lie beyond it."""
    _require_reader(ctx, registry)
    async with unit_of_work(ctx, write=False) as uow:
        where = await _kpi_where(ctx, uow, registry, user_id, start, end)
        if where is None:
            return [], False
        rows, more = await keyset.fetch(uow.select(KpiEntry).where(where), [KpiEntry.at, KpiEntry.id], window)
    return [_kpi_view(r) for r in rows], more


# --- reconciliation ----------------------------------------------------------------------------

def parse_expected_csv(text: str) -> list[ExpectedRow]:
    """CSV with a header: ``key`` and optionally ``responsible`` (username) and ``excluded_reason``."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or "key" not in [f.strip() for f in reader.fieldnames]:
        raise _invalid("CSV_INVALID", "csv", "the CSV needs a header row with a key column",
                       "CSV 须有含 key 列的表头")
    rows = []
    for line in reader:
        line = {(k or "").strip(): (v or "").strip() for k, v in line.items()}
        if line.get("key"):
            rows.append(ExpectedRow(line["key"], line.get("responsible") or None, line.get("excluded_reason") or None))
    return rows


def _missing_view(row: Mapping[str, Any]) -> MissingView:
    return MissingView(id=row["id"], reconciliation_id=row["reconciliation_id"], vertical=row["vertical"],
                       standard=row["standard"], subject_key=row["subject_key"],
                       responsible_user_id=row["responsible_user_id"], due_at=row["due_at"],
                       resolved_at=row["resolved_at"])


async def import_expected(ctx: Context, registry: VerticalRegistry, vertical: str, standard: str, *, source: str,
                          period: str, rows: Sequence[ExpectedRow]) -> ReconciliationView:
    """Reconcile the archives expected by an external system (AAK, 小R3, CRM) with those received:
    excluded subjects go to 未上报记录 with their reason; each other subject without a submitted
    archive gets a missing-archive report (档案缺失报告) due in the vertical's working days, and
    its responsible person the missing-archive KPI entry."""
    require(ctx, permission(vertical, "check"))
    source = (source or "").strip()
    period = (period or "").strip()
    if not source or len(source) > 40 or not period or len(period) > 40:
        raise _invalid("RECONCILIATION_INVALID", "source" if not source or len(source) > 40 else "period",
                       "source and period have 1 to 40 characters", "来源与期间须为 1 至 40 个字符")
    keys = [r.key.strip() for r in rows]
    if not keys or any(not k or len(k) > 100 for k in keys) or len(set(keys)) != len(keys):
        raise _invalid("RECONCILIATION_INVALID", "rows", "list each expected subject once (keys of 1 to 100 characters)",
                       "每个应交档案主体列一次（编号 1 至 100 个字符）")
    async with unit_of_work(ctx) as uow:
        definition, parameters = await _vertical(uow, registry, vertical)
        _standard(definition, standard)
        names = {r.responsible for r in rows if r.responsible}
        users = {u["username"]: u["id"] for u in await uow.select(User.id, User.username).where(
            User.username.is_in(list(names)))} if names else {}
        if names - set(users):
            raise _invalid("USER_UNKNOWN", "rows", f"no such users: {', '.join(sorted(names - set(users)))}",
                           f"没有这些用户：{'、'.join(sorted(names - set(users)))}")
        excluded = {r.key.strip(): r.excluded_reason.strip() for r in rows if r.excluded_reason and r.excluded_reason.strip()}
        wanted = [r for r in rows if r.key.strip() not in excluded]
        received = {f["subject_key"] for f in await uow.select(ArchiveFolder.subject_key).where(
            ArchiveFolder.id.is_in(
                [a["folder_id"] for a in await uow.select(Archive.folder_id).where(
                    (Archive.standard == standard) & (Archive.vertical == vertical) & Archive.submitted_at.is_not_null())]
                or [uuid4()]))}
        at = now()
        reconciliation = Reconciliation(vertical=vertical, standard=standard, source=source, period=period,
                                        expected=json.dumps([{"key": r.key.strip(), "responsible": r.responsible}
                                                             for r in rows], ensure_ascii=False),
                                        exclusions=json.dumps(excluded, ensure_ascii=False),
                                        expected_count=len(wanted),
                                        received_count=sum(1 for r in wanted if r.key.strip() in received),
                                        imported_by=ctx.actor, created_at=at)
        await uow.insert(reconciliation)
        due = (await tenant_calendar(uow)).due_at(
            at, Duration(_int(parameters, MISSING_DAYS_PARAMETER, DEFAULT_MISSING_DAYS), DeadlineUnit.WORKING_DAYS))
        missing = [r for r in wanted if r.key.strip() not in received]
        for row in missing:
            person = users.get(row.responsible) if row.responsible else None
            await uow.insert(MissingReport(reconciliation_id=reconciliation.id, vertical=vertical, standard=standard,
                                           subject_key=row.key.strip(), responsible_user_id=person,
                                           due_at=due.astimezone(UTC), created_at=at))
            await _kpi(uow, vertical, person, "missing_archive", f"{source} {period}: archive missing",
                       points=_int(parameters, KPI_MISSING, 1), subject_key=row.key.strip(), at=at)
        await audit(uow, "archive.reconciled", "archive_reconciliation", reconciliation.id,
                    {"source": source, "period": period, "standard": standard, "expected": len(wanted),
                     "excluded": len(excluded), "missing": len(missing)})
        await outbox.add(uow, "archive.reconciled", "archive_reconciliation", reconciliation.id, ("missing",))
        reports = await uow.select(MissingReport).where(MissingReport.reconciliation_id == reconciliation.id).order_by(
            MissingReport.subject_key)
    return ReconciliationView(id=reconciliation.id, vertical=vertical, standard=standard, source=source, period=period,
                              expected_count=len(wanted), excluded=excluded, received_count=len(wanted) - len(missing),
                              missing=tuple(_missing_view(r) for r in reports))


async def missing_reports(ctx: Context, registry: VerticalRegistry, *, open_only: bool = True) -> list[MissingView]:
    _require_reader(ctx, registry)
    async with unit_of_work(ctx, write=False) as uow:
        verticals = await _readable(ctx, uow, registry, None)
        if not verticals:
            return []
        rows = await uow.select(MissingReport).where(_missing_where(verticals, open_only)).order_by(
            *_MISSING_ORDER)
    return [_missing_view(r) for r in rows]


_MISSING_ORDER = (MissingReport.due_at, MissingReport.subject_key, MissingReport.id)


def _missing_where(verticals: Sequence[str], open_only: bool) -> Any:
    where = MissingReport.vertical.is_in(list(verticals))
    if open_only:
        where &= MissingReport.resolved_at.is_null()
    return where


async def missing_reports_page(ctx: Context, registry: VerticalRegistry, window: Window, *,
                               open_only: bool = True) -> tuple[list[MissingView], bool]:
    """A window of missing_reports (keyset on due_at, subject_key, id: soonest due first) and whether
    more lie beyond it; the open-only filter is in the query so a page is never cut short."""
    _require_reader(ctx, registry)
    async with unit_of_work(ctx, write=False) as uow:
        verticals = await _readable(ctx, uow, registry, None)
        if not verticals:
            return [], False
        rows, more = await keyset.fetch(uow.select(MissingReport).where(_missing_where(verticals, open_only)),
                                        _MISSING_ORDER, window)
    return [_missing_view(r) for r in rows], more


# --- quality -----------------------------------------------------------------------------------

def period_bounds(period: str, calendar: TenantCalendar) -> tuple[datetime, datetime]:
    """``YYYY-MM`` (a month) or ``YYYY`` (a year), in the tenant's time zone."""
    zone = calendar.zone
    try:
        if len(period) == 7 and period[4] == "-":
            first = date(int(period[:4]), int(period[5:]), 1)
            after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        elif len(period) == 4:
            first, after = date(int(period), 1, 1), date(int(period) + 1, 1, 1)
        else:
            raise ValueError(period)
    except ValueError:
        raise _invalid("PERIOD_INVALID", "period", "a period is YYYY-MM or YYYY", "期间格式须为 YYYY-MM 或 YYYY") from None
    return (datetime.combine(first, time(0), tzinfo=zone), datetime.combine(after, time(0), tzinfo=zone))


def _percent(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100.0 * part / whole, 2)


async def quality_report(ctx: Context, registry: VerticalRegistry, vertical: str, period: str) -> QualityReport:
    """Completeness and authenticity of the archives first submitted in ``period`` against the
    tenant's targets (see the module's docstring for the definitions)."""
    require(ctx, permission(vertical, "check"))
    async with unit_of_work(ctx, write=False) as uow:
        _, parameters = await _vertical(uow, registry, vertical)
        start, end = period_bounds(period, await tenant_calendar(uow))
        first_submissions = await uow.select(ArchiveTransition.archive_id).where(
            (ArchiveTransition.to_state == SUBMITTED) & (ArchiveTransition.at >= start) & (ArchiveTransition.at < end))
        ids = [r["archive_id"] for r in first_submissions]
        archives = await uow.select(Archive.id, Archive.check_round, Archive.rejections, Archive.accepted_at).where(
            Archive.id.is_in(ids) & (Archive.vertical == vertical)) if ids else []
        ids = [a["id"] for a in archives]
        results = await uow.select(ArchiveCheckResult.archive_id, ArchiveCheckResult.round, ArchiveCheckResult.kind,
                                   ArchiveCheckResult.status).where(ArchiveCheckResult.archive_id.is_in(ids)) if ids else []
        missing = await uow.count(MissingReport).where(
            (MissingReport.vertical == vertical) & MissingReport.resolved_at.is_null()
            & (MissingReport.created_at >= start) & (MissingReport.created_at < end))
    incomplete_first = {r["archive_id"] for r in results
                        if r["round"] == 1 and r["kind"] == checks.DATA and r["status"] != checks.PASS}
    not_authentic = {r["archive_id"] for r in results
                     if r["kind"] == checks.POLICY and r["status"] in (checks.FAIL, checks.OVERRIDDEN)}
    checked = [a for a in archives if a["check_round"] > 0]
    complete = sum(1 for a in archives if (a["check_round"] > 0 and a["id"] not in incomplete_first)
                   or (a["accepted_at"] is not None and a["rejections"] == 0))
    authentic = sum(1 for a in checked if a["id"] not in not_authentic)
    expected = len(archives) + missing
    return QualityReport(vertical=vertical, period=period, expected=expected, complete=complete, checked=len(checked),
                         authentic=authentic, completeness_percent=_percent(complete, expected),
                         authenticity_percent=_percent(authentic, len(checked)),
                         completeness_target_percent=float(parameters.get("completeness_target_percent", 99.0)),
                         authenticity_target_percent=float(parameters.get("authenticity_target_percent", 95.0)))


# --- retention sweep ---------------------------------------------------------------------------

async def seal_expired(at: datetime) -> int:
    """Sweep: a folder whose retention has ended is sealed (转入档案库封存) with its archives."""
    sealed = 0
    for tenant_id in await tenant_ids("job:archive-retention"):
        async with unit_of_work(Context.system("job:archive-retention", tenant_id)) as uow:
            folders = await uow.update(ArchiveFolder, {ArchiveFolder.sealed_at: at}).where(
                (ArchiveFolder.retention_until <= at) & ArchiveFolder.sealed_at.is_null()).returning(ArchiveFolder.id)
            for folder in folders:
                for archive in await uow.select(Archive).where(
                        (Archive.folder_id == folder["id"]) & (Archive.state != SEALED)):
                    await _move(uow, archive, STATES, SEALED, {Archive.sealed_at: at}, note="retention ended", at=at)
                await audit(uow, "archive_folder.sealed", FOLDER_TARGET, folder["id"], {"reason": "retention ended"})
                await outbox.add(uow, "archive_folder.sealed", FOLDER_TARGET, folder["id"], ("sealed_at",))
        sealed += len(folders)
    return sealed


register_sweep("archive_retention", seal_expired)
