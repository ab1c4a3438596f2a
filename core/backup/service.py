"""Backups and restores of tenants (issue 26; seed-002 §1 R1-08 monthly backup, seed-004 §4.3.2 W11,
PRIV-05 deletion reaching backups, R20 audit chain). Operator work: run by ``kehu backup`` /
``kehu restore`` as the database owner, and by the monthly sweep (core.backup.schedule).

- What is backed up: the tenant rows and, for each, every row of every tenant-owned table. The
  tables are those of the ``TenantOwned`` base (core's and every loaded vertical's classes) and any
  other table of the live database with a ``tenant_id`` column (a vertical installed but disabled
  keeps its data), in foreign-key order, parents first. The audit chain (entries and head) is in
  it like any other tenant table, so it verifies after a restore. Left out: ``erasure_ledger``,
  which must outlive the data it is about.
- Consistent: read in one transaction (PostgreSQL: ``REPEATABLE READ, READ ONLY``, one snapshot;
  SQLite: one read transaction, which WAL keeps at one snapshot), in keyset batches, so memory
  stays bounded; written to a temporary file renamed into place only once complete.
- Restore: checksum and key first (nothing is written for a damaged file or a wrong key), refuses
  a tenant that exists, writes everything in one transaction, checks the restored audit chain
  against the tenant's signed anchors, then erases again every customer the erasure ledger says
  was erased after the backup was taken; the restore itself is an audit entry.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from uuid import UUID

import structlog

from core.audit.anchors import AnchorLog, anchoring
from core.audit.chain import anchor_chain, record, verify_chain
from core.backup.format import Backup, Writer, decode_value, encode_value
from core.context import Context
from core.db import current_database
from core.db.engine import Database
from core.db.tables import TenantOwned
from core.db.uow import UnitOfWork
from core.errors import KehuError
from core.plugins.manager import VerticalRegistry

log = structlog.get_logger("kehu.backup")
Progress = Callable[[int, int, str], Awaitable[None]]
BATCH_ROWS = 500
# Kept out of backups: the ledger of erasures must survive the data it is about (docs/backups.md).
NOT_BACKED_UP = frozenset({"erasure_ledger"})
TENANT_TABLE = "tenant"
ACTOR = "cli:restore"


@dataclass(frozen=True)
class BackupReport:
    path: Path
    tenants: tuple[str, ...]
    rows: dict[str, int]
    sha256: str
    size: int


@dataclass
class RestoreReport:
    tenants: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    erasures_reapplied: int = 0
    created_at: str = ""


def kehu_version() -> str:
    try:
        return version("kehu")
    except PackageNotFoundError:  # a source checkout that was never installed
        return "unknown"


def _subclasses(base: type) -> Iterable[type]:
    for sub in base.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def registered_tenant_tables() -> set[str]:
    """Every tenant-owned table class loaded (core's and the verticals'), by table name."""
    return {table._meta.tablename for table in _subclasses(TenantOwned)}


# --- the live catalog ------------------------------------------------------------------------------

async def _columns(database: Database) -> dict[str, list[str]]:
    """Every table with its columns in order."""
    if database.is_postgres:
        rows = await database.fetch("SELECT table_name, column_name FROM information_schema.columns WHERE "
                                    "table_schema = current_schema() ORDER BY table_name, ordinal_position")
        found: dict[str, list[str]] = {}
        for row in rows:
            found.setdefault(row["table_name"], []).append(row["column_name"])
        return found
    tables = await database.fetch("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    return {t["name"]: [c["name"] for c in await database.fetch(f'PRAGMA table_info("{t["name"]}")')]
            for t in tables}


async def _foreign_keys(database: Database, tables: Iterable[str]) -> tuple[dict[str, set[str]], dict[str, list[str]]]:
    """table -> tables it references; table -> its columns that reference its own rows."""
    parents: dict[str, set[str]] = {}
    own: dict[str, list[str]] = {}
    if database.is_postgres:
        rows = await database.fetch(
            "SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent, a.attname AS col "
            "FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey) "
            "WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace AND a.attname <> 'tenant_id'")
        links = [(r["child"].strip('"'), r["parent"].strip('"'), r["col"]) for r in rows]
    else:
        links = []
        for table in tables:
            for row in await database.fetch(f'PRAGMA foreign_key_list("{table}")'):
                if row["from"] != "tenant_id":
                    links.append((table, row["table"], row["from"]))
    for child, parent, column in links:
        if child == parent:
            own.setdefault(child, []).append(column)
        else:
            parents.setdefault(child, set()).add(parent)
    return parents, own


def _parents_first(tables: list[str], parents: dict[str, set[str]]) -> list[str]:
    ordered: list[str] = []
    placed: set[str] = set()

    def place(table: str, path: frozenset[str]) -> None:
        if table in placed or table in path:
            return
        for parent in sorted(parents.get(table, ())):
            if parent in tables:
                place(parent, path | {table})
        placed.add(table)
        ordered.append(table)

    for table in sorted(tables):
        place(table, frozenset())
    return ordered


async def _schema_versions(database: Database) -> dict[str, Any]:
    """Applied migrations (core's and the verticals'), where this connection may read them."""
    versions: dict[str, Any] = {"core": None, "verticals": None}
    for key, sql in (("core", "SELECT name FROM migration ORDER BY name"),
                     ("verticals", "SELECT vertical_id, version FROM vertical_migration ORDER BY vertical_id, version")):
        table = "migration" if key == "core" else "vertical_migration"
        if database.is_postgres:
            allowed = await database.fetch("SELECT has_table_privilege({}, 'SELECT') AS ok", table)
            if not allowed or not allowed[0]["ok"]:
                continue  # the app role (the monthly sweep) may not read migration bookkeeping
        rows = await database.fetch(sql)
        versions[key] = ([r["name"] for r in rows] if key == "core"
                         else sorted(f"{r['vertical_id']}:{r['version']}" for r in rows))
    return versions


def _select(database: Database, table: str, columns: list[str]) -> str:
    # SQLite: ``+col`` has no declared type, so the driver hands back the stored value untouched
    # (no converter), and it goes back byte for byte.
    shown = ", ".join(f'+"{c}" AS "{c}"' if database.is_sqlite else f'"{c}"' for c in columns)
    return f'SELECT {shown} FROM "{table}"'


async def _set_tenant(database: Database, tenant_id: Any) -> None:
    if database.is_postgres:  # FORCE'd row-level security holds for the owner too
        await database.fetch("SELECT set_config('app.tenant_id', {}, true)", str(tenant_id))


# --- backing up ----------------------------------------------------------------------------------------

async def write_backup(path: Path, key: bytes, *, slug: str | None = None,
                       progress: Progress | None = None) -> BackupReport:
    """Write a backup of tenant ``slug`` (or of every tenant) to ``path``, atomically."""
    database = current_database()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            async with database.transaction(write=False):
                if database.is_postgres:  # one snapshot for every statement that follows
                    await database.fetch("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                report = await _write(database, handle, key, slug, progress)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)  # a failed backup leaves no file that looks complete
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return BackupReport(path=path, tenants=report[0], rows=report[1], sha256=report[2], size=path.stat().st_size)


async def _write(database: Database, handle: Any, key: bytes, slug: str | None,
                 progress: Progress | None) -> tuple[tuple[str, ...], dict[str, int], str]:
    tenant_columns = (await _columns(database))[TENANT_TABLE]
    tenants = await database.fetch(_select(database, TENANT_TABLE, tenant_columns)
                                   + (" WHERE slug = {}" if slug else "") + " ORDER BY slug", *([slug] if slug else []))
    if slug and not tenants:
        raise KehuError("NOT_FOUND", f"tenant {slug!r} not found", f"未找到租户 {slug!r}")
    columns = await _columns(database)
    wanted = (registered_tenant_tables() | {t for t, cols in columns.items() if "tenant_id" in cols}) - NOT_BACKED_UP
    present = [t for t in wanted if t in columns and "tenant_id" in columns[t]]
    parents, _ = await _foreign_keys(database, present)
    tables = _parents_first(present, parents)
    counts: dict[str, int] = {TENANT_TABLE: len(tenants)}
    heads: dict[str, dict[str, Any]] = {}
    for table in tables:
        counts[table] = 0
        for tenant in tenants:
            await _set_tenant(database, tenant["id"])
            found = await database.fetch(f'SELECT count(*) AS n FROM "{table}" WHERE tenant_id = {{}}', tenant["id"])
            counts[table] += int(found[0]["n"])
    for tenant in tenants:  # the chain heads, so a restore can check the signed anchors before it writes
        await _set_tenant(database, tenant["id"])
        head = await database.fetch("SELECT last_seq, last_hash FROM audit_chain WHERE tenant_id = {}", tenant["id"])
        heads[str(tenant["id"])] = ({"seq": int(head[0]["last_seq"]), "hash": head[0]["last_hash"]} if head
                                    else {"seq": 0, "hash": None})
    created_at = datetime.now(UTC)
    header = {"kehu_version": kehu_version(), "created_at": created_at.isoformat(), "database": database.url.kind,
              "tenants": [{"id": str(t["id"]), "slug": t["slug"], "audit_head": heads[str(t["id"])]} for t in tenants],
              "tables": [{"name": t, "rows": counts[t]} for t in [TENANT_TABLE, *tables]],
              "schema": await _schema_versions(database)}
    total, done = sum(counts.values()), 0
    writer = Writer(handle, key, header)
    writer.write({"k": "table", "name": TENANT_TABLE, "tenant": None, "columns": tenant_columns})
    writer.write({"k": "rows", "rows": [[encode_value(row[c]) for c in tenant_columns] for row in tenants]})
    done += len(tenants)
    # Rows go out in their physical order (PostgreSQL's ctid, SQLite's rowid), keyset on it: restored
    # in that order, a query whose ORDER BY leaves ties answers in the same order as before.
    position = "ctid" if database.is_postgres else "rowid"
    after_position = "ctid > {}::tid" if database.is_postgres else "rowid > {}"
    for table in tables:
        names = columns[table]
        select = _select(database, table, names).replace("SELECT ", f"SELECT {position}::text AS kehu_position, "
                                                         if database.is_postgres else "SELECT rowid AS kehu_position, ", 1)
        query = select + f' WHERE "tenant_id" = {{}} AND {after_position} ORDER BY {position} LIMIT {BATCH_ROWS}'
        first = select + f' WHERE "tenant_id" = {{}} ORDER BY {position} LIMIT {BATCH_ROWS}'
        for tenant in tenants:
            await _set_tenant(database, tenant["id"])
            writer.write({"k": "table", "name": table, "tenant": str(tenant["id"]), "columns": names})
            after = None
            while True:
                rows = await (database.fetch(first, tenant["id"]) if after is None
                              else database.fetch(query, tenant["id"], after))
                if not rows:
                    break
                writer.write({"k": "rows", "rows": [[encode_value(row[c]) for c in names] for row in rows]})
                done += len(rows)
                after = rows[-1]["kehu_position"]
                if progress:
                    await progress(done, total, table)
                if len(rows) < BATCH_ROWS:
                    break
    writer.write({"k": "end"})
    digest = writer.close({"tables": counts, "rows": done})
    if progress:
        await progress(done, total, "done")
    return tuple(t["slug"] for t in tenants), counts, digest


# --- restoring ------------------------------------------------------------------------------------------

def _refuse(code: str, en: str, zh: str) -> KehuError:
    return KehuError(code, f"{en}; nothing was restored", f"{zh}；未恢复任何数据")


async def restore_backup(path: Path, key: bytes, registry: VerticalRegistry, *, as_slug: str | None = None,
                         rewind_anchors: bool = False, progress: Progress | None = None) -> RestoreReport:
    """Restore every tenant of the backup at ``path`` (or its one tenant under slug ``as_slug``)."""
    from core.tenancy.service import SLUG_PATTERN

    backup = Backup(path)
    sha256 = backup.verify_checksum()  # before anything else: a damaged file writes nothing
    backup.check_key(key)
    header = backup.header
    database = current_database()
    if header.get("database") != database.url.kind:
        raise _refuse("BACKUP_DATABASE_MISMATCH", f"the backup was taken from {header.get('database')}; restore it "
                      f"into the same kind of database, not {database.url.kind}",
                      f"该备份来自 {header.get('database')}，只能恢复到同类数据库，而非 {database.url.kind}")
    tenants = [(UUID(t["id"]), t["slug"], t["audit_head"]) for t in header["tenants"]]
    if as_slug is not None:
        if len(tenants) != 1:
            raise _refuse("BACKUP_NOT_ONE_TENANT", "--as-new-tenant restores a backup of one tenant",
                          "--as-new-tenant 只能恢复单个租户的备份")
        if not SLUG_PATTERN.match(as_slug):
            raise _refuse("TENANT_SLUG_INVALID", "a tenant slug is 2-63 lowercase letters, digits or hyphens, "
                          "starting with a letter", "租户标识须为 2-63 个小写字母、数字或连字符，并以字母开头")
    slugs = {tid: as_slug or slug for tid, slug, _ in tenants}
    columns = await _columns(database)
    for table in header["tables"]:
        if table["name"] not in columns:
            raise _refuse("BACKUP_SCHEMA_MISMATCH", f"table {table['name']} of the backup is not in this database "
                          "(run `kehu migrate` with the same verticals first)",
                          f"备份中的表 {table['name']} 不在此数据库中（请先以相同的行业插件运行 `kehu migrate`）")
    if rewind_anchors:
        from core.audit.anchors import DirectoryAnchorStore

        if not isinstance(anchoring().store, DirectoryAnchorStore):
            raise _refuse("BACKUP_BEHIND_ANCHORS", "this anchor store cannot set a tenant's anchors aside",
                          "该锚点存储无法搁置租户的锚点")
    report = RestoreReport(tenants=[slugs[tid] for tid, _, _ in tenants], created_at=header["created_at"])
    total = sum(int(t["rows"]) for t in header["tables"])
    async with database.transaction(write=True):
        existing = await database.fetch(
            "SELECT slug FROM tenant WHERE " + " OR ".join(["id = {} OR slug = {}"] * len(tenants)),
            *[v for tid, _, _ in tenants for v in (_id_value(database, tid), slugs[tid])])
        if existing:
            raise _refuse("BACKUP_TENANT_EXISTS", f"tenant(s) {', '.join(sorted(r['slug'] for r in existing))} "
                          "already exist in this database; a restore never overwrites a tenant",
                          f"租户 {', '.join(sorted(r['slug'] for r in existing))} 已存在；恢复不会覆盖租户")
        anchors: dict[UUID, AnchorLog] = {}
        rewound: dict[UUID, dict[str, Any]] = {}
        for tid, slug, head in tenants:
            anchors[tid] = found = await anchoring().read(tid)
            if found.invalid is not None:
                raise _refuse("AUDIT_ANCHORS_INVALID", f"tenant {slug}: its anchor store does not verify "
                              f"({found.invalid.reason})", f"租户 {slug}：审计锚点无法验证（{found.invalid.reason}）")
            if found.last is not None and found.last.seq > int(head["seq"]):
                # The signed anchors know entries this backup lacks: restoring rewinds a signed chain,
                # which verification rightly reports. Only an operator's explicit decision sets the
                # tenant's anchors aside (kept, renamed) and starts them again from the restored chain.
                if not rewind_anchors:
                    raise _refuse("BACKUP_BEHIND_ANCHORS", f"tenant {slug}: the signed audit anchors reach position "
                                  f"{found.last.seq}, this backup's chain ends at {head['seq']}; restore a newer backup, "
                                  "or accept losing those entries with --rewind-anchors (docs/backups.md)",
                                  f"租户 {slug}：已签名的审计锚点到位置 {found.last.seq}，而该备份的审计链止于 "
                                  f"{head['seq']}；请恢复更新的备份，或用 --rewind-anchors 接受丢失这些条目")
                rewound[tid] = {"anchored_seq": found.last.seq, "anchored_hash": found.last.hash}
        for tid in rewound:  # the old anchors are set aside once the restore is committed
            rewound[tid]["set_aside_as"] = f"{tid}.jsonl.before-restore-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"
            anchors[tid] = AnchorLog(prunes=anchors[tid].prunes)  # a signed prune still approves the base
        await _insert_all(database, backup, key, slugs, columns, report, total, progress)
        expected = backup.trailer.get("tables", {})
        if any(report.rows.get(name, 0) != n for name, n in expected.items()):
            raise _refuse("BACKUP_CORRUPT", "the rows read do not match the backup's counts",
                          "读取的行数与备份记录不符")
        created = datetime.fromisoformat(header["created_at"])
        for tid, slug, _ in tenants:
            uow = UnitOfWork(Context.system(ACTOR, tid), database)
            await uow.enter_tenant(tid)
            checked = await verify_chain(uow, anchors=anchors[tid])
            # "unanchored": entries past the last anchor are older than the grace period, as in any
            # backup; they are anchored below, once the restore is committed.
            if not checked.ok and checked.kind != "unanchored":
                raise _refuse("BACKUP_CHAIN_BROKEN", f"tenant {slug}: the restored audit chain does not verify at "
                              f"position {checked.position} ({checked.kind})",
                              f"租户 {slug}：恢复的审计链在位置 {checked.position} 处无法验证（{checked.kind}）")
            erased = await _reapply_erasures(uow, registry, created)
            report.erasures_reapplied += erased
            await record(uow, "tenant.restored", "tenant", tid,
                         {"backup_created_at": header["created_at"], "backup_sha256": sha256,
                          "kehu_version": header.get("kehu_version"), "erasures_reapplied": erased,
                          **({"slug": (dict((t, s) for t, s, _ in tenants)[tid], slug)} if as_slug else {}),
                          **({"anchors_rewound": rewound[tid]} if tid in rewound else {})})
    for tid, aside in rewound.items():
        _set_anchors_aside(tid, aside["set_aside_as"])
    for tid, slug, _ in tenants:  # sign what the restore appended (and a chain the store never saw)
        await anchor_chain(Context.system(ACTOR, tid), adopt=not anchors[tid].anchors)
    log.info("backup.restored", tenants=report.tenants, rows=sum(report.rows.values()),
             erasures_reapplied=report.erasures_reapplied)
    return report


def _set_anchors_aside(tenant_id: UUID, name: str) -> None:
    """Rename the tenant's anchor file to ``name``: kept as evidence of the chain before the restore."""
    directory = anchoring().store.directory  # type: ignore[attr-defined]  (a directory store: checked before)
    (directory / f"{tenant_id}.jsonl").rename(directory / name)


