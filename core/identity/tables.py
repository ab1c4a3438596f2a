"""Identity tables. All tenant-owned: each has tenant_id, the unit-of-work filter and an RLS policy."""

from piccolo.columns import UUID, BigInt, Integer, Text, Timestamptz, Varchar

from core.db.tables import TenantOwned


class User(TenantOwned, tablename="app_user"):
    """A member of a tenant's staff. One account per person: ``employee_no`` is unique per tenant."""

    username = Varchar(length=64)  # stored lower-case; unique per tenant
    display_name = Varchar(length=100)
    employee_no = Varchar(length=64, null=True, default=None)
    password_hash = Text()
    password_changed_at = Timestamptz()
    status = Varchar(length=16, default="active")  # active | disabled
    disabled_at = Timestamptz(null=True, default=None)
    disabled_reason = Text(null=True, default=None)
    last_login_at = Timestamptz(null=True, default=None)
    must_change_password = Integer(default=0)  # 1: chosen by someone else, changed at first sign-in
    clearance = Integer(default=0)  # CSM-20: reads customers up to this access level


class UserDepartment(TenantOwned, tablename="user_department"):
    user_id = UUID(null=True, default=None)
    department_id = UUID(null=True, default=None)


class Role(TenantOwned, tablename="role"):
    """A tenant-named role (客服部档案管理员, 销售顾问, …) granting permissions with a scope."""

    name = Varchar(length=100)
    description = Text(default="")


class RolePermission(TenantOwned, tablename="role_permission"):
    role_id = UUID(null=True, default=None)
    permission = Varchar(length=100)
    scope = Varchar(length=16)  # own | department | tenant


class UserRole(TenantOwned, tablename="user_role"):
    user_id = UUID(null=True, default=None)
    role_id = UUID(null=True, default=None)
    granted_by = Varchar(length=100)


class AuthSession(TenantOwned, tablename="auth_session"):
    """A login: the family of its refresh tokens. Revoking it ends every token of the login."""

    user_id = UUID(null=True, default=None)
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    revoked_reason = Varchar(length=64, null=True, default=None)
    client_address = Varchar(length=64, null=True, default=None)
    password_change_required = Integer(default=0)  # 1: this login may only change the password
    totp_enrolment_required = Integer(default=0)  # 1: this login may only enrol a second factor


class RefreshToken(TenantOwned, tablename="refresh_token"):
    """One refresh token, stored as a hash. ``used_at`` set means rotated: a second use is theft."""

    session_id = UUID(null=True, default=None)
    token_hash = Varchar(length=64)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class ApiKey(TenantOwned, tablename="api_key"):
    """An integrator's service account: chosen permissions, shown once, stored as a hash."""

    name = Varchar(length=100)
    token_hash = Varchar(length=64)
    hint = Varchar(length=16)  # the first characters, so people can tell keys apart
    permissions = Text()  # JSON list of permission names; scope is always the whole tenant
    created_by = Varchar(length=100)
    expires_at = Timestamptz(null=True, default=None)
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class LoginThrottle(TenantOwned, tablename="login_throttle"):
    """Failed logins per subject (``user:<id>`` or ``address:<ip>``) within a window, and lockout."""

    subject = Varchar(length=200)
    failures = Integer(default=0)
    window_started_at = Timestamptz()
    locked_until = Timestamptz(null=True, default=None)


class TenantSetting(TenantOwned, tablename="tenant_setting"):
    """A tenant's setting (password policy, lockout, …) as JSON, validated by its owner module."""

    key = Varchar(length=100)
    value = Text()
    updated_by = Varchar(length=100)


class OwnershipHandover(TenantOwned, tablename="ownership_handover"):
    """The record of a departing user's records moving to a named successor."""

    from_user_id = UUID(null=True, default=None)
    to_user_id = UUID(null=True, default=None)
    moved = Text()  # JSON {record type: count}
    reason = Text()
    actor = Varchar(length=100)


class RoleChange(TenantOwned, tablename="role_change"):
    """A requested change of a role's permissions, applied only when another user approves it."""

    role_id = UUID(null=True, default=None)
    requested_by = Varchar(length=100)
    base_permissions = Text()  # JSON {permission: scope}: the role when asked (a later edit makes it stale)
    permissions = Text()  # JSON {permission: scope}: the role's whole permission set once approved
    reason = Text(default="")
    state = Varchar(length=16)  # pending | approved | rejected | cancelled
    decided_by = Varchar(length=100, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    decision_reason = Text(null=True, default=None)

# What this domain registers with core's Piccolo app (core/piccolo_app.py).


class PostDelegation(TenantOwned, tablename="post_delegation"):
    """A/B posts (seed 001 S21 Art5): the holder of a post (a role) hands it to a colleague for a
    time window, with the handover record (交接记录); the colleague holds the role's permissions only
    inside the window, and only until the delegation is ended."""

    role_id = UUID()
    from_user_id = UUID()
    to_user_id = UUID()
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    handover = Text()
    created_by = Varchar(length=100)
    ended_at = Timestamptz(null=True, default=None)
    ended_by = Varchar(length=100, null=True, default=None)
    return_note = Text(default="")


class TotpEnrolment(TenantOwned, tablename="totp_enrolment"):
    """A user's TOTP second factor: the secret sealed with the tenant's data key, confirmed once a
    code from the authenticator app matched; recovery codes as SHA-256 hashes (null once used)."""

    user_id = UUID()
    secret = Text()
    confirmed_at = Timestamptz(null=True, default=None)
    last_step = BigInt(default=0)  # the last time step accepted: a code works once
    recovery_codes = Text(default="[]")


class SignInChallenge(TenantOwned, tablename="sign_in_challenge"):
    """A question asked after repeated failed sign-ins for a username: answer hashed, single use."""

    username = Varchar(length=64)
    answer_hash = Varchar(length=64)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class RefusedAttempt(TenantOwned, tablename="refused_attempt"):
    """The security log of refusals, written after the refused operation rolled back. Never holds a
    password, code, token or key: ``summary`` is a bounded JSON of the operation's harmless parts."""

    actor = Varchar(length=100)
    username = Varchar(length=64, null=True, default=None)
    client_address = Varchar(length=64, null=True, default=None)
    request_id = Varchar(length=64, null=True, default=None)
    operation = Varchar(length=100)
    code = Varchar(length=64)
    result = Varchar(length=16)  # denied | failure
    summary = Text(default="{}")


TABLES = (User, UserDepartment, Role, RolePermission, UserRole, AuthSession, RefreshToken, ApiKey, LoginThrottle,
          TenantSetting, OwnershipHandover, RoleChange, PostDelegation,
          TotpEnrolment, SignInChallenge, RefusedAttempt)
