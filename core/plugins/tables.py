"""A vertical's own tables (issue 18 point 1): the Piccolo classes its code queries through the unit
of work (``kehu_tables``), the versioned DDL that creates and upgrades them (``kehu_migrations``),
and the GraphQL operations the isolation suite drives on them (``kehu_isolation_operations``).

Every table is tenant-owned exactly like core's: it subclasses ``TenantTable`` (``id`` and
``tenant_id`` lead its columns), so the unit of work filters every query on it; its name starts with
the vertical's id; ``kehu migrate`` applies the vertical's pending migrations in version order, records
them in ``vertical_migration`` and (PostgreSQL) gives every table of the vertical that has a
``tenant_id`` the same enabled, forced row-level-security policy as core's. A vertical whose tables or
DDL break these rules is refused at load, like any other contract problem.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from piccolo.table import Table

from core.db.tables import TenantOwned
from core.plugins.types import ContractError

# What a vertical's tables subclass: ``id`` (UUID primary key), ``tenant_id`` and ``created_at``.
TenantTable = TenantOwned

# Tables that DDL names after TABLE / INDEX … ON / POLICY … ON (CONSTRAINT bodies refer to others freely).
_NAMED = re.compile(
    r"\b(?:TABLE(?:\s+IF\s+(?:NOT\s+)?EXISTS)?|\bON)\s+(?:ONLY\s+)?\"?([A-Za-z_][A-Za-z0-9_]*)\"?", re.IGNORECASE)
_CREATED = re.compile(r"\bCREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?\"?([A-Za-z_][A-Za-z0-9_]*)\"?", re.IGNORECASE)
_NOT_A_TABLE = frozenset({"delete", "update", "conflict", "commit"})  # ON DELETE …, ON CONFLICT …


def _statements(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        raise ContractError(f"{where} must be a list of statements, not one string")
    statements = tuple(value)  # type: ignore[arg-type]
    if not statements or not all(isinstance(s, str) and s.strip() for s in statements):
        raise ContractError(f"{where} must hold at least one SQL statement, each a non-empty string")
    return statements


@dataclass(frozen=True, slots=True)
class PluginMigration:
    """Version ``version`` (1, 2, …, per vertical) of a vertical's schema: the statements that take
    the database there from the version before, for SQLite and for PostgreSQL. Once shipped a
    migration never changes; a change of schema is a new version."""

    version: int
    description: str
    sqlite: tuple[str, ...]
    postgres: tuple[str, ...]

    def __post_init__(self) -> None:
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise ContractError(f"migration version {self.version!r} must be a whole number from 1")
        if not isinstance(self.description, str) or not self.description.strip():
            raise ContractError(f"migration {self.version}: a description is required")
        object.__setattr__(self, "sqlite", _statements(self.sqlite, f"migration {self.version}: sqlite"))
        object.__setattr__(self, "postgres", _statements(self.postgres, f"migration {self.version}: postgres"))

    def created_tables(self) -> set[str]:
        return {m.group(1).lower() for s in (*self.sqlite, *self.postgres) for m in _CREATED.finditer(s)}

    def named_tables(self) -> set[str]:
        return {m.group(1).lower() for s in (*self.sqlite, *self.postgres) for m in _NAMED.finditer(s)
                if m.group(1).lower() not in _NOT_A_TABLE}


def tenant_table_migration(version: int, description: str, name: str, columns: Sequence[str], *,
                           unique: Iterable[Sequence[str]] = (), indexes: Iterable[Sequence[str]] = (),
                           references: Iterable[tuple[str, str]] = ()) -> PluginMigration:
    """A migration creating one tenant-owned table the way core creates its own: ``id``,
    ``tenant_id`` (referencing ``tenant``) and ``created_at`` first, a unique ``(tenant_id, id)``
    index, every other index led by ``tenant_id``, foreign keys to tenant tables on
    ``(tenant_id, column)`` and (PostgreSQL) the forced row-level-security policy.

    ``columns`` are column definitions (``"title VARCHAR(200) NOT NULL"``); ``unique`` and
    ``indexes`` list column tuples; ``references`` holds ``(column, table)`` pairs."""
    from core.db.migrations import tenant_table

    sqlite, postgres = tenant_table(name, list(columns), unique=tuple(tuple(u) for u in unique),
                                    indexes=tuple(tuple(i) for i in indexes),
                                    references=tuple(tuple(r) for r in references))  # type: ignore[misc]
    return PluginMigration(version, description, tuple(sqlite), tuple(postgres))


@dataclass(frozen=True, slots=True)
class IsolationOperation:
    """One GraphQL operation of the vertical for the isolation suite (tests/isolation): ``doc`` is
    the document (its root field is the vertical's); ``ids`` maps a variable to the kind of id it
    takes (``(("id", "my_vertical_note"),)``), which the suite fills with the owner's ids, then with
    the other tenant's, expecting a refusal that shows nothing; ``makes`` is ``(kind, dotted path to
    the new id in the root value)``; ``lists`` is ``(kind, path to the ids; "*" walks a list)``, whose
    answer must equal exactly what the tenant made; ``variables`` are constant variables."""

    doc: str
    ids: tuple[tuple[str, str], ...] = ()
    makes: tuple[str, str] | None = None
    lists: tuple[str, str] | None = None
    variables: tuple[tuple[str, Any], ...] = field(default=())

    def __post_init__(self) -> None:
        if not isinstance(self.doc, str) or not self.doc.strip():
            raise ContractError("an isolation operation needs a GraphQL document")
        ids = tuple(self.ids.items()) if isinstance(self.ids, Mapping) else tuple(tuple(p) for p in self.ids)
        variables = (tuple(self.variables.items()) if isinstance(self.variables, Mapping)
                     else tuple(tuple(p) for p in self.variables))
        object.__setattr__(self, "ids", ids)
        object.__setattr__(self, "variables", variables)
        for name in ("makes", "lists"):
            value = getattr(self, name)
            if value is not None:
                if isinstance(value, str) or len(tuple(value)) != 2:
                    raise ContractError(f"isolation operation: {name} must be (kind, path)")
                object.__setattr__(self, name, tuple(value))


def _column_names(table: type[Table]) -> list[str]:
    return [c._meta.db_column_name for c in table._meta.columns]


def check_tables(vertical_id: str, tables: Sequence[Any], migrations: Sequence[PluginMigration]) -> list[str]:
    """Every problem with a vertical's tables and migrations (the registry adds the plugin's name)."""
    problems: list[str] = []
    prefix = f"{vertical_id}_"
    created: set[str] = set()
    for migration in migrations:
        created |= migration.created_tables()
        for name in sorted(migration.named_tables()):
            if not name.startswith(prefix):
                problems.append(f"migration {migration.version} touches the table {name!r}, which does not start "
                                f"with {prefix!r}")
        for name in sorted(migration.created_tables()):
            if not name.startswith(prefix):
                continue  # reported above
            for dialect in ("sqlite", "postgres"):
                if not any(name in {m.group(1).lower() for m in _CREATED.finditer(s)}
                           for s in getattr(migration, dialect)):
                    problems.append(f"migration {migration.version} creates {name!r} for one dialect only "
                                    f"(no {dialect} DDL)")
    versions = [m.version for m in migrations]
    problems += [f"migration version {v} is declared twice" for v, n in sorted(Counter(versions).items()) if n > 1]
    names: list[str] = []
    for table in tables:
        if not (isinstance(table, type) and issubclass(table, Table)):
            problems.append(f"kehu_tables must return Piccolo table classes, got {table!r}")
            continue
        name = table._meta.tablename
        names.append(name)
        if "tenant_id" not in _column_names(table) or not issubclass(table, TenantOwned):
            problems.append(f"table {name!r} has no tenant_id: a vertical's table subclasses "
                            "core.plugins.TenantTable")
        if not name.startswith(prefix):
            problems.append(f"table {name!r} must start with {prefix!r}")
        elif name not in created:
            problems.append(f"table {name!r} is created by none of the vertical's migrations")
    problems += [f"table {n!r} is declared twice" for n, count in sorted(Counter(names).items()) if count > 1]
    return problems


# Every loaded vertical's table classes: the plugin's unit of work binds them to the database in use.
_tables: dict[str, type[Table]] = {}


def remember_tables(tables: Iterable[type[Table]]) -> None:
    for table in tables:
        _tables[table._meta.tablename] = table


def bind_tables(engine: Any) -> None:
    """Point every vertical table at ``engine`` (core's own are bound by ``use_database``)."""
    for table in _tables.values():
        if table._meta._db is not engine:
            table._meta.db = engine
