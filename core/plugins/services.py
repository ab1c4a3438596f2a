"""The services a vertical's resolvers, jobs and policies may use (issue 18 point 2), and nothing else.

A vertical imports these from ``core.plugins``; each is a thin wrapper over core's own, so a vertical
works exactly like core does:

- ``context(info)`` — the caller's ``Context`` in a GraphQL resolver (tenant, actor, language).
- ``unit_of_work(ctx)`` — one transaction for the caller's tenant; every query on a ``TenantTable``
  (core's or the vertical's) is filtered on ``tenant_id``, inserts are stamped with it.
- ``KehuError(code, message_en, message_zh, field=…)`` — a coded error; it reaches the client with
  its code and the message in the caller's language (``run_mutation`` puts it in a payload's
  ``errors``; a query answers it as a GraphQL error with ``extensions.code``).
- ``record(uow, action, target_type, target_id, changes)`` — the audit entry of a change, in the
  change's unit of work.
- ``emit(uow, event_type, aggregate_type, aggregate_id, changed_fields)`` — an outbox event, in the
  change's unit of work (ids and field names only, never values); handlers register with
  ``on_event``. Event types start with the vertical's id.
- ``require_permission(ctx, permission) -> Scope`` and ``may_reach(ctx, permission, owner_id=…,
  department_id=…)`` — permission checks with scopes (own, department, tenant).
- ``tenant_parameters(info_or_ctx, vertical_id)`` — the tenant's effective parameters.
- ``tenant_calendar(ctx)`` — the tenant's working-day calendar (the official calendar with the
  tenant's own holidays and working days, its time zone and business hours).
- ``tick(name)`` — register periodic work: ``async def work(ctx, now) -> int`` runs on kehu's tick
  for every tenant that has the vertical enabled.
- ``long_job(kind, read_permission=…)`` and ``submit_job(uow, kind, params)`` — long operations run
  by kehu's job loop, with progress and downloadable output.
- ``page_request(info, list_name, first, after, last, before)``, ``fetch_page(query, columns,
  window)`` and ``connection(request, rows, more, key, node)`` — a root list as a Relay connection
  (``core.plugins.Connection``), read one keyset window at a time under the page cap.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog

from core.audit.chain import record as _audit_record
from core.calendar import Duration, TenantCalendar
from core.calendar.settings import tenant_calendar as _tenant_calendar
from core.context import Context
from core.db import UnitOfWork, current_database
from core.db import unit_of_work as _core_unit_of_work
from core.errors import KehuError
from core.identity.access import may_reach as _may_reach
from core.identity.access import require as _require
from core.identity.permissions import Scope
from core.jobs import long_jobs as _long_jobs
from core.jobs.outbox import Event, on_event
from core.jobs.outbox import add as _outbox_add
from core.jobs.timers import register_sweep as _register_sweep
from core.plugins.tables import bind_tables
from core.plugins.types import ContractError, ParameterValue

log = structlog.get_logger("kehu.plugins")
RunningJob = _long_jobs.RunningJob
_NAME = re.compile(r"^[a-z][a-z0-9_]{1,39}(\.[a-z][a-z0-9_]*)+$")


def _vertical_of(name: str, what: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ContractError(f"{what} {name!r} must be dotted lowercase words starting with the vertical's id")
    return name.split(".", 1)[0]


def context(info: Any) -> Context:
    """In a GraphQL resolver: the caller's context."""
    return info.context.ctx


@asynccontextmanager
async def unit_of_work(ctx: Context, *, write: bool = True) -> AsyncIterator[UnitOfWork]:
    """One transaction for ``ctx``'s tenant, committed on success and rolled back on any error;
    queries on tenant tables (the vertical's too) are filtered on the tenant."""
    bind_tables(current_database().engine)
    async with _core_unit_of_work(ctx, write=write) as uow:
        yield uow


