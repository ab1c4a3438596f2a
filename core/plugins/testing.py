"""The test harness for vertical plugins; also a pytest plugin (entry point ``pytest11``: ``kehu``).

For a vertical team, in its own distribution's tests::

    from core.plugins.testing import ContractSuite

    class TestContract(ContractSuite):
        plugin = my_vertical          # the module (or object) the entry point names
        name = "my_vertical"

and, for end-to-end tests, override the ``kehu_vertical`` fixture in ``conftest.py``::

    @pytest.fixture
    def kehu_vertical():
        return ("my_vertical", my_vertical)

then use ``kehu_tenant`` (a tenant with the vertical enabled) and ``kehu_client`` (a GraphQL
client signed in as that tenant's administrator). Nothing here keeps global state: every test
gets a fresh plugin manager (the tox model), so a throwaway plugin never leaks into the next test.
"""

from __future__ import annotations

import dataclasses
import types
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pluggy
import pytest

from core.plugins.hookspecs import hookimpl
from core.plugins.manager import (
    BrokenPlugins,
    VerticalDefinition,
    VerticalRegistry,
    build_registry,
    collect_definition,
    new_plugin_manager,
    register,
)
from core.plugins.types import ParameterInvalid, ParameterKind

try:  # async fixtures work whether or not the vertical's tests run pytest-asyncio in auto mode
    from pytest_asyncio import fixture as async_fixture
except ImportError:  # pragma: no cover - pytest-asyncio is part of kehu's test extra
    async_fixture = pytest.fixture

PluginSpec = tuple[str, object]

# kehu's own warning filters (pyproject's [tool.pytest.ini_options] filterwarnings; a test keeps
# them equal), applied to a vertical team's test run too, so it is as quiet as kehu's own.
WARNING_FILTERS: tuple[str, ...] = (
    "error::pytest.PytestUnraisableExceptionWarning",
    # strawberry's Litestar integration still relies on inferred dependencies (fine until Litestar 3)
    "ignore:.*Inferred dependency field:DeprecationWarning",
    "ignore:.*Reserved kwarg .* declared as:DeprecationWarning",
)


def pytest_configure(config: pytest.Config) -> None:
    """Put kehu's warning filters first in the run's ``filterwarnings``, so a project's own
    filters (which come later and so win) can still override them."""
    configured = config.getini("filterwarnings")  # pytest's cached list: later lines win
    configured[:0] = [line for line in WARNING_FILTERS if line not in configured]
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "vertical-harness-passphrase-1"


def plugin(**hooks: Callable[..., Any]) -> types.SimpleNamespace:
    """A throwaway plugin from plain functions: ``plugin(kehu_vertical_info=lambda: VerticalInfo(...))``."""
    return types.SimpleNamespace(**{name: hookimpl(fn) for name, fn in hooks.items()})


def make_plugin_manager(*plugins: PluginSpec, load_entrypoints: bool = False) -> pluggy.PluginManager:
    """A fresh manager with kehu's hookspecs and these ``(name, plugin)`` pairs registered."""
    manager = new_plugin_manager()
    if load_entrypoints:
        from core.plugins.manager import ENTRY_POINT_GROUP

        manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for name, item in plugins:
        register(manager, name, item)
    return manager


@contextmanager
def registered(manager: pluggy.PluginManager, item: object, name: str) -> Iterator[object]:
    """Register ``item`` for the duration of a ``with`` block, unregistering it whatever happens."""
    register(manager, name, item)
    try:
        yield item
    finally:
        manager.unregister(name=name)


def make_registry(*plugins: PluginSpec, broken: BrokenPlugins = "fail") -> VerticalRegistry:
    """The registry kehu would build at start with exactly these plugins."""
    return build_registry(make_plugin_manager(*plugins), broken=broken)


# --- The contract suite -----------------------------------------------------------------------


