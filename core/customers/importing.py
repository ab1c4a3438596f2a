"""Importing customers from CSV and XLSX files.

The file's first row names the columns (any order; unknown names refuse the whole file):

- ``kind`` (person | organisation, required), ``status``, ``surname``, ``given_name``, ``org_name``,
  ``legal_representative``, ``source_channel``, ``is_key`` (true/false, 是/否)
- ``identifier_type`` (defaults to resident_id for a person, credit_code for an organisation when
  a number is given) and ``identifier_number``
- ``phones``, ``emails``, ``tags``: several values separated by ``;``
- ``province``, ``city``, ``county``, ``street``, ``house_number``, ``village``: the address
- ``owner`` (a username of the tenant) and ``department`` (a department's name)
- ``business.<name>``, ``needs.<name>``, ``credit.<name>``, ``other.<name>``: section fields
- ``ext.<vertical>.<field>``: a vertical's extension field (the vertical enabled for the tenant)

Every row is checked like a customer created by hand (``records.build_record``); an identifier
that a live customer of the tenant already has, or that an earlier row of the file has, is a bad
row with ``DUPLICATE_IDENTIFIER``. A bad row is reported with its line as a spreadsheet shows it
(the header is line 1), the column and the coded error.

Modes: ``all-or-nothing`` writes nothing if any row is bad (its job then ends ``failed`` with
``IMPORT_ROWS_INVALID``, its report still downloadable; otherwise it writes everything in one
transaction); ``skip-bad-rows`` writes the good rows in batches of ``BATCH`` rows, one
transaction each. A dry run checks everything and writes nothing. Each imported customer gets
its field history version 1, its match keys, one audit entry (``customer.imported``) and an
outbox event (``customer.created``), written with multi-row inserts in the batch's transaction.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import re
import zipfile
from contextlib import aclosing
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

from core.audit.chain import diff_text, record_many
from core.context import Context, Principal
from core.customers import records as r
from core.customers import service
from core.customers import validation as v
from core.customers.import_tables import CustomerImportUpload
from core.db import unit_of_work
from core.db.uow import UnitOfWork
from core.errors import KehuError
from core.identity.access import may_reach, require
from core.identity.permissions import Scope
from core.identity.tables import User
from core.jobs import long_jobs
from core.jobs.timers import register_sweep
from core.plugins.manager import VerticalRegistry, started_verticals
from core.plugins.types import CustomerField, FieldKind
from core.privacy import crypto
from core.tenancy.tables import Department

IMPORT_JOB = "customer.import"
ALL_OR_NOTHING, SKIP_BAD_ROWS = "all-or-nothing", "skip-bad-rows"
MODES = (ALL_OR_NOTHING, SKIP_BAD_ROWS)
BATCH = 500  # rows per write transaction (skip-bad-rows) and per multi-row insert
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
SEPARATOR = re.compile(r"[;；]")

TEXT_COLUMNS = ("kind", "status", "surname", "given_name", "org_name", "legal_representative", "source_channel")
ADDRESS_COLUMNS = v.ADDRESS_PARTS
LIST_COLUMNS = ("phones", "emails", "tags")
# The columns an export writes, in its order (then section and extension columns).
STANDARD_COLUMNS = (*TEXT_COLUMNS[:6], "identifier_type", "identifier_number", *LIST_COLUMNS, *ADDRESS_COLUMNS,
                    "source_channel", "is_key", "owner", "department")
_SECTION_COLUMN = re.compile(rf"^({'|'.join(v.SECTIONS)})\.([a-z][a-z0-9_]{{0,39}})$")
_EXT_COLUMN = re.compile(r"^ext\.([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)$")
TRUE, FALSE = ("true", "1", "yes", "y", "是"), ("false", "0", "no", "n", "否")


def _file_error(code: str, en: str, zh: str) -> KehuError:
    return KehuError(code, en, zh, field="file")


# --- reading files ------------------------------------------------------------------------------

def file_format(data: bytes, filename: str) -> str:
    """csv or xlsx, from the name, else from the content (an XLSX file is a zip archive)."""
    name = filename.lower()
    if name.endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        return "xlsx"
    if name.endswith((".csv", ".txt")):
        return "csv"
    if name.endswith((".xls", ".xlsm", ".ods", ".numbers")):
        raise _file_error("IMPORT_FORMAT_UNSUPPORTED", "import a .csv or .xlsx file", "请导入 .csv 或 .xlsx 文件")
    return "csv"


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _file_error("IMPORT_FILE_UNREADABLE", "the CSV file is neither UTF-8 nor GB18030 text",
                      "CSV 文件既不是 UTF-8 也不是 GB18030 编码")


def read_table(data: bytes, filename: str) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """The header and the non-empty data rows with their line numbers (header = line 1)."""
    if not data:
        raise _file_error("IMPORT_FILE_EMPTY", "the file is empty", "文件为空")
    if len(data) > MAX_FILE_BYTES:
        raise _file_error("IMPORT_FILE_TOO_LARGE", f"the file is larger than {MAX_FILE_BYTES} bytes",
                          f"文件超过 {MAX_FILE_BYTES} 字节")
    rows: Iterator[Sequence[Any]]
    if file_format(data, filename) == "xlsx":
        import openpyxl

        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError):
            raise _file_error("IMPORT_FILE_UNREADABLE", "the file is not a readable XLSX workbook",
                              "文件不是可读取的 XLSX 工作簿") from None
        try:
            rows = iter(list(book.worksheets[0].iter_rows(values_only=True)))
        finally:
            book.close()
    else:
        rows = csv.reader(io.StringIO(_decode(data), newline=""))
    try:
        header = [str(c).strip().lower() if c is not None else "" for c in next(rows)]
    except StopIteration:
        raise _file_error("IMPORT_FILE_EMPTY", "the file has no header row", "文件没有表头行") from None
    except csv.Error as exc:
        raise _file_error("IMPORT_FILE_UNREADABLE", f"the CSV file cannot be read: {exc}", "CSV 文件无法读取") from None
    body: list[tuple[int, list[Any]]] = []
    try:
        for line, row in enumerate(rows, start=2):
            values = [None if (c is None or (isinstance(c, str) and not c.strip())) else c for c in row]
            if any(c is not None for c in values):
                body.append((line, values))
                if len(body) > MAX_ROWS:
                    raise _file_error("IMPORT_TOO_MANY_ROWS", f"a file may hold at most {MAX_ROWS} customers",
                                      f"单个文件最多 {MAX_ROWS} 个客户")
    except csv.Error as exc:
        raise _file_error("IMPORT_FILE_UNREADABLE", f"the CSV file cannot be read: {exc}", "CSV 文件无法读取") from None
    return header, body


def check_header(header: list[str], schema: Mapping[str, Mapping[str, CustomerField]]) -> None:
    """Unknown, repeated or missing columns refuse the file before any row is read."""
    seen: set[str] = set()
    for name in header:
        if not name:
            continue
        if name in seen:
            raise _file_error("IMPORT_COLUMN_DUPLICATE", f"the column {name!r} appears twice", f"列 {name!r} 重复")
        seen.add(name)
        ext = _EXT_COLUMN.match(name)
        if name in STANDARD_COLUMNS or _SECTION_COLUMN.match(name) or (
                ext and ext.group(1) in schema and ext.group(2) in schema[ext.group(1)]):
            continue
        raise _file_error("IMPORT_COLUMN_UNKNOWN", f"the column {name!r} is not one kehu imports "
                          "(see the import format)", f"无法识别的列 {name!r}（见导入格式说明）")
    if "kind" not in seen:
        raise _file_error("IMPORT_COLUMN_MISSING", "the file needs a 'kind' column (person or organisation)",
                          "文件须有 kind 列（person 或 organisation）")


# --- rows to fields -------------------------------------------------------------------------------

def _text(value: Any) -> str | None:
    if type(value) is str:  # nearly every cell of a CSV, and most of a workbook
        return value.strip() or None
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if (value.hour, value.minute, value.second) == (0, 0, 0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def _flag(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    text = (_text(value) or "").lower()
    return True if text in TRUE else False if text in FALSE else text


def _extension_value(spec: CustomerField, value: Any) -> Any:
    """A cell as the extension field's type; left as it is when it does not convert, so the
    record's validation reports it with its code."""
    if spec.kind is FieldKind.INTEGER:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        text = _text(value)
        return int(text) if text and re.fullmatch(r"-?\d+", text) else value
    if spec.kind is FieldKind.DECIMAL:  # a decimal cell stays text, so money is never read as a float
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        return _text(value) or value
    if spec.kind is FieldKind.BOOLEAN:
        return _flag(value)
    return _text(value)


