"""Engines for both profiles and the process-wide current database.

SQLite (embedded): WAL journal, a busy timeout, ``BEGIN IMMEDIATE`` for writes so two writers
queue instead of failing on lock upgrade. PostgreSQL (production): an asyncpg pool connecting as
the application role, which owns nothing and cannot bypass row-level security.
"""

from __future__ import annotations

import asyncio
import functools
import os
import re
from typing import Any
from uuid import UUID

import structlog

from piccolo.apps.migrations.tables import Migration
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import TransactionType
from piccolo.querystring import QueryString
from piccolo.table import Table

import asyncpg

from core.db.sqlite_pool import PooledSQLiteEngine, settle
from core.errors import ConfigurationError, KehuError
from core.settings import DatabaseURL

PICCOLO_CONF_MODULE = "core.db.piccolo_conf"
log = structlog.get_logger("kehu.db")

# PostgreSQL unreachable (R5, R6): how long connecting, taking a connection from the pool, and one
# statement may take before the request fails with DATABASE_UNAVAILABLE instead of hanging. The
# defaults of KEHU_DATABASE_CONNECT_TIMEOUT_SECONDS and KEHU_DATABASE_STATEMENT_TIMEOUT_SECONDS.
CONNECT_TIMEOUT_SECONDS = 5.0
COMMAND_TIMEOUT_SECONDS = 10.0

# The driver's ways of saying the server is gone: refused, reset, closed, shutting down.
_CONNECTION_LOST = (OSError, asyncpg.exceptions.PostgresConnectionError, asyncpg.exceptions.ConnectionDoesNotExistError,
                    asyncpg.exceptions.CannotConnectNowError, asyncpg.exceptions.AdminShutdownError,
                    asyncpg.exceptions.CrashShutdownError)


class DatabaseUnavailable(KehuError):
    """PostgreSQL cannot be reached (down, refusing, partitioned): the request fails at once with a
    code, its transaction rolled back; the pool reconnects by itself when the server is back."""

    def __init__(self) -> None:
        super().__init__("DATABASE_UNAVAILABLE", "the database cannot be reached right now; retry shortly "
                         "(a mutation with the same Idempotency-Key)", "暂时无法连接数据库，请稍后重试（变更请使用相同的 Idempotency-Key）")


def unavailable(error: BaseException) -> DatabaseUnavailable:
    """The coded error for ``error``, logged with its kind (never its text, which may hold the address)
    so an operator can tell a refused connection from a pool or statement timeout."""
    log.warning("db.unavailable", cause=type(error).__name__)
    return DatabaseUnavailable()


def _from_driver(error: BaseException) -> bool:
    traceback = error.__traceback__
    while traceback is not None:
        if "asyncpg" in traceback.tb_frame.f_code.co_filename:
            return True
        traceback = traceback.tb_next
    return False


def connection_lost(error: BaseException) -> bool:
    """Whether ``error`` means the PostgreSQL server could not be reached or answered in time."""
    if isinstance(error, DatabaseUnavailable):
        return False
    if isinstance(error, _CONNECTION_LOST[1:]):  # asyncpg's own
        return True
    # An OSError or a timeout counts only when the driver raised it: a handler's own failure (a
    # webhook receiver refusing, say) is not the database being down.
    return isinstance(error, (OSError, TimeoutError)) and _from_driver(error)  # a connect or statement timeout