def _outside(parameter: Any) -> list[Any]:
    step = 1 if parameter.kind is ParameterKind.INTEGER else Decimal("0.5")
    values: list[Any] = []
    if parameter.minimum is not None:
        values.append(parameter.minimum - step)
    if parameter.maximum is not None:
        values.append(parameter.maximum + step)
    return values


def _frozen_everywhere(value: Any, where: str) -> None:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        assert value.__dataclass_params__.frozen, f"{where}: {type(value).__name__} is not frozen"  # type: ignore[attr-defined]
        for f in dataclasses.fields(value):
            _frozen_everywhere(getattr(value, f.name), f"{where}.{f.name}")
    elif isinstance(value, (list, set, dict)):
        raise AssertionError(f"{where}: a mutable {type(value).__name__} in a definition")
    elif isinstance(value, tuple):
        for index, item in enumerate(value):
            _frozen_everywhere(item, f"{where}[{index}]")


def assert_vertical_contract(item: object, name: str) -> VerticalDefinition:
    """Everything kehu demands of a vertical, checked on ``item`` registered alone as ``name``.

    Returns the validated definition so a vertical's own tests can look further."""
    manager = make_plugin_manager((name, item))
    manager.check_pending()  # no misspelt kehu_* hooks
    definition = collect_definition(manager, name)  # raises PluginError naming every problem
    assert definition.info.id == name
    for hook_field in dataclasses.fields(definition):
        _frozen_everywhere(getattr(definition, hook_field.name), f"{name}.{hook_field.name}")
    for parameter in definition.parameters:
        assert parameter.check(parameter.default) == parameter.default
        for value in _outside(parameter):
            with pytest.raises(ParameterInvalid):
                parameter.check(value)
    registry = make_registry((name, item))
    assert registry.ids() == (name,)
    if definition.graphql:
        from core.settings import load_settings
        from gateway.graphql.schema import build_schema

        schema = build_schema(load_settings(), registry)  # the vertical's types merge into kehu's schema
        for contribution in definition.graphql:
            for root, root_name in ((contribution.query, "Query"), (contribution.mutation, "Mutation")):
                for field in root.__strawberry_definition__.fields if root else ():
                    graphql_name = schema.config.name_converter.get_graphql_name(field)
                    assert schema.get_field_for_type(graphql_name, root_name) is not None, graphql_name
    return definition


class ContractSuite:
    """Subclass with ``plugin`` and ``name`` set; pytest then runs the contract on it."""

    plugin: object = None
    name: str = ""

    def test_the_vertical_meets_the_kehu_contract(self) -> None:
        assert self.plugin is not None and self.name, "set plugin and name on the ContractSuite subclass"
        assert_vertical_contract(self.plugin, self.name)


# --- pytest fixtures (loaded through the pytest11 entry point) ----------------------------------


@dataclass(frozen=True)
class VerticalTenant:
    """A tenant with the vertical enabled, and its administrator's credentials."""

    id: uuid.UUID
    slug: str
    vertical_id: str
    username: str = ADMIN_USERNAME
    password: str = ADMIN_PASSWORD