def _section_value(value: Any) -> Any:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else _text(value)


def row_fields(header: Sequence[str], values: Sequence[Any], schema: Mapping[str, Mapping[str, CustomerField]],
               users: Mapping[str, UUID], departments: Mapping[str, list[UUID]]) -> dict[str, Any]:
    """The fields of ``records.build_record`` for one row; owner and department names looked up."""
    cells = {name: values[i] if i < len(values) else None for i, name in enumerate(header) if name}
    fields: dict[str, Any] = {}
    for name in TEXT_COLUMNS:
        if cells.get(name) is not None:
            fields[name] = _text(cells[name])
    for name in LIST_COLUMNS:
        if cells.get(name) is not None:
            fields[name] = [part.strip() for part in SEPARATOR.split(_text(cells[name]) or "") if part.strip()]
    number = _text(cells.get("identifier_number"))
    kind = _text(cells.get("identifier_type"))
    if number is not None or kind is not None:
        default = "credit_code" if fields.get("kind") == v.ORGANISATION else "resident_id"
        fields["identifier"] = {"type": kind or default, "number": number}
    address = {part: _text(cells.get(part)) for part in ADDRESS_COLUMNS if cells.get(part) is not None}
    if address:
        fields["address"] = address
    if cells.get("is_key") is not None:
        fields["is_key"] = _flag(cells["is_key"])
    owner = _text(cells.get("owner"))
    if owner is not None:
        if owner.lower() not in users:
            raise v.invalid("OWNER_UNKNOWN", "owner", f"no active user {owner!r} in this tenant",
                            f"本租户没有在职用户 {owner!r}")
        fields["owner_id"] = str(users[owner.lower()])
    department = _text(cells.get("department"))
    if department is not None:
        found = departments.get(department, [])
        if len(found) != 1:
            raise v.invalid("DEPARTMENT_UNKNOWN" if not found else "DEPARTMENT_AMBIGUOUS", "department",
                            f"no department named {department!r}" if not found
                            else f"several departments are named {department!r}",
                            f"没有名为 {department!r} 的部门" if not found else f"有多个名为 {department!r} 的部门")
        fields["department_id"] = str(found[0])
    for name, value in cells.items():
        if value is None:
            continue
        if section := _SECTION_COLUMN.match(name):
            fields.setdefault(section.group(1), {})[section.group(2)] = _section_value(value)
        elif ext := _EXT_COLUMN.match(name):
            spec = schema[ext.group(1)][ext.group(2)]
            fields.setdefault("extensions", {}).setdefault(ext.group(1), {})[ext.group(2)] = \
                _extension_value(spec, value)
    return fields