async def record(uow: UnitOfWork, action: str, target_type: str, target_id: object = None,
                 changes: Mapping[str, Any] | None = None) -> None:
    """The audit entry of a change (``changes``: field -> (before, after) or a value), in the unit
    of work that makes the change, so both commit or neither does."""
    await _audit_record(uow, action, target_type, target_id, changes or {})


async def emit(uow: UnitOfWork, event_type: str, aggregate_type: str, aggregate_id: object = None,
               changed_fields: Iterable[str] = ()) -> UUID:
    """Announce a change through the outbox, in the change's unit of work. ``event_type`` starts
    with the vertical's id (``my_vertical.note_added``)."""
    _vertical_of(event_type, "event type")
    return await _outbox_add(uow, event_type, aggregate_type, aggregate_id, changed_fields)


def require_permission(ctx: Context, permission: str) -> Scope:
    """Refuse (``UNAUTHENTICATED``, ``PERMISSION_DENIED``) unless the caller holds ``permission``;
    return the scope it holds it with: ``Scope.OWN``, ``Scope.DEPARTMENT`` or ``Scope.TENANT``."""
    return _require(ctx, permission)


def may_reach(ctx: Context, permission: str, *, owner_id: UUID | None = None,
              department_id: UUID | None = None) -> bool:
    """Whether the caller holds ``permission`` over a record with this owner and department."""
    return _may_reach(ctx, permission, owner_id=owner_id, department_id=department_id)


async def tenant_parameters(info_or_ctx: Any, vertical_id: str, registry: Any = None) -> Mapping[str, ParameterValue]:
    """The tenant's effective parameters of ``vertical_id`` (defaults overlaid with its overrides).
    In a resolver pass ``info``; elsewhere (a tick, a job) pass the context and the registry is the
    one kehu loaded at start."""
    from core.verticals.service import vertical_parameters

    if isinstance(info_or_ctx, Context):
        ctx, registry = info_or_ctx, registry or _started_registry()
    else:
        ctx, registry = info_or_ctx.context.ctx, registry or info_or_ctx.context.registry
    return await vertical_parameters(ctx, registry, vertical_id)


def _started_registry() -> Any:
    from core.plugins.manager import started_verticals

    return started_verticals()


async def tenant_calendar(ctx: Context) -> TenantCalendar:
    """The tenant's working-day calendar (``TenantCalendar``): ``is_working_day(day)``,
    ``add_working_days(day, n)``, ``due_at(start, Duration(n, "working_days"))`` — the official
    calendar with the tenant's own holidays and make-up working days on top, in its time zone."""
    return await _tenant_calendar(ctx)


Tick = Callable[[Context, datetime], Awaitable[int | None]]


def tick(name: str) -> Callable[[Tick], Tick]:
    """Register periodic work named ``name`` (``my_vertical.reminders``): on every tick kehu calls
    ``await work(ctx, now)`` once for each tenant that has the vertical enabled, with a system
    context for that tenant (it opens its own units of work); it returns how many things it
    handled. It must be safe to run twice for the same moment (claim rows with a conditional
    update). A failing tenant is logged and does not stop the others."""
    vertical = _vertical_of(name, "tick name")

    def register(work: Tick) -> Tick:
        async def sweep(now: datetime) -> int:
            from core.db.due import tenants_due

            # A vertical blocked or skipped as broken at start has its module imported, not its work run.
            if vertical not in {info.id for info in _started_registry().verticals}:
                return 0
            actor = f"job:{name}"
            handled = 0
            # The tenants with the vertical enabled, in one statement across tenants (core.db.due).
            for tenant_id in await tenants_due("vertical_enabled", now, key=vertical):
                ctx = Context.system(actor, tenant_id)
                try:
                    handled += int(await work(ctx, now) or 0)
                except Exception as exc:  # noqa: BLE001 - the next tick tries again
                    log.error("plugins.tick_failed", tick=name, tenant_id=str(tenant_id), error=repr(exc), exc_info=exc)
            return handled

        _register_sweep(name, sweep)
        return work

    return register