def _id_value(database: Database, value: UUID) -> Any:
    return str(value) if database.is_sqlite else value  # SQLite holds ids as the text the adapter wrote


async def _insert_all(database: Database, backup: Backup, key: bytes, slugs: dict[UUID, str],
                      live: dict[str, list[str]], report: RestoreReport, total: int,
                      progress: Progress | None) -> None:
    """Insert the backup's rows in file order (parents first). Columns referencing their own table
    (a department's parent) go in empty and are set once the whole table is in."""
    _, own = await _foreign_keys(database, list(live))
    table: str | None = None
    names: list[str] = []
    later: list[tuple[str, Any, Any]] = []
    done = 0

    async def finish() -> None:
        for column, row_id, value in later:
            await database.fetch(f'UPDATE "{table}" SET "{column}" = {{}} WHERE id = {{}}', value, row_id)
        later.clear()

    for item in backup.records(key):
        kind = item.get("k")
        if kind == "table":
            await finish()
            table, names = item["name"], item["columns"]
            missing = [c for c in names if c not in live.get(table, ())]
            if missing:
                raise _refuse("BACKUP_SCHEMA_MISMATCH", f"columns {', '.join(missing)} of {table} are not in this "
                              "database", f"表 {table} 的列 {', '.join(missing)} 不在此数据库中")
            if item["tenant"] is not None:
                await _set_tenant(database, item["tenant"])
            report.rows.setdefault(table, 0)
        elif kind == "rows":
            assert table is not None
            rows = [[decode_value(v) for v in row] for row in item["rows"]]
            if table == TENANT_TABLE:
                at = names.index("slug")
                for row in rows:
                    row[at] = slugs[UUID(str(row[names.index("id")]))]
            deferred = [names.index(c) for c in own.get(table, ()) if c in names]
            for row in rows:
                for at in deferred:
                    if row[at] is not None:
                        later.append((names[at], row[names.index("id")], row[at]))
                        row[at] = None
            await _insert(database, table, names, rows)
            report.rows[table] += len(rows)
            done += len(rows)
            if progress:
                await progress(done, total, table)
        elif kind == "end":
            await finish()