def column_of(field_name: str | None) -> str:
    """The file's column for a record field named in an error."""
    if not field_name:
        return ""
    head, _, rest = field_name.partition(".")
    if head == "identifier":
        return "identifier_type" if rest == "type" else "identifier_number"
    if head == "address":
        return rest or "province"
    if head == "extensions":
        return f"ext.{rest}"
    return {"owner_id": "owner", "department_id": "department", "contacts": "is_key"}.get(field_name, field_name)


# --- the report -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    field: str
    code: str
    message: str


@dataclass(slots=True)
class ImportReport:
    mode: str
    dry_run: bool
    rows: int = 0
    valid: int = 0  # rows that passed every check
    imported: int = 0  # customers written (0 in a dry run, or when all-or-nothing found a bad row)
    errors: list[RowError] = field(default_factory=list)

    @property
    def bad_rows(self) -> int:
        return len({e.line for e in self.errors})

    def summary(self) -> dict[str, Any]:
        return {"mode": self.mode, "dry_run": self.dry_run, "rows": self.rows, "valid": self.valid,
                "imported": self.imported, "bad_rows": self.bad_rows}

    def as_csv(self) -> str:
        """The report as CSV text, starting with a BOM like exports, so Excel reads it as UTF-8."""
        out = io.StringIO()
        out.write("\ufeff")
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["line", "field", "code", "message"])
        for e in sorted(self.errors, key=lambda e: e.line):
            writer.writerow([e.line, e.field, e.code, e.message])
        return out.getvalue()


# --- importing --------------------------------------------------------------------------------

