"""Loading verticals: entry points of group ``kehu.verticals``, minus the blocked ones."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType

import pluggy
import structlog

from core.plugins import hookspecs
from core.plugins.types import Permission, PluginError, VerticalInfo

ENTRY_POINT_GROUP = "kehu.verticals"
log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class VerticalRegistry:
    """Everything the loaded verticals declared, validated and frozen at start."""

    verticals: tuple[VerticalInfo, ...]
    blocked: tuple[str, ...] = ()
    permissions: tuple[Permission, ...] = ()

    def ids(self) -> tuple[str, ...]:
        return tuple(info.id for info in self.verticals)

    def get(self, vertical_id: str) -> VerticalInfo | None:
        return next((info for info in self.verticals if info.id == vertical_id), None)


def new_plugin_manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    return manager


def build_registry(manager: pluggy.PluginManager, blocked: Iterable[str] = ()) -> VerticalRegistry:
    """Call every hook once and freeze the answers; a plugin that breaks the contract stops start."""
    manager.check_pending()
    answers = {impl.plugin_name: impl.function() for impl in manager.hook.kehu_vertical_info.get_hookimpls()}
    verticals = []
    for name, plugin in sorted(manager.list_name_plugin(), key=lambda pair: pair[0]):
        if plugin is None:  # blocked
            continue
        if name not in answers:
            raise PluginError(name, "kehu_vertical_info is required")
        info = answers[name]
        if not isinstance(info, VerticalInfo):
            raise PluginError(name, "kehu_vertical_info must return a VerticalInfo")
        if info.id != name:
            raise PluginError(name, f"kehu_vertical_info id {info.id!r} differs from its entry-point name")
        verticals.append(info)
    permissions = []
    for impl in manager.hook.kehu_permissions.get_hookimpls():
        for permission in impl.function() or ():
            if not isinstance(permission, Permission):
                raise PluginError(impl.plugin_name, "kehu_permissions must return Permission objects")
            if not permission.name.startswith(f"{impl.plugin_name}."):
                raise PluginError(impl.plugin_name, f"permission {permission.name!r} must start with {impl.plugin_name!r}.")
            permissions.append(permission)
    if len({p.name for p in permissions}) != len(permissions):
        raise PluginError("kehu", "two plugins declare the same permission")
    return VerticalRegistry(verticals=tuple(verticals), blocked=tuple(sorted(blocked)), permissions=tuple(permissions))


def load_verticals(
    disabled: Iterable[str] = (), extra_plugins: Iterable[tuple[str, ModuleType | object]] = ()
) -> VerticalRegistry:
    """Load the installed verticals except those named in ``disabled`` (``KEHU_DISABLED_PLUGINS``)."""
    manager = new_plugin_manager()
    disabled = tuple(disabled)
    for name in disabled:
        manager.set_blocked(name)
    manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for name, plugin in extra_plugins:
        manager.register(plugin, name=name)
    known = {name for name, _ in manager.list_name_plugin()} | {
        ep.name for ep in _entry_points()
    }
    for name in disabled:
        if name not in known:
            log.warning("plugins.unknown_disabled", plugin=name, hint="KEHU_DISABLED_PLUGINS names no installed plugin")
    return build_registry(manager, blocked=disabled)


def _entry_points() -> list:
    from importlib.metadata import entry_points

    return list(entry_points(group=ENTRY_POINT_GROUP))
