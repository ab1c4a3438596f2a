"""The audit log: hash-chained entries per tenant, chain heads, anchors."""

from core.db.migrations import raw_migration, tenant_table

ID = "0003-audit"
VERSION = "1.38.0"
DESCRIPTION = "audit_entry, audit_chain, audit_anchor with RLS"

TABLES = [
    tenant_table(
        "audit_entry",
        [
            "seq BIGINT NOT NULL",
            "occurred_at TIMESTAMPTZ NOT NULL",
            "actor VARCHAR(100) NOT NULL",
            "client_address VARCHAR(64)",
            "request_id VARCHAR(64)",
            "action VARCHAR(100) NOT NULL",
            "target_type VARCHAR(64) NOT NULL",
            "target_id VARCHAR(64)",
            "diff TEXT NOT NULL",
            "prev_hash VARCHAR(64) NOT NULL",
            "hash VARCHAR(64) NOT NULL",
        ],
        unique=(("seq",),),
        indexes=(("occurred_at",), ("actor", "occurred_at"), ("target_type", "target_id"),
                 ("action", "occurred_at")),
    ),
    tenant_table(
        "audit_chain",
        [
            "last_seq BIGINT NOT NULL DEFAULT 0",
            "last_hash VARCHAR(64) NOT NULL",
            "base_seq BIGINT NOT NULL DEFAULT 0",
            "base_hash VARCHAR(64) NOT NULL",
        ],
        unique=((),),
    ),
    tenant_table(
        "audit_anchor",
        ["seq BIGINT NOT NULL", "hash VARCHAR(64) NOT NULL"],
        indexes=(("seq",),),
    ),
]

SQLITE = [statement for sqlite, _ in TABLES for statement in sqlite]
POSTGRES = [statement for _, postgres in TABLES for statement in postgres]


forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
