"""Fault tickets of the customer system itself (seed-004 §3.3, CSM-27/28): what was seen, when it
began, what it touches; the fix deadline stored when it is reported (reported_at + the tenant's
hours for its severity) and whether it was resolved after it."""

from piccolo.columns import Boolean, Integer, Text, Timestamptz, Varchar

from core.db.tables import TenantOwned


class FaultTicket(TenantOwned, tablename="fault_ticket"):
    symptom = Text()
    occurred_at = Timestamptz()
    impact_scope = Text()
    severity = Varchar(length=16)  # critical | major | general
    status = Varchar(length=16)  # reported | acknowledged | in_progress | resolved | closed
    reported_at = Timestamptz()
    reported_by = Varchar(length=100)
    fix_hours = Integer()
    due_at = Timestamptz()
    acknowledged_at = Timestamptz(null=True, default=None)
    started_at = Timestamptz(null=True, default=None)
    resolved_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    resolution = Text(default="")
    breached = Boolean(default=False)
    version = Integer(default=1)


TABLES = (FaultTicket,)