def long_job(kind: str, *, read_permission: str) -> Callable[[Callable[[RunningJob], Awaitable[Any]]],
                                                           Callable[[RunningJob], Awaitable[Any]]]:
    """Register the code of the long jobs of ``kind`` (``my_vertical.report``): ``async def
    run(job: RunningJob) -> dict | None`` with ``job.params``, ``job.ctx`` (the tenant's system
    context), ``await job.progress(done, total)``, ``job.output(name, media_type)`` and ``await
    job.write(text)``. Besides its requester, holders of ``read_permission`` may see the job."""
    _vertical_of(kind, "job kind")
    return _long_jobs.job_kind(kind, read_permission=read_permission)


async def submit_job(uow: UnitOfWork, kind: str, params: Mapping[str, Any]) -> UUID:
    """Queue a long job in the request's unit of work (after checking the caller may); returns its
    id, which the caller watches with kehu's ``job(id:)`` query."""
    return await _long_jobs.submit(uow, kind, params)


async def run_mutation(info: Any, payload: Callable[..., Any], call: Callable[[], Awaitable[dict[str, Any]]]) -> Any:
    """Run a mutation's service call; a ``KehuError`` becomes the payload's ``errors`` (``UserError``:
    field, code, message in the caller's language) and nothing is written."""
    from gateway.graphql.common import mutate

    return await mutate(info, payload, call)


def page_request(info: Any, list_name: str, first: int | None = None, after: str | None = None,
                 last: int | None = None, before: str | None = None) -> Any:
    """The page arguments of a root list checked (one of ``first``/``last``, within the page cap:
    ``PAGE_SIZE_TOO_LARGE``, ``PAGE_SIZE_INVALID``, ``PAGE_ARGUMENTS_CONFLICT``; cursors of this list: ``CURSOR_INVALID``).
    ``list_name`` names the list and its order (``my_vertical.notes``); ``request.window(parse)``
    is the keyset window, ``parse`` turning a cursor's key (a list of text and numbers) back into
    the key columns' values."""
    from gateway.graphql.common import page_request as request

    return request(info, list_name, first, after, last, before)


async def fetch_page(query: Any, columns: Iterable[Any], window: Any, *,
                     descending: bool = False) -> tuple[list[dict[str, Any]], bool]:
    """One keyset window of ``query`` (a select in the caller's unit of work) in the order of
    ``columns`` (a stable order: its last column is the id), and whether more rows lie beyond it;
    no OFFSET, never more than the page size plus one row read."""
    from core.db.keyset import fetch

    return await fetch(query, list(columns), window, descending=descending)


def connection(request: Any, rows: Iterable[Any], more: bool, key: Callable[[Any], Iterable[Any]],
               node: Callable[[Any], Any]) -> Any:
    """The Relay ``Connection`` (edges with cursors, nodes, pageInfo) of a page read with
    ``fetch_page``: ``key(row)`` is the row's values of the order's columns, ``node(row)`` the
    GraphQL object of the row."""
    from gateway.graphql.common import keyset_connection

    return keyset_connection(request, list(rows), more, lambda row: list(key(row)), node)


__all__ = [
    "Duration", "Event", "KehuError", "TenantCalendar", "RunningJob", "Scope", "context", "emit", "long_job", "may_reach",
    "on_event", "record", "require_permission", "run_mutation", "submit_job", "tenant_calendar",
    "tenant_parameters", "tick", "unit_of_work", "page_request", "fetch_page", "connection",
    "assign_grade", "customer_grade", "customer_record", "lowest_grade", "refuse_if_blacklisted", "was_blacklisted",
    "archives_accepted", "department_exists", "graded_customers",
    "record_ledger_entry", "attribution_decision", "attribution_owners", "ledger_entries",
]


# --- the engines a vertical's use cases call (issue 20: grading, blacklists, customers) ----------


