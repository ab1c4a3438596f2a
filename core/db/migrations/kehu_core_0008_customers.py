"""Customer records: customers, contacts, field history, match keys, merges."""

from core.db.migrations import raw_migration, tenant_table

ID = "0008-customers"
VERSION = "1.38.0"
DESCRIPTION = "customer, customer_contact, customer_history, customer_key, customer_merge with RLS"

_CUSTOMER = tenant_table(
    "customer",
    [
        "kind VARCHAR(16) NOT NULL",
        "status VARCHAR(16) NOT NULL",
        "display_name VARCHAR(200) NOT NULL",
        "owner_id UUID",
        "department_id UUID",
        "is_key BOOLEAN NOT NULL DEFAULT FALSE",
        "source_channel VARCHAR(32)",
        "tags TEXT NOT NULL DEFAULT '[]'",
        "search TEXT NOT NULL DEFAULT ''",
        "data TEXT NOT NULL",
        "version INTEGER NOT NULL DEFAULT 1",
        "review_due_at TIMESTAMPTZ",
        "last_reviewed_at TIMESTAMPTZ",
        "last_reviewed_by VARCHAR(100)",
        "review_notified_at TIMESTAMPTZ",
        "merged_into UUID",
        "deleted_at TIMESTAMPTZ",
        "updated_at TIMESTAMPTZ NOT NULL",
        "created_by VARCHAR(100) NOT NULL",
    ],
    indexes=(("display_name",), ("owner_id",), ("status",), ("review_due_at",), ("created_at",)),
    references=(("owner_id", "app_user"), ("department_id", "department")),
)
_CONTACT = tenant_table(
    "customer_contact",
    [
        "customer_id UUID NOT NULL",
        "surname VARCHAR(50) NOT NULL",
        "given_name VARCHAR(50) NOT NULL",
        "position VARCHAR(100) NOT NULL DEFAULT ''",
        "phones TEXT NOT NULL DEFAULT '[]'",
        "email VARCHAR(254)",
        "is_primary BOOLEAN NOT NULL DEFAULT FALSE",
    ],
    indexes=(("customer_id",),),
    references=(("customer_id", "customer"),),
)
_HISTORY = tenant_table(
    "customer_history",
    [
        "customer_id UUID NOT NULL",
        "version INTEGER NOT NULL",
        "changed_at TIMESTAMPTZ NOT NULL",
        "actor VARCHAR(100) NOT NULL",
        "reason TEXT NOT NULL DEFAULT ''",
        "changes TEXT NOT NULL",
    ],
    unique=(("customer_id", "version"),),
    references=(("customer_id", "customer"),),
)
_KEY = tenant_table(
    "customer_key",
    [
        "customer_id UUID NOT NULL",
        "kind VARCHAR(16) NOT NULL",
        "value VARCHAR(300) NOT NULL",
    ],
    indexes=(("kind", "value"), ("customer_id",)),
    references=(("customer_id", "customer"),),
)
_MERGE = tenant_table(
    "customer_merge",
    [
        "survivor_id UUID NOT NULL",
        "merged_id UUID NOT NULL",
        "moved TEXT NOT NULL",
        "reason TEXT NOT NULL",
        "actor VARCHAR(100) NOT NULL",
        "undo_until TIMESTAMPTZ NOT NULL",
        "undone_at TIMESTAMPTZ",
        "undone_by VARCHAR(100)",
    ],
    indexes=(("merged_id",), ("survivor_id",)),
    references=(("survivor_id", "customer"), ("merged_id", "customer")),
)

_ALL = (_CUSTOMER, _CONTACT, _HISTORY, _KEY, _MERGE)
SQLITE = [statement for table in _ALL for statement in table[0]]
POSTGRES = [statement for table in _ALL for statement in table[1]]

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
