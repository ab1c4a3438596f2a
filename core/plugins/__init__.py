"""The plugin contract. A vertical imports only this package: ``hookimpl`` and the types."""

from core.plugins.hookspecs import PROJECT_NAME, hookimpl, hookspec
from core.plugins.types import Permission, PluginError, VerticalInfo

__all__ = ["PROJECT_NAME", "Permission", "PluginError", "VerticalInfo", "hookimpl", "hookspec"]