async def customer_record(uow: UnitOfWork, customer_id: object) -> Mapping[str, Any] | None:
    """The customer of that id in the unit of work's tenant, not erased or merged away: ``id``,
    ``kind`` (person | organisation), ``status`` and ``department_id``; None when there is none."""
    from core.customers.tables import Customer

    if not isinstance(customer_id, UUID):
        return None
    return await uow.select(Customer.id, Customer.kind, Customer.status, Customer.department_id).where(
        (Customer.id == customer_id) & Customer.deleted_at.is_null() & Customer.merged_into.is_null()).first()


async def customers_out_of_processing(uow: UnitOfWork, customer_ids: Iterable[UUID]) -> set[UUID]:
    """Those of ``customer_ids`` that may no longer be processed: erased, merged away or frozen
    (PIPL art. 47). Work waiting on such a customer (a queue, a reminder) skips it."""
    from core.customers.tables import Customer
    from core.privacy.freeze import frozen_among

    ids = {i for i in customer_ids if isinstance(i, UUID)}
    if not ids:
        return set()
    live = await uow.select(Customer.id).where(Customer.id.is_in(list(ids)) & Customer.deleted_at.is_null()
                                               & Customer.merged_into.is_null())
    return (ids - {row["id"] for row in live}) | await frozen_among(uow, ids)


async def refuse_if_blacklisted(uow: UnitOfWork, customer_id: UUID, *, department_id: UUID | None = None,
                                action: str = "business") -> None:
    """Refuse with ``CUSTOMER_BLACKLISTED`` (naming the scope and the expiry) when the customer is on
    the company blacklist or on the blacklist of ``department_id`` (MD14, MD16); ``action`` names
    what was refused (an admission, an invitation, …)."""
    from core.blacklists.service import refuse_if_blacklisted as refuse

    await refuse(uow, customer_id, department_id=department_id, action=action)


async def was_blacklisted(uow: UnitOfWork, customer_id: UUID, *, department_id: UUID | None = None,
                          since: datetime | None = None) -> bool:
    """True when the customer was put on the company blacklist or on ``department_id``'s (an approved
    entry, in force or ended; with ``since``, one that took effect at or after it): its return is a
    re-admission, at the lowest grade (MD15)."""
    from core.blacklists.tables import BlacklistEntry
    from core.plugins.types import BlacklistScope

    rows = await uow.select(BlacklistEntry.scope, BlacklistEntry.department_id, BlacklistEntry.starts_at).where(
        (BlacklistEntry.customer_id == customer_id) & BlacklistEntry.status.is_in(["active", "expired", "lifted"]))
    return any((r["scope"] == BlacklistScope.TENANT or (department_id is not None and r["department_id"] == department_id))
               and (since is None or r["starts_at"] is None or r["starts_at"] >= since) for r in rows)


def lowest_grade(vertical: str, scheme_id: str) -> str:
    """The code of the scheme's lowest grade, the only one a customer returns at after a blacklist (MD15)."""
    from core.blacklists.policy import readmission_grade
    from core.grading.service import scheme_of

    return readmission_grade(scheme_of(_started_registry(), vertical, scheme_id)).code


async def customer_grade(uow: UnitOfWork, vertical: str, scheme_id: str, customer_id: UUID, *,
                         scope_id: object = None) -> str | None:
    """The customer's grade in the scheme and scope (a department's id for a department-scoped
    scheme, MD19), or None when it has none there."""
    from core.grading.service import _scope_key, scheme_of
    from core.grading.tables import CustomerGrade

    scheme = scheme_of(_started_registry(), vertical, scheme_id)
    scope_key = await _scope_key(uow, scheme, scope_id)
    row = await uow.select(CustomerGrade.grade).where(
        (CustomerGrade.vertical == vertical) & (CustomerGrade.scheme == scheme.id)
        & (CustomerGrade.customer_id == customer_id) & (CustomerGrade.scope_key == scope_key)).first()
    return row["grade"] if row else None