Progress = Callable[[int, int, str], Awaitable[None]]
Item = TypeVar("Item")
Made = TypeVar("Made")


@dataclass(slots=True)
class _Good:
    line: int
    record: dict[str, Any]
    id: UUID = field(default_factory=uuid4)

    @property
    def identifier_key(self) -> str | None:
        ident = self.record.get("identifier")
        return f"{ident['type']}:{ident['number']}" if ident else None


class _Refused(Exception):
    """All-or-nothing found a bad row while writing: roll the whole import back."""


def _duplicate(line: int) -> RowError:
    return RowError(line, "identifier_number", "DUPLICATE_IDENTIFIER",
                    "another customer has this identifier (merge, or create it with customer.duplicate.force)")


async def _taken(uow: UnitOfWork, keys: Sequence[str]) -> set[str]:
    """Which identifier keys live customers of the tenant already have (matched through their
    blind-index values under every configured data key)."""
    if not keys:
        return set()
    assert uow.ctx.tenant_id is not None
    clear = {b: key for key in keys for b in crypto.blinds(uow.ctx.tenant_id, "identifier", key)}
    placeholders = ", ".join(["{}"] * len(clear))
    rows = await uow.fetch(
        "SELECT k.value FROM customer_key k JOIN customer c ON c.tenant_id = k.tenant_id AND c.id = k.customer_id "
        f"WHERE k.tenant_id = {{}} AND k.kind = 'identifier' AND k.value IN ({placeholders}) "
        "AND c.deleted_at IS NULL AND c.merged_into IS NULL", uow.ctx.tenant_id, *clear)
    return {clear[row["value"]] for row in rows}


def _batches(items: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# The tables an import writes and their columns, in the order of the value tuples.
COLUMNS: dict[str, tuple[str, ...]] = {
    "customer": ("id", "tenant_id", "created_at", "kind", "status", "display_name", "owner_id", "department_id",
                 "is_key", "source_channel", "tags", "search", "data", "sealed", "version", "review_due_at",
                 "updated_at", "created_by"),
    "customer_key": ("id", "tenant_id", "created_at", "customer_id", "kind", "value"),
    "customer_history": ("id", "tenant_id", "created_at", "customer_id", "version", "changed_at", "actor", "reason",
                         "changes"),
    "outbox_event": ("id", "tenant_id", "created_at", "event_type", "aggregate_type", "aggregate_id", "payload",
                     "status", "attempts", "available_at"),
}


@dataclass(slots=True)
class _Prepared:
    """One batch's value tuples for each table and its audit items (diffs as stored), built
    before the batch's transaction opens."""

    good: list[_Good]
    rows: dict[str, list[tuple[Any, ...]]]
    audit: list[tuple[UUID, str]]

    def without(self, ids: set[UUID]) -> _Prepared:
        """The batch less these customers (found taken under the write)."""
        dropped = ids | {str(i) for i in ids}  # the outbox names its customer as text
        kept = {table: [row for row in rows if row[_CUSTOMER_COLUMN[table]] not in dropped]
                for table, rows in self.rows.items()}
        return _Prepared([g for g in self.good if g.id not in ids], kept,
                         [item for item in self.audit if item[0] not in ids])


# Where each table's tuple holds the customer it belongs to.
_CUSTOMER_COLUMN = {table: COLUMNS[table].index(name) for table, name in (
    ("customer", "id"), ("customer_key", "customer_id"), ("customer_history", "customer_id"),
    ("outbox_event", "aggregate_id"))}


def build_rows(good: Sequence[_Good], *, tenant_id: UUID, actor: str, reason: str, review_months: int,
               schema: Mapping[str, Mapping[str, CustomerField]] | None = None, at: datetime | None = None
               ) -> _Prepared:
    """The value tuples of each table for these customers, and their audit items (personal
    fields sealed, match keys as blind-index values, as ``service`` writes them)."""
    at = at or service.now()
    due = service._review_due(at, review_months)
    rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in COLUMNS}
    audit_items: list[tuple[UUID, str]] = []
    for item in good:
        columns = service.column_values(item.record, tenant_id=tenant_id, schema=schema)
        rows["customer"].append((item.id, tenant_id, at, columns["kind"], columns["status"], columns["display_name"],
                                 columns["owner_id"], columns["department_id"], columns["is_key"],
                                 columns["source_channel"], columns["tags"], columns["search"], columns["data"],
                                 columns["sealed"], 1, due, at, actor))
        rows["customer_key"].extend((uuid4(), tenant_id, at, item.id, kind, value)
                                    for kind, value in service.key_values(tenant_id, item.record))
        changes = r.diff({}, item.record)
        rows["customer_history"].append((uuid4(), tenant_id, at, item.id, 1, at, actor, f"{reason}, line {item.line}",
                                         service.history_text(tenant_id, changes)))
        rows["outbox_event"].append((uuid4(), tenant_id, at, "customer.created", service.TARGET, str(item.id),
                                     r.dumps({"changed": sorted(changes)}), "pending", 0, at))
        audit_items.append((item.id, diff_text(service.TARGET, {
            **{k: (old, new) for k, (old, new) in changes.items()}, "import_line": item.line})))
    return _Prepared(list(good), rows, audit_items)


