"""Identity: users, their departments and roles, sessions, refresh tokens, API keys, login
throttling, tenant settings and ownership handovers."""

from core.db.migrations import raw_migration, tenant_table

ID = "0002-identity"
VERSION = "1.38.0"
DESCRIPTION = "identity and access tables with RLS"

TABLES = [
    tenant_table(
        "app_user",
        [
            "username VARCHAR(64) NOT NULL",
            "display_name VARCHAR(100) NOT NULL",
            "employee_no VARCHAR(64)",
            "password_hash TEXT NOT NULL",
            "password_changed_at TIMESTAMPTZ NOT NULL",
            "status VARCHAR(16) NOT NULL DEFAULT 'active'",
            "disabled_at TIMESTAMPTZ",
            "disabled_reason TEXT",
            "last_login_at TIMESTAMPTZ",
        ],
        unique=(("username",), ("employee_no",)),
    ),
    tenant_table(
        "user_department",
        ["user_id UUID NOT NULL", "department_id UUID NOT NULL"],
        unique=(("user_id", "department_id"),),
        indexes=(("department_id",),),
        references=(("user_id", "app_user"), ("department_id", "department")),
    ),
    tenant_table(
        "role",
        ["name VARCHAR(100) NOT NULL", "description TEXT NOT NULL DEFAULT ''"],
        unique=(("name",),),
    ),
    tenant_table(
        "role_permission",
        ["role_id UUID NOT NULL", "permission VARCHAR(100) NOT NULL", "scope VARCHAR(16) NOT NULL"],
        unique=(("role_id", "permission"),),
        references=(("role_id", "role"),),
    ),
    tenant_table(
        "user_role",
        ["user_id UUID NOT NULL", "role_id UUID NOT NULL", "granted_by VARCHAR(100) NOT NULL"],
        unique=(("user_id", "role_id"),),
        indexes=(("role_id",),),
        references=(("user_id", "app_user"), ("role_id", "role")),
    ),
    tenant_table(
        "auth_session",
        [
            "user_id UUID NOT NULL",
            "expires_at TIMESTAMPTZ NOT NULL",
            "revoked_at TIMESTAMPTZ",
            "revoked_reason VARCHAR(64)",
            "client_address VARCHAR(64)",
        ],
        indexes=(("user_id",),),
        references=(("user_id", "app_user"),),
    ),
    tenant_table(
        "refresh_token",
        [
            "session_id UUID NOT NULL",
            "token_hash VARCHAR(64) NOT NULL",
            "expires_at TIMESTAMPTZ NOT NULL",
            "used_at TIMESTAMPTZ",
        ],
        unique=(("token_hash",),),
        indexes=(("session_id",),),
        references=(("session_id", "auth_session"),),
    ),
    tenant_table(
        "api_key",
        [
            "name VARCHAR(100) NOT NULL",
            "token_hash VARCHAR(64) NOT NULL",
            "hint VARCHAR(16) NOT NULL",
            "permissions TEXT NOT NULL",
            "created_by VARCHAR(100) NOT NULL",
            "expires_at TIMESTAMPTZ",
            "last_used_at TIMESTAMPTZ",
            "revoked_at TIMESTAMPTZ",
        ],
        unique=(("token_hash",), ("name",)),
    ),
    tenant_table(
        "login_throttle",
        [
            "subject VARCHAR(200) NOT NULL",
            "failures INTEGER NOT NULL DEFAULT 0",
            "window_started_at TIMESTAMPTZ NOT NULL",
            "locked_until TIMESTAMPTZ",
        ],
        unique=(("subject",),),
    ),
    tenant_table(
        "tenant_setting",
        ["key VARCHAR(100) NOT NULL", "value TEXT NOT NULL", "updated_by VARCHAR(100) NOT NULL"],
        unique=(("key",),),
    ),
    tenant_table(
        "ownership_handover",
        [
            "from_user_id UUID NOT NULL",
            "to_user_id UUID NOT NULL",
            "moved TEXT NOT NULL",
            "reason TEXT NOT NULL",
            "actor VARCHAR(100) NOT NULL",
        ],
        indexes=(("from_user_id",),),
        references=(("from_user_id", "app_user"), ("to_user_id", "app_user")),
    ),
]

SQLITE = [statement for sqlite, _ in TABLES for statement in sqlite]
POSTGRES = [statement for _, postgres in TABLES for statement in postgres]


forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
