"""Loading verticals: entry points of group ``kehu.verticals``, minus the blocked ones, each hook
called once and its answers validated and frozen into a ``VerticalRegistry``.

A plugin that breaks the contract stops the start with a message naming it and the problem, or,
with ``KEHU_BROKEN_PLUGINS=skip``, is left out whole (logged, listed in ``registry.skipped``):
a vertical is never half-loaded.
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import os
import queue
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal

import pluggy
import structlog

from core.plugins import hookspecs
from core.plugins.types import (
    ArchiveStandard,
    AttributionPolicy,
    ComplaintFlow,
    EventType,
    ContractError,
    CustomerField,
    GradingScheme,
    GraphQLTypes,
    Parameter,
    ParameterValue,
    Permission,
    PersonalDataTable,
    PluginError,
    VerticalInfo,
    VisitPlan,
)
from core.plugins.validation import check_vertical  # validation never imports this module
from core.plugins.tables import IsolationOperation, PluginMigration, check_tables, remember_tables

ENTRY_POINT_GROUP = "kehu.verticals"
BROKEN_PLUGINS_ENV = "KEHU_BROKEN_PLUGINS"
BrokenPlugins = Literal["fail", "skip"]
log = structlog.get_logger(__name__)

# hook name -> (VerticalDefinition attribute, the type each item must have)
DATA_HOOKS: dict[str, tuple[str, type]] = {
    "kehu_permissions": ("permissions", Permission),
    "kehu_parameters": ("parameters", Parameter),
    "kehu_customer_fields": ("customer_fields", CustomerField),
    "kehu_archive_standards": ("archive_standards", ArchiveStandard),
    "kehu_attribution_policy": ("attribution_policies", AttributionPolicy),
    "kehu_grading_schemes": ("grading_schemes", GradingScheme),
    "kehu_complaint_flows": ("complaint_flows", ComplaintFlow),
    "kehu_visit_plans": ("visit_plans", VisitPlan),
    "kehu_graphql_types": ("graphql", GraphQLTypes),
    "kehu_personal_data": ("personal_data", PersonalDataTable),
    "kehu_tables": ("tables", type),
    "kehu_migrations": ("migrations", PluginMigration),
    "kehu_isolation_operations": ("isolation_operations", IsolationOperation),
    "kehu_event_types": ("event_types", EventType),
}


@dataclass(frozen=True, slots=True)
class VerticalDefinition:
    """Everything one vertical declared, validated."""

    info: VerticalInfo
    permissions: tuple[Permission, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    customer_fields: tuple[CustomerField, ...] = ()
    archive_standards: tuple[ArchiveStandard, ...] = ()
    attribution_policies: tuple[AttributionPolicy, ...] = ()
    grading_schemes: tuple[GradingScheme, ...] = ()
    complaint_flows: tuple[ComplaintFlow, ...] = ()
    visit_plans: tuple[VisitPlan, ...] = ()
    graphql: tuple[GraphQLTypes, ...] = ()
    personal_data: tuple[PersonalDataTable, ...] = ()
    tables: tuple[type, ...] = ()  # Piccolo table classes (core.plugins.TenantTable)
    migrations: tuple[PluginMigration, ...] = ()  # sorted by version
    isolation_operations: tuple[IsolationOperation, ...] = ()
    event_types: tuple[EventType, ...] = ()

    @property
    def id(self) -> str:
        return self.info.id

    def parameter(self, key: str) -> Parameter | None:
        return next((p for p in self.parameters if p.key == key), None)

    def defaults(self) -> dict[str, ParameterValue]:
        return {p.key: p.default for p in self.parameters}


def personal_data_tables(registry: VerticalRegistry) -> tuple[PersonalDataTable, ...]:
    """Every loaded vertical's tables of personal data (erasure and subject-access exports)."""
    return tuple(t for d in registry.definitions for t in d.personal_data)


@dataclass(frozen=True, slots=True)
class VerticalRegistry:
    """Everything the loaded verticals declared, validated and frozen at start."""

    verticals: tuple[VerticalInfo, ...]
    blocked: tuple[str, ...] = ()
    permissions: tuple[Permission, ...] = ()
    definitions: tuple[VerticalDefinition, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()  # (plugin, problem) left out under KEHU_BROKEN_PLUGINS=skip
    _by_id: Mapping[str, VerticalDefinition] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {d.id: d for d in self.definitions})

    def ids(self) -> tuple[str, ...]:
        return tuple(info.id for info in self.verticals)

    def get(self, vertical_id: str) -> VerticalInfo | None:
        return next((info for info in self.verticals if info.id == vertical_id), None)

    def definition(self, vertical_id: str) -> VerticalDefinition | None:
        return self._by_id.get(vertical_id)