BUILD_SLICE = 10  # rows built between two turns of the event loop while a batch is being written


async def _build_yielding(good: Sequence[_Good], **options: Any) -> _Prepared:
    """``build_rows`` a slice at a time, giving the event loop a turn between slices: the batch
    before this one is meanwhile waiting on the database, and its replies are read in those
    turns, so building (CPU) and writing (mostly waiting) overlap."""
    at = service.now()
    whole = _Prepared([], {name: [] for name in COLUMNS}, [])
    for start in range(0, len(good), BUILD_SLICE):
        part = build_rows(good[start:start + BUILD_SLICE], at=at, **options)
        whole.good.extend(part.good)
        for table, rows in part.rows.items():
            whole.rows[table].extend(rows)
        whole.audit.extend(part.audit)
        await asyncio.sleep(0)
    return whole


MADE_AHEAD = 3  # batches checked and built ahead of the one being written


async def made_ahead(items: Sequence[Item], make: Callable[[Item], Awaitable[Made]], depth: int = MADE_AHEAD
                     ) -> AsyncIterator[Made]:
    """``make(item)`` for each item, in order, by one producer running ahead of the caller: while
    the caller writes one result (mostly waiting on the database), the next ones are made (CPU).
    ``make`` must give the loop turns (see ``_build_yielding``); at most ``depth`` results wait,
    so memory stays bounded. The producer's error is raised here, in order."""
    queue: asyncio.Queue[tuple[Made | None, BaseException | None]] = asyncio.Queue(maxsize=depth)

    async def produce() -> None:
        try:
            for item in items:
                await queue.put((await make(item), None))
        except Exception as error:  # handed to the caller, who stops there
            await queue.put((None, error))

    producer = asyncio.create_task(produce())
    try:
        for _ in items:
            made, error = await queue.get()
            if error is not None:
                raise error
            yield made  # type: ignore[misc]
    finally:
        producer.cancel()


async def write_customers(uow: UnitOfWork, batch: _Prepared) -> None:
    """Write imported customers with everything a created customer has: the row, match keys,
    field history version 1, one audit entry each and an outbox event each. Plain value tuples
    through ``executemany``: building thousands of ORM objects, or statements with thousands of
    parameters, cost more than the writes themselves."""
    for table in ("customer", "customer_key", "customer_history"):
        await uow.insert_many(table, COLUMNS[table], batch.rows[table])
    await record_many(uow, "customer.imported", service.TARGET, batch.audit)
    await uow.insert_many("outbox_event", COLUMNS["outbox_event"], batch.rows["outbox_event"])