class ReleasingPostgresTransaction(PostgresTransaction):
    """Piccolo's transaction, giving its connection back to the pool however it ends. Piccolo's
    own keeps the connection when the task is cancelled during BEGIN or COMMIT (a shutdown, a
    timeout): the pool then never gets it back, and closing the pool waits for it forever."""

    async def __aenter__(self) -> PostgresTransaction:
        if self._parent is not None:
            return self._parent
        try:
            self.connection = await self.get_connection()
        except Exception as error:
            if connection_lost(error):
                raise unavailable(error) from error
            raise
        try:
            self.transaction = self.connection.transaction()
            await self.begin()
        except BaseException as error:
            await self._give_back()
            if isinstance(error, Exception) and connection_lost(error):
                raise unavailable(error) from error
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        try:
            await settle(self, exception)
        finally:
            self.engine.current_transaction.reset(self.context)
            await self._give_back()
        return exception is None

    tenant: str | None = None  # set by Database.transaction: sent with BEGIN, one round trip for both
    tenant_slug: str | None = None  # or the tenant of this slug, found as the transaction begins
    _begun_by_sql = False

    async def begin(self) -> None:
        # BEGIN and the row-level-security tenant (transaction-local) in one simple-protocol round
        # trip: every tenant unit of work saved one. The tenant is a UUID's canonical text and a
        # slug matches SAFE_SLUG (Database.transaction checks both), so writing either into the
        # statement is safe.
        if self.tenant is not None:
            tenant = f"'{self.tenant}'"
        elif self.tenant_slug is not None:
            tenant = (f"coalesce((SELECT id::text FROM tenant WHERE slug = '{self.tenant_slug}' "
                      "AND status = 'active'), '')")
        else:
            await self.transaction.start()
            return
        await self.connection.execute(f"BEGIN; SELECT set_config('app.tenant_id', {tenant}, true)")
        self._begun_by_sql = True

    async def commit(self) -> None:
        if not self._begun_by_sql:
            return await super().commit()
        await self.connection.execute("COMMIT")
        self._committed = True

    async def rollback(self) -> None:
        if not self._begun_by_sql:
            return await super().rollback()
        await self.connection.execute("ROLLBACK")
        self._rolled_back = True

    async def get_connection(self) -> Any:
        if self.engine.pool:  # a pool whose connections all hang (a partition) must not hold requests forever
            # asyncio.timeout rather than acquire(timeout=…), whose wait_for makes a task per acquire.
            try:
                async with asyncio.timeout(self.engine.connect_timeout):
                    return await self.engine.pool.acquire()
            except TimeoutError as error:
                raise unavailable(error) from error
        return await self.engine.get_new_connection()

    async def _give_back(self) -> None:
        # asyncpg's release is shielded from a second cancel, and rolls back (or drops) a
        # connection left inside a transaction or mid-statement.
        if self.engine.pool:
            await self.engine.pool.release(self.connection)
        else:
            await self.connection.close()


# What a tenant slug may hold (core.tenancy refuses any other), so it can be written into a statement.
SAFE_SLUG = re.compile(r"[a-z][a-z0-9-]{1,62}")


async def _keep_session(connection: Any) -> None:
    """What a pooled connection runs when given back, after asyncpg has rolled back any open
    transaction: nothing. asyncpg's default sends ``pg_advisory_unlock_all(); CLOSE ALL;
    UNLISTEN *; RESET ALL`` (a round trip and four statements on every unit of work), but kehu
    leaves no session state to clear: the tenant is set transaction-locally
    (``set_config(…, true)``), advisory locks are transaction-level, and nothing listens or holds
    a cursor past its transaction (tests/db/test_unit_of_work.py checks the tenant)."""


@functools.lru_cache(maxsize=1024)
def _postgres_statement(sql: str, arguments: int) -> str:
    """``sql`` with its ``{}`` placeholders numbered ``$1``… as Piccolo compiles them. Cached and
    bounded: raw statements are the code's constants (or a few shapes of them)."""
    return QueryString(sql, *range(arguments)).compile_string(engine_type="postgres")[0]


class KehuPostgresEngine(PostgresEngine):
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS

    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return ReleasingPostgresTransaction(engine=self, allow_nested=allow_nested)


