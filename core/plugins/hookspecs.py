"""The hooks a vertical plugin may implement. Each is called once, at start; none on a request.

A plugin implements only the hooks it needs, with ``@hookimpl`` from ``core.plugins``.
"""

from __future__ import annotations

import pluggy

from collections.abc import Iterable

from core.plugins.types import Permission, VerticalInfo

PROJECT_NAME = "kehu"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec(firstresult=True)
def kehu_vertical_info() -> VerticalInfo:  # type: ignore[empty-body]
    """Return who this vertical is: id (equal to its entry-point name), names, version.

    Required: a plugin without it is refused at start.
    """


@hookspec
def kehu_permissions() -> Iterable[Permission]:  # type: ignore[empty-body]
    """Return the permissions this vertical adds; each name starts with the vertical's id.

    Tenants grant them through roles like core's own (``customer.read``, ``role.grant``, …).
    """
