"""Authorization checks, enforced in core's services (never only in the UI or resolvers)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from core.context import Context
from core.errors import KehuError
from core.identity.permissions import Scope


class Unauthenticated(KehuError):
    def __init__(self) -> None:
        super().__init__("UNAUTHENTICATED", "sign in first", "请先登录")


class PermissionDenied(KehuError):
    """The caller lacks ``permission``; with ``alternatives``, any one of them would have done."""

    def __init__(self, permission: str, *alternatives: str) -> None:
        names = list(dict.fromkeys((permission, *alternatives)))
        if len(names) == 1:
            super().__init__("PERMISSION_DENIED", f"you lack the permission {permission}", f"缺少权限 {permission}")
        else:
            listed = ", ".join(names)
            super().__init__("PERMISSION_DENIED", f"you lack the permission for this: one of {listed}",
                             f"缺少权限：须具备以下之一 {'、'.join(names)}")
        self.permission = permission
        self.permissions = tuple(names)


class SeparationOfDuties(KehuError):
    def __init__(self, step: str) -> None:
        super().__init__(
            "SEPARATION_OF_DUTIES",
            f"{step} must be done by someone other than the actor of the earlier step",
            f"{step} 须由前一步骤执行人以外的人完成",
        )


class PasswordChangeRequired(KehuError):
    def __init__(self) -> None:
        super().__init__("PASSWORD_CHANGE_REQUIRED",
                         "change your password first (passwordChange), then sign in again",
                         "请先修改密码（passwordChange），然后重新登录")


def require(ctx: Context, permission: str) -> Scope:
    """Refuse unless ``ctx`` holds ``permission``; return the scope it holds it with."""
    if ctx.is_system:
        return Scope.TENANT
    if ctx.principal is None:
        raise Unauthenticated()
    if ctx.principal.password_change_required:
        raise PasswordChangeRequired()
    scope = ctx.principal.permissions.get(permission)
    if scope is None:
        raise PermissionDenied(permission)
    return scope


def require_any(ctx: Context, permissions: Sequence[str], *, missing: Sequence[str] | None = None) -> Scope:
    """Refuse unless ``ctx`` holds one of ``permissions`` (e.g. ``<vertical>.archive.check`` of
    any vertical); return the widest scope held. The refusal names what the caller actually lacks
    among ``missing`` (default ``permissions``): the one of the vertical (the name's first part)
    the caller already holds permissions in, when that is a single one; else every candidate."""
    if ctx.is_system:
        return Scope.TENANT
    require_signed_in(ctx)
    held: Scope | None = None
    for name in permissions:
        try:
            scope = require(ctx, name)
        except PermissionDenied:
            continue
        if held is None or scope.breadth > held.breadth:
            held = scope
    if held is not None:
        return held
    candidates = list(dict.fromkeys(missing if missing is not None else permissions))
    if not candidates:
        raise PermissionDenied("(none declared)")
    assert ctx.principal is not None  # require_signed_in refused the anonymous caller
    mine = {name.split(".", 1)[0] for name in ctx.principal.permissions}
    own = [name for name in candidates if name.split(".", 1)[0] in mine]
    named = own if len(own) == 1 else candidates
    raise PermissionDenied(named[0], *named[1:])


def require_signed_in(ctx: Context) -> None:
    """For what every member of a tenant may read (its calendar, its own profile)."""
    if not ctx.is_system and ctx.principal is None:
        raise Unauthenticated()
    if ctx.principal is not None and ctx.principal.password_change_required:
        raise PasswordChangeRequired()


def may_reach(ctx: Context, permission: str, *, owner_id: UUID | None, department_id: UUID | None) -> bool:
    """Whether ``ctx`` holds ``permission`` over a record with this owner and department."""
    try:
        scope = require(ctx, permission)
    except (Unauthenticated, PermissionDenied):
        return False
    if scope is Scope.TENANT:
        return True
    principal = ctx.principal
    assert principal is not None
    if scope is Scope.DEPARTMENT and department_id is not None and department_id in principal.department_ids:
        return True
    return owner_id is not None and owner_id == principal.user_id


def require_different_actor(ctx: Context, earlier_actor: str, step: str) -> None:
    """Separation of duties: the actor of ``step`` may not be the actor of an earlier step
    (e.g. the checker of an archive is never its submitter)."""
    if ctx.actor == earlier_actor:
        raise SeparationOfDuties(step)