class Database:
    """One database: its engine, how to open transactions on it and how to check it."""

    def __init__(self, url: DatabaseURL, *, pool_size: int = 10, busy_timeout_ms: int = 5000,
                 connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
                 statement_timeout: float = COMMAND_TIMEOUT_SECONDS) -> None:
        self.url = url
        self.pool_size = pool_size
        self.engine: Engine
        if url.is_sqlite:
            assert url.sqlite_path is not None
            url.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            self.engine = PooledSQLiteEngine(path=str(url.sqlite_path), timeout=busy_timeout_ms / 1000)
        else:
            # No extensions: the app role may not create them, and UUIDs are made in Python.
            # Bounded connect and statements: an unreachable server fails requests, never hangs them.
            engine = KehuPostgresEngine(config={"dsn": url.raw, "timeout": connect_timeout,
                                                "command_timeout": statement_timeout}, extensions=())
            engine.connect_timeout = connect_timeout
            self.engine = engine

    @property
    def is_sqlite(self) -> bool:
        return self.url.is_sqlite

    @property
    def is_postgres(self) -> bool:
        return not self.url.is_sqlite

    async def start(self) -> None:
        if self.is_sqlite:
            await self.engine.run_ddl("PRAGMA journal_mode=WAL")
        else:
            await self.engine.start_connection_pool(min_size=1, max_size=self.pool_size, reset=_keep_session)

    async def close(self, *, grace_seconds: float = 10.0) -> None:
        """Close the connections. A PostgreSQL pool waits for connections still out; after
        ``grace_seconds`` it closes them anyway (and says so) rather than wait forever."""
        if isinstance(self.engine, PooledSQLiteEngine):
            await self.engine.close_idle()
            return
        pool = self.engine.pool
        if pool is None:
            return
        try:
            await asyncio.wait_for(pool.close(), grace_seconds)
        except TimeoutError:
            log.warning("db.pool_close_forced", grace_seconds=grace_seconds)
            pool.terminate()
        finally:
            self.engine.pool = None

    def transaction(self, *, write: bool = True, tenant_id: UUID | None = None,
                    tenant_slug: str | None = None) -> Any:
        """A transaction; on PostgreSQL ``tenant_id`` (or the active tenant of ``tenant_slug``, for
        a sign-in that knows only the slug) becomes its row-level-security tenant as it begins
        (SQLite has no row-level security: the unit of work's filter is the wall there)."""
        if isinstance(self.engine, PooledSQLiteEngine):
            kind = TransactionType.immediate if write else TransactionType.deferred
            return self.engine.transaction(transaction_type=kind, allow_nested=False)
        transaction = self.engine.transaction(allow_nested=False)
        if tenant_id is not None:
            transaction.tenant = str(UUID(str(tenant_id)))
        elif tenant_slug is not None:
            if not SAFE_SLUG.fullmatch(tenant_slug):
                raise ValueError("a tenant slug is lowercase letters, digits and hyphens")
            transaction.tenant_slug = tenant_slug
        return transaction

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """Run one SQL statement with ``{}`` placeholders (inside the current transaction, if any)."""
        if self.is_postgres:
            transaction = self.engine.current_transaction.get()
            if transaction is not None and not any(isinstance(arg, QueryString) for arg in args):
                # Straight to the transaction's connection with the statement compiled once:
                # Piccolo would parse the template again on every call.
                rows = await transaction.connection.fetch(_postgres_statement(sql, len(args)), *args)
                return [dict(row) for row in rows]
        rows = await self.engine.run_querystring(QueryString(sql, *args))
        return [dict(row) for row in rows or ()]

    async def fetch_alone(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """Run one statement as a transaction of its own (no BEGIN, no COMMIT: one round trip), on
        a pooled connection; a lost or unreachable server fails as DATABASE_UNAVAILABLE, as in a
        unit of work. For a statement that sets its own tenant (a function); PostgreSQL only."""
        assert self.is_postgres and self.engine.pool is not None
        pool = self.engine.pool
        try:
            async with asyncio.timeout(self.engine.connect_timeout):
                connection = await pool.acquire()
        except TimeoutError as error:
            raise unavailable(error) from error
        except Exception as error:
            if connection_lost(error):
                raise unavailable(error) from error
            raise
        try:
            rows = await connection.fetch(_postgres_statement(sql, len(args)), *args)
        except Exception as error:
            if connection_lost(error):
                raise unavailable(error) from error
            raise
        finally:
            await pool.release(connection)
        return [dict(row) for row in rows]

    async def ping(self) -> None:
        await self.fetch("SELECT 1 AS ok")

    async def assert_safe_app_role(self) -> None:
        """Refuse to serve over a PostgreSQL role that could read past row-level security."""
        if not self.is_postgres:
            return
        rows = await self.fetch(
            "SELECT current_user AS name, r.rolsuper AS superuser, r.rolbypassrls AS bypass,"
            " (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid"
            "   AND c.relnamespace = 'public'::regnamespace) AS owned"
            " FROM pg_roles r WHERE r.rolname = current_user"
        )
        role = rows[0]
        if role["superuser"] or role["bypass"] or role["owned"]:
            raise ConfigurationError(
                f"KEHU_DATABASE_URL: connects as {role['name']!r}, which is a superuser, bypasses RLS "
                "or owns tables; connect as the application role and give the owner's address in "
                "KEHU_MIGRATE_DATABASE_URL"
            )


_current: Database | None = None


def all_tables() -> list[type[Table]]:
    from core.db.piccolo_conf import APP_REGISTRY

    tables: list[type[Table]] = [Migration]
    for app_config in APP_REGISTRY.app_configs.values():
        tables.extend(app_config.table_classes)
    return tables


def use_database(database: Database) -> None:
    """Make ``database`` the one every table and Piccolo's migration runner use."""
    global _current
    import core.db.piccolo_conf as conf

    os.environ["PICCOLO_CONF"] = PICCOLO_CONF_MODULE
    conf.DB = database.engine
    for table in all_tables():
        table._meta.db = database.engine
    _current = database


def current_database() -> Database:
    if _current is None:
        raise RuntimeError("no database in use; call core.db.use_database() at start")
    return _current