def new_plugin_manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    return manager


def _call(manager: pluggy.PluginManager, hook: str, plugin_name: str) -> list[Any]:
    """The answers of one plugin's implementations of ``hook`` (hooks take no arguments)."""
    return [impl.function() for impl in getattr(manager.hook, hook).get_hookimpls() if impl.plugin_name == plugin_name]


def _items(hook: str, answer: Any, kind: type) -> tuple[Any, ...]:
    if answer is None:
        return ()
    if isinstance(answer, kind):  # one definition instead of a list is accepted
        return (answer,)
    if isinstance(answer, (str, bytes, Mapping)) or not isinstance(answer, Iterable):
        raise ContractError(f"{hook} must return {kind.__name__} objects, got {type(answer).__name__}")
    items = tuple(answer)
    for item in items:
        if not isinstance(item, kind):
            raise ContractError(f"{hook} must return {kind.__name__} objects, got {type(item).__name__}")
    return items


def collect_definition(manager: pluggy.PluginManager, name: str) -> VerticalDefinition:
    """Call every hook of plugin ``name`` once; raise ``PluginError`` naming it on any problem."""
    def fail(problem: str) -> PluginError:
        return PluginError(name, problem)

    try:
        answers = _call(manager, "kehu_vertical_info", name)
    except (ContractError, PluginError) as error:
        raise fail(f"kehu_vertical_info: {getattr(error, 'problem', error)}") from None
    except Exception as error:  # a plugin's own bug must still name the plugin
        raise fail(f"kehu_vertical_info raised {type(error).__name__}: {error}") from error
    if not answers:
        raise fail("kehu_vertical_info is required")
    info = answers[0]
    if not isinstance(info, VerticalInfo):
        raise fail("kehu_vertical_info must return a VerticalInfo")
    if info.id != name:
        raise fail(f"kehu_vertical_info id {info.id!r} differs from its entry-point name")
    values: dict[str, tuple[Any, ...]] = {}
    for hook, (attribute, kind) in DATA_HOOKS.items():
        items: list[Any] = []
        try:
            for answer in _call(manager, hook, name):
                items.extend(_items(hook, answer, kind))
        except ContractError as error:
            raise fail(f"{hook}: {error}" if not str(error).startswith(hook) else str(error)) from None
        except PluginError as error:
            raise fail(f"{hook}: {error.problem} ({error.plugin})") from None
        except Exception as error:
            raise fail(f"{hook} raised {type(error).__name__}: {error}") from error
        values[attribute] = tuple(items)
    values["migrations"] = tuple(sorted(values["migrations"], key=lambda m: m.version))
    definition = VerticalDefinition(info=info, **values)
    problems = [f"permission {p.name!r} must start with {name!r}."
                for p in definition.permissions if not p.name.startswith(f"{name}.")]
    problems += [f"event type {e.name!r} must start with {name!r}."
                 for e in definition.event_types if not e.name.startswith(f"{name}.")]
    problems += check_vertical(definition)
    problems += check_tables(name, definition.tables, definition.migrations)
    if problems:
        raise fail("; ".join(problems))
    remember_tables(definition.tables)
    return guard_definition(definition)


# --- R18: a vertical's rule that raises or hangs fails its request, never the process -------------
#
# Hooks run once, at start (``collect_definition``); on a request kehu calls only the pure rule
# functions a vertical declared (archive checks, attribution ``decide``, grading ``score``). The
# registry holds them wrapped by ``guarded``: the one choke point every engine calls through.

PLUGIN_FAILED = "PLUGIN_FAILED"
PLUGIN_TIMEOUT = "PLUGIN_TIMEOUT"
_hook_timeout: float | None = None  # None: read plugin_hook_timeout_seconds from the settings once


def configure_hook_timeout(seconds: float | None) -> None:
    """Set how long a vertical's rule may run (``plugin_hook_timeout_seconds``); None: from the settings."""
    global _hook_timeout
    _hook_timeout = seconds


def hook_timeout() -> float:
    global _hook_timeout
    if _hook_timeout is None:
        try:
            from core.settings import load_settings

            _hook_timeout = float(load_settings().plugin_hook_timeout_seconds)
        except Exception:  # noqa: BLE001 - a settings problem is reported at start, not here
            _hook_timeout = 5.0
    return _hook_timeout