async def import_customers(ctx: Context, registry: VerticalRegistry, data: bytes, filename: str, *,
                           mode: str = SKIP_BAD_ROWS, dry_run: bool = False, progress: Progress | None = None,
                           default_owner: UUID | None = None, resume_after: int = 0,
                           on_batch: Callable[[UnitOfWork, int], Awaitable[None]] | None = None) -> ImportReport:
    """Check every row and (unless a dry run) write the good ones as ``mode`` says: skipping bad
    rows, a batch at a time as soon as it is checked; all or nothing, once every row has passed.

    The caller needs ``customer.import``; with a narrower scope than the tenant, rows must belong
    to the caller (or their departments). Rows without an owner belong to ``default_owner`` (the
    signed-in user when there is one). Rows up to ``resume_after`` were written by an earlier run
    of the same job and are only checked again; ``on_batch`` runs in each write transaction with
    the batch's last line."""
    require(ctx, "customer.import")
    if mode not in MODES:
        raise KehuError("IMPORT_MODE_INVALID", f"mode must be one of {', '.join(MODES)}",
                        f"导入模式须为 {'、'.join(MODES)} 之一", field="mode")
    default_owner = default_owner or ctx.user_id
    schema = service.extension_schema(registry)
    header, rows = read_table(data, filename)
    check_header(header, schema)
    report = ImportReport(mode=mode, dry_run=dry_run, rows=len(rows))
    total = len(rows) * (1 if dry_run else 2)
    async with unit_of_work(ctx, write=False) as uow:
        enabled = await service._enabled(uow)
        rules = await service.customer_rules(uow)
        users = {u["username"].lower(): u["id"] for u in await uow.select(User.id, User.username).where(
            User.status == "active")}
        departments: dict[str, list[UUID]] = {}
        for d in await uow.select(Department.id, Department.name):
            departments.setdefault(d["name"], []).append(d["id"])

    def refuse(line: int, error: KehuError) -> None:
        report.errors.append(RowError(line, column_of(error.field), error.code, error.message(ctx.language)))

    def check(line: int, values: list[Any]) -> _Good | None:
        try:
            fields = row_fields(header, values, schema, users, departments)
            if default_owner is not None and "owner_id" not in fields:
                fields["owner_id"] = str(default_owner)
            record = r.build_record(fields, schema=schema, enabled=enabled)
            owner = UUID(record["owner_id"]) if record.get("owner_id") else None
            dept = UUID(record["department_id"]) if record.get("department_id") else None
            if not may_reach(ctx, "customer.import", owner_id=owner, department_id=dept):
                raise v.invalid("PERMISSION_DENIED", "owner_id", "you may not import customers for that owner "
                                "or department", "您无权为该负责人或部门导入客户")
            if record.get("is_key") and record["kind"] == v.ORGANISATION and rules["key_customer_min_contacts"]:
                raise v.invalid("KEY_CUSTOMER_CONTACTS", "contacts", "a key customer needs contacts, which an "
                                "import cannot bring: import it as not key, add its contacts, then mark it key",
                                "重点客户需要联系人，导入无法提供：请先以非重点客户导入，补充联系人后再标记")
        except KehuError as error:
            refuse(line, error)
            return None
        return _Good(line, record)

    seen: set[str] = set()

    async def check_batch(batch: Sequence[tuple[int, list[Any]]], taken: Callable[[list[str]], Awaitable[set[str]]]
                          | None = None) -> list[_Good]:
        """The batch's good rows: each checked, then the file's first row of each identifier
        (``taken``: identifiers live customers already have, for a dry run)."""
        candidates: list[_Good] = []
        for start in range(0, len(batch), BUILD_SLICE):
            candidates.extend(g for line, values in batch[start:start + BUILD_SLICE]
                              if (g := check(line, values)) is not None)
            await asyncio.sleep(0)  # a turn for a batch being written meanwhile
        known = await taken([c.identifier_key for c in candidates if c.identifier_key and c.line > resume_after]
                            ) if taken is not None else set()
        good: list[_Good] = []
        for candidate in candidates:
            key = candidate.identifier_key
            if key is not None and (key in seen or (key in known and candidate.line > resume_after)):
                report.errors.append(_duplicate(candidate.line))
                continue
            if key is not None:
                seen.add(key)
            good.append(candidate)
        report.valid += len(good)
        return good

    reason = f"imported from {filename[:100]}"
    assert ctx.tenant_id is not None
    build = {"tenant_id": ctx.tenant_id, "actor": ctx.actor, "reason": reason,
             "review_months": rules["review_months"], "schema": schema}

    async def write_batch(uow: UnitOfWork, batch: _Prepared) -> int:
        keys = [g.identifier_key for g in batch.good if g.identifier_key]
        taken = await _taken(uow, keys)  # under the write, where the answer holds until commit
        if taken:
            late = [g for g in batch.good if g.identifier_key in taken]
            report.errors.extend(_duplicate(g.line) for g in late)
            report.valid -= len(late)
            if mode == ALL_OR_NOTHING:
                raise _Refused()
            batch = batch.without({g.id for g in late})
        await write_customers(uow, batch)
        if on_batch is not None and batch.good:
            await on_batch(uow, batch.good[-1].line)
        return len(batch.good)

    async def finish() -> ImportReport:
        if progress is not None:
            await progress(total, total, "done")
        report.errors.sort(key=lambda e: e.line)
        return report

    if mode == SKIP_BAD_ROWS and not dry_run:
        # Checked, built and written a batch at a time, the next batches checked and built while
        # this one is written; a bad row costs only itself.
        async def checked_and_built(batch: Sequence[tuple[int, list[Any]]]) -> tuple[int, int, _Prepared]:
            good = await check_batch(batch)
            pending = [g for g in good if g.line > resume_after]
            return len(batch), len(good) - len(pending), await _build_yielding(pending, **build)

        done = 0
        async with aclosing(made_ahead(list(_batches(rows)), checked_and_built)) as batches:
            async for size, already, prepared in batches:
                report.imported += already
                if prepared.good:
                    async with unit_of_work(ctx) as uow:
                        report.imported += await write_batch(uow, prepared)
                done += size
                if progress is not None:
                    await progress(2 * done, total, "importing")
        return await finish()

    async def taken_now(keys: list[str]) -> set[str]:
        async with unit_of_work(ctx, write=False) as uow:
            return await _taken(uow, keys)

    good: list[_Good] = []
    checked = 0
    for batch in _batches(rows):  # every row checked before anything is written
        good.extend(await check_batch(batch, taken_now if dry_run else None))
        checked += len(batch)
        if progress is not None:
            await progress(checked, total, "checking rows")
    if dry_run or report.errors:
        return await finish()

    pending = [g for g in good if g.line > resume_after]
    written = len(good) - len(pending)

    async def built(batch: Sequence[_Good]) -> _Prepared:
        return await _build_yielding(batch, **build)

    if progress is not None:
        # Reported before the write, not inside it: a job records progress in a transaction of its
        # own, which cannot nest in this one (the job would fail and retry until JOB_FAILED).
        await progress(len(rows), total, "importing")
    try:
        async with unit_of_work(ctx) as uow, aclosing(made_ahead(list(_batches(pending)), built)) as batches:
            async for prepared in batches:
                written += await write_batch(uow, prepared)
    except _Refused:
        written = 0
    report.imported = written
    return await finish()


