"""Pure rules of key-field change requests and the quarterly review (seed-004 §2.3, CSM-4 to CSM-8):
which changed fields are key, the working-day deadline of a key change and whether an application
breached it, the states of a request, and calendar-quarter arithmetic. No I/O.

Field names are the customer record's flattened (dotted) names as its field history uses them:
``phones``, ``emails``, ``legal_representative``, ``business.scope``, ``address.city``,
``extensions.automotive.vin``. A declared key field covers itself and everything under it
(``address`` covers ``address.city``), so core fields and vertical extension fields are declared
alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

SETTING_KEY = "customers.change_review"
# Seed-004 §2.3.1: 联系方式 (phones, emails), 经营范围 (business scope), 法定代表人 (legal representative).
DEFAULT_KEY_FIELDS: tuple[str, ...] = ("phones", "emails", "legal_representative", "business.scope")
DEFAULT_SLA_WORKING_DAYS = 3
MAX_SLA_WORKING_DAYS = 60
MAX_KEY_FIELDS = 50
DEFAULTS: dict[str, Any] = {"enabled": False, "key_fields": list(DEFAULT_KEY_FIELDS),
                            "sla_working_days": DEFAULT_SLA_WORKING_DAYS}

SUBMITTED, APPLIED, REJECTED = "submitted", "applied", "rejected"
STATES = (SUBMITTED, APPLIED, REJECTED)

_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")


class WorkingDays(Protocol):
    def add_working_days(self, day: date, n: int) -> date: ...


@dataclass(frozen=True, slots=True)
class ChangeSettings:
    enabled: bool  # a key change by someone without customer.change.apply must go through a request
    key_fields: tuple[str, ...]
    sla_working_days: int


def settings_of(stored: Mapping[str, Any] | None) -> ChangeSettings:
    values = {**DEFAULTS, **(stored or {})}
    return ChangeSettings(enabled=bool(values["enabled"]), key_fields=tuple(values["key_fields"]),
                          sla_working_days=int(values["sla_working_days"]))


def is_key(name: str, key_fields: Iterable[str]) -> bool:
    """Whether the dotted field ``name`` is, or lies under, one of ``key_fields``."""
    return any(name == key or name.startswith(key + ".") for key in key_fields)


def key_fields_of(changed: Iterable[str], key_fields: Iterable[str]) -> list[str]:
    """The changed (dotted) field names that are key, sorted."""
    keys = tuple(key_fields)
    return sorted(name for name in changed if is_key(name, keys))


def well_formed_field(name: object) -> bool:
    return isinstance(name, str) and len(name) <= 200 and bool(_FIELD_NAME.match(name))


def due_on(occurred_on: date, sla_working_days: int, calendar: WorkingDays) -> date:
    """The last day a key change that occurred on ``occurred_on`` may be applied: the
    ``sla_working_days``-th working day after it (the day of the change is not counted, seed-004
    Q4). A change on Friday 2024-06-07 with 3 days and Monday 06-10 a holiday: Thursday 06-13."""
    return calendar.add_working_days(occurred_on, sla_working_days)


def due_at(due_day: date, zone: ZoneInfo) -> datetime:
    """The first instant past the deadline: midnight after the due day, in the tenant's zone. The
    whole due day is in time ("[X]个工作日内")."""
    return datetime.combine(due_day + timedelta(days=1), time(0), tzinfo=zone)


def breached(due_day: date | None, applied_at: datetime, zone: ZoneInfo) -> bool:
    """Applied on a later local day than the due day (no deadline: never)."""
    return due_day is not None and applied_at.astimezone(zone).date() > due_day


def overdue(state: str, due_day: date | None, at: datetime, zone: ZoneInfo) -> bool:
    """Still open and past its deadline at ``at``."""
    return state == SUBMITTED and due_day is not None and at.astimezone(zone).date() > due_day


# --- calendar quarters (the full review, R-01 "每季度一次") ---------------------------------------

@dataclass(frozen=True, slots=True, order=True)
class Quarter:
    year: int
    number: int  # 1..4

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)

    def label(self) -> str:
        return f"{self.year}-Q{self.number}"


def quarter_of(day: date) -> Quarter:
    return Quarter(day.year, (day.month - 1) // 3 + 1)


def last_ended_quarter(on: date) -> Quarter:
    """The latest calendar quarter that has ended before ``on`` (on 2024-07-01: 2024 Q2)."""
    return quarter_of(on).previous()


def reviewed_in(quarter: Quarter, reviews: Iterable[datetime], zone: ZoneInfo) -> bool:
    """Whether any review time falls in ``quarter`` (local dates in the tenant's zone)."""
    return any(quarter.first_day <= at.astimezone(zone).date() <= quarter.last_day for at in reviews)


# --- mandatory fields of the tenant's archive standard (§2.1.3 "必填字段…不得遗漏", CSM-1) ----------

REQUIRED_SETTING_KEY = "customers.required_fields"
# What a tenant may require on top of what every record needs (kind, a name): the seed's basic
# information (§2.1.2) and the collection channel. ``contact_methods``: at least one phone or e-mail.
REQUIRABLE_FIELDS = ("legal_representative", "address", "business.scope", "contact_methods", "phones", "emails",
                     "identifier", "source_channel")
ORGANISATION_ONLY = ("legal_representative",)


def missing_required(record: Mapping[str, Any], required: Iterable[str]) -> str | None:
    """The first required field (in ``REQUIRABLE_FIELDS`` order) a record lacks; a field of
    organisations only is not asked of a person."""
    wanted = set(required)
    for name in REQUIRABLE_FIELDS:
        if name not in wanted or (name in ORGANISATION_ONLY and record.get("kind") != "organisation"):
            continue
        if name == "contact_methods":
            present = bool(record.get("phones") or record.get("emails"))
        else:
            value: Any = record
            for part in name.split("."):
                value = value.get(part) if isinstance(value, Mapping) else None
            present = value not in (None, "", [], {})
        if not present:
            return name
    return None