class _Runner:
    """Daemon worker threads for vertical rules: one that hangs keeps its thread (a thread cannot be
    killed) but never the event loop past the timeout, nor the process's exit. A new thread starts
    when none is idle, up to ``limit``; beyond that the vertical's calls time out at once."""

    def __init__(self, limit: int = 32) -> None:
        self._jobs: queue.SimpleQueue[tuple[Future[Any], contextvars.Context, Callable[..., Any], tuple, dict]] = (
            queue.SimpleQueue())
        self._lock = threading.Lock()
        self._idle = 0
        self._workers = 0
        self._limit = limit

    def submit(self, function: Callable[..., Any], args: tuple, kwargs: dict) -> Future[Any] | None:
        with self._lock:
            if self._idle:
                self._idle -= 1
            elif self._workers < self._limit:
                self._workers += 1
                threading.Thread(target=self._work, name="kehu-vertical-rule", daemon=True).start()
            else:
                return None
        future: Future[Any] = Future()
        self._jobs.put((future, contextvars.copy_context(), function, args, kwargs))
        return future

    def _work(self) -> None:
        while True:
            future, context, function, args, kwargs = self._jobs.get()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(context.run(function, *args, **kwargs))
                except BaseException as error:  # noqa: BLE001 - handed to the caller
                    future.set_exception(error)
            del future, context, function, args, kwargs
            with self._lock:
                self._idle += 1


_runner = _Runner()


def _failed(vertical: str, what: str, code: str) -> Exception:
    from core.errors import KehuError

    if code == PLUGIN_TIMEOUT:
        return KehuError(code, f"The vertical {vertical!r} did not answer in time ({what}); nothing was changed.",
                         f"行业插件 {vertical} 未在时限内响应（{what}），未做任何更改。")
    return KehuError(code, f"The vertical {vertical!r} failed ({what}); nothing was changed.",
                     f"行业插件 {vertical} 执行出错（{what}），未做任何更改。")