# --- as a long job --------------------------------------------------------------------------------

def _acting(tenant_id: UUID, params: Mapping[str, Any], permissions: tuple[str, ...] = ("customer.import",)
            ) -> Context:
    """The requester's context inside a job: only these permissions, with the scope it had."""
    who = params.get("as")
    if not who:
        return Context.system(params.get("actor") or "job:customer", tenant_id)
    principal = Principal(tenant_id=tenant_id, user_id=UUID(who["user_id"]) if who.get("user_id") else None,
                          api_key_id=UUID(who["api_key_id"]) if who.get("api_key_id") else None,
                          permissions={name: Scope(who["scope"]) for name in permissions},
                          department_ids=frozenset(UUID(d) for d in who.get("department_ids", ())),
                          clearance=who.get("clearance", 0))  # jobs queued before CSM-20: level 0 only
    return Context.for_principal(principal, language=who.get("language", "en"))


async def start_import(ctx: Context, data: bytes, filename: str, *, mode: str = SKIP_BAD_ROWS,
                       dry_run: bool = False) -> UUID:
    """Queue an import of this file; returns the job to watch. The file is kept with the job
    until the import has run."""
    scope = require(ctx, "customer.import")
    if mode not in MODES:
        raise KehuError("IMPORT_MODE_INVALID", f"mode must be one of {', '.join(MODES)}",
                        f"导入模式须为 {'、'.join(MODES)} 之一", field="mode")
    if not data:
        raise _file_error("IMPORT_FILE_EMPTY", "the file is empty", "文件为空")
    if len(data) > MAX_FILE_BYTES:
        raise _file_error("IMPORT_FILE_TOO_LARGE", f"the file is larger than {MAX_FILE_BYTES} bytes",
                          f"文件超过 {MAX_FILE_BYTES} 字节")
    filename = (filename or "import.csv").strip()[:200] or "import.csv"
    file_format(data, filename)
    who = None
    if ctx.principal is not None:
        p = ctx.principal
        who = {"user_id": str(p.user_id) if p.user_id else None,
               "api_key_id": str(p.api_key_id) if p.api_key_id else None, "scope": scope.value,
               "department_ids": sorted(str(d) for d in p.department_ids), "language": ctx.language,
               "clearance": p.clearance}
    params = {"filename": filename, "mode": mode, "dry_run": dry_run, "as": who, "actor": ctx.actor}
    async with unit_of_work(ctx) as uow:
        job_id = await long_jobs.submit(uow, IMPORT_JOB, params)
        assert uow.ctx.tenant_id is not None
        sealed = crypto.seal_text(uow.ctx.tenant_id, UPLOAD_COLUMN, base64.b64encode(data).decode())
        await uow.insert(CustomerImportUpload(job_id=job_id, filename=filename, size=len(data), data=sealed,
                                              lines_done=0))
    return job_id


