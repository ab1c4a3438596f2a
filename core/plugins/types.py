"""Typed, frozen definitions that hooks return. Validated when built, so a bad plugin fails at start."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import KehuError

_ID = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
_VERSION = re.compile(r"^\d+\.\d+(\.\d+)?([a-z0-9.+-]*)$")


class PluginError(KehuError):
    """A plugin broke the contract; kehu refuses to start with it."""

    def __init__(self, plugin: str, problem: str) -> None:
        super().__init__("PLUGIN_INVALID", f"plugin {plugin!r}: {problem}", f"插件 {plugin!r}：{problem}")
        self.plugin = plugin


@dataclass(frozen=True, slots=True)
class VerticalInfo:
    """Who a vertical is: its id (also its entry-point name), names in zh-CN and en, version."""

    id: str
    name_zh: str
    name_en: str
    version: str

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise PluginError(self.id, "id must be 2-40 lowercase letters, digits or underscores")
        if not self.name_zh.strip() or not self.name_en.strip():
            raise PluginError(self.id, "names in zh-CN and en are both required")
        if not _VERSION.match(self.version):
            raise PluginError(self.id, f"version {self.version!r} is not a version number")


_PERMISSION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


@dataclass(frozen=True, slots=True)
class Permission:
    """A permission a vertical adds: ``<vertical id>.<noun>.<verb>``, described in zh-CN and en."""

    name: str
    description_en: str
    description_zh: str

    def __post_init__(self) -> None:
        if not _PERMISSION.match(self.name) or len(self.name) > 100:
            raise PluginError(self.name, "a permission is dotted lowercase words, e.g. automotive.archive.check")
        if not self.description_en.strip() or not self.description_zh.strip():
            raise PluginError(self.name, "a permission needs descriptions in zh-CN and en")
