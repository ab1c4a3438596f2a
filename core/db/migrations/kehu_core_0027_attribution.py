"""The attribution engine (issue 21): the append-only ledger (one tenant-wide ``seq``, unique, and
the customer's entries in order), relations between customers (one row per pair), the owner
projection (one row per customer and vertical; listed by validity and by owner) and disputes."""

from core.db.migrations import raw_migration, tenant_table

ID = "0027-attribution"
VERSION = "1.39.0"
DESCRIPTION = "attribution_entry, customer_relation, attribution_owner, attribution_dispute with RLS"

_ENTRY = tenant_table(
    "attribution_entry",
    [
        "customer_id UUID NOT NULL",
        "vertical VARCHAR(40) NOT NULL",
        "seq INTEGER NOT NULL",
        "kind VARCHAR(24) NOT NULL",
        "at TIMESTAMPTZ NOT NULL",
        "consultant_id UUID",
        "data TEXT NOT NULL DEFAULT '{}'",
        "refers_to UUID",
        "recorded_by VARCHAR(100) NOT NULL",
        "recorded_at TIMESTAMPTZ NOT NULL",
    ],
    unique=(("seq",),),
    indexes=(("customer_id", "vertical", "seq"), ("vertical", "seq")),
    references=(("customer_id", "customer"),),
)
_RELATION = tenant_table(
    "customer_relation",
    [
        "customer_id UUID NOT NULL",
        "related_id UUID NOT NULL",
        "relation VARCHAR(24) NOT NULL",
        "recorded_by VARCHAR(100) NOT NULL",
        "recorded_at TIMESTAMPTZ NOT NULL",
    ],
    unique=(("customer_id", "related_id"),),
    indexes=(("related_id",),),
    references=(("customer_id", "customer"), ("related_id", "customer")),
)
_OWNER = tenant_table(
    "attribution_owner",
    [
        "customer_id UUID NOT NULL",
        "vertical VARCHAR(40) NOT NULL",
        "owner_id UUID",
        "shares TEXT NOT NULL DEFAULT '{}'",
        "rule VARCHAR(60) NOT NULL",
        "explanation_en TEXT NOT NULL DEFAULT ''",
        "explanation_zh TEXT NOT NULL DEFAULT ''",
        "facts TEXT NOT NULL DEFAULT '{}'",
        "entry_ids TEXT NOT NULL DEFAULT '[]'",
        "deals TEXT NOT NULL DEFAULT '[]'",
        "valid_until TIMESTAMPTZ",
        "decided_at TIMESTAMPTZ NOT NULL",
        "last_seq INTEGER NOT NULL",
    ],
    unique=(("customer_id", "vertical"),),
    indexes=(("vertical", "valid_until"), ("vertical", "owner_id")),
    references=(("customer_id", "customer"),),
)
_DISPUTE = tenant_table(
    "attribution_dispute",
    [
        "customer_id UUID NOT NULL",
        "vertical VARCHAR(40) NOT NULL",
        "deal_entry_id UUID NOT NULL",
        "opened_by VARCHAR(100) NOT NULL",
        "opened_at TIMESTAMPTZ NOT NULL",
        "claim TEXT NOT NULL",
        "state VARCHAR(16) NOT NULL",
        "opinion TEXT",
        "fault TEXT",
        "contribution TEXT",
        "proposed_shares TEXT",
        "proposed_owner UUID",
        "opinion_by VARCHAR(100)",
        "opinion_at TIMESTAMPTZ",
        "decided_by VARCHAR(100)",
        "decided_at TIMESTAMPTZ",
        "decision_note TEXT",
        "decision_entry_id UUID",
        "version INTEGER NOT NULL DEFAULT 1",
    ],
    indexes=(("state", "opened_at"), ("customer_id",), ("deal_entry_id",)),
    references=(("customer_id", "customer"),),
)

SQLITE = _ENTRY[0] + _RELATION[0] + _OWNER[0] + _DISPUTE[0]
POSTGRES = _ENTRY[1] + _RELATION[1] + _OWNER[1] + _DISPUTE[1]

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