async def assign_grade(uow: UnitOfWork, vertical: str, scheme_id: str, customer_id: UUID, grade: str, *,
                       scope_id: object = None, reason: str, source: str = "vertical") -> bool:
    """Give the customer ``grade`` in the scope within the caller's unit of work, through the grading
    engine: a hard cap refuses (``GRADE_CAP_EXCEEDED``), an upward change of a blacklisted customer
    is refused (``CUSTOMER_BLACKLISTED``), the change is in the grade history, audited and announced
    (``grade.changed``). False when the customer already holds that grade."""
    from core.grading import policy as grading_policy
    from core.grading import service as grading

    registry = _started_registry()
    scheme = grading.scheme_of(registry, vertical, scheme_id)
    grade = grading._check_grade(scheme, grade)
    parameters = await grading._parameters(uow, registry, vertical)
    scope_key = await grading._scope_key(uow, scheme, scope_id)
    _changes, found, _size = await grading._what_if(uow, vertical, scheme, scope_key, {str(customer_id): grade},
                                                    parameters)
    hard = grading_policy.hard([v for v in found if v.grade == grade])
    if hard:
        raise grading._cap_refusal(hard)
    return await grading._change(uow, vertical, scheme, customer_id, scope_key, grade, grading.now(), source=source,
                                 reason=reason)


async def department_exists(uow: UnitOfWork, department_id: object) -> bool:
    """Whether the tenant has a department of that id."""
    from core.tenancy.tables import Department

    return isinstance(department_id, UUID) and await uow.exists(Department).where(Department.id == department_id)


async def graded_customers(uow: UnitOfWork, vertical: str, scheme_id: str,
                           grades: Iterable[str]) -> dict[UUID, list[tuple[str, str]]]:
    """The customers holding one of ``grades`` of the scheme in some scope: customer id -> its
    (scope, grade) pairs among them."""
    from core.grading.tables import CustomerGrade

    rows = await uow.select(CustomerGrade.customer_id, CustomerGrade.scope_key, CustomerGrade.grade).where(
        (CustomerGrade.vertical == vertical) & (CustomerGrade.scheme == scheme_id)
        & CustomerGrade.grade.is_in(list(grades)))
    found: dict[UUID, list[tuple[str, str]]] = {}
    for row in rows:
        found.setdefault(row["customer_id"], []).append((row["scope_key"], row["grade"]))
    return found


async def archives_accepted(uow: UnitOfWork, vertical: str, standard: str,
                            customer_ids: Iterable[UUID]) -> dict[UUID, datetime]:
    """For each customer that owns a folder of the vertical, the latest acceptance of an archive of
    ``standard`` in it (customers with none are left out)."""
    from core.archives.tables import Archive, ArchiveFolder

    ids = list(customer_ids)
    if not ids:
        return {}
    folders = await uow.select(ArchiveFolder.id, ArchiveFolder.owner_customer_id).where(
        (ArchiveFolder.vertical == vertical) & ArchiveFolder.owner_customer_id.is_in(ids))
    owner = {f["id"]: f["owner_customer_id"] for f in folders}
    if not owner:
        return {}
    rows = await uow.select(Archive.folder_id, Archive.accepted_at).where(
        (Archive.vertical == vertical) & (Archive.standard == standard) & Archive.folder_id.is_in(list(owner))
        & Archive.accepted_at.is_not_null())
    latest: dict[UUID, datetime] = {}
    for row in rows:
        customer = owner[row["folder_id"]]
        if customer not in latest or row["accepted_at"] > latest[customer]:
            latest[customer] = row["accepted_at"]
    return latest


async def send_customer_sms(uow: UnitOfWork, customer_id: UUID, text: str, *, purpose: str = "marketing_sms",
                            skip_tags: Iterable[str] = (), idempotency_key: str) -> str:
    """Text a customer through the deployment's SMS sender (core.messaging; by default it only logs,
    the number masked) if it carries none of ``skip_tags`` and its consent for ``purpose`` holds and
    it has a phone. Returns the outcome: sent | not_found | excluded | no_consent | no_phone | failed.
    The phone number never reaches the vertical. ``tenant_user`` (below) answers whether an id is a
    user of the caller's tenant."""
    from core.messaging import send_customer_sms as send

    return str(await send(uow, customer_id, text, purpose=purpose, skip_tags=skip_tags,
                          idempotency_key=idempotency_key))