def guarded(vertical: str, what: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` (a vertical's synchronous rule) run in a worker thread for at most
    ``hook_timeout()`` seconds: a ``KehuError`` it raises passes as it is; any other error becomes
    ``PLUGIN_FAILED`` and running too long ``PLUGIN_TIMEOUT`` (both naming the vertical, the
    traceback logged here, not shown), so the request fails and its unit of work rolls back."""
    if getattr(function, "__kehu_guarded__", False):
        return function

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        from core.errors import KehuError

        timeout = hook_timeout()
        future = _runner.submit(function, args, kwargs)
        if future is None:
            log.error("plugins.rule_timeout", vertical=vertical, rule=what, timeout=timeout, saturated=True)
            raise _failed(vertical, what, PLUGIN_TIMEOUT)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            log.error("plugins.rule_timeout", vertical=vertical, rule=what, timeout=timeout)
            raise _failed(vertical, what, PLUGIN_TIMEOUT) from None
        except KehuError:
            raise
        except BaseException as error:  # noqa: BLE001 - a vertical's bug fails its request, not the process
            log.error("plugins.rule_failed", vertical=vertical, rule=what, error=type(error).__name__, exc_info=error)
            raise _failed(vertical, what, PLUGIN_FAILED) from None

    call.__kehu_guarded__ = True  # type: ignore[attr-defined]
    return call


def guard_definition(definition: VerticalDefinition) -> VerticalDefinition:
    """The definition with every rule function the engines call on a request wrapped by ``guarded``."""
    name = definition.id
    standards = tuple(dataclasses.replace(s, checks=tuple(
        c if c.check is None else dataclasses.replace(c, check=guarded(name, f"archive check {c.code}", c.check))
        for c in s.checks)) for s in definition.archive_standards)
    policies = tuple(dataclasses.replace(p, decide=guarded(name, f"attribution policy {p.id}", p.decide))
                     for p in definition.attribution_policies)
    schemes = tuple(s if s.score is None else dataclasses.replace(s, score=guarded(name, f"grading scheme {s.id}", s.score))
                    for s in definition.grading_schemes)
    return dataclasses.replace(definition, archive_standards=standards, attribution_policies=policies,
                               grading_schemes=schemes)


def build_registry(manager: pluggy.PluginManager, blocked: Iterable[str] = (),
                   broken: BrokenPlugins = "fail") -> VerticalRegistry:
    """Call every hook once and freeze the answers; a plugin that breaks the contract stops start
    (``broken="fail"``) or is left out whole (``broken="skip"``)."""
    manager.check_pending()
    definitions: list[VerticalDefinition] = []
    skipped: list[tuple[str, str]] = []

    def refuse(error: PluginError) -> None:
        if broken != "skip":
            raise error
        log.warning("plugins.skipped", plugin=error.plugin, problem=error.problem)
        skipped.append((error.plugin, error.problem))

    for name, plugin in sorted(manager.list_name_plugin(), key=lambda pair: pair[0]):
        if plugin is None:  # blocked
            continue
        try:
            definition = collect_definition(manager, name)
        except PluginError as error:
            refuse(error)
            continue
        definitions.append(definition)
    return VerticalRegistry(
        verticals=tuple(d.info for d in definitions),
        blocked=tuple(sorted(blocked)),
        permissions=tuple(p for d in definitions for p in d.permissions),
        definitions=tuple(definitions),
        skipped=tuple(skipped),
    )


def broken_plugins_policy() -> BrokenPlugins:
    """``KEHU_BROKEN_PLUGINS``: ``fail`` (the default) or ``skip``."""
    value = os.environ.get(BROKEN_PLUGINS_ENV, "fail").strip().lower() or "fail"
    if value not in ("fail", "skip"):
        from core.errors import ConfigurationError

        raise ConfigurationError(f"{BROKEN_PLUGINS_ENV}={value!r}: expected fail or skip")
    return value  # type: ignore[return-value]


def register(manager: pluggy.PluginManager, name: str, plugin: ModuleType | object) -> None:
    """Register ``plugin`` under ``name``; a second vertical with the same id is refused."""
    if manager.get_plugin(name) is not None:
        raise PluginError(name, f"vertical id {name!r} is declared twice")
    manager.register(plugin, name=name)


def load_verticals(
    disabled: Iterable[str] = (), extra_plugins: Iterable[tuple[str, ModuleType | object]] = (),
    *, broken: BrokenPlugins | None = None,
) -> VerticalRegistry:
    """Load the installed verticals except those named in ``disabled`` (``KEHU_DISABLED_PLUGINS``).

    A plugin that cannot even be imported is a broken plugin like any other."""
    broken = broken or broken_plugins_policy()
    manager = new_plugin_manager()
    disabled = tuple(disabled)
    for name in disabled:
        manager.set_blocked(name)
    import_failures: list[tuple[str, str]] = []
    for entry_point in _entry_points():
        if manager.is_blocked(entry_point.name) or manager.has_plugin(entry_point.name):
            continue
        try:
            plugin = entry_point.load()
        except Exception as error:  # noqa: BLE001 - any import failure is the plugin's problem
            problem = f"cannot be imported: {type(error).__name__}: {error}"
            if broken != "skip":
                raise PluginError(entry_point.name, problem) from error
            log.warning("plugins.skipped", plugin=entry_point.name, problem=problem)
            import_failures.append((entry_point.name, problem))
            continue
        manager.register(plugin, name=entry_point.name)
    for name, plugin in extra_plugins:
        register(manager, name, plugin)
    known = {name for name, _ in manager.list_name_plugin()} | {ep.name for ep in _entry_points()}
    for name in disabled:
        if name not in known:
            log.warning("plugins.unknown_disabled", plugin=name, hint="KEHU_DISABLED_PLUGINS names no installed plugin")
    registry = build_registry(manager, blocked=disabled, broken=broken)
    if import_failures:
        registry = VerticalRegistry(verticals=registry.verticals, blocked=registry.blocked,
                                    permissions=registry.permissions, definitions=registry.definitions,
                                    skipped=(*registry.skipped, *import_failures))
    return registry


def _entry_points() -> list:
    from importlib.metadata import entry_points

    return sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


# The deployment's verticals, set once by whatever starts kehu (the app, ``kehu worker``,
# ``kehu scheduler``, a CLI command), for work that runs outside a request: ticks, jobs.
_started: VerticalRegistry | None = None


def start_verticals(registry: VerticalRegistry | None) -> None:
    """Make ``registry`` the deployment's verticals (None: forget them, as tests do)."""
    global _started
    _started = registry


def started_verticals() -> VerticalRegistry:
    """The deployment's verticals; before anything started them, every installed one."""
    return _started if _started is not None else load_verticals(())
