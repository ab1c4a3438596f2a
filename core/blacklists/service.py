"""Blacklist use cases (issue 20, MD13–MD16), one function per use case, and the check every
business action makes first: ``refuse_if_blacklisted``.

An entry counts while it is ``active`` and its expiry (if any) has not passed — the check compares
the expiry itself, so an entry stops blocking at its expiry even before the tick marks it
``expired``. A company entry (scope ``tenant``) blocks every department; a department entry only
its own department.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from piccolo.columns.combination import Or

from core.blacklists.tables import BlacklistEntry
from core.db.uow import UnitOfWork
from core.errors import KehuError
from core.plugins.types import BlacklistScope, Permission
from core.tenancy.tables import Department


def now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


class CustomerBlacklisted(KehuError):
    """``CUSTOMER_BLACKLISTED``: the customer is on the company blacklist or on the blacklist of
    the department acting; the message names the scope and the expiry."""

    def __init__(self, customer_id: UUID, scope: str, expires_at: datetime | None, *, action: str,
                 department_id: UUID | None = None, department_name: str | None = None) -> None:
        self.customer_id = customer_id
        self.scope = scope
        self.expires_at = expires_at
        self.department_id = department_id
        until_en = f"until {expires_at.date().isoformat()}" if expires_at else "with no expiry"
        until_zh = f"有效期至 {expires_at.date().isoformat()}" if expires_at else "无到期日"
        if scope == BlacklistScope.TENANT:
            where_en, where_zh = "the company blacklist", "公司黑名单"
        else:
            label = department_name or str(department_id)
            where_en, where_zh = f"the blacklist of department {label}", f"部门 {label} 的黑名单"
        super().__init__(
            "CUSTOMER_BLACKLISTED",
            f"the customer is on {where_en} ({until_en}); no {action} with it is allowed",
            f"该客户在{where_zh}上（{until_zh}），不得进行此项业务（{action}）",
            field="customer_id",
        )


def _in_force(query: Any, at: datetime) -> Any:
    return query.where((BlacklistEntry.status == "active")
                       & Or(BlacklistEntry.expires_at.is_null(), BlacklistEntry.expires_at > at))


async def entries_in_force(uow: UnitOfWork, customer_id: UUID, *, department_id: UUID | None = None,
                           at: datetime | None = None) -> list[dict[str, Any]]:
    """The customer's entries in force at ``at`` that bind ``department_id``: every company entry,
    and the entry of that department (none when no department is named). Company entries first."""
    at = at or now()
    query = _in_force(uow.select(BlacklistEntry).where(BlacklistEntry.customer_id == customer_id), at)
    rows = await query
    binding = [r for r in rows if r["scope"] == BlacklistScope.TENANT
               or (department_id is not None and r["department_id"] == department_id)]
    binding.sort(key=lambda r: (r["scope"] != BlacklistScope.TENANT, _utc(r["expires_at"]) or datetime.max.replace(tzinfo=UTC)))
    return binding


async def refuse_if_blacklisted(uow: UnitOfWork, customer_id: UUID, *, department_id: UUID | None = None,
                                action: str = "business") -> None:
    """Raise ``CUSTOMER_BLACKLISTED`` (naming the scope and the expiry) when the customer is on the
    company blacklist, or on the blacklist of ``department_id`` (MD14: a department entry blocks
    only its department; a company entry blocks every department). ``action`` names what was
    refused (a visit, an upward grading, an invitation, ...)."""
    binding = await entries_in_force(uow, customer_id, department_id=department_id)
    if not binding:
        return
    entry = binding[0]
    name = None
    if entry["scope"] == BlacklistScope.DEPARTMENT:
        row = await uow.select(Department.name).where(Department.id == entry["department_id"]).first()
        name = row["name"] if row else None
    raise CustomerBlacklisted(customer_id, entry["scope"], _utc(entry["expires_at"]), action=action,
                              department_id=entry["department_id"], department_name=name)


# --- permissions ---------------------------------------------------------------------------------

PERMISSIONS = (
    Permission("blacklist.read", "see blacklist entries", "查看黑名单"),
    Permission("blacklist.propose", "propose customers for a department or the company blacklist",
               "提出将客户列入部门或公司黑名单"),
    Permission("blacklist.approve", "approve or reject blacklist proposals of others (MD13: the marketing "
               "division for the company list, the department for its own)", "审批他人提出的黑名单申请"),
    Permission("blacklist.lift", "lift a blacklist entry before its expiry, with a reason", "提前解除黑名单并说明理由"),
)
