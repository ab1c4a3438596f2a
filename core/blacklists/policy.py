"""Blacklist rules as pure functions, no I/O (MD13–MD16, seed-002 R5-14–R5-16).

- A department entry lasts 6 months by default (MD15 "暂定6个月"), counted in calendar months
  from the day it takes effect (listed 2024-01-01 → expires 2024-07-01); a grading scheme's
  ``blacklist_days`` replaces that default; it may be shortened, never lengthened.
- A company entry has no expiry by default (seed-002 R5-16: not stated → a tenant parameter,
  ``company_days``); when one is set, it too may only be shortened.
- After expiry a customer returns only through re-admission, and only at the lowest grade of the
  scheme (MD15: "re-enters only as 合格类"): ``readmission_grade``.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.errors import KehuError
from core.plugins.types import BlacklistScope, Grade, GradingScheme

DEPARTMENT_MONTHS = 6  # MD15
MAX_VALIDITY_DAYS = 36500  # a shortened validity of a company entry with no expiry: at most 100 years
MAX_REASON = 2000
MAX_EVIDENCE = 50
MAX_EVIDENCE_TEXT = 2000


@dataclass(frozen=True, slots=True)
class Validity:
    """The default validity of a scope: ``months`` or ``days`` (one of them), or neither (no expiry)."""

    months: int | None = None
    days: int | None = None


def add_months(at: datetime, months: int) -> datetime:
    """``at`` moved by whole calendar months, the day clipped to the month's end (Aug 31 + 6 → Feb 28/29)."""
    month = at.month - 1 + months
    year, month = at.year + month // 12, month % 12 + 1
    day = min(at.day, calendar.monthrange(year, month)[1])
    return at.replace(year=year, month=month, day=day)


def default_validity(scope: str, scheme: GradingScheme | None = None, *, company_days: int | None = None,
                     department_months: int = DEPARTMENT_MONTHS) -> Validity:
    """The validity an entry of ``scope`` gets when none shorter is asked for."""
    if scope == BlacklistScope.DEPARTMENT:
        if scheme is not None and scheme.blacklist_days:
            return Validity(days=scheme.blacklist_days)
        return Validity(months=department_months)
    return Validity(days=company_days) if company_days else Validity()


def expiry(starts_at: datetime, default: Validity, requested_days: int | None = None) -> datetime | None:
    """When an entry taking effect at ``starts_at`` expires: the default, or ``requested_days``
    when that is shorter (MD15 "may be shortened in special cases"); never longer."""
    if default.months is not None:
        limit: datetime | None = add_months(starts_at, default.months)
    elif default.days is not None:
        limit = starts_at + timedelta(days=default.days)
    else:
        limit = None
    if requested_days is None:
        return limit
    if not isinstance(requested_days, int) or isinstance(requested_days, bool) \
            or not 1 <= requested_days <= MAX_VALIDITY_DAYS:
        raise KehuError("BLACKLIST_VALIDITY_INVALID",
                        f"the validity is a whole number of days from 1 to {MAX_VALIDITY_DAYS}",
                        f"有效期须为 1 至 {MAX_VALIDITY_DAYS} 天的整数天数", field="validity_days")
    asked = starts_at + timedelta(days=requested_days)
    if limit is not None and asked > limit:
        raise KehuError("BLACKLIST_VALIDITY_INVALID",
                        f"a blacklist entry may be shortened, not lengthened: at most until {limit.date().isoformat()}",
                        f"黑名单有效期只可缩短，不可延长：最迟至 {limit.date().isoformat()}", field="validity_days")
    return asked


def check_scope(scope: object, department_id: object, allowed: Sequence[str] = tuple(BlacklistScope)) -> str:
    """``scope`` is a BlacklistScope the scheme allows; a department entry names its department,
    a company entry names none."""
    if scope not in {str(s) for s in allowed}:
        raise KehuError("BLACKLIST_SCOPE_INVALID", f"the blacklist scope is one of {', '.join(map(str, allowed))}",
                        f"黑名单范围须为 {', '.join(map(str, allowed))} 之一", field="scope")
    if (scope == BlacklistScope.DEPARTMENT) != (department_id is not None):
        raise KehuError("BLACKLIST_SCOPE_INVALID",
                        "a department entry names its department; a company entry names none",
                        "部门黑名单须指明部门；公司黑名单不指明部门", field="department_id")
    return str(scope)


def check_reason(reason: object, field: str = "reason") -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text or len(text) > MAX_REASON:
        raise KehuError("BLACKLIST_REASON_REQUIRED", f"give a reason of at most {MAX_REASON} characters",
                        f"请填写不超过 {MAX_REASON} 字的理由", field=field)
    return text


def check_evidence(evidence: object) -> list[dict[str, str]]:
    """Evidence: a list of items, each with a ``text`` and/or a ``reference`` (a document number,
    a file reference), strings of at most 2000 characters; at least one item."""
    if not isinstance(evidence, (list, tuple)) or not evidence or len(evidence) > MAX_EVIDENCE:
        raise KehuError("BLACKLIST_EVIDENCE_INVALID", f"give 1 to {MAX_EVIDENCE} evidence items",
                        f"请提供 1 至 {MAX_EVIDENCE} 项证据", field="evidence")
    items = []
    for i, item in enumerate(evidence):
        ok = isinstance(item, Mapping) and set(item) <= {"text", "reference"} and any(item.get(k) for k in item) \
            and all(isinstance(v, str) and len(v) <= MAX_EVIDENCE_TEXT for v in item.values())
        if not ok:
            raise KehuError("BLACKLIST_EVIDENCE_INVALID",
                            f"evidence item {i} has a text and/or a reference of at most {MAX_EVIDENCE_TEXT} characters",
                            f"第 {i} 项证据须有不超过 {MAX_EVIDENCE_TEXT} 字的说明或引用", field=f"evidence.{i}")
        items.append({k: v.strip() for k, v in item.items() if v.strip()})  # type: ignore[union-attr]
    return items


def readmission_grade(scheme: GradingScheme) -> Grade:
    """The only grade a customer may return at after its blacklist entry expired (MD15: 合格类):
    the lowest grade of the scheme (the highest ``rank``; grades are listed best first)."""
    if not scheme.grades:
        raise ValueError(f"the grading scheme {scheme.id!r} has no grades")
    return max(scheme.grades, key=lambda g: (g.rank, scheme.grades.index(g)))


def may_readmit_at(entry: Mapping[str, Any], at: datetime) -> bool:
    """A listed customer may be re-admitted only after its entry ended (expired or lifted); an
    entry with no expiry that is still active never allows it."""
    if entry["status"] in ("lifted", "expired", "rejected"):
        return True
    expires = entry.get("expires_at")
    return entry["status"] == "active" and expires is not None and expires <= at
