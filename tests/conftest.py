"""Shared fixtures: settings on a temporary SQLite file, and real PostgreSQL databases.

PostgreSQL tests run when ``CI`` is set or ``KEHU_TEST_POSTGRES_URL`` names an admin connection
(e.g. ``postgresql://postgres@127.0.0.1:5432/postgres``); otherwise they skip saying so.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from core.db import Database, use_database
from core.db.migrate import migrate
from core.identity.runtime import configure_identity
from core.privacy.crypto import configure_data_keys
from core.audit.anchors import configure_audit_anchors
from core.settings import Settings, load_settings

# Fails the run when any log line holds a secret the run created (issue 16 point 4).
pytest_plugins = ["tests.secret_scan"]

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
APP_ROLE = "kehu_app"


@pytest.fixture(autouse=True)
def _forget_started_verticals() -> Iterator[None]:
    """Each test starts with no deployment verticals: an app a test built on its own registry (or a
    test that started one) must not leave it to the next test of the worker, whose jobs and plugin
    services would then miss the installed verticals."""
    from core.plugins.manager import start_verticals

    yield
    start_verticals(None)


def postgres_admin_url() -> str | None:
    if os.environ.get("KEHU_TEST_POSTGRES_URL"):
        return os.environ["KEHU_TEST_POSTGRES_URL"]
    if os.environ.get("CI"):
        return DEFAULT_ADMIN_URL
    return None


def redis_url() -> str | None:
    url = os.environ.get("KEHU_TEST_REDIS_URL") or (DEFAULT_REDIS_URL if os.environ.get("CI") else None)
    return None if url is None else _worker_redis_database(url)


def _worker_redis_database(url: str) -> str:
    """Each pytest-xdist worker its own Redis database (15, 14, …): tests flush theirs."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{max(base - int(worker.removeprefix('gw') or 0), 0)}"))


def _with_database(url: str, dbname: str, user: str | None = None) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if user is not None:
        host = netloc.rsplit("@", 1)[-1]
        netloc = f"{user}@{host}"
    return urlunsplit((parts.scheme, netloc, f"/{dbname}", parts.query, parts.fragment))


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    path = tmp_path / "var"
    path.mkdir()
    return path


@pytest.fixture
def sqlite_settings(var_dir: Path) -> Settings:
    return load_settings(database_url=f"sqlite:///{var_dir}/kehu.sqlite3", var_dir=var_dir, password_hashing="fast")


@dataclass(frozen=True)
class PostgresDatabase:
    owner_url: str
    app_url: str
    name: str


@pytest.fixture
async def postgres_database(request: pytest.FixtureRequest) -> AsyncIterator[PostgresDatabase]:
    """A fresh, empty PostgreSQL database, dropped afterwards. A test that uses ``database`` (or the
    plugin harness's ``kehu_migrated_database``) gets it created there instead, as a copy of the
    migrated template: creating an empty one first, only to drop it, cost a create and a drop."""
    admin = postgres_admin_url()
    if admin is None:
        pytest.skip("PostgreSQL tests skipped: set CI=true or KEHU_TEST_POSTGRES_URL="
                    f"{DEFAULT_ADMIN_URL} to run them")
    name = f"kehu_test_{uuid.uuid4().hex[:12]}"
    if not {"database", "kehu_migrated_database"} & set(request.fixturenames):  # each copies a template
        await _admin_execute(admin, f'CREATE DATABASE "{name}"{await _in_test_tablespace(admin)}')
    try:
        yield PostgresDatabase(owner_url=_with_database(admin, name), app_url=_with_database(admin, name, APP_ROLE),
                               name=name)
    finally:
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


# The tests' databases live in a tablespace of this worker's on tmpfs when the server runs on this
# machine. On the CI machines' ext4 (no journal) a CREATE DATABASE took 0.8-1.0 s, nearly all of it
# in the kernel (ext4_create -> recently_deleted: each new file skips every inode the tests' dropped
# databases freed in the last minutes); on tmpfs 0.05 s. Each PostgreSQL test makes a database.
# KEHU_TEST_TABLESPACE=off keeps them in the server's default tablespace.
_tablespace: dict[str, Path] | None = None  # None until tried; then the worker's tablespace -> its folder, if any


async def _in_test_tablespace(admin: str) -> str:
    """`` TABLESPACE "…"`` for a CREATE DATABASE, or "" where no tablespace on tmpfs can be made
    (a remote server, no /dev/shm, a test run that may not give the folder to the server's user)."""
    global _tablespace
    if _tablespace is None:
        _tablespace = {}
        if os.environ.get("KEHU_TEST_TABLESPACE") != "off" and urlsplit(admin).hostname in ("127.0.0.1", "localhost"):
            _tablespace = await _make_test_tablespace(admin)
    return "".join(f' TABLESPACE "{name}"' for name in _tablespace)