async def user_names(uow: UnitOfWork, user_ids: Iterable[object]) -> dict[UUID, str]:
    """The display names of those of ``user_ids`` that are users of the unit of work's tenant (a
    consultant's name in an SMS signature or a report)."""
    from core.identity.tables import User

    wanted = [u for u in dict.fromkeys(user_ids) if isinstance(u, UUID)]
    if not wanted:
        return {}
    return {row["id"]: row["display_name"] for row in await uow.select(User.id, User.display_name).where(
        User.id.is_in(wanted))}


async def tenant_user(uow: UnitOfWork, user_id: object) -> bool:
    """Whether ``user_id`` is a user (a consultant, a manager) of the unit of work's tenant."""
    from core.identity.tables import User

    return isinstance(user_id, UUID) and await uow.exists(User).where(User.id == user_id)


# --- the attribution engine (issue 21): the ledger, decisions and the owner projection ----------


async def record_ledger_entry(uow: UnitOfWork, vertical: str, customer_id: object, kind: str, *, at: datetime,
                              consultant_id: object = None, data: Mapping[str, Any] | None = None,
                              refers_to: object = None) -> Any:
    """Append an entry to the customer's attribution ledger of ``vertical`` in the caller's unit
    of work (validated, audited) and recompute the customer's owner; returns the ``LedgerEntry``.
    The caller checks its own permission first. Raises ``KehuError`` on bad input (an unknown
    customer, consultant or referred entry, a correction of a confirmed entry, ...)."""
    from core.attribution import service as attribution

    recorded = await attribution.append_entry(uow, _started_registry(), customer_id, vertical, kind, at=at,
                                              consultant_id=consultant_id, data=data, refers_to=refers_to)
    row = {"id": recorded.entry.id, "seq": recorded.entry.seq, "customer_id": recorded.entry.customer_id,
           "kind": recorded.entry.kind, "at": recorded.entry.at, "consultant_id": recorded.entry.consultant_id,
           "data": json.dumps(dict(recorded.entry.data)), "refers_to": recorded.entry.refers_to}
    return attribution.ledger_entry(row)


async def attribution_decision(uow: UnitOfWork, vertical: str, customer_id: object, *,
                               as_of: datetime | None = None) -> Any:
    """The vertical's policy applied to the facts core assembles for the customer (its entries
    minus corrected ones, its related customers' entries) as of ``as_of`` (now by default)."""
    from core.attribution import service as attribution

    if not isinstance(customer_id, UUID) or await customer_record(uow, customer_id) is None:
        raise KehuError("CUSTOMER_NOT_FOUND", f"no customer {customer_id}", f"未找到客户 {customer_id}",
                        field="customer_id")
    return await attribution.decide_in(uow, _started_registry(), vertical, customer_id, as_of=as_of)


async def attribution_owners(uow: UnitOfWork, vertical: str, *, owner_id: UUID | None = None,
                             valid: bool | None = None, as_of: datetime | None = None, limit: int = 500,
                             after: UUID | None = None) -> list[Mapping[str, Any]]:
    """Rows of the owner projection of ``vertical`` ordered by customer id (``after``: the last
    customer id of the previous page): ``customer_id``, ``owner_id``, ``rule``, ``valid_until``,
    ``shares`` and ``deals`` (lists of {deal, shares, rule, explanation_en, explanation_zh, entries}).
    ``valid`` True/False compares ``valid_until`` with ``as_of`` (now by default)."""
    from core.attribution import service as attribution
    from core.attribution.tables import AttributionOwner

    query = uow.select(AttributionOwner.customer_id, AttributionOwner.owner_id, AttributionOwner.rule,
                       AttributionOwner.valid_until, AttributionOwner.shares, AttributionOwner.deals).where(
        AttributionOwner.vertical == vertical)
    query = attribution._owner_filters(query, owner_id=owner_id, valid=valid, at=as_of or attribution.now())
    if after is not None:
        query = query.where(AttributionOwner.customer_id > after)
    rows = await query.order_by(AttributionOwner.customer_id).limit(max(1, min(int(limit), 5000)))
    return [{**row, "shares": json.loads(row["shares"]), "deals": json.loads(row["deals"])} for row in rows]


