"""Access requests for bulk exports of customer data: who asks, why, for what, who decided."""

from piccolo.columns import UUID, Text, Timestamptz, Varchar

from core.db.tables import TenantOwned


class AccessRequest(TenantOwned, tablename="access_request"):
    """A request to export customers: requested -> approved | rejected; approved -> used | expired.
    ``scope`` is JSON ``{"filter": {...}, "fields": [...]}``: the customers and columns it covers."""

    requested_by = Varchar(length=100)  # actor: user:<id> or apikey:<id>
    purpose = Text()
    scope = Text()
    state = Varchar(length=16)  # requested | approved | rejected | used | expired
    approver_role = Varchar(length=100)  # the tenant's approver role when requested
    decided_by = Varchar(length=100, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    reason = Text(null=True, default=None)  # why it was rejected
    expires_at = Timestamptz(null=True, default=None)  # set on approval
    used_at = Timestamptz(null=True, default=None)
    job_id = UUID(null=True, default=None)  # the export that used it


ACCESS_TABLES = (AccessRequest,)

# What this domain registers with core's Piccolo app (core/piccolo_app.py).
TABLES = ACCESS_TABLES
