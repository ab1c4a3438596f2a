"""Erasure (PIPL art. 47): a subject's personal data removed or irreversibly anonymised everywhere
kehu keeps it, in one transaction.

- The customer row stays (id, kind, owner, timestamps: links and counts hold) with status
  ``erased``, name ``已删除`` and every other personal column emptied. Which columns are personal
  is read from the live schema, so columns added later (sealed, encrypted) are emptied too.
- Every table with a ``customer_id`` column loses the subject's rows (contacts, match keys,
  consents, loans, ...), except those with a rule here: field history becomes one row saying the
  customer was erased; subject requests, freezes and legal holds stay (they hold no values).
- Plugin tables declared with ``kehu_personal_data`` are deleted from or anonymised.
- Complaints naming the subject (``customer_id``) stay with their clocks and timeline (the
  tenant's records of its deadlines); the free-text complainant recorded with them is emptied and
  the subject's values quoted in their subject line and recorded fields are replaced
  (``core.complaints.privacy.erase_complainants``). A free-text complainant of a complaint not
  linked to the subject is not matched by name.
- Archive folders naming the subject (core.archives.privacy): while one is under retention (A6/A7)
  erasure is refused with ``ARCHIVE_RETENTION`` (freeze instead); folders past retention are
  anonymised with their archives.
- Customers merged into the subject are erased with it (they describe the same person).
- Outputs of customer exports and subject-access exports made before now are deleted (they may
  hold the subject); uploads of finished imports are deleted; the subject's values are replaced
  in free-text columns of the outbox, webhooks and jobs.
- The audit chain is never edited (its diffs hold no personal values); one ``customer.erased``
  entry is added, without values.
- The erasure ledger (``erasure_ledger``: ids and time only, outside backups) gets a row per
  customer erased, so restoring an older backup erases them again (core.backup, docs/backups.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from core.archives import privacy as archive_privacy
from core.audit.chain import record as audit
from core.context import Context
from core.customers.tables import Customer, CustomerHistory
from core.db import unit_of_work
from core.db.uow import UnitOfWork
from core.errors import KehuError, NotFound
from core.identity.access import require
from core.jobs import outbox
from core.plugins.manager import VerticalRegistry, personal_data_tables
from core.plugins.types import ErasureMode, PersonalDataTable
from core.privacy import freeze
from core.privacy.subject_tables import ErasureLedger, LegalHold

TARGET = "customer"
ERASED = "erased"
ERASED_NAME = "已删除"
EXPORT_KINDS = ("customer.export", "privacy.subject_export")
# Columns of ``customer`` that say nothing about the person; every other one is emptied.
_CUSTOMER_KEEPS = frozenset({"id", "tenant_id", "created_at", "kind", "owner_id", "department_id", "version",
                             "last_reviewed_at", "last_reviewed_by", "merged_into", "deleted_at", "updated_at",
                             "created_by"})
# Tables holding a customer_id whose rows stay (they hold no personal values) or have their own rule.
_KEPT_TABLES = frozenset({"customer", "customer_history", "customer_merge", "subject_request", "customer_freeze",
                          "legal_hold", "audit_entry", "audit_chain", "audit_anchor", "complaint",
                          "erasure_ledger"})
# Free-text columns that might quote a value: the value is replaced there, the row kept.
_FREE_TEXT = (("outbox_event", "payload"), ("outbox_event", "last_error"), ("webhook_delivery", "payload"),
              ("webhook_delivery", "last_error"), ("webhook_attempt", "error"), ("long_job", "result"),
              ("long_job", "message"), ("long_job", "error_message"), ("long_job", "params"))
REPLACEMENT = "[erased]"


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ErasureResult:
    customer_id: UUID
    customers: tuple[UUID, ...]  # the subject and the customers merged into it
    rows_deleted: dict[str, int]
    rows_anonymised: dict[str, int]
    exports_deleted: int  # earlier export outputs that may have held the subject
    uploads_deleted: int


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    text: bool
    nullable: bool


async def live_schema(uow: UnitOfWork) -> dict[str, dict[str, Column]]:
    """Every table of the database with its columns, read from the catalog."""
    tables: dict[str, dict[str, Column]] = {}
    if uow.database.is_postgres:
        rows = await uow.fetch("SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
                               "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position")
        for row in rows:
            kind = row["data_type"].lower()
            tables.setdefault(row["table_name"], {})[row["column_name"]] = Column(
                row["column_name"], "char" in kind or kind == "text", row["is_nullable"] == "YES")
        return tables
    for t in await uow.fetch("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"):
        for row in await uow.fetch(f"PRAGMA table_info({t['name']})"):
            kind = (row["type"] or "").upper()
            tables.setdefault(t["name"], {})[row["name"]] = Column(
                row["name"], "CHAR" in kind or "TEXT" in kind, not row["notnull"] and not row["pk"])
    return tables


async def _references(uow: UnitOfWork, tables: Iterable[str]) -> dict[str, set[str]]:
    """table -> tables it references by foreign key (to delete children first)."""
    edges: dict[str, set[str]] = {}
    if uow.database.is_postgres:
        rows = await uow.fetch("SELECT conrelid::regclass::text AS child, confrelid::regclass::text AS parent "
                               "FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace")
        for row in rows:
            edges.setdefault(row["child"], set()).add(row["parent"])
        return edges
    for table in tables:
        for row in await uow.fetch(f"PRAGMA foreign_key_list({table})"):
            edges.setdefault(table, set()).add(row["table"])
    return edges


def _children_first(tables: list[str], edges: Mapping[str, set[str]]) -> list[str]:
    ordered: list[str] = []
    seen: set[str] = set()

    def visit(table: str, path: frozenset[str]) -> None:
        if table in seen or table in path:
            return
        for child in tables:
            if table in edges.get(child, ()) and child != table:
                visit(child, path | {table})
        seen.add(table)
        ordered.append(table)

    for table in sorted(tables):
        visit(table, frozenset())
    return ordered


def check_plugin_tables(tables: Iterable[PersonalDataTable], schema: Mapping[str, Mapping[str, Column]]) -> None:
    """Refuse to start if a plugin names a table or column the database does not have."""
    for t in tables:
        missing = [c for c in (t.customer_column, *t.columns) if c not in schema.get(t.table, {})]
        if t.table not in schema or missing:
            raise KehuError("PERSONAL_DATA_TABLE_UNKNOWN",
                            f"plugin personal data table {t.table} ({', '.join(missing) or 'table'}) is not in the database",
                            f"插件声明的个人信息表 {t.table} 在数据库中不存在")


def _values(record: Mapping[str, Any], contacts: Iterable[Mapping[str, Any]]) -> set[str]:
    """The subject's values as they may be quoted in free text (for replacement)."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            if len(value.strip()) >= 2:
                found.add(value)
        elif isinstance(value, Mapping):
            for item in value.values():
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)

    for key in ("surname", "given_name", "org_name", "legal_representative", "phones", "emails", "identifier",
                "address", "extensions"):
        walk(record.get(key))
    name = f"{record.get('surname') or ''}{record.get('given_name') or ''}"
    walk(name)
    for contact in contacts:
        walk([contact.get("surname"), contact.get("given_name"), contact.get("email"),
              f"{contact.get('surname') or ''}{contact.get('given_name') or ''}"])
        try:
            walk(json.loads(contact.get("phones") or "[]"))
        except (TypeError, ValueError):
            pass
    for province_like in ("province", "city", "county"):  # shared by many people: not the subject's own
        found.discard((record.get("address") or {}).get(province_like))
    found.discard(record.get("kind"))
    return {v for v in found if v}


