"""Pending grants of high-risk permissions (issue 24, seed-004 CSM-21)."""

from piccolo.columns import UUID, Text, Timestamptz, Varchar

from core.db.tables import TenantOwned


class PendingGrant(TenantOwned, tablename="pending_grant"):
    """A role granted to a user that gives them a high-risk permission: the user holds the role only
    once a department head (``role.grant.approve``, not the requester) approves."""

    user_id = UUID()
    role_id = UUID()
    requested_by = Varchar(length=100)
    high_risk = Text()  # JSON list of the high-risk permissions the grant gives
    state = Varchar(length=16)  # pending | approved | rejected
    decided_by = Varchar(length=100, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    decision_reason = Text(null=True, default=None)


TABLES = (PendingGrant,)
