"""Change requests of customer records (seed-004 §2.3.2, W5; CSM-5 to CSM-8): what a source
department or person asks to change, whether it touches key fields and by when (key changes only),
and how the customer information management specialist decided it."""

from piccolo.columns import UUID, Boolean, Integer, Text, Timestamptz, Varchar

from core.db.tables import TenantOwned


class CustomerChangeRequest(TenantOwned, tablename="customer_change_request"):
    customer_id = UUID()
    base_version = Integer()  # the customer's version the change was asked against
    changes = Text()  # sealed JSON {input field: new value} (may hold personal data)
    fields = Text(default="[]")  # JSON list of the dotted fields it changes (names only)
    key_fields = Text(default="[]")  # JSON list of those that are key
    is_key = Boolean(default=False)
    reason = Text(default="")
    change_occurred_on = Varchar(length=10)  # ISO date the change happened (变更发生)
    sla_working_days = Integer(null=True, default=None)  # key changes only
    due_on = Varchar(length=10, null=True, default=None)  # last day in time; key changes only
    due_at = Timestamptz(null=True, default=None)  # first instant past the deadline
    state = Varchar(length=16)  # submitted | applied | rejected
    submitted_by = Varchar(length=100)
    submitted_by_id = UUID(null=True, default=None)
    decided_by = Varchar(length=100, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    rejection_reason = Text(default="")
    applied_version = Integer(null=True, default=None)
    breached = Boolean(default=False)
    version = Integer(default=1)


TABLES = (CustomerChangeRequest,)