def _spellings(value: str) -> set[str]:
    return {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}


async def _active_hold(uow: UnitOfWork, customer_id: UUID) -> bool:
    return await uow.exists(LegalHold).where((LegalHold.customer_id == customer_id) & LegalHold.released_at.is_null())


async def _merged_into(uow: UnitOfWork, customer_id: UUID) -> list[UUID]:
    found, frontier = [customer_id], [customer_id]
    while frontier:
        rows = await uow.select(Customer.id).where(Customer.merged_into.is_in(frontier))
        frontier = [row["id"] for row in rows if row["id"] not in found]
        found += frontier
    return found


def _in(ids: list[UUID]) -> str:
    return ", ".join("{}" for _ in ids)


def _empty(column: Column) -> str:
    return "NULL" if column.nullable else ("''" if column.text else "")


async def erase_subject(ctx: Context, registry: VerticalRegistry, customer_id: UUID, reason: str) -> ErasureResult:
    """Erase a customer's personal data everywhere, in one transaction; refused while the
    customer is frozen (``CUSTOMER_FROZEN``), under legal hold (``LEGAL_HOLD``) or named by an
    archive folder under retention (``ARCHIVE_RETENTION``), and where the tenant deletes customers
    only through approved deletion requests (``DELETION_APPROVAL_REQUIRED``, core.governance.deletions)."""
    require(ctx, "privacy.erase")
    reason = (reason or "").strip()
    if not reason:
        raise KehuError("REASON_REQUIRED", "erasure needs a reason", "删除个人信息须填写原因", field="reason")
    async with unit_of_work(ctx) as uow:
        from core.governance import deletion_gate  # a tenant may delete only through approved requests (CSM-13)

        await deletion_gate.refuse_direct_deletion(uow)
        return await erase_in(uow, registry, customer_id, reason)


