"""Pure rules of fault tickets (seed-004 §3.3, CSM-27/28): the fix deadline in clock hours, the
breach, the states a ticket moves through.

The complaint engine's clocks (core.complaints.policy.due_time/advance) do not fit here: they
count against a TenantCalendar (working days, holidays, office hours) that must be loaded with
I/O, while a fault's deadline is plain clock hours (§3.3.3 "小时") from the report: the
deadline is reported_at + N hours, nothing else.
"""

from __future__ import annotations

from datetime import datetime, timedelta

SEVERITIES = ("critical", "major", "general")
# Hours to fix a fault of each severity unless the tenant sets its own (fault_fix_hours_<severity>).
DEFAULT_FIX_HOURS = {"critical": 2, "major": 4, "general": 8}
MAX_FIX_HOURS = 720
SETTING_KEYS = {severity: f"fault_fix_hours_{severity}" for severity in SEVERITIES}

# state -> (action -> next state)
TRANSITIONS = {
    "reported": {"acknowledge": "acknowledged", "start": "in_progress", "resolve": "resolved"},
    "acknowledged": {"start": "in_progress", "resolve": "resolved"},
    "in_progress": {"resolve": "resolved"},
    "resolved": {"close": "closed", "reopen": "in_progress"},
    "closed": {},
}
OPEN = ("reported", "acknowledged", "in_progress")
REQUIRED = ("symptom", "occurred_at", "impact_scope")


def due_at(reported_at: datetime, fix_hours: int) -> datetime:
    """The fix deadline: the report time plus the severity's hours (clock hours)."""
    return reported_at + timedelta(hours=fix_hours)


def breached(due: datetime, resolved_at: datetime) -> bool:
    """Resolved after the deadline; resolving at the deadline itself is in time."""
    return resolved_at > due


def overdue(status: str, due: datetime, at: datetime) -> bool:
    """Still open and past its deadline."""
    return status in OPEN and at > due


def next_state(status: str, action: str) -> str | None:
    return TRANSITIONS.get(status, {}).get(action)


def missing_field(fields: dict) -> str | None:
    """The first required report field left out or blank (CSM-28)."""
    for name in REQUIRED:
        value = fields.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return name
    return None
