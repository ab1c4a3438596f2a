"""What the benchmarks share: a scratch database of either kind, opened as the app opens it."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from core.db import Database, use_database
from core.db.migrate import migrate
from core.identity.runtime import configure_identity
from core.privacy.crypto import configure_data_keys
from core.settings import Settings


@asynccontextmanager
async def bench_database(tmp: Path) -> AsyncIterator[dict[str, object]]:
    """SQLite under ``tmp``, or with KEHU_BENCH_POSTGRES_URL (an admin connection) a scratch
    PostgreSQL database migrated as the owner and used as the app role."""
    admin = os.environ.get("KEHU_BENCH_POSTGRES_URL")
    if not admin:
        yield {"database_url": f"sqlite:///{tmp}/bench.sqlite3"}
        return
    name = f"kehu_bench_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(admin)
    host = parts.netloc.rsplit("@", 1)[-1]
    connection = await asyncpg.connect(admin)
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    try:
        yield {"database_url": urlunsplit((parts.scheme, f"kehu_app@{host}", f"/{name}", "", "")),
               "migrate_database_url": urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))}
    finally:
        connection = await asyncpg.connect(admin)
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()


async def start_database(settings: Settings, registry: Any = None) -> Database:
    """Migrate (core, and the verticals of ``registry`` when given), configure identity and data keys
    from these settings (keys under the bench's own var_dir, not the project's), then open the
    database as the current one. The caller closes it."""
    await (migrate(settings, registry) if registry is not None else migrate(settings))
    configure_identity(settings)
    configure_data_keys(settings)
    database = Database(settings.database)
    use_database(database)
    await database.start()
    return database