async def erase_in(uow: UnitOfWork, registry: VerticalRegistry, customer_id: UUID, reason: str, *,
                   replay: bool = False) -> ErasureResult:
    """The erasure inside the caller's unit of work (subject requests and the purge use it).

    ``replay``: a restore re-applying an erasure of its ledger (core.backup). That erasure was
    decided and checked when it first ran; the restored data (a freeze or hold since lifted) must
    not bring the person back, so the refusals are skipped and the ledger already has its rows."""
    tenant = uow.ctx.tenant_id
    row = await uow.select(Customer).where(Customer.id == customer_id).first()
    if row is None:
        raise NotFound("customer", customer_id)
    if row["status"] == ERASED and not replay:
        raise KehuError("CUSTOMER_ERASED", "the customer has already been erased", "该客户已被删除", field="id")
    if not replay and await freeze.is_frozen(uow, customer_id):
        raise freeze.CustomerFrozen(customer_id)
    if not replay and await _active_hold(uow, customer_id):
        raise KehuError("LEGAL_HOLD", "the customer is under legal hold", "该客户处于法律保全中", field="id")
    ids = await _merged_into(uow, customer_id)
    at = now()
    if not replay:
        await archive_privacy.refuse_if_retained(uow, ids, at)  # A6/A7: the archive outlives the request
    schema = await live_schema(uow)
    plugin_tables = personal_data_tables(registry)
    check_plugin_tables(plugin_tables, schema)
    marks = _in(ids)

    from core.customers import service  # the records in clear (sealed columns opened)

    values: set[str] = set()
    contacts = [{"surname": c.surname, "given_name": c.given_name, "email": c.email, "phones": json.dumps(c.phones)}
                for found in (await service._contacts_of(uow, ids)).values() for c in found]
    for customer in await uow.select(Customer).where(Customer.id.is_in(ids)):
        values |= _values(service._view(customer).record, contacts)

    deleted: dict[str, int] = {}
    anonymised: dict[str, int] = {}
    plugin_names = {t.table for t in plugin_tables}
    generic = [t for t, cols in schema.items() if "customer_id" in cols and "tenant_id" in cols
               and t not in _KEPT_TABLES and t not in plugin_names]
    edges = await _references(uow, schema)
    for t in plugin_tables:  # plugin tables first: they may reference core rows
        where = f"tenant_id = {{}} AND {t.customer_column} IN ({marks})"
        if t.erase is ErasureMode.DELETE:
            rows = await uow.fetch(f"DELETE FROM {t.table} WHERE {where} RETURNING id", tenant, *ids)
            deleted[t.table] = len(rows)
        else:
            sets = ", ".join(f"{c} = {_empty(schema[t.table][c]) or 'NULL'}" for c in t.columns)
            rows = await uow.fetch(f"UPDATE {t.table} SET {sets} WHERE {where} RETURNING id", tenant, *ids)
            anonymised[t.table] = len(rows)
    for table in _children_first(generic, edges):
        for child, parents in edges.items():  # rows pointing at the rows going, without a customer_id of their own
            if table in parents and child in schema and "customer_id" not in schema[child] and child != table:
                for column in await _fk_columns(uow, child, table):
                    rows = await uow.fetch(
                        f"DELETE FROM {child} WHERE tenant_id = {{}} AND {column} IN (SELECT id FROM {table} "
                        f"WHERE tenant_id = {{}} AND customer_id IN ({marks})) RETURNING id", tenant, tenant, *ids)
                    deleted[child] = deleted.get(child, 0) + len(rows)
        rows = await uow.fetch(f"DELETE FROM {table} WHERE tenant_id = {{}} AND customer_id IN ({marks}) RETURNING id",
                               tenant, *ids)
        deleted[table] = len(rows)

    # Field history: the values go, one row says the customer was erased.
    await uow.delete(CustomerHistory).where(CustomerHistory.customer_id.is_in(ids))
    for cid in ids:
        current = await uow.select(Customer.version, Customer.kind).where(Customer.id == cid).first()
        version = int(current["version"]) + 1
        await uow.insert(CustomerHistory(customer_id=cid, version=version, changed_at=at, actor=uow.ctx.actor,
                                         reason="erased", changes=json.dumps({"erased": [None, True]})))
        sets = {"status": f"'{ERASED}'", "display_name": f"'{ERASED_NAME}'", "data": "{}", "version": "{}",
                "updated_at": "{}", "deleted_at": "coalesce(deleted_at, {})", "review_due_at": "NULL",
                "review_notified_at": "NULL", "tags": "'[]'", "search": "''", "is_key": "FALSE"}
        args: list[Any] = [json.dumps({"kind": current["kind"], "status": ERASED}), version, at, at]
        for name, column in schema["customer"].items():
            if name not in _CUSTOMER_KEEPS and name not in sets and _empty(column):
                sets[name] = _empty(column)
        assignments = ", ".join(f"{name} = {value}" for name, value in sets.items())
        await uow.fetch(f"UPDATE customer SET {assignments} WHERE tenant_id = {{}} AND id = {{}}", *args, tenant, cid)
    anonymised["customer"] = len(ids)
    anonymised["customer_history"] = len(ids)
    anonymised.update(await archive_privacy.erase_folders(uow, ids))  # folders past retention

    if "complaint" in schema:  # the case stays, the complainant's fields go (core.complaints.privacy)
        from core.complaints import privacy as complaint_privacy

        anonymised["complaint"] = await complaint_privacy.erase_complainants(uow, ids, values, REPLACEMENT)

    # Merge lineage keeps ids only; its free-text reason may name the person.
    if "customer_merge" in schema:
        rows = await uow.fetch(f"UPDATE customer_merge SET reason = '{REPLACEMENT}' WHERE tenant_id = {{}} AND "
                               f"(survivor_id IN ({marks}) OR merged_id IN ({marks})) RETURNING id", tenant, *ids, *ids)
        anonymised["customer_merge"] = len(rows)
    rows = await uow.fetch(f"UPDATE subject_request SET changes = NULL WHERE tenant_id = {{}} AND customer_id IN "
                           f"({marks}) AND changes IS NOT NULL RETURNING id", tenant, *ids)
    anonymised["subject_request"] = len(rows)

    exports = await uow.fetch(
        "SELECT id FROM long_job WHERE tenant_id = {} AND kind IN ({}, {}) AND output_deleted_at IS NULL "
        "AND created_at <= {}", tenant, *EXPORT_KINDS, at)
    for job in exports:
        await uow.fetch("DELETE FROM job_output_chunk WHERE tenant_id = {} AND job_id = {}", tenant, job["id"])
        await uow.fetch("UPDATE long_job SET output_deleted_at = {} WHERE tenant_id = {} AND id = {}", at, tenant,
                        job["id"])
    uploads = await uow.fetch(
        "DELETE FROM customer_import_upload WHERE tenant_id = {} AND job_id IN (SELECT id FROM long_job WHERE "
        "tenant_id = {} AND status IN ('succeeded', 'failed', 'cancelled')) RETURNING id", tenant, tenant)

    for table, column in _FREE_TEXT:
        if column not in schema.get(table, {}):
            continue
        for value in sorted(values, key=len, reverse=True):
            for form in _spellings(value):
                await uow.fetch(f"UPDATE {table} SET {column} = replace({column}, {{}}, {{}}) WHERE tenant_id = {{}} "
                                f"AND {column} LIKE {{}}", form, REPLACEMENT, tenant, f"%{form}%")

    if not replay:  # ids and time only: the ledger outlives the tenant's data and its backups
        await uow.insert(*(ErasureLedger(customer_id=cid, erased_at=at) for cid in ids))
    await audit(uow, "customer.erased", TARGET, customer_id,
                {"reason": reason, "customers": [str(i) for i in ids], "exports_deleted": len(exports)})
    await outbox.add(uow, "customer.erased", TARGET, customer_id, ("erased",))
    return ErasureResult(customer_id=customer_id, customers=tuple(ids), rows_deleted=deleted,
                         rows_anonymised=anonymised, exports_deleted=len(exports), uploads_deleted=len(uploads))


async def _fk_columns(uow: UnitOfWork, child: str, parent: str) -> list[str]:
    if uow.database.is_postgres:
        rows = await uow.fetch(
            "SELECT a.attname AS column FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid "
            "AND a.attnum = ANY(c.conkey) WHERE c.contype = 'f' AND c.conrelid = {}::regclass "
            "AND c.confrelid = {}::regclass AND a.attname <> 'tenant_id'", child, parent)
        return [row["column"] for row in rows]
    rows = await uow.fetch(f"PRAGMA foreign_key_list({child})")
    return [row["from"] for row in rows if row["table"] == parent and row["from"] != "tenant_id"]