async def _make_test_tablespace(admin: str) -> dict[str, Path]:
    folder = Path("/dev/shm") / f"kehu-test-{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(admin)
    try:
        server = Path(await connection.fetchval("SHOW data_directory")).stat()  # the server's own user
        folder.mkdir(mode=0o700)
        os.chown(folder, server.st_uid, server.st_gid)
        name = folder.name.replace("-", "_")
        await connection.execute(f"CREATE TABLESPACE \"{name}\" LOCATION '{folder}'")
        return {name: folder}
    except (OSError, asyncpg.PostgresError):
        shutil.rmtree(folder, ignore_errors=True)
        return {}
    finally:
        await connection.close()


async def _drop_test_tablespace(admin: str) -> None:
    """The tablespace, after every database in it (a crashed test's included), and its folder."""
    for name, folder in (_tablespace or {}).items():
        connection = await asyncpg.connect(admin)
        try:
            left = await connection.fetch("SELECT datname FROM pg_database d JOIN pg_tablespace t "
                                          "ON t.oid = d.dattablespace WHERE t.spcname = $1", name)
            for row in left:
                await connection.execute(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')
            await connection.execute(f'DROP TABLESPACE IF EXISTS "{name}"')
        finally:
            await connection.close()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_settings(postgres_database: PostgresDatabase, var_dir: Path) -> Settings:
    # Generous timeouts: on a loaded 2-core CI machine a pooled connection can take seconds to come
    # free, and that is not the server being unreachable (the fault tests keep the defaults).
    return load_settings(database_url=postgres_database.app_url, migrate_database_url=postgres_database.owner_url,
                         var_dir=var_dir, password_hashing="fast", database_connect_timeout_seconds=60,
                         database_statement_timeout_seconds=120)


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest) -> Settings:
    """Settings for each database kind: the test runs once on SQLite, once on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_settings")


_templates: dict[str, str] = {}  # migration key -> a migrated PostgreSQL database to copy


def _migration_key(settings: Settings, registry) -> str:
    """What migrating a database yields, besides core's own migrations: the app role granted, and
    each vertical's migrations (a test's own registry as much as the installed verticals)."""
    verticals = tuple((d.id, tuple((m.version, tuple(m.sqlite), tuple(m.postgres)) for m in d.migrations))
                      for d in registry.definitions)
    return hashlib.sha256(repr((settings.database_app_role, verticals)).encode()).hexdigest()


async def _from_migrated_template(settings: Settings, registry) -> None:
    """Replace the test's fresh PostgreSQL database by a copy of one migrated once per worker (and
    set of verticals): CREATE DATABASE … TEMPLATE copies files, migrating again costs seconds."""
    admin = postgres_admin_url()
    key = _migration_key(settings, registry)
    if key not in _templates:
        name = f"kehu_tpl_{uuid.uuid4().hex[:12]}"
        await _admin_execute(admin, f'CREATE DATABASE "{name}"{await _in_test_tablespace(admin)}')
        template = load_settings(database_url=_with_database(admin, name, APP_ROLE),
                                 migrate_database_url=_with_database(admin, name), var_dir=settings.var_dir,
                                 password_hashing="fast", database_app_role=settings.database_app_role)
        try:
            await migrate(template, registry)
        except BaseException:  # a migration a test expects to fail: no half-migrated template stays
            await _admin_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            raise
        _templates[key] = name
    target = urlsplit(settings.migrate_database_url or settings.database_url).path.strip("/")
    await _admin_execute(admin, f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)',
                         f'CREATE DATABASE "{target}" TEMPLATE "{_templates[key]}"{await _in_test_tablespace(admin)}')


_sqlite_templates: dict[str, Path] = {}  # migration key -> a migrated SQLite file to copy


async def _sqlite_from_migrated_template(settings: Settings, registry, template_root: Path) -> None:
    """Start the test's SQLite file as a copy of one migrated once per worker (and set of
    verticals): running every migration again costs about two seconds a test."""
    import sqlite3

    key = _migration_key(settings, registry)
    if key not in _sqlite_templates:
        folder = template_root / f"template-{uuid.uuid4().hex[:12]}"
        folder.mkdir(parents=True)
        template = load_settings(database_url=f"sqlite:///{folder}/kehu.sqlite3", var_dir=folder,
                                 password_hashing="fast")
        await migrate(template, registry)
        _sqlite_templates[key] = folder / "kehu.sqlite3"
    target = settings.database.sqlite_path
    assert target is not None and not target.exists(), target
    source, copy = sqlite3.connect(_sqlite_templates[key]), sqlite3.connect(target)
    try:
        source.backup(copy)  # a consistent copy, whatever the template's journal holds
    finally:
        source.close()
        copy.close()


async def _migrated(settings: Settings, registry, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The database of ``settings`` migrated for ``registry``: a copy of a template where it is
    new, else brought up to date (a file the test left in place)."""
    if settings.database.kind == "postgresql":
        # the template was migrated for these verticals and this app role: the copy holds its
        # tables, grants and due probes, so migrating again (a fifth of a second) would change nothing
        await _from_migrated_template(settings, registry)
    elif settings.database.sqlite_path is not None and not settings.database.sqlite_path.exists():
        await _sqlite_from_migrated_template(settings, registry, tmp_path_factory.getbasetemp() / "sqlite-templates")
    else:
        await migrate(settings, registry)


