"""Blacklist entries (MD13–MD16). ``scope`` is ``tenant`` (the company blacklist, every
department) or ``department`` (``department_id``). An entry is ``proposed`` until another user
approves it (``active``), or is rejected; an active entry ends ``lifted`` by hand or ``expired`` by
the tick once ``expires_at`` has passed (null: no expiry). ``evidence`` is JSON: a list of
``{"text": ..., "reference": ...}`` items (references only, never files)."""

from piccolo.columns import UUID, Integer, Text, Timestamptz, Varchar

from core.db.tables import TenantOwned


class BlacklistEntry(TenantOwned, tablename="blacklist_entry"):
    customer_id = UUID()
    scope = Varchar(length=16)  # tenant | department
    department_id = UUID(null=True, default=None)
    status = Varchar(length=16)  # proposed | active | rejected | lifted | expired
    reason = Text()
    evidence = Text(default="[]")
    proposed_by = Varchar(length=100)
    proposed_at = Timestamptz()
    approved_by = Varchar(length=100, null=True, default=None)
    approved_at = Timestamptz(null=True, default=None)
    starts_at = Timestamptz(null=True, default=None)
    expires_at = Timestamptz(null=True, default=None)
    validity_days = Integer(null=True, default=None)  # the validity asked for (null: the scheme's default)
    decided_note = Text(null=True, default=None)  # the approver's or rejecter's note
    ended_at = Timestamptz(null=True, default=None)  # lifted, expired or rejected at
    ended_by = Varchar(length=100, null=True, default=None)
    end_reason = Text(null=True, default=None)
    version = Integer(default=1)


# What this domain registers with core's Piccolo app (core/piccolo_app.py).
TABLES = (BlacklistEntry,)
