"""Pending grants of high-risk permissions (issue 24, seed-004 CSM-21) and permission reviews
(CSM-22)."""

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


class PermissionReview(TenantOwned, tablename="permission_review"):
    """A review of a user's permissions opened by a change of their department or post (seed-004
    CSM-22); closed by a holder of ``role.grant`` with its outcome."""

    user_id = UUID()
    trigger = Varchar(length=32)  # department_changed
    change = Text()  # JSON {field: [before, after]}
    state = Varchar(length=16)  # open | closed
    outcome = Varchar(length=16, null=True, default=None)  # kept | adjusted
    note = Text(null=True, default=None)
    closed_by = Varchar(length=100, null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)


TABLES = (PendingGrant, PermissionReview)