UPLOAD_COLUMN = "customer_import_upload.data"  # the file is personal data: sealed like a record


def open_upload(tenant_id: UUID, data: str) -> str:
    """The base64 file of an upload (older uploads were stored unsealed)."""
    return crypto.open_text(tenant_id, UPLOAD_COLUMN, data) if crypto.is_sealed(data) else data


async def _drop_upload(job: long_jobs.RunningJob) -> None:
    async with unit_of_work(job.ctx) as uow:
        await uow.delete(CustomerImportUpload).where(CustomerImportUpload.job_id == job.id)


@long_jobs.job_kind(IMPORT_JOB, read_permission="customer.import")
async def _run_import(job: long_jobs.RunningJob) -> dict[str, Any]:
    p = job.params
    async with unit_of_work(job.ctx, write=False) as uow:
        upload = await uow.select(CustomerImportUpload).where(CustomerImportUpload.job_id == job.id).first()
    if upload is None:
        raise KehuError("IMPORT_FILE_GONE", "the uploaded file is no longer kept; upload it again",
                        "上传的文件已不再保留，请重新上传")

    async def progress(done: int, total: int, message: str) -> None:
        await job.progress(done, total, message)

    async def on_batch(uow: UnitOfWork, last_line: int) -> None:
        await uow.update(CustomerImportUpload, {CustomerImportUpload.lines_done: last_line}).where(
            CustomerImportUpload.job_id == job.id)

    try:
        report = await import_customers(_acting(job.tenant_id, p), started_verticals(),
                                         base64.b64decode(open_upload(job.tenant_id, upload["data"])),
                                         p["filename"], mode=p["mode"],
                                         dry_run=p["dry_run"], progress=progress,
                                         resume_after=int(upload["lines_done"]), on_batch=on_batch)
    except (KehuError, long_jobs.JobCancelled):
        await _drop_upload(job)  # a coded failure or a cancel is final: the file is not kept
        raise
    job.output("customer-import-report.csv", "text/csv")
    await job.write(report.as_csv())
    await _drop_upload(job)
    if report.mode == ALL_OR_NOTHING and not report.dry_run and report.errors:
        # Nothing was imported: the job failed, and its report (kept downloadable) says why.
        raise long_jobs.FailedWithOutput(KehuError(
            "IMPORT_ROWS_INVALID", f"{report.bad_rows} of {report.rows} rows are bad, so nothing was imported "
            "(all-or-nothing); the job's report lists each bad row",
            f"{report.rows} 行中有 {report.bad_rows} 行有误，按“全部或全不”模式未导入任何客户；任务报告逐行列出错误",
            field="file"), result=report.summary())
    return report.summary()


async def delete_stale_uploads(at: datetime) -> int:
    """Sweep: drop uploaded files whose job has finished (any way) — they are personal data."""
    from core.db.due import tenants_due
    from core.jobs.tables import LongJob

    deleted = 0
    for tenant_id in await tenants_due("customer_import_uploads", at):  # uploads of finished imports only
        async with unit_of_work(Context.system("job:import-uploads", tenant_id)) as uow:
            finished = [row["id"] for row in await uow.select(LongJob.id).where(
                (LongJob.kind == IMPORT_JOB) & LongJob.status.is_in(list(long_jobs.FINISHED)))]
            if finished:
                gone = await uow.delete(CustomerImportUpload).where(
                    CustomerImportUpload.job_id.is_in(finished)).returning(CustomerImportUpload.id)
                deleted += len(gone)
    return deleted


register_sweep("customer_import_uploads", delete_stale_uploads)