async def ledger_entries(uow: UnitOfWork, vertical: str, *, kinds: Iterable[str] | None = None,
                         since: datetime | None = None, until: datetime | None = None, consultant_id: UUID | None = None,
                         limit: int = 1000, after_seq: int | None = None) -> list[Any]:
    """The tenant's ledger entries of ``vertical`` in ``seq`` order (``LedgerEntry``; every entry,
    corrected ones too, ``confirmed`` set), filtered by kind, by when they happened (``since`` <= at <
    ``until``) and by consultant; ``after_seq`` pages on."""
    from core.attribution import service as attribution
    from core.attribution.tables import AttributionEntry

    query = uow.select(AttributionEntry.id, AttributionEntry.seq, AttributionEntry.customer_id, AttributionEntry.kind,
                       AttributionEntry.at, AttributionEntry.consultant_id, AttributionEntry.data,
                       AttributionEntry.refers_to).where(AttributionEntry.vertical == vertical)
    if kinds is not None:
        query = query.where(AttributionEntry.kind.is_in(list(kinds) or [""]))
    if since is not None:
        query = query.where(AttributionEntry.at >= since)
    if until is not None:
        query = query.where(AttributionEntry.at < until)
    if consultant_id is not None:
        query = query.where(AttributionEntry.consultant_id == consultant_id)
    if after_seq is not None:
        query = query.where(AttributionEntry.seq > after_seq)
    rows = await query.order_by(AttributionEntry.seq).limit(max(1, min(int(limit), 10_000)))
    ids = [row["id"] for row in rows]
    confirmed = {r["refers_to"] for r in await uow.select(AttributionEntry.refers_to).where(
        (AttributionEntry.kind == "confirmation") & AttributionEntry.refers_to.is_in(ids))} if ids else set()
    return [attribution.ledger_entry(row, confirmed=row["id"] in confirmed) for row in rows]


async def _stored_extensions(uow: UnitOfWork, customer_id: object) -> tuple[int, dict[str, Any]] | None:
    from core.customers.service import open_record
    from core.customers.tables import Customer

    if not isinstance(customer_id, UUID):
        return None
    row = await uow.select(Customer.version, Customer.data, Customer.sealed).where(
        (Customer.id == customer_id) & Customer.deleted_at.is_null() & Customer.merged_into.is_null()).first()
    if row is None:
        return None
    assert uow.ctx.tenant_id is not None
    record = open_record(uow.ctx.tenant_id, row["data"], row["sealed"])
    return int(row["version"]), dict(record.get("extensions") or {})


async def customer_extensions(uow: UnitOfWork, vertical: str, customer_id: object) -> tuple[int, dict[str, Any]] | None:
    """The customer's record version and its extension fields of ``vertical``, in clear (personal ones
    included: never log them or put them in an audit entry or an event); None when there is no such
    customer (erased or merged away). The vertical checks its own permission first."""
    stored = await _stored_extensions(uow, customer_id)
    return None if stored is None else (stored[0], dict(stored[1].get(vertical) or {}))


