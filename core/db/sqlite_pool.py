"""A SQLite engine that keeps its connections open between transactions.

Piccolo's SQLiteEngine opens a connection (an OS thread, a schema parse and a PRAGMA) for every
transaction and every statement outside one, repeats ``PRAGMA foreign_keys`` before every
statement, and crosses to the connection's thread three times per statement. On the request path that costs more than the queries; here each connection is set up
once and returned to an idle list after its transaction. A connection whose commit or rollback
failed is closed, never reused.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import aiosqlite
from core.errors import ConfigurationError
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory

MAX_IDLE_CONNECTIONS = 8
MIN_SQLITE = (3, 35, 0)


async def settle(transaction: Any, exception: BaseException | None) -> None:
    """End a piccolo transaction as its block ended: roll back after an error, else commit,
    unless the block already did either."""
    if exception:
        if not transaction._rolled_back:
            await transaction.rollback()
    elif not transaction._committed and not transaction._rolled_back:
        await transaction.commit()


class PooledSQLiteTransaction(SQLiteTransaction):
    __slots__ = ()

    async def get_connection(self) -> aiosqlite.Connection:
        return await self.engine.acquire()  # type: ignore[attr-defined]

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()
        try:
            await self.begin()
        except BaseException:  # cancelled or failed during BEGIN: the connection goes back, unused
            await self.engine.release(self.connection, healthy=False)  # type: ignore[attr-defined]
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type, exception, traceback) -> bool:  # type: ignore[override]
        if self._parent:
            return exception is None
        healthy = True
        try:
            await settle(self, exception)
        except BaseException:
            healthy = False
            raise
        finally:
            self.engine.current_transaction.reset(self.context)
            await self.engine.release(self.connection, healthy=healthy)  # type: ignore[attr-defined]
        return exception is None


class PooledSQLiteEngine(SQLiteEngine):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if sqlite3.sqlite_version_info < MIN_SQLITE:  # RETURNING, used for inserts, arrived in 3.35
            raise ConfigurationError(f"SQLite {sqlite3.sqlite_version} is too old; kehu needs 3.35 or newer")
        self._idle: list[aiosqlite.Connection] = []

    async def acquire(self) -> aiosqlite.Connection:
        if self._idle:
            return self._idle.pop()
        pending = aiosqlite.connect(**self.connection_kwargs)
        # An idle pooled connection must not keep the process alive at exit; committed data is
        # safe in the database file whatever happens to the thread.
        pending._thread.daemon = True
        connection = await pending
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.execute("PRAGMA foreign_keys = 1")
        return connection

    async def release(self, connection: aiosqlite.Connection, *, healthy: bool = True) -> None:
        if healthy and not connection.in_transaction and len(self._idle) < MAX_IDLE_CONNECTIONS:
            self._idle.append(connection)
        else:
            await connection.close()

    async def close_idle(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()

    def transaction(self, transaction_type: TransactionType = TransactionType.deferred,  # type: ignore[override]
                    allow_nested: bool = True) -> PooledSQLiteTransaction:
        return PooledSQLiteTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)

    async def get_connection(self) -> aiosqlite.Connection:
        return await self.acquire()

    async def _run_in_existing_connection(self, connection, query: str, args: list[Any] | None = None,
                                          query_type: str = "generic", table: Any = None):
        # foreign_keys was switched on when the connection was made; no PRAGMA per statement.
        # execute_fetchall is one hop to the connection's thread instead of three.
        return await connection.execute_fetchall(query, args or [])

    async def _run_in_new_connection(self, query: str, args: list[Any] | None = None,
                                     query_type: str = "generic", table: Any = None):
        connection = await self.acquire()
        healthy = False
        try:
            rows = await connection.execute_fetchall(query, args or [])
            await connection.commit()
            healthy = True
            return rows
        finally:
            await self.release(connection, healthy=healthy)