class GraphQLClient:
    """Posts GraphQL documents to the app as the tenant's signed-in administrator."""

    def __init__(self, http: Any, token: str) -> None:
        self.http = http
        self.token = token

    async def execute(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.http.post("/graphql", json={"query": query, "variables": variables},
                                        headers={"authorization": f"Bearer {self.token}"})
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def kehu_vertical() -> PluginSpec:
    """The ``(name, plugin)`` under test. A vertical's conftest overrides this fixture."""
    raise pytest.UsageError("override the kehu_vertical fixture to return (name, plugin)")


@pytest.fixture
def kehu_plugin_manager() -> pluggy.PluginManager:
    """A fresh plugin manager with kehu's hookspecs and nothing registered."""
    return new_plugin_manager()


@pytest.fixture
def kehu_registry(kehu_vertical: PluginSpec) -> VerticalRegistry:
    """The registry with just the vertical under test, validated as at start."""
    return make_registry(kehu_vertical)


@pytest.fixture
def kehu_settings(tmp_path: Any) -> Any:
    """Embedded-profile settings on a fresh SQLite file; override for PostgreSQL."""
    from core.settings import load_settings

    var = tmp_path / "kehu-var"
    var.mkdir()
    return load_settings(database_url=f"sqlite:///{var}/kehu.sqlite3", var_dir=var, password_hashing="fast",
                         rate_limit_anonymous_per_minute=1000)


@async_fixture
async def kehu_migrated_database(kehu_settings: Any, kehu_registry: VerticalRegistry) -> None:
    """``kehu_settings``' database, migrated: core's tables and the vertical's own. A suite that
    runs many tests may override it to copy a database migrated once (kehu's own suite does)."""
    from core.db.migrate import migrate

    await migrate(kehu_settings, kehu_registry)


@async_fixture
async def kehu_tenant(kehu_settings: Any, kehu_registry: VerticalRegistry,
                      kehu_migrated_database: None) -> AsyncIterator[VerticalTenant]:
    """A migrated database with one tenant, its administrator, and the vertical enabled."""
    from core.context import Context
    from core.db import Database, use_database
    from core.identity.permissions import install_catalog
    from core.identity.runtime import configure_identity
    from core.tenancy import service as tenancy
    from core.verticals.service import enable_vertical

    configure_identity(kehu_settings)
    install_catalog(kehu_registry.permissions)
    database = Database(kehu_settings.database, pool_size=2,  # the settings' timeouts, as the app opens it
                        connect_timeout=kehu_settings.database_connect_timeout_seconds,
                        statement_timeout=kehu_settings.database_statement_timeout_seconds)
    use_database(database)
    await database.start()
    try:
        vertical_id = kehu_registry.ids()[0]
        slug = f"t{uuid.uuid4().hex[:10]}"
        tenant = await tenancy.create_tenant(Context.system(), slug=slug, name=f"{vertical_id} test tenant",
                                             admin=tenancy.TenantAdmin(username=ADMIN_USERNAME, password=ADMIN_PASSWORD))
        await enable_vertical(Context.system().for_tenant(tenant.id), kehu_registry, vertical_id)
        yield VerticalTenant(id=tenant.id, slug=slug, vertical_id=vertical_id)
    finally:
        await database.close()


@async_fixture
async def kehu_client(kehu_settings: Any, kehu_registry: VerticalRegistry,
                      kehu_tenant: VerticalTenant) -> AsyncIterator[GraphQLClient]:
    """A GraphQL client for the app with the vertical's types, signed in as the tenant's admin."""
    from litestar.testing import AsyncTestClient

    import gateway.app

    # The app's schema takes the verticals' types from this registry, so a vertical defined in a
    # test (not installed) contributes its GraphQL types too.
    # The app's own timer does not tick: it would run the verticals' tick work on the wall clock,
    # under a test that moves its own clock (a test runs the tick work it means, when it means it).
    quiet = kehu_settings.model_copy(update={"tick_interval_seconds": 3600})
    app = gateway.app.create_app(quiet, registry=kehu_registry)
    async with AsyncTestClient(app) as http:
        login = await http.post("/graphql", json={
            "query": "mutation($t: String!, $u: String!, $p: String!) { login(tenant: $t, username: $u, "
                     "password: $p) { accessToken errors { code } } }",
            "variables": {"t": kehu_tenant.slug, "u": kehu_tenant.username, "p": kehu_tenant.password}})
        token = login.json()["data"]["login"]["accessToken"]
        assert token, login.text
        yield GraphQLClient(http, token)


def entry_point_verticals() -> list[Any]:
    """The installed verticals' entry points, for ``pytest.mark.parametrize``."""
    from core.plugins.manager import _entry_points

    return _entry_points()


__all__: Iterable[str] = [
    "ContractSuite", "GraphQLClient", "VerticalTenant", "assert_vertical_contract", "entry_point_verticals",
    "make_plugin_manager", "make_registry", "plugin", "registered",
]