@pytest.fixture
async def kehu_migrated_database(kehu_settings: Settings, kehu_registry, tmp_path_factory: pytest.TempPathFactory):
    """The plugin harness's database (core.plugins.testing), copied from one migrated once per
    worker for the same verticals: migrating each test's database again cost a second or more."""
    await _migrated(kehu_settings, kehu_registry, tmp_path_factory)


async def _admin_execute(admin: str, *statements: str) -> None:
    connection = await asyncpg.connect(admin)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


# The slowest files (a minute or more each on a loaded 2-core machine), slowest first: handed to the
# workers before the rest, so a parallel run does not end with one worker alone on one of them.
SLOW_FILES = ("tests/isolation/test_isolation.py", "tests/test_bench.py", "tests/plugins/test_out_of_tree.py",
              "tests/test_layers.py", "tests/gateway/test_identity_api.py", "tests/proof/test_fuzz_graphql.py",
              "tests/test_atomic_mutations.py")


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {path: index for index, path in enumerate(SLOW_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(SLOW_FILES)))  # stable: the rest keep order


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop this worker's template databases, then its tablespace."""
    import asyncio

    admin = postgres_admin_url()
    if admin and _templates:
        asyncio.run(_admin_execute(admin, *(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
                                            for name in _templates.values())))
    if admin and _tablespace:
        asyncio.run(_drop_test_tablespace(admin))


_registries: dict[tuple, object] = {}


def _installed_verticals(settings: Settings):
    """The installed verticals less the disabled ones, loaded once per worker: finding, importing
    and validating them again cost a twentieth of a second or more a test. (A test that changes
    which verticals are installed calls load_verticals itself.)"""
    from core.plugins.manager import load_verticals

    key = (tuple(settings.disabled_plugins), os.environ.get("KEHU_BROKEN_PLUGINS"))
    if key not in _registries:
        _registries[key] = load_verticals(settings.disabled_plugins)
    return _registries[key]


@pytest.fixture
async def database(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Database]:
    """A migrated database of each kind, opened as the application would open it: core's tables and
    the installed verticals' own (as ``kehu migrate`` creates them), since the app serves their fields."""
    await _migrated(settings, _installed_verticals(settings), tmp_path_factory)
    configure_identity(settings)
    configure_data_keys(settings)  # the keys the app built on these settings will use
    configure_audit_anchors(settings)  # anchors under this test's var_dir
    # the settings' timeouts, as the app opens it (the PostgreSQL settings' are generous for a loaded CI machine)
    db = Database(settings.database, pool_size=4, connect_timeout=settings.database_connect_timeout_seconds,
                  statement_timeout=settings.database_statement_timeout_seconds)
    use_database(db)
    await db.start()
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
def redis_broker_url() -> Iterator[str]:
    url = redis_url()
    if url is None:
        pytest.skip("Redis tests skipped: set CI=true or KEHU_TEST_REDIS_URL=redis://127.0.0.1:6379/15 to run them")
    yield url


@pytest.fixture
async def seeded(database):
    """Tenants ``acme`` and ``globex`` with an administrator ``admin`` each (see tests/support.py)."""
    from tests.support import seed_two_tenants

    return await seed_two_tenants()


@pytest.fixture
def audit_scan(database):
    """``await audit_scan(*values)`` fails if any value appears in any audit entry (tests/audit_scan.py).

    Every suite that handles personal data runs it after its mutations."""
    from tests.audit_scan import make_audit_scan

    return make_audit_scan()