async def _insert(database: Database, table: str, names: list[str], rows: list[list[Any]]) -> None:
    per_statement = max(1, min(BATCH_ROWS, 30_000 // len(names)))  # under both databases' parameter limits
    head = f'INSERT INTO "{table}" ({", ".join(f"{chr(34)}{c}{chr(34)}" for c in names)}) VALUES '
    one = "(" + ", ".join(["{}"] * len(names)) + ")"
    for start in range(0, len(rows), per_statement):
        chunk = rows[start:start + per_statement]
        await database.fetch(head + ", ".join([one] * len(chunk)), *[v for row in chunk for v in row])


async def _reapply_erasures(uow: UnitOfWork, registry: VerticalRegistry, since: datetime) -> int:
    """Erase again every customer the ledger says was erased after the backup was taken (R20, PIPL
    art. 47, seed-004 PRIV-05: a restore must not bring a deleted person back)."""
    from core.customers.tables import Customer
    from core.privacy import erasure
    from core.privacy.subject_tables import ErasureLedger

    ledger = await uow.select(ErasureLedger.customer_id, ErasureLedger.erased_at).where(
        ErasureLedger.erased_at > since).order_by(ErasureLedger.erased_at)
    again = 0
    for entry in ledger:
        row = await uow.select(Customer.status).where(Customer.id == entry["customer_id"]).first()
        if row is None or row["status"] == erasure.ERASED:  # created after the backup, or erased in it already
            continue
        await erasure.erase_in(uow, registry, entry["customer_id"],
                               f"restore: erased on {entry['erased_at']:%Y-%m-%d}", replay=True)
        again += 1
    return again