async def update_customer_extensions(uow: UnitOfWork, vertical: str, customer_id: UUID, values: Mapping[str, Any], *,
                                     version: int | None = None, reason: str = "") -> int:
    """Set some of the customer's extension fields of ``vertical`` (None clears one), its managed
    fields included, in the caller's unit of work: validated, versioned, in the customer's history,
    audited (personal values masked) and announced like ``customerUpdate``; the caller needs
    ``customer.write`` over the customer. ``version`` (the one read) guards against a concurrent
    change (``VERSION_CONFLICT``). Returns the new version."""
    from core.customers.service import update_customer_in

    stored = await _stored_extensions(uow, customer_id)
    if stored is None:
        raise KehuError("CUSTOMER_NOT_FOUND", f"no customer {customer_id}", f"未找到客户 {customer_id}",
                        field="customer_id")
    read_version, extensions = stored
    merged = {name: value for name, value in {**(extensions.get(vertical) or {}), **values}.items()
              if value is not None}
    view = await update_customer_in(uow, _started_registry(), customer_id,
                                    version=read_version if version is None else version,
                                    changes={"extensions": {**extensions, vertical: merged}}, reason=reason,
                                    managing=vertical)
    return view.version


def seal(uow: UnitOfWork, purpose: str, value: Any) -> str:
    """``value`` (JSON-able) encrypted under the tenant's data key, for a personal value a vertical keeps
    in its own table; ``purpose`` (``tobacco_change``) binds the text to its use."""
    from core.privacy import crypto

    assert uow.ctx.tenant_id is not None
    return crypto.seal_json(uow.ctx.tenant_id, purpose, value)


def unseal(uow: UnitOfWork, purpose: str, token: str) -> Any:
    """What :func:`seal` encrypted under the same purpose."""
    from core.privacy import crypto

    assert uow.ctx.tenant_id is not None
    return crypto.open_json(uow.ctx.tenant_id, purpose, token)


def blind_index(uow: UnitOfWork, kind: str, value: str) -> str:
    """A keyed digest of ``value`` under the tenant's current data key, to store: equal values give equal
    digests, so a vertical finds duplicates (the same phone) without keeping the value in clear."""
    from core.privacy import crypto

    assert uow.ctx.tenant_id is not None
    return crypto.blind(uow.ctx.tenant_id, kind, value)


def blind_indexes(uow: UnitOfWork, kind: str, value: str) -> list[str]:
    """``value``'s digests under every configured data key, to look up (a key rotation keeps both)."""
    from core.privacy import crypto

    assert uow.ctx.tenant_id is not None
    return crypto.blinds(uow.ctx.tenant_id, kind, value)


async def customers_with_extensions(uow: UnitOfWork, vertical: str, *, after: UUID | None = None,
                                    limit: int = 1000) -> list[tuple[UUID, dict[str, Any]]]:
    """One page (by id, after ``after``, at most ``limit`` ≤ 5,000) of the tenant's customers (not
    erased or merged away) with their extension fields of ``vertical`` in clear — for a long job
    that reports over every customer (a route balance), never for a request."""
    from core.customers.service import open_record
    from core.customers.tables import Customer

    limit = max(1, min(int(limit), 5_000))
    query = uow.select(Customer.id, Customer.data, Customer.sealed).where(
        Customer.deleted_at.is_null() & Customer.merged_into.is_null())
    if after is not None:
        query = query.where(Customer.id > after)
    rows = await query.order_by(Customer.id).limit(limit)
    assert uow.ctx.tenant_id is not None
    return [(row["id"], dict((open_record(uow.ctx.tenant_id, row["data"], row["sealed"]).get("extensions") or {})
                             .get(vertical) or {})) for row in rows]


# --- the archive lending register (seed-003 R6-62, R6-63): what a vertical fines ------------------


async def archive_loan_breaches(uow: UnitOfWork, since: datetime) -> list[dict[str, Any]]:
    """Late returns, losses and damages of lent archives recorded since ``since`` in the unit of
    work's tenant: one entry each with ``loan_id``, ``borrower_id`` (None for a person of an
    external unit), ``breach`` (``late`` | ``lost`` | ``damaged``) and ``at`` (when it was recorded).
    Core announces each (``archive.returned_late``, ``archive.loan_lost``, ``archive.loan_damaged``);
    a vertical's tick reads them here to record its fines once per loan."""
    from core.privacy.borrowing import breaches

    return await breaches(uow, since)
